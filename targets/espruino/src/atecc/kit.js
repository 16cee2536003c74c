/**
 * The KIT protocol on an Espruino Serial (spec A4; vaults/atecc608/kit-transport.ts):
 * ASCII lines, host `<target>:<command>(<HEX>)\n`, board `<STATUS>(<HEX>)\n`.
 * Opening enumerates `board:device(00..07)` until an ECC608 answers, then
 * `E:physical:select(AA)`; each command is `E:w()`, `E:t(<packet hex>)`,
 * `E:i()` (the chip keeps TempKey and the message digest buffer across
 * idle). The board answers `t(...)` once the command has run: no polling.
 * This is how tests drive the simulator on a PTY; boards use I2C (i2c.js),
 * with the same calls.
 *
 * Measured: the Linux interpreter reads its serial ports 5-100 ms late (its
 * idle loop), so one command (three lines) takes about 0.1-0.3 s there; a
 * short setInterval while waiting did not change it.
 */
var K = require('hopseal/atecc/packet');

/** [KH] kit hosts answer a device error as %02X of a negative ATCA_STATUS: its low byte -> device status. */
var ATCA = { 209: 1, 210: 3, 214: 5, 215: 7, 250: 8, 244: 15, 212: 255, 225: 238 };

function hex(b) {
  for (var s = '', i = 0; i < b.length; i++) s += (b[i] + 256).toString(16).slice(1);
  return s.toUpperCase();
}

/**
 * Parses `SS(HEX)`: { status (last two digits), full (the whole status field), data };
 * characters other than hex digits in the data are skipped, as atcab_hex2bin does.
 */
function reply(line) {
  var o = line.indexOf('('), c = line.indexOf(')', o + 1), st = line.slice(0, o), h = '', i, ch;
  for (i = o + 1; i < c; i++) {
    ch = line[i];
    if (parseInt(ch, 16) >= 0) h += ch;
  }
  if (o < 1 || c < 0 || !(parseInt(st, 16) >= 0) || h.length & 1) throw K.err('VAULT_DEVICE_ERROR', 'KIT reply malformed: ' + line.slice(0, 40));
  var d = new Uint8Array(h.length / 2);
  for (i = 0; i < d.length; i++) d[i] = parseInt(h.substr(2 * i, 2), 16);
  return { status: parseInt(st.slice(-2), 16), full: parseInt(st, 16), data: d };
}
exports.reply = reply;

/**
 * A KIT transport on `serial` (set up by the caller: 115200 8N1, or a PTY
 * path). o { address (8-bit, default the first ECC608 found), timeoutMs (per
 * answer line, default 2500), log (function (line) for every line sent) }.
 * Returns { open, wake, talk, idle, sleep } (Promises) and `address`.
 */
exports.transport = function (serial, o) {
  var buf = '', lines = [], waiter, ms = o.timeoutMs || 2500;
  serial.on('data', function (d) {
    for (var i = 0, ch; i < d.length; i++) {
      ch = d[i];
      if (ch === '\n') {
        if (buf !== null) lines.push(buf);
        buf = '';
      } else if (ch !== '\0' && ch !== '\r' && buf !== null) {
        buf = buf.length < 512 ? buf + ch : null; // an over-long line is dropped whole
      }
    }
    if (lines.length && waiter) waiter();
  });

  // Sends a line; resolves with the next line received (stale lines dropped first).
  function request(line) {
    lines = [];
    if (o.log) o.log(line);
    serial.write(line + '\n');
    return new Promise(function (ok, no) {
      var t = setTimeout(function () {
        waiter = undefined;
        no(K.err('VAULT_DEVICE_TIMEOUT', 'KIT board silent after ' + line.slice(0, 24)));
      }, ms);
      waiter = function () {
        waiter = undefined;
        clearTimeout(t);
        ok(lines.shift());
      };
      if (lines.length) waiter();
    });
  }

  var tr = {
    address: 0,
    /** Enumerates board:device(00..07) and selects the first ECC608 (or o.address). */
    open: function () {
      var i = 0;
      function scan() {
        if (i > 7) throw K.err('VAULT_TOKEN_ABSENT', 'no ECC608 on the KIT board');
        return request('board:device(0' + i++ + ')').then(function (l) {
          // "ECC608A TWI 00(C0)": strncmp("ECC608", devtype, 4) matches ECC608A and ECC608B (spec A4)
          var p = l.indexOf('('), a = parseInt(l.substr(p + 1, 2), 16);
          if (l.slice(0, 4).toUpperCase() !== 'ECC6' || p < 0 || !(a >= 0) || (o.address !== undefined && o.address !== a)) return scan();
          tr.address = a;
          return request('E:physical:select(' + hex([a]) + ')'); // reply ignored, as cryptoauthlib
        });
      }
      return new Promise(function (ok) { ok(scan()); });
    },
    wake: function () {
      return request('E:w()').then(function (l) {
        var r = reply(l);
        if (r.data.length !== 4) throw K.err('VAULT_DEVICE_ERROR', 'KIT wake failed');
        return r.data;
      });
    },
    talk: function (packet) {
      return request('E:t(' + hex(packet) + ')').then(function (l) {
        var r = reply(l), s = r.full > 255 ? ATCA[r.full & 255] : undefined, e;
        if (r.data.length) return r.data;
        if (s !== undefined) throw K.statusError(s, 'KIT talk');
        e = K.err('VAULT_DEVICE_ERROR', 'KIT talk: kit status ' + r.status + ', no data');
        e.corrupt = true;
        throw e;
      });
    },
    idle: function () { return request('E:i()'); },
    sleep: function () { return request('E:s()'); }
  };
  return tr;
};
