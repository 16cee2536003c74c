/**
 * Fragmentation into radio frames and bounded reassembly, as
 * src/transports/serial/fragment.ts and reassembly.ts (docs/transports.md
 * "Fragment header"):
 *
 *   whole    = 0x00 message                 when message length + 1 <= mtu
 *   fragment = (0x80 | msgId) index last bytes   mtu - 3 message bytes each
 *
 * msgId 7 bits per link and direction; at most 256 fragments. A first byte
 * with bit 7 clear other than 0x00 is reserved; a one-fragment message
 * (last = 0) is forged (it travels whole) and dropped.
 *
 * Reassembly: at most `maxMessages` partials and `maxBytes` fragment bytes
 * (the oldest partial is evicted), `maxMessage` per message (too_large), a
 * partial idle for `timeoutMs` is dropped (expired), duplicates ignored, a
 * fragment whose `last` differs restarts its partial (inconsistent), a
 * completed msgId is remembered for `timeoutMs` or until a message 32..96 ids
 * ahead starts. Unlike Node, expiry is checked when the next fragment arrives
 * instead of by a timer per partial: no timers on the device, and a message
 * cannot tell the difference (an expired partial never completes either way).
 */
var err = function (code, msg) {
  var e = new Error(msg);
  e.code = code;
  return e;
};

/** Frames a message needs at `mtu`. */
exports.count = function (length, mtu) {
  return length + 1 <= mtu ? 1 : Math.ceil(length / (mtu - 3));
};

/**
 * Cuts `msg` into frames of at most `mtu` bytes (array of Uint8Array).
 * @throws INVALID_ARGUMENT (mtu < 4, msgId outside 0..127), FRAME_TOO_LARGE (over 256 fragments)
 */
exports.split = function (msg, mtu, msgId) {
  if (!(mtu >= 4 && mtu === Math.floor(mtu))) throw err('INVALID_ARGUMENT', 'fragment mtu expected an integer >= 4, got ' + mtu);
  if (!(msgId >= 0 && msgId < 128 && msgId === Math.floor(msgId))) throw err('INVALID_ARGUMENT', 'msgId expected 0..127, got ' + msgId);
  var n = msg.length, f;
  if (n + 1 <= mtu) {
    f = new Uint8Array(n + 1);
    f.set(msg, 1);
    return [f];
  }
  var per = mtu - 3, count = Math.ceil(n / per), out = [];
  if (count > 256) throw err('FRAME_TOO_LARGE', 'message of ' + n + ' bytes needs ' + count + ' fragments at MTU ' + mtu + '; at most 256');
  for (var i = 0; i < count; i++) {
    var part = msg.subarray(i * per, Math.min((i + 1) * per, n));
    f = new Uint8Array(3 + part.length);
    f[0] = 0x80 | msgId;
    f[1] = i;
    f[2] = count - 1;
    f.set(part, 3);
    out.push(f);
  }
  return out;
};

/**
 * Parses a frame's header: { whole: payload } | { id, index, last, payload } | { drop: reason }.
 * Total: never throws.
 */
exports.parse = function (f) {
  if (f.length === 0) return { drop: 'empty' };
  var b0 = f[0];
  if (!(b0 & 0x80)) return b0 === 0 ? { whole: f.subarray(1) } : { drop: 'reserved' };
  if (f.length < 3) return { drop: 'truncated' };
  if (f[1] > f[2]) return { drop: 'bad_index' };
  if (f[2] === 0) return { drop: 'single_fragment' };
  if (f.length === 3) return { drop: 'empty_fragment' };
  return { id: b0 & 0x7f, index: f[1], last: f[2], payload: f.subarray(3) };
};

/**
 * o: { now: function () -> ms, timeoutMs, maxMessages, maxBytes, maxMessage, onDrop: function (reason) }
 */
exports.Reassembler = function (o) {
  this.o = o;
  this.parts = []; // partials, oldest first: { id, last, got: [], n, bytes, at }
  this.done = {}; // msgId -> forget at (ms)
  this.total = 0;
};

var R = exports.Reassembler.prototype;

R.drop = function (reason) {
  if (this.o.onDrop) this.o.onDrop(reason);
};

R.remove = function (p) {
  var i = this.parts.indexOf(p);
  if (i >= 0) this.parts.splice(i, 1);
  this.total -= p.bytes;
  p.bytes = 0;
  p.got = [];
};

/** Adds a parsed fragment; returns the whole message when it completes one. */
R.push = function (f) {
  var o = this.o, now = o.now(), i, p;
  for (i = this.parts.length - 1; i >= 0; i--) {
    p = this.parts[i];
    if (now - p.at >= o.timeoutMs) { this.remove(p); this.drop('expired'); }
  }
  var forget = this.done[f.id];
  if (forget !== undefined) {
    if (forget > now) { this.drop('duplicate'); return; }
    delete this.done[f.id];
  }
  p = undefined;
  for (i = 0; i < this.parts.length; i++) if (this.parts[i].id === f.id) p = this.parts[i];
  if (p && p.last !== f.last) { this.remove(p); this.drop('inconsistent'); p = undefined; }
  if (!p) {
    while (this.parts.length >= o.maxMessages) { this.remove(this.parts[0]); this.drop('evicted'); }
    p = { id: f.id, last: f.last, got: [], n: 0, bytes: 0, at: now };
    this.parts.push(p);
    var ids = Object.keys(this.done);
    for (i = 0; i < ids.length; i++) {
      var ahead = (f.id - ids[i] + 128) % 128;
      if (ahead >= 32 && ahead <= 96) delete this.done[ids[i]];
    }
  }
  if (p.got[f.index] !== undefined) { this.drop('duplicate'); return; }
  var len = f.payload.length;
  if (p.bytes + len > o.maxMessage || p.bytes + len > o.maxBytes) { this.remove(p); this.drop('too_large'); return; }
  while (this.total + len > o.maxBytes) {
    var victim = this.parts[0] === p ? this.parts[1] : this.parts[0];
    this.remove(victim);
    this.drop('evicted');
  }
  p.got[f.index] = f.payload;
  p.n++;
  p.bytes += len;
  p.at = now;
  this.total += len;
  if (p.n !== p.last + 1) return;
  var msg = new Uint8Array(p.bytes), off = 0;
  for (i = 0; i <= p.last; i++) {
    msg.set(p.got[i], off);
    off += p.got[i].length;
  }
  this.remove(p);
  this.done[p.id] = now + o.timeoutMs;
  return msg;
};

/** Drops every partial and forgets completed ids. */
R.clear = function () {
  while (this.parts.length) this.remove(this.parts[0]);
  this.done = {};
};
