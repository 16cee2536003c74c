/**
 * Noise SymmetricState (rev 34 §5.2) over SHA-256: ck, h and a CipherState.
 * HKDF is the crypto module's Noise HKDF (§4.3), HASHLEN = 32.
 */
var S = require('hopseal/crypto/sha256');
var U = require('hopseal/crypto/util');
var B = require('hopseal/routing/bytes');
var CipherState = require('hopseal/noise/cipher').CipherState;

/** §5.2 InitializeSymmetric(protocol_name). */
function SymmetricState(name, chacha) {
  var n = B.ascii(name);
  var h;
  if (n.length <= 32) {
    h = new Uint8Array(32);
    h.set(n);
  } else h = S.sha256(n);
  this.h = h;
  this.ck = B.copy(h);
  this.cs = new CipherState(chacha);
}
var P = SymmetricState.prototype;

P._mixHash = function (data) {
  this.h = S.sha256(B.concat(this.h, data));
};

/** §5.2 MixKey: the input key material is wiped by the caller. */
P._mixKey = function (ikm) {
  var o = S.hkdf(this.ck, ikm, 2);
  U.wipe(this.ck);
  this.ck = o[0];
  this.cs.wipe();
  this.cs = new CipherState(this.cs.c, o[1]);
  U.wipe(o[1]);
};

P._encryptAndHash = function (pt) {
  var ct = this.cs._encryptWithAd(this.h, pt);
  this._mixHash(ct);
  return ct;
};

/** Returns the plaintext, or null when it does not authenticate. */
P._decryptAndHash = function (ct) {
  var pt = this.cs._decryptWithAd(this.h, ct);
  if (pt) this._mixHash(ct);
  return pt;
};

/** §5.2 Split: [c1, c2] (c1 is the initiator's sending key), then wipes ck. */
P.split = function () {
  var o = S.hkdf(this.ck, new Uint8Array(0), 2);
  var c = this.cs.c;
  var r = [new CipherState(c, o[0]), new CipherState(c, o[1])];
  U.wipe(o[0]);
  U.wipe(o[1]);
  this.wipe();
  return r;
};

P.wipe = function () {
  U.wipe(this.ck);
  this.cs.wipe();
};

exports.SymmetricState = SymmetricState;
