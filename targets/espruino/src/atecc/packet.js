/**
 * ATECC608 command and response packets, as vaults/atecc608/packet.ts and
 * crc.ts (../shared/specs/atecc608-and-pkcs11.md A1):
 *
 *   command  = count opcode p1 p2(lo) p2(hi) data.. crc(lo) crc(hi)   count = 7 + data
 *   response = count payload.. crc(lo) crc(hi)                         count 4 = a status
 *
 * CRC: poly 0x8005, init 0, data bits LSB first, register not reflected,
 * stored low byte first (check "123456789" = 0xBCDD).
 * Errors carry `code` (as src/errors.ts) and, for device answers, `status`
 * (spec A2: 01 miscompare, 03 parse error, 05 ECC fault, 07 self-test
 * failure, 08 RNG health test, 0F execution error, EE watchdog, FF CRC).
 */
var err = require('hopseal/routing/bytes').err;
exports.err = err;

/** A device status answer as an error: VAULT_DEVICE_ERROR with `status`. */
exports.statusError = function (status, what) {
  var e = err('VAULT_DEVICE_ERROR', 'ATECC608 ' + what + ': device status 0x' + (status + 256).toString(16).slice(1));
  e.status = status;
  return e;
};

/** The ATECC CRC-16 of b[0, n). */
function crc(b, n) {
  for (var r = 0, i = 0, m, v; i < n; i++) {
    for (m = 1, v = b[i]; m < 256; m <<= 1) {
      r = ((r << 1) & 0xffff) ^ (((v & m ? 1 : 0) ^ (r >> 15)) ? 0x8005 : 0);
    }
  }
  return r;
}
exports.crc = crc;

/** A command packet (no I2C word address). */
exports.build = function (op, p1, p2, data) {
  var n = 7 + (data ? data.length : 0), b = new Uint8Array(n), c;
  b.set([n, op, p1, p2 & 255, p2 >> 8]);
  if (data) b.set(data, 5);
  c = crc(b, n - 2);
  b[n - 2] = c & 255;
  b[n - 1] = c >> 8;
  return b;
};

/**
 * Checks a response and returns its payload (a copy): one byte (the status)
 * for a count-4 status packet, else the data.
 * @throws VAULT_DEVICE_ERROR with `corrupt: true` for a bad count or CRC (worth a retry)
 */
exports.parse = function (r) {
  var n = r.length, c = n > 3 ? crc(r, n - 2) : -1, e;
  if (n < 4 || r[0] !== n || r[n - 2] !== (c & 255) || r[n - 1] !== c >> 8) {
    e = err('VAULT_DEVICE_ERROR', 'ATECC608 count/CRC');
    e.corrupt = true;
    throw e;
  }
  return new Uint8Array(r.subarray(1, n - 2));
};
