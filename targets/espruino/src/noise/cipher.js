/**
 * Noise CipherState (Noise rev 34 §5.1) for the device, with explicit
 * nonces for transport messages (docs/protocol.md "Sealed messages": the
 * nonce is the message counter). Nonces are Numbers (exact up to 2^53,
 * beyond the session's 2^48 hard limit); the 12-byte AEAD nonce is
 * 4 zero bytes || u64be(n) for AESGCM, 4 zero bytes || u64le(n) for
 * ChaChaPoly (Noise §12). Rekey() is ENCRYPT(k, 2^64 - 1, empty, zeros(32))
 * truncated to 32 bytes (Noise §4.2, §11.3).
 */
var G = require('hopseal/crypto/aesgcm');
var U = require('hopseal/crypto/util');
var B = require('hopseal/routing/bytes');

/** The ChaChaPoly AEAD (optional: an application using it requires hopseal/crypto/chachapoly). */
function chacha() {
  return B.optional('hopseal/crypto/chachapoly');
}

var EMPTY = new Uint8Array(0);

function nonce(chacha, n) {
  var b = new Uint8Array(12);
  if (n < 0) {
    // 2^64 - 1, the Rekey nonce: the same bytes in both orders
    b.fill(0xff, 4);
    return b;
  }
  var lo = n % 4294967296, hi = (n - lo) / 4294967296, i;
  for (i = 0; i < 4; i++) {
    if (chacha) {
      b[4 + i] = (lo / Math.pow(2, 8 * i)) & 0xff;
      b[8 + i] = (hi / Math.pow(2, 8 * i)) & 0xff;
    } else {
      b[11 - i] = (lo / Math.pow(2, 8 * i)) & 0xff;
      b[7 - i] = (hi / Math.pow(2, 8 * i)) & 0xff;
    }
  }
  return b;
}

/** A cipher state: `chacha` true for ChaChaPoly, false for AESGCM; `k` a 32-byte key (copied) or undefined. */
function CipherState(chacha, k) {
  this.c = chacha;
  this.k = k ? B.copy(k) : undefined;
  this.n = 0;
}
var P = CipherState.prototype;

/** Seals with an explicit nonce: ciphertext || tag. */
P.seal = function (n, ad, pt) {
  return (this.c ? chacha().chachaPolySeal : G.aesGcmSeal)(this.k, nonce(this.c, n), ad, pt);
};

/** Opens with an explicit nonce: the plaintext, or null when it does not authenticate. */
P.open = function (n, ad, ct) {
  if (ct.length < 16) return null;
  return (this.c ? chacha().chachaPolyOpen : G.aesGcmOpen)(this.k, nonce(this.c, n), ad, ct);
};

/** §5.1 EncryptWithAd (the handshake's own counter). */
P._encryptWithAd = function (ad, pt) {
  if (!this.k) return B.copy(pt);
  return this.seal(this.n++, ad, pt);
};

/** §5.1 DecryptWithAd: null on failure (n does not move). */
P._decryptWithAd = function (ad, ct) {
  if (!this.k) return B.copy(ct);
  var p = this.open(this.n, ad, ct);
  if (p) this.n++;
  return p;
};

/** §4.2 Rekey (a key phase): the old key is wiped. */
P._rekey = function () {
  var out = this.seal(-1, EMPTY, new Uint8Array(32));
  U.wipe(this.k);
  this.k = B.copy(out, 0, 32);
  U.wipe(out);
};

P._clone = function () {
  var c = new CipherState(this.c, this.k);
  c.n = this.n;
  return c;
};

/** Zero-fills the key. */
P.wipe = function () {
  if (this.k) U.wipe(this.k);
  this.k = undefined;
};

exports.CipherState = CipherState;
