/**
 * Stream framing on a UART, byte for byte as targets/node/transports/serial/framer.ts
 * (docs/transports.md "Stream framing"):
 *
 *   wire frame = COBS(frame || CRC-16/CCITT-FALSE(frame), big-endian) || 0x00
 *
 * CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final XOR,
 * check("123456789") = 0x29B1, computed without a table (the byte-wise
 * shift/xor identity of poly 0x1021: a 512-byte table costs a small board
 * more variables than the frames it checks).
 * COBS: Cheshire & Baker 1999; code 0xFF = 254 data bytes, no implied zero.
 *
 * The decoder takes what `Serial.on('data')` gives (a String on Espruino) or
 * a Uint8Array, holds at most `maxFrame` encoded bytes, and on a bad CRC, bad
 * COBS, a run shorter than the CRC or longer than maxFrame drops bytes up to
 * the next 0x00 and counts the reason; it never throws on input.
 * Closures rather than prototypes throughout: the minifier can shorten
 * local names, not property names.
 */

/** CRC-16/CCITT-FALSE of b[s, e). */
function crc16(b, s, e) {
  for (var c = 0xffff, x; s < e; s++) {
    x = ((c >> 8) ^ b[s]) & 0xff;
    x ^= x >> 4;
    c = ((c << 8) ^ (x << 12) ^ (x << 5) ^ x) & 0xffff;
  }
  return c;
}
exports.crc16 = crc16;

/**
 * One radio frame as its wire bytes: COBS(frame || CRC) || 0x00. `flush`
 * puts one extra 0x00 first (the first frame written on a link does, as
 * FrameCodecLink: it ends whatever partial frame the receiver holds).
 */
exports.encode = function (frame, flush) {
  var n = frame.length, c = crc16(frame, 0, n), raw = new Uint8Array(n + 2), i, v;
  raw.set(frame);
  raw[n] = c >> 8;
  raw[n + 1] = c & 0xff;
  n += 2;
  var out = new Uint8Array(n + 3 + ((n - 1) / 254 | 0)), o = flush ? 1 : 0, at = o++, code = 1;
  for (i = 0; i < n; i++) {
    if (code === 0xff) { out[at] = code; at = o++; code = 1; }
    v = raw[i];
    if (v) { out[o++] = v; code++; } else { out[at] = code; at = o++; code = 1; }
  }
  out[at] = code;
  out[o++] = 0;
  // a copy: slice() of a typed array gives an Array in the interpreter
  return o === out.length ? out : new Uint8Array(out.subarray(0, o));
};

/** Largest encoded frame (delimiter excluded) of an `mtu`-byte frame, as Node's default maxFrame. */
exports.maxEncoded = function (mtu) {
  return mtu + 3 + ((mtu + 1) / 254 | 0);
};

/**
 * A streaming decoder: { push(String | Uint8Array), reset(), counters }.
 * `onFrame(frame)` gets a fresh Uint8Array per good frame; a throwing handler
 * is counted (handlerErrors) and decoding goes on.
 */
exports.Decoder = function (onFrame, maxFrame) {
  var buf = new Uint8Array(maxFrame), len = 0, skip = false;
  var k = { frames: 0, crc: 0, cobs: 0, short: 0, oversize: 0, garbageBytes: 0, handlerErrors: 0 };
  function bad(what) {
    k[what]++;
    k.garbageBytes += len;
  }
  function finish() {
    var i = 0, o = 0, code, end;
    while (i < len) {
      code = buf[i++];
      end = i + code - 1;
      if (end > len) return bad('cobs');
      while (i < end) buf[o++] = buf[i++];
      if (code !== 0xff && i < len) buf[o++] = 0;
    }
    if (o < 2) return bad('short');
    o -= 2;
    if (crc16(buf, 0, o) !== ((buf[o] << 8) | buf[o + 1])) return bad('crc');
    k.frames++;
    try {
      onFrame(new Uint8Array(buf.subarray(0, o)));
    } catch (e) {
      k.handlerErrors++;
    }
  }
  return {
    counters: k,
    push: function (d) {
      for (var s = typeof d === 'string', n = d.length, i = 0, b; i < n; i++) {
        b = s ? d.charCodeAt(i) : d[i];
        if (!b) {
          if (skip) skip = false;
          else if (len) { finish(); len = 0; }
        } else if (skip) {
          k.garbageBytes++;
        } else if (len >= maxFrame) {
          len++;
          bad('oversize');
          len = 0;
          skip = true;
        } else {
          buf[len++] = b;
        }
      }
    },
    /** Drops a partial frame (its bytes count as garbage). */
    reset: function () {
      k.garbageBytes += len;
      len = 0;
      skip = false;
    }
  };
};
