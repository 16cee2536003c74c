/**
 * Key objects for the device's Noise handshakes (see handshake.js):
 *   { pub, dh(peerPub) -> Promise<Uint8Array(32)>, wipe() }
 * - 25519 in software (the crypto module's X25519): a static key from its
 *   32-byte private key, ephemerals from randomBytes (or a list of fixed
 *   private keys, for golden tests);
 * - P-256 in an ATECC608 (atecc.js beside this file): static key in a slot,
 *   ephemeral in TempKey.
 * Renewal ephemerals on 25519 are drawn until the public key's first byte is
 * >= 0xC0 (docs/protocol.md "Renewal"); P-256 renewal flights mark the point
 * prefix instead, so any P-256 ephemeral serves.
 */
var X = require('hopseal/crypto/x25519');
var U = require('hopseal/crypto/util');
var B = require('hopseal/routing/bytes');

/**
 * A 25519 key pair from its private key (the private key is copied; wipe()
 * zero-fills it). `memo`: keep the last two DH results, so the static key's
 * DH with the peer's static key (`ss`, the same in every handshake and
 * renewal) is computed once: one scalar multiplication of five saved per
 * handshake, as the Node listener precomputes it.
 */
exports.x25519 = function (priv, memo) {
  var k = B.copy(priv), m = [];
  return {
    pub: X.x25519Base(k),
    dh: function (peer) {
      return new Promise(function (resolve) {
        for (var i = 0; i < m.length; i++) {
          if (U.equal(m[i][0], peer)) {
            var hit = m.splice(i, 1)[0];
            m.unshift(hit);
            return resolve(B.copy(hit[1]));
          }
        }
        var r = X.x25519(k, peer);
        if (memo) {
          m.unshift([B.copy(peer), B.copy(r)]);
          if (m.length > 2) U.wipe(m.pop()[1]);
        }
        resolve(r);
      });
    },
    wipe: function () {
      U.wipe(k);
      while (m.length) U.wipe(m.pop()[1]);
    }
  };
};

/**
 * An ephemeral maker for 25519: a function (renewal) -> Promise<key>.
 * `fixed` (tests only): private keys handed out in order instead of random ones.
 */
exports.x25519Ephemerals = function (fixed) {
  return function (renewal) {
    return new Promise(function (resolve) {
      for (;;) {
        var priv = fixed && fixed.length ? fixed.shift() : U.randomBytes(32);
        var kp = exports.x25519(priv);
        U.wipe(priv);
        if (!renewal || kp.pub[0] >= 0xc0) return resolve(kp);
        kp.wipe();
      }
    });
  };
};
