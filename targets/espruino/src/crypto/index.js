/**
 * The device crypto API (module hopseal/crypto/index): every function takes
 * and returns Uint8Arrays. SHA-256 and AES are the interpreter's built-in
 * `crypto` module; HMAC, HKDF, GHASH, ChaCha20-Poly1305 and X25519 are
 * JavaScript in the interpreter's subset. Times and memory: docs/espruino.md.
 *
 * @example
 *   var C = require('hopseal/crypto/index');
 *   var ct = C.aesGcmSeal(key, nonce12, ad, pt);      // ct || tag
 *   var pt2 = C.aesGcmOpen(key, nonce12, ad, ct);     // or null
 */
var U = require('hopseal/crypto/util');
var S = require('hopseal/crypto/sha256');
var G = require('hopseal/crypto/aesgcm');
var P = require('hopseal/crypto/chachapoly');
var X = require('hopseal/crypto/x25519');

exports.sha256 = S.sha256;
exports.hmacSha256 = S.hmacSha256;
exports.hkdf = S.hkdf;
exports.aesGcmSeal = G.aesGcmSeal;
exports.aesGcmOpen = G.aesGcmOpen;
exports.chachaPolySeal = P.chachaPolySeal;
exports.chachaPolyOpen = P.chachaPolyOpen;
exports.x25519 = X.x25519;
exports.x25519Base = X.x25519Base;
exports.randomBytes = U.randomBytes;
exports.equal = U.equal;
exports.wipe = U.wipe;
