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
 * INVALID_LENGTH for bad arguments.
 */
var K = require('hopseal/atecc/packet');

/** P-256 group order n and n / 2 (low-S signatures, as the Node vault returns). */
var N = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51];

/** r || s with s replaced by n - s when s > n / 2 (the same signature, in its low-S form). */
function lowS(sig) {
  var i, c = 0, v, hi = false;
  for (i = 0; i < 32; i++) {
    // compare s with (n - 1) / 2, whose byte i is (N[i] + 256 * (N[i-1] & 1)) >> 1
    v = (N[i] >> 1) | ((i ? N[i - 1] & 1 : 0) << 7);
    if (sig[32 + i] !== v) { hi = sig[32 + i] > v; break; }
  }
  if (!hi) return sig;
  for (i = 31; i >= 0; i--) {
    v = N[i] - sig[32 + i] - c;
    c = v < 0 ? 1 : 0;
    sig[32 + i] = v + 256 * c;
  }
  return sig;
}
exports.lowS = lowS;

function arg(ok, code, msg) {
  if (!ok) throw K.err(code, msg);
}
function slotArg(s) {
  arg(s >= 0 && s <= 15 && s === Math.floor(s), 'INVALID_ARGUMENT', 'slot expected 0..15, got ' + s);
}
function bytesArg(label, b, n) {
  arg(b instanceof Uint8Array && b.length === n, 'INVALID_LENGTH', label + ' expected ' + n + ' bytes, got ' + (b instanceof Uint8Array ? b.length : typeof b));
}
var noop = function () {};

/**
 * Opens a chip: o { kit: Serial | i2c: I2C, address, timeoutMs, retries, transport (a custom one) }.
 * Returns at once; the KIT enumeration runs as the first queued job (`ready`).
 */
