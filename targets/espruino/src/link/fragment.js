/**
 * Fragmentation into radio frames and bounded reassembly, as
 * targets/node/transports/serial/fragment.ts and reassembly.ts (docs/transports.md
 * "Fragment header"):
 *
 *   whole    = 0x00 message                      when message length + 1 <= mtu
 *   fragment = (0x80 | msgId) index last bytes   mtu - 3 message bytes each
 *
 * msgId 7 bits per link and direction; at most 256 fragments. A first byte
 * with bit 7 clear other than 0x00 is reserved; a one-fragment message
 * (last = 0) is forged (it would travel whole) and dropped.
 *
 * Reassembly: at most `maxMessages` partials and `maxBytes` fragment bytes
 * (the oldest partial is evicted), `maxMessage` per message (too_large), a
 * partial idle for `timeoutMs` is dropped (expired), duplicates ignored, a
 * fragment whose `last` differs restarts its partial (inconsistent), a
 * completed msgId is remembered for `timeoutMs` or until a message 32..96 ids
 * ahead starts. Unlike Node, expiry is checked when the next fragment arrives
 * instead of by a timer per partial: no timers on the device, and no message
 * can tell the difference (an expired partial never completes either way).
 */
var err = require('hopseal/routing/bytes').err;

/**
 * Cuts `msg` into frames of at most `mtu` bytes (an Array of Uint8Array).
 * @throws INVALID_ARGUMENT (mtu < 4, msgId outside 0..127), FRAME_TOO_LARGE (over 256 fragments)
 */
exports.split = function (msg, mtu, id) {
  if (!(mtu >= 4 && mtu % 1 === 0 && id >= 0 && id < 128 && id % 1 === 0)) throw err('INVALID_ARGUMENT', 'fragment mtu ' + mtu + ' or msgId ' + id);
  var n = msg.length, f, per = mtu - 3, count = Math.ceil(n / per), out = [], i, part;
  if (n < mtu) {
    f = new Uint8Array(n + 1);
    f.set(msg, 1);
    return [f];
  }
  if (count > 256) throw err('FRAME_TOO_LARGE', n + ' bytes: over 256 fragments');
  for (i = 0; i < count; i++) {
    part = msg.subarray(i * per, Math.min(i * per + per, n)); // the interpreter's subarray does not clamp its end
    f = new Uint8Array(3 + part.length);
    f[0] = 0x80 | id;
    f[1] = i;
    f[2] = count - 1;
    f.set(part, 3);
    out.push(f);
  }
  return out;
};

/**
 * A frame's header: { whole: payload } | { id, index, last, payload } | { drop: reason }.
 * Total: never throws. (Callers compare fields with undefined: the interpreter
 * takes an empty typed array as false.)
 */
exports.parse = function (f) {
  var b = f[0];
  if (!f.length) return { drop: 'empty' };
  if (b < 0x80) return b ? { drop: 'reserved' } : { whole: f.subarray(1) };
  if (f.length < 3) return { drop: 'truncated' };
  if (f[1] > f[2]) return { drop: 'bad_index' };
  if (!f[2]) return { drop: 'single_fragment' };
  if (f.length === 3) return { drop: 'empty_fragment' };
  return { id: b & 0x7f, index: f[1], last: f[2], payload: f.subarray(3) };
};

/**
 * o: { now() -> ms, timeoutMs, maxMessages, maxBytes, maxMessage, onDrop(reason) }.
 * Returns { push(parsed fragment) -> message | undefined, clear() }.
 */
exports.Reassembler = function (o) {
  var parts = [], done = {}, total = 0; // partials oldest first: { id, last, got, n, bytes, at }
  function drop(r) {
    if (o.onDrop) o.onDrop(r);
  }
  function remove(p, r) {
    parts.splice(parts.indexOf(p), 1);
    total -= p.bytes;
    p.got = [];
    if (r) drop(r);
  }
  return {
    push: function (f) {
      var now = o.now(), i, p, len = f.payload.length, ids, msg;
      for (i = parts.length - 1; i >= 0; i--) if (now - parts[i].at >= o.timeoutMs) remove(parts[i], 'expired');
      if (done[f.id] !== undefined) {
        if (done[f.id] > now) return drop('duplicate');
        delete done[f.id];
      }
      for (i = 0; i < parts.length; i++) if (parts[i].id === f.id) p = parts[i];
      if (p && p.last !== f.last) {
        remove(p, 'inconsistent');
        p = undefined;
      }
      if (!p) {
        while (parts.length >= o.maxMessages) remove(parts[0], 'evicted');
        p = { id: f.id, last: f.last, got: [], n: 0, bytes: 0 };
        parts.push(p);
        ids = Object.keys(done);
        for (i = 0; i < ids.length; i++) {
          var ahead = (f.id - ids[i] + 128) % 128;
          if (ahead >= 32 && ahead <= 96) delete done[ids[i]];
        }
      }
      if (p.got[f.index] !== undefined) return drop('duplicate');
      if (p.bytes + len > o.maxMessage || p.bytes + len > o.maxBytes) return remove(p, 'too_large');
      while (total + len > o.maxBytes) remove(parts[parts[0] === p ? 1 : 0], 'evicted');
      p.got[f.index] = f.payload;
      p.n++;
      p.bytes += len;
      p.at = now;
      total += len;
      if (p.n <= p.last) return;
      msg = new Uint8Array(p.bytes);
      for (len = i = 0; i <= p.last; i++) {
        msg.set(p.got[i], len);
        len += p.got[i].length;
      }
      remove(p);
      done[p.id] = now + o.timeoutMs;
      return msg;
    },
    /** Drops every partial and forgets completed ids. */
    clear: function () {
      while (parts.length) remove(parts[0]);
      done = {};
    }
  };
};
