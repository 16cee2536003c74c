/**
 * ChaCha20-Poly1305 AEAD (RFC 8439) in JavaScript: a 32-byte key, a 12-byte
 * nonce, a 16-byte tag. ChaCha20 works on an Int32Array state (stores wrap
 * the additions to 32 bits). Poly1305 is the "donna-16" form of tweetnacl-js
 * written with loops: ten 13-bit limbs in doubles, products below 2^32 (a
 * carry after the fifth term), no BigInt. In the AEAD every Poly1305 block is a
 * full 16 bytes (the AD and ciphertext are zero-padded, RFC 8439 §2.8), so
 * the high bit is always set and there is no partial-block path.
 */
var U = require('hopseal/crypto/util');

var SIGMA = new Int32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);
/** Quarter-round index sets: four columns, then four diagonals (RFC 8439 §2.3). */
var QR = new Uint8Array([0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15, 0, 5, 10, 15, 1, 6, 11, 12, 2, 7, 8, 13, 3, 4, 9, 14]);

function le32(b, o) {
  return b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24);
}

/** XORs `data` with the ChaCha20 keystream from block `counter` into `out`; s and x are Int32Array(16) scratch. */
function chacha(key, nonce, counter, data, out) {
  var s = new Int32Array(16), x = new Int32Array(16), i, j, q, a, b, c, d, t, o, w;
  for (i = 0; i < 4; i++) s[i] = SIGMA[i];
  for (i = 0; i < 8; i++) s[4 + i] = le32(key, 4 * i);
  for (i = 0; i < 3; i++) s[13 + i] = le32(nonce, 4 * i);
  for (o = 0; o < data.length; o += 64) {
    s[12] = counter++;
    x.set(s);
    for (i = 0; i < 10; i++) {
      for (q = 0; q < 32; q += 4) {
        a = QR[q]; b = QR[q + 1]; c = QR[q + 2]; d = QR[q + 3];
        x[a] += x[b]; t = x[d] ^ x[a]; x[d] = (t << 16) | (t >>> 16);
        x[c] += x[d]; t = x[b] ^ x[c]; x[b] = (t << 12) | (t >>> 20);
        x[a] += x[b]; t = x[d] ^ x[a]; x[d] = (t << 8) | (t >>> 24);
        x[c] += x[d]; t = x[b] ^ x[c]; x[b] = (t << 7) | (t >>> 25);
      }
    }
    for (i = 0; i < 16 && o + 4 * i < data.length; i++) {
      w = x[i] + s[i];
      for (j = 0; j < 4 && o + 4 * i + j < data.length; j++) out[o + 4 * i + j] = data[o + 4 * i + j] ^ (w >>> (8 * j));
    }
  }
  U.wipe(s);
  U.wipe(x);
}

/** Clamping masks of r (RFC 8439 §2.5.1) on its 13-bit limbs. */
var CLAMP = new Uint16Array([0x1fff, 0x1fff, 0x1f03, 0x1fff, 0x00ff, 0x1ffe, 0x1fff, 0x1f81, 0x1fff, 0x007f]);

/**
 * The ten 13-bit limbs of the 17-byte little-endian number in b (16 bytes,
 * then the 2^128 bit: 1 for message blocks, 0 for r), added to o.
 */
function limbs(b, o, mask) {
  for (var i = 0, k, v; i < 10; i++) {
    k = (13 * i) >> 3;
    v = (b[k] | (b[k + 1] << 8) | (b[k + 2] << 16)) >>> ((13 * i) & 7);
    o[i] += v & (mask ? mask[i] : 0x1fff);
  }
}

/** Poly1305 state: r (10 limbs), 5r, h (10 limbs), the key's s half, scratch block and d. */
function Poly(k) {
  this.b = new Uint8Array(19);
  this.b.set(k.subarray(0, 16));
  this.r = new Float64Array(10);
  limbs(this.b, this.r, CLAMP);
  this.r5 = new Float64Array(10);
  for (var i = 0; i < 10; i++) this.r5[i] = 5 * this.r[i];
  this.s = new Uint8Array(16);
  this.s.set(k.subarray(16, 32));
  this.h = new Float64Array(10);
  this.d = new Float64Array(10);
}

