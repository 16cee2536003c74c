/**
 * Link profiles and the pacing gate, as src/transports/serial/profiles.ts,
 * airtime.ts and pacing.ts (docs/transports.md "Link profiles"): the radio
 * frame MTU (fragment header included; COBS and CRC belong to the UART and
 * count in neither MTU nor airtime), the least time between two frame
 * starts, airtime per frame and the duty-cycle rule.
 *
 * LoRa airtime, Semtech SX1276 datasheet 4.1.1.6 / AN1200.13:
 *   Tsym = 2^SF / BW, Tpreamble = (npreamble + 4.25) Tsym,
 *   payloadSymbNb = 8 + max(ceil((8 PL - 4 SF + 28 + 16 CRC - 20 IH) / (4 (SF - 2 DE))) (CR + 4), 0)
 * with explicit header, CRC on, 8 preamble symbols, DE on when Tsym >= 16 ms.
 */
var err = function (code, msg) {
  var e = new Error(msg);
  e.code = code;
  return e;
};
var bad = function (msg) { return err('INVALID_ARGUMENT', msg); };

/** EU868 DR0..DR5 -> SF (RP002 2.4.3) and the largest payload per SF (RP002 2.4.6, repeater compatible). */
var DR_SF = [12, 11, 10, 9, 8, 7];
var MTU_BY_SF = { 7: 222, 8: 222, 9: 115, 10: 51, 11: 51, 12: 51 };
var int = function (v) { return typeof v === 'number' && v === Math.floor(v) && isFinite(v); };
var checkMtu = function (label, mtu, max) {
  if (!int(mtu) || mtu < 4 || mtu > max) throw bad(label + ' mtu expected an integer in 4..' + max + ', got ' + mtu);
  return mtu;
};
var timeout = function (label, v, dflt) {
  var t = v === undefined ? dflt : v;
  if (!(t > 0) || !isFinite(t)) throw bad(label + ' reassemblyTimeoutMs expected a positive number, got ' + t);
  return t;
};

/** LoRa time on air (ms) of `bytes` PHY payload bytes; p: { sf, bwHz, cr }. */
exports.loraAirtimeMs = function (bytes, p) {
  if (!int(bytes) || bytes < 0 || bytes > 255) throw bad('LoRa payload expected 0..255 bytes, got ' + bytes);
  var sf = p.sf, bw = p.bwHz === undefined ? 125000 : p.bwHz, cr = p.cr === undefined ? 1 : p.cr;
  if (!int(sf) || sf < 7 || sf > 12) throw bad('LoRa spreading factor expected 7..12, got ' + sf);
  if (!(bw > 0) || !isFinite(bw)) throw bad('LoRa bandwidth expected a positive number of Hz, got ' + bw);
  if (cr !== 1 && cr !== 2 && cr !== 3 && cr !== 4) throw bad('LoRa coding rate expected 1..4 (4/5..4/8), got ' + cr);
  var tSym = (Math.pow(2, sf) / bw) * 1000;
  var de = tSym >= 16 ? 1 : 0;
  var sym = 8 + Math.max(Math.ceil((8 * bytes - 4 * sf + 28 + 16) / (4 * (sf - 2 * de))) * (cr + 4), 0);
  return (8 + 4.25) * tSym + sym * tSym;
};

/** A wire with no radio behind it: o { mtu = 1024, reassemblyTimeoutMs = 5000 }. */
exports.raw = function (o) {
  o = o || {};
  return {
    name: 'raw',
    mtu: checkMtu('raw profile', o.mtu === undefined ? 1024 : o.mtu, 65536),
    writeIntervalMs: 0,
    airtimeMs: function () { return 0; },
    reassemblyTimeoutMs: timeout('raw profile', o.reassemblyTimeoutMs, 5000)
  };
};

/**
 * A BLE UART bridge: 20-byte writes (ATT_MTU 23 - 3), one per 8 ms connection
 * interval; airtime (frame + 17) bytes at 8 us per byte (LE 1M PHY).
 * o { mtu = 20, writeIntervalMs = 8, reassemblyTimeoutMs = 5000 }.
 */
exports.bleUart = function (o) {
  o = o || {};
  var w = o.writeIntervalMs === undefined ? 8 : o.writeIntervalMs;
  if (!(w >= 0) || !isFinite(w)) throw bad('ble-uart writeIntervalMs expected a non-negative number of ms, got ' + w);
  return {
    name: 'ble-uart',
    mtu: checkMtu('ble-uart profile', o.mtu === undefined ? 20 : o.mtu, 512),
    writeIntervalMs: w,
    airtimeMs: function (n) { return (n + 17) * 0.008; },
    reassemblyTimeoutMs: timeout('ble-uart profile', o.reassemblyTimeoutMs, 5000)
  };
};

/**
 * A LoRa radio behind a UART modem. o { dataRate (EU868 DR0..DR5) | sf (7..12, default 7),
 * bwHz, cr, mtu (default by SF: 51/51/51/115/222/222 for SF12..SF7),
 * dutyCycle (ratio in (0, 1], default 0.01; 1 = none), dutyPolicy ('window' | 'time-off'),
 * windowMs (default 3 600 000), reassemblyTimeoutMs (default longest duty-cycle gap + 30 s) }.
 * @throws INVALID_ARGUMENT as loraProfile() in Node.
 */
