/**
 * ATECC608 driver for the device, speaking the packets of vaults/atecc608
 * (../shared/specs/atecc608-and-pkcs11.md A1-A4) over the KIT protocol
 * (kit.js: the simulator on a PTY) or I2C (i2c.js: real boards).
 *
 *   Serial2.setup(115200, { path: '/dev/pts/4' });
 *   var chip = require('hopseal/atecc/index').open({ kit: Serial2 });   // or { i2c: I2C1, address: 0x60 }
 *   chip.genKeyTempKey().then(function (xy) { return chip.ecdh('tempkey', peerXY); }).then(...)
 *
 * Every call returns a Promise. Calls run one at a time, in order (a queue):
 * each command is a wake / command / idle cycle as cryptoauthlib runs it, and
 * a multi-command operation (Sign: Random, Nonce, Sign) holds the chip for
 * all its commands, so nothing runs between the Nonce and the Sign. A corrupt
 * answer (count or CRC), a link failure and the statuses FF (CRC), EE
 * (watchdog) and 05 (ECC fault) re-run the whole operation `retries` times
 * (default 1). Errors: VAULT_DEVICE_ERROR with `status` (the device byte) for
 * device answers, VAULT_DEVICE_TIMEOUT when the chip or board is silent,
 * VAULT_TOKEN_ABSENT when the KIT board has no ECC608, INVALID_ARGUMENT /
 * INVALID_LENGTH for bad arguments (checked when the call's turn comes).
 *
 * The calls a Noise vault needs are here (genKey, genKeyTempKey, publicKey,
 * ecdh, counter, command); hopseal/atecc/extra adds the others to every chip
 * when the application requires it (exports.ext).
 */
var K = require('hopseal/atecc/packet');
var B = require('hopseal/routing/bytes');


function need(ok, code, what) {
  if (!ok) throw K.err(code, 'ATECC608: bad ' + what);
}
function slot(s) {
  need(s >= 0 && s <= 15 && s % 1 === 0, 'INVALID_ARGUMENT', 'slot ' + s);
}
function len(b, n, what) {
  need(b instanceof Uint8Array && b.length === n, 'INVALID_LENGTH', what + ' (' + n + ' bytes expected)');
}
function noop() {}

/**
 * Opens a chip: o { kit: Serial | i2c: I2C, address, timeoutMs, retries, transport (a custom one) }.
 * The transport module is optional (B.optional): an application opening
 * `{ i2c: I2C1 }` requires hopseal/atecc/i2c, `{ kit: Serial2 }` hopseal/atecc/kit.
 * Returns at once; the KIT enumeration runs as the first queued job (`ready`).
 */
exports.open = function (o) {
  var tr = o.transport || B.optional(o.kit ? 'hopseal/atecc/kit' : 'hopseal/atecc/i2c').transport(o.kit || o.i2c, o);
  var retries = o.retries === undefined ? 1 : o.retries, ready = tr.open(), tail = ready.then(noop, noop);

  // Runs fn() when the chip is free; re-runs it on retryable failures.
  function job(fn) {
    var n = 0;
    function attempt() {
      return new Promise(function (ok) { ok(fn()); }).then(undefined, function (e) {
        var s = e.status;
        if (n++ < retries && (e.corrupt || s === 0xff || s === 0xee || s === 5)) return attempt();
        throw e;
      });
    }
    var p = tail.then(function () { return ready; }).then(attempt);
    tail = p.then(noop, noop);
    return p;
  }

  // One wake / command / idle cycle: the data (expect bytes), or a success status (expect 0).
  function run(op, p1, p2, data, expect) {
    var what = 'command 0x' + op.toString(16);
    return tr.wake().then(function (tok) {
      // self-test failure mode: only SelfTest, Info and Read run
      if (tok[1] === 7 && op !== 0x77 && op !== 0x30 && op !== 2) throw K.statusError(7, what);
      return tr.talk(K.build(op, p1, p2, data));
    }).then(function (r) {
      return tr.idle().then(function () {
        var p = K.parse(r), e;
        if (p.length === 1) {
          if (!p[0] && !expect) return p;
          throw K.statusError(p[0] || 3, what);
        }
        if (p.length !== expect) {
          e = K.err('VAULT_DEVICE_ERROR', what + ': ' + p.length + ' data bytes');
          e.corrupt = true;
          throw e;
        }
        return p;
      });
    });
  }
  function one(check, op, p1, p2, data, expect) {
    return job(function () {
      check();
      return run(op, p1, p2, data, expect);
    });
  }

  var chip = {
    transport: tr,
    /** Resolves when the transport is open (KIT: the ECC608 found and selected). */
    ready: ready,
    /** Any command: Promise of its data (`expect` bytes), or of a success status when expect is 0. */
    command: function (op, p1, p2, data, expect) {
      return one(noop, op, p1, p2, data, expect);
    },
    /** GenKey: a new private key in `slot`; its public key X || Y (64 bytes). */
    genKey: function (s) {
      return one(function () { slot(s); }, 0x40, 4, s, undefined, 64);
    },
    /** GenKey key id FFFF: an ephemeral private key in TempKey (for ecdh('tempkey', ...)); its X || Y. */
    genKeyTempKey: function () {
      return one(noop, 0x40, 4, 0xffff, undefined, 64);
    },
    /** GenKey public mode: X || Y of the private key in `slot`. */
    publicKey: function (s) {
      return one(function () { slot(s); }, 0x40, 0, s, undefined, 64);
    },
    /**
     * ECDH with the key in `source` (a slot: mode 0C, or 0E with `encrypted`)
     * or in TempKey ('tempkey': mode 0D, or 0F). Clear output: the 32-byte
     * x-coordinate. Encrypted output (the chip's I/O protection key; the
     * secret never crosses the bus in clear): 64 bytes, the encrypted
     * secret and the OutNonce (hopseal/noise/atecc decrypts them).
     */
    ecdh: function (source, peerXY, encrypted) {
      var tk = source === 'tempkey';
      return one(function () {
        if (!tk) slot(source);
        len(peerXY, 64, 'ECDH peer X || Y');
      }, 0x43, (tk ? 0x0d : 0x0c) | (encrypted ? 2 : 0), tk ? 0 : source, peerXY, encrypted ? 64 : 32);
    },
    /** Counter `id` (0 or 1): read, or increment (`increment` true) and read; the value (up to 2 097 151). */
    counter: function (id, increment) {
      return one(function () { need(id === 0 || id === 1, 'INVALID_ARGUMENT', 'counter id ' + id); }, 0x24, increment ? 1 : 0, id, undefined, 4).then(function (r) {
        return r[0] + r[1] * 256 + r[2] * 65536 + r[3] * 16777216;
      });
    }
  };
  for (var i = 0; i < exports.ext.length; i++) exports.ext[i](chip, { job: job, run: run, one: one, need: need, slot: slot, len: len });
  return chip;
};

/**
 * Functions that add calls to every chip opened from now on: (chip, h) with
 * h = { job, run, one, need, slot, len }, the helpers above. hopseal/atecc/extra
 * adds wake, sleep, info, random, read, nonce and sign when it is in the bundle.
 */
exports.ext = [];
