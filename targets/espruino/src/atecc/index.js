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
 */
var K = require('hopseal/atecc/packet');

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
 * Returns at once; the KIT enumeration runs as the first queued job (`ready`).
 */
exports.open = function (o) {
  var tr = o.transport || (o.kit ? require('hopseal/atecc/kit').transport(o.kit, o) : require('hopseal/atecc/i2c').transport(o.i2c, o));
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

  return {
    transport: tr,
    /** Resolves when the transport is open (KIT: the ECC608 found and selected). */
    ready: ready,
    /** Any command: Promise of its data (`expect` bytes), or of a success status when expect is 0. */
    command: function (op, p1, p2, data, expect) {
      return one(noop, op, p1, p2, data, expect);
    },
    /** Wakes the chip and puts it back to idle: the 4-byte wake token (04 11 33 43). */
    wake: function () {
      return job(function () {
        return tr.wake().then(function (t) { return tr.idle().then(function () { return t; }); });
      });
    },
    /** Sleep: TempKey and the other volatile state are lost. */
    sleep: function () {
      return job(function () { return tr.wake().then(tr.sleep); });
    },
    /** Info: mode 0 = revision (4 bytes: 00 00 60 02 on a 608A). */
    info: function (mode, p2) {
      return one(noop, 0x30, mode || 0, p2 || 0, undefined, 4);
    },
    /** n random bytes (default 32) from Random (mode 00, seed update), 32 per command. */
    random: function (n) {
      n = n === undefined ? 32 : n;
      return job(function () {
        var out = new Uint8Array(n), got = 0;
        need(n >= 0 && n % 1 === 0, 'INVALID_ARGUMENT', 'random length');
        function more() {
          return got >= n ? out : run(0x1b, 0, 0, undefined, 32).then(function (r) {
            out.set(r.subarray(0, Math.min(32, n - got)), got);
            got += 32;
            return more();
          });
        }
        return more();
      });
    },
    /** Read 4 or 32 bytes: zone 0 config, 1 OTP, 2 data; address as in spec A3 "Addresses". */
    read: function (zone, address, length) {
      return one(function () {
        need(zone >= 0 && zone <= 2 && (length === 4 || (length === 32 && !(address & 7))) && address >= 0 && address <= 0xffff, 'INVALID_ARGUMENT', 'read');
      }, 2, zone | (length === 32 ? 0x80 : 0), address, undefined, length);
    },
    /** Nonce pass-through of 32 or 64 bytes into 'tempkey', 'msgdigbuf' (default) or 'altkeybuf' (32 only). */
    nonce: function (value, target) {
      var t = { tempkey: 0, msgdigbuf: 0x40, altkeybuf: 0x80 }[target || 'msgdigbuf'];
      return one(function () {
        need(t !== undefined && value instanceof Uint8Array && (value.length === 32 || (value.length === 64 && t < 0x80)), 'INVALID_ARGUMENT', 'nonce');
      }, 0x16, 3 | t | (value && value.length === 64 ? 0x20 : 0), 0, value, 0);
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
    /** ECDH with the key in `source` (a slot: mode 0C) or in TempKey ('tempkey': mode 0D), clear output: the 32-byte x-coordinate. */
    ecdh: function (source, peerXY) {
      var tk = source === 'tempkey';
      return one(function () {
        if (!tk) slot(source);
        len(peerXY, 64, 'ECDH peer X || Y');
      }, 0x43, tk ? 0x0d : 0x0c, tk ? 0 : source, peerXY, 32);
    },
    /**
     * ECDSA P-256 over a 32-byte digest with the key in `slot` (spec A3 "Sign an
     * external digest": Random 00, Nonce 43 into the message digest buffer, Sign A0):
     * r || s (64 bytes), low-S. TempKey is invalid afterwards.
     */
    sign: function (s, digest) {
      return job(function () {
        slot(s);
        len(digest, 32, 'digest');
        return run(0x1b, 0, 0, undefined, 32).then(function () {
          return run(0x16, 0x43, 0, digest, 0);
        }).then(function () {
          return run(0x41, 0xa0, s, undefined, 64);
        }).then(lowS);
      });
    },
    /** Counter `id` (0 or 1): read, or increment (`increment` true) and read; the value (up to 2 097 151). */
    counter: function (id, increment) {
      return one(function () { need(id === 0 || id === 1, 'INVALID_ARGUMENT', 'counter id ' + id); }, 0x24, increment ? 1 : 0, id, undefined, 4).then(function (r) {
        return r[0] + r[1] * 256 + r[2] * 65536 + r[3] * 16777216;
      });
    }
  };
};
