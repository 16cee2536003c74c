/**
 * The KIT protocol on an Espruino Serial (spec A4; vaults/atecc608/kit-transport.ts):
 * ASCII lines, host `<target>:<command>(<HEX>)\n`, board `<STATUS>(<HEX>)\n`.
 * Opening enumerates `board:device(00..07)` until an ECC608 answers, then
 * `E:physical:select(AA)`; each command is `E:w()`, `E:t(<packet hex>)`,
 * `E:i()` (the chip keeps TempKey and the message digest buffer across idle).
 * The board answers `t(...)` after the command has run, so the driver does
 * not poll. This is how tests drive the simulator on a PTY; real boards use
 * I2C (i2c.js), with the same four calls.
 *
 * Transport calls (each a Promise): wake() -> 4-byte wake token,
 * talk(packet) -> response packet, idle(), sleep().
 */
var K = require('hopseal/atecc/packet');

/** [KH] kit hosts answer a device error as %02X of a negative ATCA_STATUS: its low byte -> device status. */
var ATCA = { 0xd1: 1, 0xd2: 3, 0xd6: 5, 0xd7: 7, 0xfa: 8, 0xf4: 0x0f, 0xd4: 0xff, 0xe1: 0xee };

function hex(b) {
  var s = '';
  for (var i = 0; i < b.length; i++) s += (b[i] < 16 ? '0' : '') + b[i].toString(16);
  return s.toUpperCase();
}

/** Parses `SS(HEX)`: { status, full (the whole status field), data }; non-hex characters in the data are skipped. */
function reply(line) {
  var o = line.indexOf('('), c = line.indexOf(')', o + 1);
  var st = line.slice(0, o);
  if (o < 1 || c < 0 || !/^[0-9A-Fa-f]+$/.test(st)) throw K.err('VAULT_DEVICE_ERROR', 'KIT reply malformed: ' + JSON.stringify(line.slice(0, 40)));
  var h = line.slice(o + 1, c).replace(/[^0-9A-Fa-f]/g, '');
  if (h.length & 1) throw K.err('VAULT_DEVICE_ERROR', 'KIT reply has an odd number of hex digits');
  var d = new Uint8Array(h.length / 2);
  for (var i = 0; i < d.length; i++) d[i] = parseInt(h.substr(2 * i, 2), 16);
  return { status: parseInt(st.slice(-2), 16), full: parseInt(st, 16), data: d };
}
exports.reply = reply;

/**
 * A KIT transport on `serial` (set up by the caller: 115200 8N1, or a PTY
 * path). o { address (8-bit, default the first ECC608 found), timeoutMs
 * (per answer line, default 2500), log (function (line) for every line sent) }.
 * Returns { open() -> Promise, wake, talk, idle, sleep, address }.
 */
exports.transport = function (serial, o) {
  o = o || {};
  var timeoutMs = o.timeoutMs || 2500;
  var buf = '', lines = [], waiter, letter = 'E';
  serial.on('data', function (d) {
    for (var i = 0; i < d.length; i++) {
      var ch = d[i];
      if (ch === '\n') {
        if (buf !== null) lines.push(buf);
        buf = '';
      } else if (ch !== '\0' && ch !== '\r' && buf !== null) {
        buf = buf.length < 512 ? buf + ch : null; // an over-long line is dropped whole
      }
    }
    if (lines.length && waiter) waiter();
  });

  // Sends a line, resolves with the next line received (stale lines dropped first).
  // (The Linux interpreter reads its serial ports 5-100 ms late: measured, a short
  // setInterval while waiting did not change it.)
  function request(line) {
    lines = [];
    if (o.log) o.log(line);
    serial.write(line + '\n');
    return new Promise(function (ok, fail) {
      var t = setTimeout(function () {
        waiter = undefined;
        fail(K.err('VAULT_DEVICE_TIMEOUT', 'KIT board did not answer ' + line.slice(0, 24) + ' within ' + timeoutMs + ' ms'));
      }, timeoutMs);
      waiter = function () {
        waiter = undefined;
        clearTimeout(t);
        ok(lines.shift());
      };
      if (lines.length) waiter();
    });
  }

  var tr = {
    kind: 'kit',
    address: 0,
    /** Enumerates board:device(00..07) and selects the first ECC608 (or o.address). */
    open: function () {
      var i = 0;
      function scan() {
        if (i >= 8) return Promise.reject(K.err('VAULT_TOKEN_ABSENT', 'no ECC608 found on the KIT board (board:device(00..07))'));
        return request('board:device(0' + i++ + ')').then(function (l) {
          var m = /\(([0-9A-Fa-f][0-9A-Fa-f])\)/.exec(l), a = m ? parseInt(m[1], 16) : -1;
          // strncmp("ECC608", devtype, 4): ECC608A and ECC608B match (spec A4). No {2} in the
          // pattern: the interpreter's regular expressions have no counted repetition.
          if (l.slice(0, 4).toUpperCase() !== 'ECC6' || a < 0 || (o.address !== undefined && o.address !== a)) return scan();
          tr.address = a;
          return request(letter + ':physical:select(' + hex([a]) + ')'); // reply ignored, as cryptoauthlib
        });
      }
      return scan();
    },
    wake: function () {
      return request(letter + ':w()').then(function (l) {
        var r = reply(l);
        if (r.data.length !== 4) throw K.err('VAULT_DEVICE_ERROR', 'KIT wake failed (kit status ' + r.status + ')');
        return r.data;
      });
    },
    talk: function (packet) {
      return request(letter + ':t(' + hex(packet) + ')').then(function (l) {
        var r = reply(l);
        if (r.data.length) return r.data;
        var dev = r.full > 0xff ? ATCA[r.full & 0xff] : undefined;
        if (dev !== undefined) throw K.statusError(dev, 'KIT talk');
        var e = K.err('VAULT_DEVICE_ERROR', 'KIT talk failed with kit status ' + r.status + ' and no data');
        e.corrupt = true;
        throw e;
      });
    },
    idle: function () { return request(letter + ':i()'); },
    sleep: function () { return request(letter + ':s()'); }
  };
  return tr;
};
