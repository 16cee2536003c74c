/**
 * Byte helpers shared by the device modules (routing, noise, channel):
 * concatenation, the protocol's varint (docs/protocol.md "Conventions":
 * unsigned LEB128, minimal, at most 8 bytes, value <= 2^53 - 1), hex for
 * configuration and tests, and typed errors with a stable `code` (the same
 * codes as src/errors.ts). Interpreter subset only: no spread, no BigInt,
 * no shifts on values that may exceed 2^31.
 */

/**
 * An Error with a stable `code` (e.g. 'DECODE_ERROR'), as src/errors.ts
 * HopsealError. The message is `msg`, or the code when there is none: a
 * minified bundle (build.mjs errorCodesOnly) passes codes only.
 */
exports.err = function (code, msg) {
  var e = new Error(msg || code);
  e.code = code;
  return e;
};

/**
 * A copy of bytes [s, e) as a Uint8Array. Not `slice()`: on Espruino a typed
 * array's slice() returns a plain Array, one variable per element (a 64-byte
 * slice costs 67 variables, a Uint8Array copy 7) and without subarray().
 */
/**
 * A module only some options need (the ChaCha20-Poly1305 cipher, the KIT
 * or I2C chip transport, the software vault, the listener). The build
 * follows `require('hopseal/...')` calls, not this one: an application that
 * uses the option requires the module itself, and without it this throws
 * CONFIG_INVALID.
 */
exports.optional = function (id) {
  try {
    return require(id);
  } catch (e) {
    throw exports.err('CONFIG_INVALID', id + ' is not in the bundle');
  }
};

exports.copy = function (b, s, e) {
  s = s || 0;
  e = e === undefined ? b.length : e;
  return new Uint8Array(b.subarray ? b.subarray(s, e) : b.slice(s, e));
};

/** Concatenates Uint8Arrays (any number of arguments). */
exports.concat = function () {
  var n = 0, i, o = 0;
  for (i = 0; i < arguments.length; i++) n += arguments[i].length;
  var out = new Uint8Array(n);
  for (i = 0; i < arguments.length; i++) {
    out.set(arguments[i], o);
    o += arguments[i].length;
  }
  return out;
};

var MAX = 9007199254740991;

/** varint(n) for 0 <= n <= 2^53 - 1. */
exports.varint = function (n) {
  if (!(n >= 0 && n <= MAX && Math.floor(n) === n)) throw exports.err('INVALID_ARGUMENT', 'varint range');
  var b = [];
  do {
    var low = n % 128;
    n = (n - low) / 128;
    b.push(n > 0 ? low | 0x80 : low);
  } while (n > 0);
  return new Uint8Array(b);
};

/** Reads a varint at `o`: [value, length]. Throws DECODE_ERROR on a truncated, non-minimal or too long one. */
exports.readVarint = function (b, o) {
  var v = 0, m = 1, i = 0, c;
  for (;;) {
    if (o + i >= b.length) throw exports.err('DECODE_ERROR', 'varint truncated');
    if (i >= 8) throw exports.err('DECODE_ERROR', 'varint too long');
    c = b[o + i];
    v += (c & 0x7f) * m;
    m *= 128;
    i++;
    if (!(c & 0x80)) break;
  }
  if (i > 1 && c === 0) throw exports.err('DECODE_ERROR', 'varint not minimal');
  if (v > MAX) throw exports.err('DECODE_ERROR', 'varint above 2^53 - 1');
  return [v, i];
};

exports.hex = function (b) {
  var s = '';
  for (var i = 0; i < b.length; i++) s += (b[i] < 16 ? '0' : '') + b[i].toString(16);
  return s;
};

exports.fromHex = function (s) {
  var out = new Uint8Array(s.length >> 1);
  for (var i = 0; i < out.length; i++) out[i] = parseInt(s.substr(i * 2, 2), 16);
  return out;
};

/** Bytes of an ASCII string. */
exports.ascii = function (s) {
  var out = new Uint8Array(s.length);
  for (var i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
};

/** Byte equality (not constant time: for public data such as routes and flights). */
exports.same = function (a, b) {
  if (!a || !b || a.length !== b.length) return false;
  for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};