exports.open = function (o) {
  var tr = o.transport || (o.kit ? require('hopseal/atecc/kit').transport(o.kit, o) : require('hopseal/atecc/i2c').transport(o.i2c, o));
  var retries = o.retries === undefined ? 1 : o.retries;
  var ready = tr.open();
  var tail = ready.then(noop, noop);

  // Runs fn() when the chip is free; re-runs it on retryable failures.
  function job(fn) {
    var n = 0;
    function attempt() {
      return fn().then(undefined, function (e) {
        var s = e.status;
        if (n++ < retries && (e.corrupt || s === 0xff || s === 0xee || s === 5)) return attempt();
        throw e;
      });
    }
    var p = tail.then(function () { return ready; }).then(attempt);
    tail = p.then(noop, noop);
    return p;
  }

  // One wake / command / idle cycle; resolves with the data (expect > 0) or checks a success status (expect 0).
  function run(what, op, p1, p2, data, expect) {
    var pkt = K.build(op, p1, p2, data);
    return tr.wake().then(function (tok) {
      if (tok[1] === 7 && op !== 0x77 && op !== 0x30 && op !== 0x02) throw K.statusError(7, what + ' (wake)');
      return tr.talk(pkt);
    }).then(function (r) {
      return tr.idle().then(function () { return r; });
    }).then(function (r) {
      var p = K.parse(r);
      if (p.length === 1) {
        if (p[0] === 0 && !expect) return p;
        throw K.statusError(p[0] || 3, what);
      }
      if (expect && p.length !== expect) {
        var e = K.err('VAULT_DEVICE_ERROR', what + ': expected ' + expect + ' data bytes, got ' + p.length);
        e.corrupt = true;
        throw e;
      }
      return p;
    });
  }
  function one(what, op, p1, p2, data, expect) {
    return job(function () { return run(what, op, p1, p2, data, expect); });
  }
  // Argument checks turn into a rejected Promise.
  function checked(check, f) {
    try {
      check();
    } catch (e) {
      return Promise.reject(e);
    }
    return f();
  }

  return {
    transport: tr,
    /** Resolves when the transport is open (KIT: the ECC608 found and selected). */
    ready: ready,
    /** Wakes the chip and puts it back to idle: the 4-byte wake token (04 11 33 43). */
    wake: function () {
      return job(function () {
        return tr.wake().then(function (t) { return tr.idle().then(function () { return t; }); });
      });
    },
    /** Sleep: TempKey and the other volatile state are lost. */
    sleep: function () {
      return job(function () { return tr.wake().then(function () { return tr.sleep(); }); });
    },
    /** Any command: Promise of its data (`expect` bytes), or of a success status when expect is 0. */
    command: function (op, p1, p2, data, expect) {
      return one('command 0x' + op.toString(16), op, p1, p2, data, expect);
    },
    /** Info: mode 0 = revision (4 bytes: 00 00 60 02 on a 608A). */
    info: function (mode, p2) {
      return one('Info', 0x30, mode || 0, p2 || 0, undefined, 4);
    },
    /** n random bytes (default 32) from Random (mode 00, seed update), 32 per command. */
    random: function (n) {
      if (n === undefined) n = 32;
      return checked(function () { arg(n >= 0 && n === Math.floor(n), 'INVALID_ARGUMENT', 'random length expected a whole number, got ' + n); }, function () {
        var out = new Uint8Array(n), got = 0;
        return job(function () {
          got = 0;
          function more() {
            if (got >= n) return Promise.resolve(out);
            return run('Random', 0x1b, 0, 0, undefined, 32).then(function (r) {
              out.set(r.subarray(0, Math.min(32, n - got)), got);
              got += 32;
              return more();
            });
          }
          return more();
        });
      });
    },
    /** Read 4 or 32 bytes: zone 0 config, 1 OTP, 2 data; address as the spec's A3 "Addresses". */
    read: function (zone, address, length) {
      return checked(function () {
        arg(zone === 0 || zone === 1 || zone === 2, 'INVALID_ARGUMENT', 'zone expected 0..2, got ' + zone);
        arg(length === 4 || length === 32, 'INVALID_ARGUMENT', 'read length expected 4 or 32, got ' + length);
        arg(address >= 0 && address <= 0xffff && (length === 4 || !(address & 7)), 'INVALID_ARGUMENT', 'address 0x' + Number(address).toString(16) + ' not valid for a ' + length + '-byte read');
      }, function () {
        return one('Read', 0x02, zone | (length === 32 ? 0x80 : 0), address, undefined, length);
      });
    },
    /** Nonce pass-through of 32 or 64 bytes into 'tempkey', 'msgdigbuf' (default) or 'altkeybuf' (32 only). */
    nonce: function (value, target) {
      var t = { tempkey: 0, msgdigbuf: 0x40, altkeybuf: 0x80 }[target || 'msgdigbuf'];
      return checked(function () {
        arg(t !== undefined, 'INVALID_ARGUMENT', 'nonce target expected tempkey, msgdigbuf or altkeybuf');
        arg(value instanceof Uint8Array && (value.length === 32 || (value.length === 64 && t !== 0x80)), 'INVALID_LENGTH', 'Nonce input expected 32 or 64 bytes');
      }, function () {
        return one('Nonce', 0x16, 3 | t | (value.length === 64 ? 0x20 : 0), 0, value, 0);
      });
    },
    /** GenKey: a new private key in `slot`; its public key X || Y (64 bytes). */
    genKey: function (slot) {
      return checked(function () { slotArg(slot); }, function () { return one('GenKey', 0x40, 4, slot, undefined, 64); });
    },
    /** GenKey key id FFFF: an ephemeral private key in TempKey (for ecdh('tempkey', ...)); its X || Y. */
    genKeyTempKey: function () {
      return one('GenKey', 0x40, 4, 0xffff, undefined, 64);
    },
    /** GenKey public mode: X || Y of the private key in `slot`. */
    publicKey: function (slot) {
      return checked(function () { slotArg(slot); }, function () { return one('GenKey', 0x40, 0, slot, undefined, 64); });
    },
    /** ECDH with the key in `slot` (mode 0C) or in TempKey ('tempkey', mode 0D), clear output: the 32-byte x-coordinate. */
    ecdh: function (source, peerXY) {
      var tk = source === 'tempkey';
      return checked(function () {
        if (!tk) slotArg(source);
        bytesArg('ECDH peer X || Y', peerXY, 64);
      }, function () {
        return one('ECDH', 0x43, tk ? 0x0d : 0x0c, tk ? 0 : source, peerXY, 32);
      });
    },
    /**
     * ECDSA P-256 over a 32-byte digest with the key in `slot` (spec A3 "Sign an
     * external digest": Random 00, Nonce 43 into the message digest buffer, Sign A0):
     * r || s (64 bytes), low-S. TempKey is invalid afterwards.
     */
    sign: function (slot, digest) {
      return checked(function () {
        slotArg(slot);
        bytesArg('digest', digest, 32);
      }, function () {
        return job(function () {
          return run('Random', 0x1b, 0, 0, undefined, 32).then(function () {
            return run('Nonce', 0x16, 0x43, 0, digest, 0);
          }).then(function () {
            return run('Sign', 0x41, 0xa0, slot, undefined, 64);
          }).then(lowS);
        });
      });
    },
    /** Counter `id` (0 or 1): read, or increment (`increment` true) and read; the value (up to 2 097 151). */
    counter: function (id, increment) {
      return checked(function () { arg(id === 0 || id === 1, 'INVALID_ARGUMENT', 'counter id expected 0 or 1, got ' + id); }, function () {
        return one('Counter', 0x24, increment ? 1 : 0, id, undefined, 4).then(function (r) {
          return r[0] + r[1] * 256 + r[2] * 65536 + r[3] * 16777216;
        });
      });
    }
  };
};
