/**
 * The ATECC608 on an Espruino I2C bus (spec A1, A2; vaults/atecc608/i2c-transport.ts),
 * the same four calls as kit.js. Untested here: the Linux interpreter's I2C
 * is a stub; kept small and line for line with the Node transport.
 *
 *   I2C1.setup({ scl: B6, sda: B7, bitrate: 100000 });   // <= 100 kHz: the wake pulse needs SDA low >= 60 us
 *
 * wake: a write to address 0x00 (never acknowledged) holds SDA low, then
 * after tWHI (1.5 ms) the 4-byte wake token is read. A command: write
 * 03 || packet, wait 1 ms, then every 2 ms write word address 00 and read
 * the count byte (the chip NACKs while busy: Espruino throws), then the
 * remaining count - 1 bytes. idle = write 02, sleep = write 01.
 */
var K = require('hopseal/atecc/packet');

function wait(ms) {
  return new Promise(function (ok) { setTimeout(ok, ms); });
}

/** o { address (7-bit, default 0x60), timeoutMs (polling budget per command, default 2500) }. */
exports.transport = function (i2c, o) {
  o = o || {};
  var a = o.address === undefined ? 0x60 : o.address, timeoutMs = o.timeoutMs || 2500;
  return {
    kind: 'i2c',
    address: a,
    open: function () { return Promise.resolve(); },
    wake: function () {
      var end = getTime() + timeoutMs / 1000;
      function attempt() {
        try { i2c.writeTo(0, 0); } catch (e) { /* the wake pulse is never acknowledged */ }
        return wait(2).then(function () {
          try {
            return i2c.readFrom(a, 4);
          } catch (e) {
            if (getTime() > end) throw K.err('VAULT_DEVICE_TIMEOUT', 'ATECC608 wake');
            return attempt();
          }
        });
      }
      return attempt();
    },
    talk: function (packet) {
      var end;
      try {
        i2c.writeTo(a, 3, packet);
      } catch (e) {
        var x = K.err('VAULT_DEVICE_ERROR', 'ATECC608 NACK');
        x.corrupt = true;
        return Promise.reject(x);
      }
      function poll() {
        var n = 0;
        try {
          i2c.writeTo(a, 0);
          n = i2c.readFrom(a, 1)[0];
        } catch (e) { /* busy */ }
        if (n) {
          if (n < 4 || n > 155) return Promise.reject(K.err('VAULT_DEVICE_ERROR', 'ATECC608 count ' + n));
          var r = new Uint8Array(n);
          r[0] = n;
          r.set(i2c.readFrom(a, n - 1), 1);
          return Promise.resolve(r);
        }
        if (getTime() > end) return Promise.reject(K.err('VAULT_DEVICE_TIMEOUT', 'ATECC608 silent'));
        return wait(2).then(poll);
      }
      return wait(1).then(function () {
        end = getTime() + timeoutMs / 1000;
        return poll();
      });
    },
    idle: function () { i2c.writeTo(a, 2); return Promise.resolve(); },
    sleep: function () {
      try { i2c.writeTo(a, 1); } catch (e) { /* already asleep */ }
      return Promise.resolve();
    }
  };
};
