/**
 * SHA-256 (the interpreter's built-in `require('crypto').SHA256`, which
 * returns an ArrayBuffer), HMAC-SHA256 (RFC 2104) and the Noise HKDF
 * (Noise rev 34 §4.3: HMAC-based, 2 or 3 outputs of 32 bytes).
 */
var SHA = require('crypto').SHA256;
var U = require('hopseal/crypto/util');

/** SHA-256 of a Uint8Array: a new 32-byte Uint8Array. */
function sha256(d) {
  return new Uint8Array(SHA(U.u8(d)));
}
exports.sha256 = sha256;

/** HMAC-SHA256(key, data) (RFC 2104, 64-byte block): 32 bytes. Every temporary holding key bytes is wiped. */
function hmac(key, data) {
  var k = key.length > 64 ? sha256(key) : key, i;
  var b = new Uint8Array(64 + Math.max(data.length, 32));
  for (i = 0; i < 64; i++) b[i] = (i < k.length ? k[i] : 0) ^ 0x36;
  b.set(data, 64);
  var inner = sha256(b.subarray(0, 64 + data.length));
  for (i = 0; i < 64; i++) b[i] ^= 0x36 ^ 0x5c;
  b.set(inner, 64);
  var out = sha256(b.subarray(0, 96));
  U.wipe(b);
  U.wipe(inner);
  if (k !== key) U.wipe(k);
  return out;
}
exports.hmacSha256 = hmac;

/**
 * Noise HKDF(chainingKey, ikm, n) for n = 2 or 3: [o1, o2(, o3)], 32 bytes each.
 * @throws {Error} code INVALID_ARGUMENT when n is not 2 or 3
 */
exports.hkdf = function (ck, ikm, n) {
  if (n !== 2 && n !== 3) throw U.err('INVALID_ARGUMENT', 'hkdf expects 2 or 3 outputs, got ' + n);
  var t = hmac(ck, ikm), out = [], prev = new Uint8Array(0), m = new Uint8Array(33);
  for (var i = 1; i <= n; i++) {
    m.set(prev, 0);
    m[prev.length] = i;
    prev = hmac(t, m.subarray(0, prev.length + 1));
    out.push(prev);
  }
  U.wipe(t);
  U.wipe(m);
  return out;
};