exports.lora = function (o) {
  o = o || {};
  var sf = o.sf;
  if (o.dataRate !== undefined) {
    var fromDr = int(o.dataRate) ? DR_SF[o.dataRate] : undefined;
    if (fromDr === undefined) throw bad('lora profile dataRate expected EU868 DR0..DR5, got ' + o.dataRate);
    if (sf !== undefined && sf !== fromDr) throw bad('lora profile: sf ' + sf + ' contradicts dataRate DR' + o.dataRate + ' (SF' + fromDr + ')');
    sf = fromDr;
  }
  if (sf === undefined) sf = 7;
  var params = { sf: sf, bwHz: o.bwHz, cr: o.cr };
  var mtu = checkMtu('lora profile', o.mtu === undefined ? MTU_BY_SF[sf] || 51 : o.mtu, 255);
  var airtime = function (n) { return exports.loraAirtimeMs(n, params); };
  var maxAir = airtime(mtu);
  var ratio = o.dutyCycle === undefined ? 0.01 : o.dutyCycle;
  if (!(ratio > 0 && ratio <= 1)) throw bad('lora profile dutyCycle expected a ratio in (0, 1], got ' + ratio);
  var policy = o.dutyPolicy === undefined ? 'window' : o.dutyPolicy;
  if (policy !== 'window' && policy !== 'time-off') throw bad("lora profile dutyPolicy expected 'window' or 'time-off', got " + policy);
  var windowMs = o.windowMs === undefined ? 3600000 : o.windowMs;
  if (!(windowMs > 0) || !isFinite(windowMs)) throw bad('lora profile windowMs expected a positive number, got ' + windowMs);
  var limited = ratio < 1;
  if (limited && policy === 'window' && maxAir > ratio * windowMs) {
    throw bad('lora profile: one ' + mtu + '-byte frame (' + maxAir.toFixed(1) + ' ms on air) exceeds the duty-cycle budget of ' + (ratio * windowMs).toFixed(1) + ' ms per ' + windowMs + ' ms');
  }
  var gap = !limited ? maxAir : policy === 'window' ? windowMs : maxAir / ratio;
  var p = {
    name: 'lora',
    mtu: mtu,
    writeIntervalMs: 0,
    airtimeMs: airtime,
    reassemblyTimeoutMs: timeout('lora profile', o.reassemblyTimeoutMs, Math.ceil(gap) + 30000)
  };
  if (limited) p.dutyCycle = { ratio: ratio, policy: policy, windowMs: windowMs };
  return p;
};

/**
 * A profile from a plain description, e.g. JSON from a test or a config:
 * { name: 'lora', sf | dataRate, mtu, dutyCycle, ... } | { name: 'ble-uart', ... } | { name: 'raw', ... }
 * (the other keys as lora(), bleUart(), raw() take them).
 */
exports.make = function (spec) {
  var f = spec && { lora: exports.lora, 'ble-uart': exports.bleUart, raw: exports.raw }[spec.name];
  if (!f) throw bad("link profile name expected 'lora', 'ble-uart' or 'raw', got " + (spec && spec.name));
  var o = {};
  for (var k in spec) if (k !== 'name') o[k] = spec[k];
  return f(o);
};

/**
 * When the next frame may start (pacing.ts): t >= now, >= previous start +
 * writeIntervalMs, >= previous start + previous airtime; time-off:
 * >= previous start + previous airtime / ratio; window: the airtime of the
 * frames still in the trailing window at t plus this one <= ratio * windowMs
 * (a frame counts until windowMs after its end).
 */
exports.Gate = function (profile) {
  this.p = profile;
  this.lastStart = -Infinity;
  this.lastAir = 0;
  this.hist = []; // [start, airtime] of frames that may still count, oldest first
  this.inWindow = 0;
};

exports.Gate.prototype.prune = function (now) {
  var w = this.p.dutyCycle ? this.p.dutyCycle.windowMs : 0, h = this.hist;
  while (h.length && h[0][0] + h[0][1] + w <= now) this.inWindow -= h.shift()[1];
  if (!h.length) this.inWindow = 0;
};

/** Earliest start >= now (ms) for a frame of `air` ms. */
exports.Gate.prototype.earliest = function (now, air) {
  var p = this.p, dc = p.dutyCycle;
  var t = Math.max(now, this.lastStart + p.writeIntervalMs, this.lastStart + this.lastAir);
  if (!dc) return t;
  if (dc.policy === 'time-off') return Math.max(t, this.lastStart + this.lastAir / dc.ratio);
  var budget = dc.ratio * dc.windowMs;
  this.prune(now);
  var sum = this.inWindow;
  for (var i = 0; i < this.hist.length && sum + air > budget + 1e-6; i++) {
    var e = this.hist[i];
    sum -= e[1];
    t = Math.max(t, e[0] + e[1] + dc.windowMs);
  }
  return t;
};

/** Records a frame that started at `start`. */
exports.Gate.prototype.record = function (start, air) {
  this.lastStart = start;
  this.lastAir = air;
  if (!this.p.dutyCycle || this.p.dutyCycle.policy !== 'window') return;
  this.hist.push([start, air]);
  this.inWindow += air;
};
