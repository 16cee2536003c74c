/**
 * Stream framing on a UART, byte for byte as src/transports/serial/framer.ts
 * (docs/transports.md "Stream framing"):
 *
 *   wire frame = COBS(frame || CRC-16/CCITT-FALSE(frame), big-endian) || 0x00
 *
 * CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final XOR,
 * check("123456789") = 0x29B1. Computed without a table (the byte-wise
 * shift/xor identity of poly 0x1021): a 512-byte table costs a small board
 * more variables than the frames it checks.
 * COBS: Cheshire & Baker 1999; code 0xFF = 254 data bytes, no implied zero.
 *
 * The decoder takes what `Serial.on('data')` gives (a String on Espruino) or
 * a Uint8Array, holds at most `maxFrame` encoded bytes, and on a bad CRC, bad
 * COBS, a run shorter than the CRC or longer than maxFrame drops bytes up to
 * the next 0x00 and counts the reason, never throwing on input.
 */

/** CRC-16/CCITT-FALSE of b[start, end). */
function crc16(b, start, end) {
  var c = 0xffff;
  for (var i = start; i < end; i++) {
    var x = ((c >> 8) ^ b[i]) & 0xff;
    x ^= x >> 4;
    c = ((c << 8) ^ (x << 12) ^ (x << 5) ^ x) & 0xffff;
  }
  return c;
}
exports.crc16 = crc16;

/**
 * Encodes one radio frame as its wire bytes: COBS(frame || CRC) || 0x00.
 * `flush` puts one extra 0x00 first (the first frame written on a link does,
 * as FrameCodecLink: it ends whatever partial frame the receiver holds).
 */
exports.encode = function (frame, flush) {
  var n = frame.length, c = crc16(frame, 0, n);
  var raw = new Uint8Array(n + 2);
  raw.set(frame);
  raw[n] = c >> 8;
  raw[n + 1] = c & 0xff;
  n += 2;
  var out = new Uint8Array(n + 3 + Math.floor((n - 1) / 254));
  var o = flush ? 1 : 0, at = o, code = 1;
  o++;
  for (var i = 0; i < n; i++) {
    if (code === 0xff) { out[at] = code; at = o++; code = 1; }
    var v = raw[i];
    if (v === 0) { out[at] = code; at = o++; code = 1; } else { out[o++] = v; code++; }
  }
  out[at] = code;
  out[o++] = 0;
  return o === out.length ? out : new Uint8Array(out.subarray(0, o)); // slice() of a typed array gives an Array here
};

/**
 * A streaming decoder. `onFrame(frame)` gets a fresh Uint8Array per good
 * frame; a throwing handler is counted (handlerErrors) and decoding goes on.
 * `maxFrame`: largest encoded run accepted, default for an `mtu`-byte link
 * as Node's: mtu + 3 + floor((mtu + 1) / 254).
 */
exports.Decoder = function (onFrame, maxFrame) {
  this.onFrame = onFrame;
  this.maxFrame = maxFrame;
  this.buf = new Uint8Array(maxFrame);
  this.len = 0;
  this.skip = false;
  this.counters = { frames: 0, crc: 0, cobs: 0, short: 0, oversize: 0, garbageBytes: 0, handlerErrors: 0 };
};

/** Largest encoded frame (delimiter excluded) of an `mtu`-byte frame. */
exports.maxEncoded = function (mtu) {
  return mtu + 3 + Math.floor((mtu + 1) / 254);
};

/** Feeds received bytes: a String (Espruino Serial data) or a Uint8Array. */
exports.Decoder.prototype.push = function (chunk) {
  var str = typeof chunk === 'string', n = chunk.length, k = this.counters;
  for (var i = 0; i < n; i++) {
    var b = str ? chunk.charCodeAt(i) : chunk[i];
    if (b === 0) {
      if (this.skip) this.skip = false;
      else if (this.len > 0) this.finish();
    } else if (this.skip) {
      k.garbageBytes++;
    } else if (this.len >= this.maxFrame) {
      k.oversize++;
      k.garbageBytes += this.len + 1;
      this.len = 0;
      this.skip = true;
    } else {
      this.buf[this.len++] = b;
    }
  }
};

/** Drops a partial frame (its bytes count as garbage). */
exports.Decoder.prototype.reset = function () {
  this.counters.garbageBytes += this.len;
  this.len = 0;
  this.skip = false;
};

exports.Decoder.prototype.finish = function () {
  var b = this.buf, n = this.len, k = this.counters, i = 0, o = 0;
  this.len = 0;
  while (i < n) {
    var code = b[i++], end = i + code - 1;
    if (end > n) { k.cobs++; k.garbageBytes += n; return; }
    while (i < end) b[o++] = b[i++];
    if (code !== 0xff && i < n) b[o++] = 0;
  }
  if (o < 2) { k.short++; k.garbageBytes += n; return; }
  o -= 2;
  if (crc16(b, 0, o) !== ((b[o] << 8) | b[o + 1])) { k.crc++; k.garbageBytes += n; return; }
  k.frames++;
  try {
    this.onFrame(new Uint8Array(b.subarray(0, o)));
  } catch (e) {
    k.handlerErrors++;
  }
};
