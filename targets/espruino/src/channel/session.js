/**
 * One session of a channel (docs/protocol.md "Sealed messages", "Receiving
 * a sealed message", "Sessions, key phases and limits"; reference
 * src/channel/session.ts): the transport keys of one handshake, the
 * explicit truncated counter, the replay window, key phases (Noise Rekey())
 * and the session's own limits, counted from its birth.
 *
 *   sealed = header:u8 || counter || ciphertext || tag[16]
 *   header = TT P L CCCC   (type, key phase, long form, counter bits 8-11 or 16-19)
 *
 * Counters are Numbers (exact to 2^53, the session stops at 2^48).
 * Opening is atomic: the window, key phase and counters change only after
 * the message authenticated.
 */
var W = require('hopseal/channel/window');

var SHORT_FORM_MAX_UNCONFIRMED = 1024;
var RENEW_AFTER_UNCONFIRMED = 262144; // 2^18
var REJECT_AFTER_UNCONFIRMED = 524287; // 2^19 - 1
var RENEW_AFTER_AUTH_FAILURES = 68719476736; // 2^36
var RENEW = 4;

// _sendState()'s answers
exports.SEND_OK = 0;
exports.SEND_RENEW = 1;
exports.SEND_EXPIRED = 2;

exports.DATA = 0;
exports.ROUTED = 1;
exports.CONTROL = 2;

/**
 * k = { send, recv, h } from Handshake.split(); limits (see limits.js);
 * now() in ms; epoch = renewals before this session.
 */
function Session(k, limits, now, epoch) {
  this.sc = k.send;
  this.rc = k.recv;
  this.rp = undefined;
  this.h = k.h;
  this.l = limits;
  this.now = now;
  this.epoch = epoch;
  this.born = now();
  this.kb = this.born;
  this.n = 0; // next send counter
  this.ct = -1; // highest own counter the peer confirmed
  this.ph = 0; // send phase
  this.uk = 0; // sealed under the current send key
  this.rph = 0; // receive phase
  this.w = W.create();
  this.auth = 0; // failed authentications
  this.closed = false;
}
var P = Session.prototype;

P._unconfirmed = function () {
  return this.n - 1 - this.ct;
};

/** The peer confirmed receiving our counter n (an ACK, a keep-alive report). */
P._confirm = function (n) {
  if (n > this.ct && n < this.n) this.ct = n;
};

/** SEND_OK, SEND_RENEW past a soft limit, SEND_EXPIRED past a hard one. */
P._sendState = function () {
  if (this.closed) return exports.SEND_EXPIRED;
  var age = this.now() - this.born, l = this.l, u = this._unconfirmed();
  if (this.n >= l.rejectAfterMessages || age >= l.rejectAfterMs || u >= REJECT_AFTER_UNCONFIRMED) return exports.SEND_EXPIRED;
  if (this.n >= l.renewAfterMessages || age >= l.renewAfterMs || u >= RENEW_AFTER_UNCONFIRMED || this.auth >= RENEW_AFTER_AUTH_FAILURES) return exports.SEND_RENEW;
  return exports.SEND_OK;
};

P._receiveExpired = function () {
  return this.now() - this.born >= this.l.rejectAfterMs;
};

function header(type, phase, n, long) {
  var c = long ? n % 1048576 : n % 4096;
  if (long) return new Uint8Array([(type << 6) | (phase << 5) | 0x10 | (c >> 16), (c >> 8) & 0xff, c & 0xff]);
  return new Uint8Array([(type << 6) | (phase << 5) | (c >> 8), c & 0xff]);
}

/**
 * Seals one message (type DATA / ROUTED / CONTROL). The caller checks
 * _sendState() first; `force` seals past the hard limits (RENEW only).
 * Returns the sealed bytes; `this.n - 1` is its counter.
 */
P.seal = function (type, pt, force) {
  var t = this.now(), l = this.l;
  if (!force && (this.uk >= l.rekeyAfterMessages || (l.rekeyAfterMs > 0 && t - this.kb >= l.rekeyAfterMs))) {
    this.sc._rekey();
    this.ph ^= 1;
    this.uk = 0;
    this.kb = t;
  }
  var n = this.n;
  var h = header(type, this.ph, n, n - this.ct > SHORT_FORM_MAX_UNCONFIRMED);
  var body = this.sc.seal(n, h, pt);
  var out = new Uint8Array(h.length + body.length);
  out.set(h, 0);
  out.set(body, h.length);
  this.n++;
  this.uk++;
  return out;
};

/**
 * Opens one sealed message: { type, n, pt }, or a drop reason string
 * ('decode', 'duplicate', 'stale', 'auth', 'expired'). Commits nothing on a drop.
 */
P.open = function (m) {
  if (this.closed || m.length < 1) return 'expired';
  var h = m[0], type = h >> 6;
  if (type === 3) return 'decode';
  var long = (h & 0x10) !== 0, hl = long ? 3 : 2;
  if (m.length < hl + 16) return 'decode';
  var x = long ? ((h & 0x0f) * 65536) + (m[1] << 8) + m[2] : ((h & 0x0f) << 8) + m[1];
  var expired = this._receiveExpired();
  if (expired && type !== 2) return 'expired';
  var n = W.reconstruct(this.w.top + 1, x, long ? 1048576 : 4096);
  var v = W.check(this.w, n);
  if (v) return v;
  if (n >= this.l.rejectAfterMessages) return 'expired';
  var ad = m.subarray(0, hl), body = m.subarray(hl), phase = (h >> 5) & 1;
  var pt = null, next, k, step;
  if (phase === this.rph) pt = this.rc.open(n, ad, body);
  if (!pt && phase !== this.rph && this.rp) pt = this.rp.open(n, ad, body);
  if (!pt && n > this.w.top) {
    // Only a message newer than anything accepted may come from a later phase:
    // 1 or 3 ratchets ahead when the phase bit differs, 2 when it matches.
    k = this.rc._clone();
    for (step = 1; step <= 3 && !pt; step++) {
      k._rekey();
      if ((phase !== this.rph) === (step !== 2)) {
        pt = k.open(n, ad, body);
        if (pt) next = k;
      }
    }
    if (!next) k.wipe();
  }
  if (!pt) return 'auth';
  if (expired && !(pt.length === 1 && pt[0] === RENEW)) {
    if (next) next.wipe();
    return 'expired';
  }
  W.commit(this.w, n);
  if (next) {
    if (this.rp) this.rp.wipe();
    this.rp = this.rc;
    this.rc = next;
    this.rph = phase;
  }
  return { type: type, n: n, pt: pt };
};

/** Wipes the keys; the session can neither seal nor open after. */
P.close = function () {
  if (this.closed) return;
  this.closed = true;
  this.sc.wipe();
  this.rc.wipe();
  if (this.rp) this.rp.wipe();
};

exports.Session = Session;
exports.header = header;
