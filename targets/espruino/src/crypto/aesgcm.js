/**
 * AES-256-GCM (NIST SP 800-38D) with a 96-bit nonce and a 128-bit tag.
 * The AES block cipher is the interpreter's `require('crypto').AES` in ECB
 * mode, called once per message on all the blocks it needs (0^128 for H,
 * J0 for the tag mask, then inc32(J0)... for the keystream). Its CTR mode is
 * not used: in 2v29 it ignores the `iv` option (always counts from zero).
 *
 * GHASH is JavaScript, Shoup's 4-bit table method (as mbedtls gcm.c): a
 * 16-entry table of H multiples per key (64 words), then 32 table steps of
 * four 32-bit words per block. Bitwise shift-and-add (128 masked XORs and
 * shifts per block) measured 4.7 ms a block here, against 1.8 ms a block
 * for a whole 1 KiB seal with the table (AES and XOR included).
 */
var AES = require('crypto').AES;
var U = require('hopseal/crypto/util');

var ECB = { mode: 'ECB' };
/** Reduction constants for a 4-bit shift (x^4 folded by the GCM polynomial), the top 16 bits of the word. */
var R4 = new Uint16Array([0x0000, 0x1c20, 0x3840, 0x2460, 0x7080, 0x6ca0, 0x48c0, 0x54e0, 0xe100, 0xfd20, 0xd940, 0xc560, 0x9180, 0x8da0, 0xa9c0, 0xb5e0]);

function word(b, o) {
  return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
}

/** The table of i·H for the 16 nibbles i (GCM bit order), 4 words each, most significant first. */
function table(h) {
  var m = new Int32Array(64), v0 = word(h, 0), v1 = word(h, 4), v2 = word(h, 8), v3 = word(h, 12), i, j, k, t;
  m[32] = v0; m[33] = v1; m[34] = v2; m[35] = v3;
  for (i = 4; i > 0; i >>= 1) {
    t = v3 & 1 ? 0xe1000000 : 0;
    v3 = (v3 >>> 1) | (v2 << 31);
    v2 = (v2 >>> 1) | (v1 << 31);
    v1 = (v1 >>> 1) | (v0 << 31);
    v0 = (v0 >>> 1) ^ t;
    m[4 * i] = v0; m[4 * i + 1] = v1; m[4 * i + 2] = v2; m[4 * i + 3] = v3;
  }
  for (i = 2; i <= 8; i *= 2) for (j = 1; j < i; j++) for (k = 0; k < 4; k++) m[4 * (i + j) + k] = m[4 * i + k] ^ m[4 * j + k];
  return m;
}

/** x = x·H in place (x: 16 bytes, m: the table). */
function mul(x, m) {
  var z0 = 0, z1 = 0, z2 = 0, z3 = 0, i, n, r, k, s;
  for (i = 15; i >= 0; i--) {
    for (s = 0; s < 8; s += 4) {
      n = (x[i] >> s) & 15;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] << 16);
      k = n << 2;
      z0 ^= m[k]; z1 ^= m[k + 1]; z2 ^= m[k + 2]; z3 ^= m[k + 3];
    }
  }
  for (i = 0; i < 4; i++) {
    s = 24 - 8 * i;
    x[i] = z0 >>> s; x[4 + i] = z1 >>> s; x[8 + i] = z2 >>> s; x[12 + i] = z3 >>> s;
  }
}

/** Absorbs `d` into the GHASH state x, zero-padded to 16 bytes. */
function absorb(x, m, d) {
  for (var o = 0; o < d.length; o += 16) {
    for (var i = 0; i < 16 && o + i < d.length; i++) x[i] ^= d[o + i];
    mul(x, m);
  }
}

function put64(b, o, bytes) {
  var bits = bytes * 8, lo = bits % 4294967296, hi = (bits - lo) / 4294967296;
  for (var i = 0; i < 4; i++) {
    b[o + 3 - i] = hi >>> (8 * i);
    b[o + 7 - i] = lo >>> (8 * i);
  }
}

/** The GCM core: XORs `data` with the keystream into a new array and computes the tag over `ad` and the ciphertext. */
function gcm(key, nonce, ad, data, sealing) {
  var n = data.length, nb = (n + 15) >> 4, blocks = new Uint8Array(32 + 16 * nb), i, c;
  for (i = 0; i <= nb; i++) {
    blocks.set(nonce, 16 + 16 * i);
    c = i + 1;
    blocks[16 * i + 28] = c >>> 24; blocks[16 * i + 29] = c >>> 16; blocks[16 * i + 30] = c >>> 8; blocks[16 * i + 31] = c;
  }
  var ks = new Uint8Array(AES.encrypt(blocks, U.u8(key), ECB));
  var out = new Uint8Array(n);
  for (i = 0; i < n; i++) out[i] = data[i] ^ ks[32 + i];
  var m = table(ks.subarray(0, 16)), x = new Uint8Array(16), len = new Uint8Array(16);
  absorb(x, m, ad);
  absorb(x, m, sealing ? out : data);
  put64(len, 0, ad.length);
  put64(len, 8, n);
  absorb(x, m, len);
  for (i = 0; i < 16; i++) x[i] ^= ks[16 + i];
  U.wipe(ks);
  U.wipe(m);
  U.wipe(blocks);
  return { out: out, tag: x };
}

function check(key, nonce) {
  U.need(key, 32, 'AES-256-GCM key');
  U.need(nonce, 12, 'AES-GCM nonce');
}

/**
 * AES-256-GCM seal: ciphertext || 16-byte tag.
 * @throws {Error} code INVALID_LENGTH for a key other than 32 bytes or a nonce other than 12
 * @example var ct = aesGcmSeal(key, nonce12, ad, pt);
 */
exports.aesGcmSeal = function (key, nonce, ad, pt) {
  check(key, nonce);
  pt = U.u8(pt);
  var r = gcm(key, nonce, ad, pt, true), o = new Uint8Array(pt.length + 16);
  o.set(r.out, 0);
  o.set(r.tag, pt.length);
  return o;
};

/**
 * AES-256-GCM open of ciphertext || tag: the plaintext, or null when the tag
 * does not match (compared in constant time; nothing of the plaintext is kept).
 * @throws {Error} code INVALID_LENGTH for a bad key or nonce length
 */
exports.aesGcmOpen = function (key, nonce, ad, ctTag) {
  check(key, nonce);
  ctTag = U.u8(ctTag);
  if (ctTag.length < 16) return null;
  var n = ctTag.length - 16, r = gcm(key, nonce, ad, ctTag.subarray(0, n), false);
  if (U.equal(r.tag, ctTag.subarray(n))) return r.out;
  U.wipe(r.out);
  return null;
};
