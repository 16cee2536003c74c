/**
 * ChaCha20-Poly1305 AEAD (RFC 8439) in JavaScript: a 32-byte key, a 12-byte
 * nonce, a 16-byte tag. ChaCha20 works on an Int32Array state (stores wrap
 * the additions to 32 bits). Poly1305 is the 16-bit "donna" form of
 * tweetnacl-js: ten 13-bit limbs in doubles, products below 2^32 (a carry
 * after the fifth term), no BigInt. In the AEAD every Poly1305 block is a
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

/** Poly1305 state: r (10 limbs), h (10 limbs), pad (8 16-bit words), scratch d. */
function Poly(k) {
  var t = new Uint16Array(8), i;
  for (i = 0; i < 8; i++) t[i] = k[2 * i] | (k[2 * i + 1] << 8);
  var r = (this.r = new Float64Array(10));
  r[0] = t[0] & 0x1fff;
  r[1] = ((t[0] >>> 13) | (t[1] << 3)) & 0x1fff;
  r[2] = ((t[1] >>> 10) | (t[2] << 6)) & 0x1f03;
  r[3] = ((t[2] >>> 7) | (t[3] << 9)) & 0x1fff;
  r[4] = ((t[3] >>> 4) | (t[4] << 12)) & 0x00ff;
  r[5] = (t[4] >>> 1) & 0x1ffe;
  r[6] = ((t[4] >>> 14) | (t[5] << 2)) & 0x1fff;
  r[7] = ((t[5] >>> 11) | (t[6] << 5)) & 0x1f81;
  r[8] = ((t[6] >>> 8) | (t[7] << 8)) & 0x1fff;
  r[9] = (t[7] >>> 5) & 0x007f;
  this.pad = new Uint16Array(8);
  for (i = 0; i < 8; i++) this.pad[i] = k[16 + 2 * i] | (k[17 + 2 * i] << 8);
  this.h = new Float64Array(10);
  this.d = new Float64Array(10);
  this.t = t;
}

/** Absorbs `m` as 16-byte blocks, the last one zero-padded (the AEAD's padding), each with the 2^128 bit. */
Poly.prototype.update = function (m) {
  var h = this.h, r = this.r, d = this.d, t = this.t, o, i, j, c;
  for (o = 0; o < m.length; o += 16) {
    for (i = 0; i < 8; i++) t[i] = (o + 2 * i < m.length ? m[o + 2 * i] : 0) | (o + 2 * i + 1 < m.length ? m[o + 2 * i + 1] << 8 : 0);
    h[0] += t[0] & 0x1fff;
    h[1] += ((t[0] >>> 13) | (t[1] << 3)) & 0x1fff;
    h[2] += ((t[1] >>> 10) | (t[2] << 6)) & 0x1fff;
    h[3] += ((t[2] >>> 7) | (t[3] << 9)) & 0x1fff;
    h[4] += ((t[3] >>> 4) | (t[4] << 12)) & 0x1fff;
    h[5] += (t[4] >>> 1) & 0x1fff;
    h[6] += ((t[4] >>> 14) | (t[5] << 2)) & 0x1fff;
    h[7] += ((t[5] >>> 11) | (t[6] << 5)) & 0x1fff;
    h[8] += ((t[6] >>> 8) | (t[7] << 8)) & 0x1fff;
    h[9] += (t[7] >>> 5) | 0x800;
    c = 0;
    for (i = 0; i < 10; i++) {
      d[i] = c;
      for (j = 0; j < 10; j++) {
        d[i] += h[j] * (j <= i ? r[i - j] : 5 * r[i + 10 - j]);
        if (j === 4) {
          c = d[i] >>> 13;
          d[i] = d[i] & 0x1fff;
        }
      }
      c += d[i] >>> 13;
      d[i] = d[i] & 0x1fff;
    }
    c = ((c << 2) + c) | 0;
    c = (c + d[0]) | 0;
    d[0] = c & 0x1fff;
    d[1] += c >>> 13;
    h.set(d);
  }
};

/** The 16-byte tag; wipes the state. */
Poly.prototype.finish = function () {
  var h = this.h, g = this.d, c, i, mask, f, mac = new Uint8Array(16);
  c = h[1] >>> 13;
  h[1] = h[1] & 0x1fff;
  for (i = 2; i < 10; i++) {
    h[i] += c;
    c = h[i] >>> 13;
    h[i] = h[i] & 0x1fff;
  }
  h[0] += c * 5;
  c = h[0] >>> 13;
  h[0] = h[0] & 0x1fff;
  h[1] += c;
  c = h[1] >>> 13;
  h[1] = h[1] & 0x1fff;
  h[2] += c;
  g[0] = h[0] + 5;
  c = g[0] >>> 13;
  g[0] = g[0] & 0x1fff;
  for (i = 1; i < 10; i++) {
    g[i] = h[i] + c;
    c = g[i] >>> 13;
    g[i] = g[i] & 0x1fff;
  }
  g[9] -= 1 << 13;
  // constant-time select: g when h + 5 - 2^130 did not go below zero
  mask = (c ^ 1) - 1;
  for (i = 0; i < 10; i++) h[i] = (h[i] & ~mask) | (g[i] & mask);
  var w = this.t;
  w[0] = h[0] | (h[1] << 13);
  w[1] = (h[1] >>> 3) | (h[2] << 10);
  w[2] = (h[2] >>> 6) | (h[3] << 7);
  w[3] = (h[3] >>> 9) | (h[4] << 4);
  w[4] = (h[4] >>> 12) | (h[5] << 1) | (h[6] << 14);
  w[5] = (h[6] >>> 2) | (h[7] << 11);
  w[6] = (h[7] >>> 5) | (h[8] << 8);
  w[7] = (h[8] >>> 8) | (h[9] << 5);
  f = 0;
  for (i = 0; i < 8; i++) {
    f = w[i] + this.pad[i] + (f >>> 16);
    mac[2 * i] = f;
    mac[2 * i + 1] = f >>> 8;
  }
  U.wipe(this.r); U.wipe(h); U.wipe(g); U.wipe(w); U.wipe(this.pad);
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
  if (ctTag.length < 16) return null;
  var n = ctTag.length - 16, ct = ctTag.subarray(0, n);
  if (!U.equal(tag(key, nonce, ad, ct), ctTag.subarray(n))) return null;
  var pt = new Uint8Array(n);
  chacha(key, nonce, 1, ct, pt);
  return pt;
};