/** Absorbs `m` as 16-byte blocks, the last one zero-padded (the AEAD's padding), each with the 2^128 bit. */
Poly.prototype.update = function (m) {
  var h = this.h, r = this.r, r5 = this.r5, d = this.d, b = this.b, o, i, j, c;
  for (o = 0; o < m.length; o += 16) {
    for (i = 0; i < 16; i++) b[i] = o + i < m.length ? m[o + i] : 0;
    b[16] = 1;
    limbs(b, h);
    // h·r mod 2^130 - 5: 5r folds the limbs above 2^130; a carry after the
    // fifth term keeps every sum below 2^32 (the donna-16 bound)
    c = 0;
    for (i = 0; i < 10; i++) {
      d[i] = c;
      for (j = 0; j < 10; j++) {
        d[i] += h[j] * (j <= i ? r[i - j] : r5[i + 10 - j]);
        if (j === 4) {
          c = d[i] >>> 13;
          d[i] = d[i] & 0x1fff;
        }
      }
      c += d[i] >>> 13;
      d[i] = d[i] & 0x1fff;
    }
    c = (c * 5 + d[0]) | 0;
    d[0] = c & 0x1fff;
    d[1] += c >>> 13;
    h.set(d);
  }
};

/** The 16-byte tag (h fully reduced, plus s, mod 2^128); wipes the state. */
Poly.prototype.finish = function () {
  var h = this.h, g = this.d, c, i, mask, mac = new Uint8Array(16), acc = 0, bits = 0, j = 0;
  // carry h through, twice round the top (2^130 = 5)
  c = 0;
  for (i = 1; i < 12; i++) {
    h[i % 10] += c;
    c = h[i % 10] >>> 13;
    h[i % 10] = h[i % 10] & 0x1fff;
    if (i === 9) c *= 5;
  }
  h[2] += c;
  // g = h + 5 - 2^130; keep g when it did not go below zero (constant time)
  c = 5;
  for (i = 0; i < 10; i++) {
    g[i] = h[i] + c;
    c = g[i] >>> 13;
    g[i] = g[i] & 0x1fff;
  }
  mask = (c ^ 1) - 1;
  for (i = 0; i < 10; i++) h[i] = (h[i] & ~mask) | (g[i] & mask);
  // 130-bit h to 16 bytes, adding s with a byte carry
  c = 0;
  for (i = 0; i < 10; i++) {
    acc |= h[i] << bits;
    for (bits += 13; bits >= 8 && j < 16; bits -= 8) {
      c += (acc & 0xff) + this.s[j];
      mac[j++] = c;
      c >>>= 8;
      acc >>>= 8;
    }
  }
  U.wipe(this.r); U.wipe(this.r5); U.wipe(h); U.wipe(g); U.wipe(this.b); U.wipe(this.s);
  return mac;
};

var ZERO32 = new Uint8Array(32);

/** The tag over ad and ct with the one-time key of block 0 (RFC 8439 §2.8). */
function tag(key, nonce, ad, ct) {
  var pk = new Uint8Array(32), len = new Uint8Array(16), p;
  chacha(key, nonce, 0, ZERO32, pk);
  p = new Poly(pk);
  U.wipe(pk);
  p.update(ad);
  p.update(ct);
  len[0] = ad.length; len[1] = ad.length >>> 8; len[2] = ad.length >>> 16; len[3] = ad.length >>> 24;
  len[8] = ct.length; len[9] = ct.length >>> 8; len[10] = ct.length >>> 16; len[11] = ct.length >>> 24;
  p.update(len);
  return p.finish();
}

function check(key, nonce) {
  U.need(key, 32, 'ChaCha20-Poly1305 key');
  U.need(nonce, 12, 'ChaCha20-Poly1305 nonce');
}

/**
 * ChaCha20-Poly1305 seal: ciphertext || 16-byte tag.
 * @throws {Error} code INVALID_LENGTH for a key other than 32 bytes or a nonce other than 12
 */
exports.chachaPolySeal = function (key, nonce, ad, pt) {
  check(key, nonce);
  pt = U.u8(pt);
  var o = new Uint8Array(pt.length + 16), ct = o.subarray(0, pt.length);
  chacha(key, nonce, 1, pt, ct);
  o.set(tag(key, nonce, ad, ct), pt.length);
  return o;
};

/**
 * ChaCha20-Poly1305 open of ciphertext || tag: the plaintext, or null when
 * the tag does not match (constant-time comparison, checked before decrypting).
 * @throws {Error} code INVALID_LENGTH for a bad key or nonce length
 */
exports.chachaPolyOpen = function (key, nonce, ad, ctTag) {
  check(key, nonce);
  ctTag = U.u8(ctTag);
  if (ctTag.length < 16) return null;
  var n = ctTag.length - 16, ct = ctTag.subarray(0, n);
  if (!U.equal(tag(key, nonce, ad, ct), ctTag.subarray(n))) return null;
  var pt = new Uint8Array(n);
  chacha(key, nonce, 1, ct, pt);
  return pt;
};
