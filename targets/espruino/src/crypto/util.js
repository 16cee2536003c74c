/**
 * Small helpers of the device crypto modules: typed errors (the codes of
 * src/errors.ts), constant-time comparison, zero-fill and random bytes.
 * Interpreter subset only (no fill(), no Uint8Array.from, no spread).
 */

/** An Error with a stable `code` (as src/errors.ts HopsealError); messages never carry key material. */
var err = require('hopseal/routing/bytes').err;
exports.err = err;

/**
 * Throws INVALID_LENGTH unless `b` has length `n` (n < 0: any length). Plain
 * Arrays of bytes pass too: a typed array's slice() is an Array in the
 * interpreter, and callers copy keys with it.
 * @throws {Error} code INVALID_LENGTH
 */
exports.need = function (b, n, what) {
  if (!b || typeof b.length !== 'number' || (n >= 0 && b.length !== n)) throw err('INVALID_LENGTH', what + ' expected ' + (n >= 0 ? n + ' bytes' : 'bytes') + ', got ' + (b && b.length));
};

/** `b` as a Uint8Array (a copy when it is a plain Array, e.g. from a typed array's slice()). */
exports.u8 = function (b) {
  return b instanceof Uint8Array ? b : new Uint8Array(b);
};

/** Constant-time equality of two byte arrays (the lengths are not secret). */
exports.equal = function (a, b) {
  if (a.length !== b.length) return false;
  var d = 0;
  for (var i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
};

/** Zero-fills a typed array in place (typed arrays have no fill() in the interpreter). */
exports.wipe = function (b) {
  for (var i = 0; i < b.length; i++) b[i] = 0;
};

var sha = require('crypto').SHA256;
/** Linux builds (a PC, a Raspberry Pi): their E.hwRand() is libc rand(), unseeded. */
var LINUX = process.env.BOARD === 'LINUX' || process.env.BOARD === 'RASPBERRYPI';
var ctr = 0;

/** n bytes of the kernel's CSPRNG, read through the interpreter's file API. */
function urandom(n) {
  var f = E.openFile('/dev/urandom', 'r'), s;
  try {
    s = f.read(n);
  } finally {
    f.close();
  }
  if (!s || s.length !== n) throw err('INVALID_ARGUMENT', 'short read from /dev/urandom');
  return E.toUint8Array(s);
}

/**
 * n random bytes. On boards: SHA-256 over 8 words of E.hwRand() (the
 * hardware RNG: the nRF52 RNG peripheral through the SoftDevice, STM32 ADC
 * noise), the time and a call counter, per 32-byte block; hashing spreads
 * the words' bits and adds no entropy. On the Linux builds E.hwRand() is
 * libc rand() never seeded (the same sequence in every process, as is
 * Math.random()), so the bytes come from /dev/urandom instead.
 */
exports.randomBytes = function (n) {
  return n > 0 && LINUX ? urandom(n) : exports.hwRandomBytes(n);
};

/** The boards' path of randomBytes (exported so the Linux tests run it too). */
exports.hwRandomBytes = function (n) {
  var out = new Uint8Array(n), seed = new Int32Array(11), i, o, b;
  for (o = 0; o < n; o += 32) {
    for (i = 0; i < 8; i++) seed[i] = E.hwRand();
    seed[8] = getTime() * 1000;
    seed[9] = ctr++;
    seed[10] = o;
    b = new Uint8Array(sha(seed.buffer));
    out.set(n - o < 32 ? b.subarray(0, n - o) : b, o);
    exports.wipe(b);
  }
  exports.wipe(seed);
  return out;
};
