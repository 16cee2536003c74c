/**
 * Channel limits per medium, the same values as src/channel/limits.ts
 * (docs/channels.md explains each): session renewal and hard limits, key
 * phases, keep-alive, silence, renewal retransmission and reliable-mode
 * defaults. resolve(medium, overrides) copies the medium's defaults and
 * applies overrides, so a test can force a renewal after N messages or
 * seconds ({ session: { renewAfterMessages: 40 } }).
 */
var B = require('hopseal/routing/bytes');

var MIN = 60000, HOUR = 60 * MIN;

function session(rekeyMs, renewMs, rejectMs) {
  return {
    rekeyAfterMessages: 4194304, // 2^22
    rekeyAfterMs: rekeyMs,
    renewAfterMessages: 4294967296, // 2^32
    renewAfterMs: renewMs,
    rejectAfterMessages: 281474976710656, // 2^48
    rejectAfterMs: rejectMs
  };
}

var MEDIA = {
  ip: {
    session: session(0, 2 * MIN, 3 * MIN),
    keepaliveMs: 10000,
    renewAfterSilenceMs: 15000,
    renewRetransmit: { initialMs: 1000, maxMs: 8000, attempts: 6 },
    reliable: { ackTimeoutMs: 1000, minAckTimeoutMs: 100, maxBackoffMs: 8000, maxRetransmits: 12, sendBuffer: 64, receiveBuffer: 64 }
  },
  lora: {
    session: session(2 * HOUR, 12 * HOUR, 24 * HOUR),
    keepaliveMs: 0,
    renewAfterSilenceMs: 30 * MIN,
    renewRetransmit: { initialMs: 10000, maxMs: 5 * MIN, attempts: 10 },
    reliable: { ackTimeoutMs: 10000, minAckTimeoutMs: 3000, maxBackoffMs: 15 * MIN, maxRetransmits: 40, sendBuffer: 16, receiveBuffer: 16 }
  },
  ble: {
    session: session(15 * MIN, HOUR, 2 * HOUR),
    keepaliveMs: 0,
    renewAfterSilenceMs: 2 * MIN,
    renewRetransmit: { initialMs: 2000, maxMs: 30000, attempts: 8 },
    reliable: { ackTimeoutMs: 1000, minAckTimeoutMs: 100, maxBackoffMs: 60000, maxRetransmits: 20, sendBuffer: 64, receiveBuffer: 64 }
  }
};

function copy(a, b) {
  var o = {}, k;
  for (k in a) o[k] = a[k];
  if (b) for (k in b) o[k] = b[k];
  return o;
}

/**
 * The limits of `medium` ('ip', 'lora', 'ble') with overrides
 * { session: {...}, keepaliveMs, renewAfterSilenceMs, renewRetransmit: {...}, reliable: {...} }.
 * @throws CONFIG_INVALID for an unknown medium or a negative value
 */
exports.resolve = function (medium, o) {
  var d = MEDIA[medium || 'ip'];
  if (!d) throw B.err('CONFIG_INVALID', 'medium ' + medium);
  o = o || {};
  var r = {
    session: copy(d.session, o.session),
    keepaliveMs: o.keepaliveMs !== undefined ? o.keepaliveMs : d.keepaliveMs,
    renewAfterSilenceMs: o.renewAfterSilenceMs !== undefined ? o.renewAfterSilenceMs : d.renewAfterSilenceMs,
    renewRetransmit: copy(d.renewRetransmit, o.renewRetransmit),
    reliable: copy(d.reliable, typeof o.reliable === 'object' ? o.reliable : undefined)
  };
  for (var k in r.session) if (!(r.session[k] >= 0)) throw B.err('CONFIG_INVALID', 'session.' + k + ' < 0');
  if (r.session.renewAfterMs > r.session.rejectAfterMs) throw B.err('CONFIG_INVALID', 'renewAfterMs > rejectAfterMs');
  return r;
};
