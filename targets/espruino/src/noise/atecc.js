/**
 * A P-256 vault on an ATECC608 for the device's Noise handshakes
 * (docs/protocol.md "Noise suites": DH = the x-coordinate of the ECDH point,
 * public keys as 33-byte compressed points on the wire):
 * - the static key lives in a slot: its public key is read once (GenKey
 *   public mode) and compressed; DH is ECDH with the slot;
 * - each ephemeral is made in TempKey (GenKey, key id 0xFFFF) and its DH is
 *   ECDH with the TempKey source: the private scalar never leaves the chip
 *   and is gone when the next ephemeral replaces it or the chip sleeps, so
 *   wipe() has nothing to erase on the host;
 * - peer keys arrive compressed; the chip wants X || Y, so they are
 *   decompressed (hopseal/crypto/p256point, which refuses points off the
 *   curve). Decompression is the slow step in the interpreter: the last two
 *   results are kept (the peer's static key and the current peer ephemeral,
 *   each used twice per handshake), and `peerXY` pre-seeds the static one;
 * - the handshake counter (message 1 replay protection) is the chip's
 *   monotonic Counter 1, incremented before each first handshake;
 * - with `ioKey` (the chip's 32-byte I/O protection key, provisioned into
 *   both the chip and the board) every ECDH asks for encrypted output
 *   (modes 0E / 0F): the secret crosses the bus XORed with
 *   SHA-256(ioKey || OutNonce[0..16]) ([CAL] atcah_io_decrypt), as
 *   vaults/atecc608 does. A chip configured with ECDHProt = 1 refuses clear
 *   output, so such a chip needs `ioKey`.
 */
var P = require('hopseal/crypto/p256point');
var B = require('hopseal/routing/bytes');
var H = require('hopseal/crypto/sha256');

/**
 * chip: an open hopseal/atecc/index device; o = { slot: static key slot (default 0),
 * peerXY: optional 64-byte X || Y of the peer's static key (skips one decompression),
 * peer: its compressed form (with peerXY), ioKey: the 32-byte I/O protection key }.
 */
exports.vault = function (chip, o) {
  o = o || {};
  var slot = o.slot || 0, io = o.ioKey;
  if (io !== undefined && !(io instanceof Uint8Array && io.length === 32)) throw B.err('INVALID_LENGTH', 'ioKey: 32 bytes expected');
  // The secret from an encrypted ECDH answer (encrypted secret || OutNonce); the answer is wiped.
  function clear(r) {
    var k = H.sha256(B.concat(io, r.subarray(32, 48))), s = new Uint8Array(32);
    for (var i = 0; i < 32; i++) s[i] = r[i] ^ k[i];
    r.fill(0);
    k.fill(0);
    return s;
  }
  var memo = [];
  if (o.peerXY && o.peer) memo.push([B.hex(o.peer), o.peerXY]);
  function xy(pub) {
    var h = B.hex(pub);
    for (var i = 0; i < memo.length; i++) if (memo[i][0] === h) return memo[i][1];
    if (pub.length !== 33 || (pub[0] !== 2 && pub[0] !== 3)) throw B.err('NOISE_INVALID_PUBLIC_KEY', 'P-256 key not compressed');
    var p = P.decompress(pub);
    if (!p) throw B.err('NOISE_INVALID_PUBLIC_KEY', 'P-256 key off the curve');
    memo.push([h, p]);
    if (memo.length > 2) memo.splice(o.peerXY ? 1 : 0, 1);
    return p;
  }
  function key(pub, source) {
    return {
      pub: pub,
      dh: function (peer) {
        return new Promise(function (resolve) { resolve(xy(peer)); }).then(function (p) { return chip.ecdh(source, p, !!io); }).then(function (r) { return io ? clear(r) : r; });
      },
      wipe: function () {}
    };
  }
  var s;
  return {
    dh: 'P256',
    init: function () {
      if (s) return Promise.resolve(s);
      return chip.publicKey(slot).then(function (p) {
        s = key(P.compress(p), slot);
        return s;
      });
    },
    eph: function () {
      return chip.genKeyTempKey().then(function (p) { return key(P.compress(p), 'tempkey'); });
    },
    counter: function () {
      return chip.counter(1, true);
    }
  };
};
