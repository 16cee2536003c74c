/**
 * The ATECC608 calls a Noise vault does not need (hopseal/atecc/index keeps
 * those): wake, sleep, info, random, read, nonce and sign. Requiring this
 * module adds them to every chip opened afterwards:
 *
 *   require('hopseal/atecc/extra');
 *   var chip = require('hopseal/atecc/index').open({ i2c: I2C1 });
 *   chip.sign(0, digest).then(function (rs) { ... });
 */
var A = require('hopseal/atecc/index');

/** P-256 group order n, big-endian (low-S signatures, as the Node vault returns them). */
var N = [255, 255, 255, 255, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255, 188, 230, 250, 173, 167, 23, 158, 132, 243, 185, 202, 194, 252, 99, 37, 81];

/** r || s with s replaced by n - s when s > (n - 1) / 2: the same signature in its low-S form. */
function lowS(sig) {
  var i, c = 0, v;
  for (i = 0; i < 32; i++) {
    v = (N[i] >> 1) | ((i ? N[i - 1] & 1 : 0) << 7); // byte i of (n - 1) / 2
    if (sig[32 + i] !== v) break;
  }
  if (i === 32 || sig[32 + i] < v) return sig;
  for (i = 31; i >= 0; i--) {
    v = N[i] - sig[32 + i] - c;
    c = v < 0 ? 1 : 0;
    sig[32 + i] = v + 256 * c;
  }
  return sig;
}
exports.lowS = lowS;

function noop() {}

A.ext.push(function (chip, h) {
  var tr = chip.transport;
  /** Wakes the chip and puts it back to idle: the 4-byte wake token (04 11 33 43). */
  chip.wake = function () {
    return h.job(function () {
      return tr.wake().then(function (t) { return tr.idle().then(function () { return t; }); });
    });
  };
  /** Sleep: TempKey and the other volatile state are lost. */
  chip.sleep = function () {
    return h.job(function () { return tr.wake().then(tr.sleep); });
  };
  /** Info: mode 0 = revision (4 bytes: 00 00 60 02 on a 608A). */
  chip.info = function (mode, p2) {
    return h.one(noop, 0x30, mode || 0, p2 || 0, undefined, 4);
  };
  /** n random bytes (default 32) from Random (mode 00, seed update), 32 per command. */
  chip.random = function (n) {
    n = n === undefined ? 32 : n;
    return h.job(function () {
      var out = new Uint8Array(n), got = 0;
      h.need(n >= 0 && n % 1 === 0, 'INVALID_ARGUMENT', 'random length');
      function more() {
        return got >= n ? out : h.run(0x1b, 0, 0, undefined, 32).then(function (r) {
          out.set(r.subarray(0, Math.min(32, n - got)), got);
          got += 32;
          return more();
        });
      }
      return more();
    });
  };
  /** Read 4 or 32 bytes: zone 0 config, 1 OTP, 2 data; address as in spec A3 "Addresses". */
  chip.read = function (zone, address, length) {
    return h.one(function () {
      h.need(zone >= 0 && zone <= 2 && (length === 4 || (length === 32 && !(address & 7))) && address >= 0 && address <= 0xffff, 'INVALID_ARGUMENT', 'read');
    }, 2, zone | (length === 32 ? 0x80 : 0), address, undefined, length);
  };
  /** Nonce pass-through of 32 or 64 bytes into 'tempkey', 'msgdigbuf' (default) or 'altkeybuf' (32 only). */
  chip.nonce = function (value, target) {
    var t = { tempkey: 0, msgdigbuf: 0x40, altkeybuf: 0x80 }[target || 'msgdigbuf'];
    return h.one(function () {
      h.need(t !== undefined && value instanceof Uint8Array && (value.length === 32 || (value.length === 64 && t < 0x80)), 'INVALID_ARGUMENT', 'nonce');
    }, 0x16, 3 | t | (value && value.length === 64 ? 0x20 : 0), 0, value, 0);
  };
  /**
   * ECDSA P-256 over a 32-byte digest with the key in `slot` (spec A3 "Sign an
   * external digest": Random 00, Nonce 43 into the message digest buffer, Sign A0):
   * r || s (64 bytes), low-S. TempKey is invalid afterwards.
   */
  chip.sign = function (s, digest) {
    return h.job(function () {
      h.slot(s);
      h.len(digest, 32, 'digest');
      return h.run(0x1b, 0, 0, undefined, 32).then(function () {
        return h.run(0x16, 0x43, 0, digest, 0);
      }).then(function () {
        return h.run(0x41, 0xa0, s, undefined, 64);
      }).then(lowS);
    });
  };
});
