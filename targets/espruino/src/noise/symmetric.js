/**
 * Noise SymmetricState (rev 34 §5.2) over SHA-256: ck, h and a CipherState.
 * HKDF is the crypto module's Noise HKDF (§4.3), HASHLEN = 32.
 */
var C = require('hopseal/crypto/index');
var B = require('hopseal/routing/bytes');
var CipherState = require('hopseal/noise/cipher').CipherState;

/** §5.2 InitializeSymmetric(protocol_name). */
function SymmetricState(name, chacha) {
  var n = B.ascii(name);
  var h;
  if (n.length <= 32) {
    h = new Uint8Array(32);
    h.set(n);
  } else h = C.sha256(n);
  this.h = h;
  this.ck = B.copy(h);
  this.cs = new CipherState(chacha);
}
var P = SymmetricState.prototype;

P.mixHash = function (data) {
  this.h = C.sha256(B.concat(this.h, data));
};

/** §5.2 MixKey: the input key material is wiped by the caller. */
P.mixKey = function (ikm) {
  var o = C.hkdf(this.ck, ikm, 2);
  C.wipe(this.ck);
  this.ck = o[0];
  this.cs.wipe();
  this.cs = new CipherState(this.cs.c, o[1]);
  C.wipe(o[1]);
};

P.encryptAndHash = function (pt) {
  var ct = this.cs.encryptWithAd(this.h, pt);
  this.mixHash(ct);
  return ct;
};

/** Returns the plaintext, or null when it does not authenticate. */
P.decryptAndHash = function (ct) {
  var pt = this.cs.decryptWithAd(this.h, ct);
  if (pt) this.mixHash(ct);
  return pt;
};

/** §5.2 Split: [c1, c2] (c1 is the initiator's sending key), then wipes ck. */
P.split = function () {
  var o = C.hkdf(this.ck, new Uint8Array(0), 2);
  var c = this.cs.c;
  var r = [new CipherState(c, o[0]), new CipherState(c, o[1])];
  C.wipe(o[0]);
  C.wipe(o[1]);
  this.wipe();
  return r;
};

P.wipe = function () {
  C.wipe(this.ck);
  this.cs.wipe();
};

exports.SymmetricState = SymmetricState;
