/**
 * ATECC608 command and response packets, as vaults/atecc608/packet.ts and
 * crc.ts (../shared/specs/atecc608-and-pkcs11.md A1):
 *
 *   command  = count opcode p1 p2(lo) p2(hi) data.. crc(lo) crc(hi)   count = 7 + data
 *   response = count payload.. crc(lo) crc(hi)                         count 4 = a status
 *
 * CRC: poly 0x8005, init 0, data bits LSB first, register not reflected,
 * stored low byte first (check "123456789" = 0xBCDD).
 * Errors carry `code` (as src/errors.ts) and, for device answers, `status`.
 */

/** Status bytes (spec A2) and their names. */
var NAMES = { 0: 'success', 1: 'miscompare', 3: 'parse error', 5: 'ECC fault', 7: 'self-test failure', 8: 'RNG health-test error', 0x0f: 'execution error', 0x11: 'woke', 0xee: 'watchdog about to expire', 0xff: 'CRC or communication error' };

var err = function (code, msg, status) {
  var e = new Error(msg);
  e.code = code;
  if (status !== undefined) e.status = status;
  return e;
};
exports.err = err;

/** A device status answer as an error: VAULT_DEVICE_ERROR with `status`. */
exports.statusError = function (status, what) {
  var h = (status < 16 ? '0' : '') + status.toString(16).toUpperCase();
  return err('VAULT_DEVICE_ERROR', what + ': device status 0x' + h + ' (' + (NAMES[status] || 'unknown') + ')', status);
};

/** The ATECC CRC-16 of b[0, n). */
function crc(b, n) {
  var r = 0;
  for (var i = 0; i < n; i++) {
    for (var m = 1, v = b[i]; m < 0x100; m <<= 1) {
      var fb = ((v & m) ? 1 : 0) ^ (r >> 15);
      r = (r << 1) & 0xffff;
      if (fb) r ^= 0x8005;
    }
  }
  return r;
}
exports.crc = crc;

/** A command packet (no I2C word address). */
exports.build = function (opcode, p1, p2, data) {
  var n = 7 + (data ? data.length : 0), b = new Uint8Array(n);
  b[0] = n;
  b[1] = opcode;
  b[2] = p1;
  b[3] = p2 & 0xff;
  b[4] = p2 >> 8;
  if (data) b.set(data, 5);
  var c = crc(b, n - 2);
  b[n - 2] = c & 0xff;
  b[n - 1] = c >> 8;
  return b;
};

/**
 * Checks a response and returns its payload: one byte (the status) for a
 * count-4 status packet, else the data.
 * @throws VAULT_DEVICE_ERROR with `corrupt: true` for a bad count or CRC (worth a retry)
 */
exports.parse = function (r) {
  var n = r.length, c = n >= 4 ? crc(r, n - 2) : -1, e;
  if (n < 4 || r[0] !== n) e = err('VAULT_DEVICE_ERROR', 'ATECC608 response count ' + r[0] + ' does not match its ' + n + ' bytes');
  else if (r[n - 2] !== (c & 0xff) || r[n - 1] !== c >> 8) e = err('VAULT_DEVICE_ERROR', 'ATECC608 response CRC mismatch');
  if (e) {
    e.corrupt = true;
    throw e;
  }
  return new Uint8Array(r.subarray(1, n - 2)); // a copy: slice() of a typed array gives an Array in the interpreter
};
