/**
 * X25519 (RFC 7748) in JavaScript, tweetnacl's field arithmetic: an element
 * of GF(2^255 - 19) is 16 limbs of 16 bits in a Float64Array; products are
 * summed exactly in doubles and folded with 38 = 2·19. The Montgomery ladder
 * swaps in constant time (sel). Slow in the interpreter (seconds per scalar
 * multiplication, docs/espruino.md): boards with a secure element do ECDH
 * there; this is the path for boards with time and memory to spare.
 */
var U = require('hopseal/crypto/util');

function gf() {
  return new Float64Array(16);
}

function car(o) {
  var c = 1, v;
  for (var i = 0; i < 16; i++) {
    v = o[i] + c + 65535;
    c = Math.floor(v / 65536);
    o[i] = v - c * 65536;
  }
  o[0] += 38 * (c - 1);
}

/**
 * o = a·b mod p (o may alias a or b). The body is generated once at load,
 * unrolled: the limbs read into locals, 256 products summed per column,
 * the upper columns folded with 38, two carry passes, then stored. The loop
 * form (the comment below) took 1.5 ms per multiplication here, unrolled
 * products 0.45 ms; a scalar multiplication went from about 6 s to 2.3 s.
 * The cost is 4.1 KB of source made at load (RAM, not bundle bytes).
 * Unrolling add, sub and sel as well gained under 10 %, in the noise of
 * this shared machine, so they stay loops.
 */
function mulSource() {
  var s = 'var c,v,t0', i, j, k, terms;
  for (i = 1; i < 31; i++) s += ',t' + i;
  for (i = 0; i < 16; i++) s += ',a' + i + '=a[' + i + '],b' + i + '=b[' + i + ']';
  s += ';';
  for (k = 0; k < 31; k++) {
    terms = [];
    for (i = 0; i < 16; i++) {
      j = k - i;
      if (j >= 0 && j < 16) terms.push('a' + i + '*b' + j);
    }
    s += 't' + k + '=' + terms.join('+') + ';';
  }
  for (i = 0; i < 15; i++) s += 't' + i + '+=38*t' + (i + 16) + ';';
  // two passes of car(): c = floor((t + c + 65535) / 65536), 38·(c - 1) into t0
  for (k = 0; k < 2; k++) {
    s += 'c=1;';
    for (i = 0; i < 16; i++) s += 'v=t' + i + '+c+65535;c=Math.floor(v/65536);t' + i + '=v-c*65536;';
    s += 't0+=38*(c-1);';
  }
  for (i = 0; i < 16; i++) s += 'o[' + i + ']=t' + i + ';';
  return s;
}
// the loop form: for i, j < 16: t[i+j] += a[i]*b[j]; for i < 15: t[i] += 38*t[i+16]; car(o); car(o)
var mul = new Function('o', 'a', 'b', mulSource());

function add(o, a, b) {
  for (var i = 0; i < 16; i++) o[i] = a[i] + b[i];
}

function sub(o, a, b) {
  for (var i = 0; i < 16; i++) o[i] = a[i] - b[i];
}

/** Swaps p and q when b is 1, in constant time. */
function sel(p, q, b) {
  var t, c = ~(b - 1);
  for (var i = 0; i < 16; i++) {
    t = c & (p[i] ^ q[i]);
    p[i] ^= t;
    q[i] ^= t;
  }
}

/** o = i^(p-2) = 1/i. */
function inv(o, i) {
  var c = gf(), a;
  c.set(i);
  for (a = 253; a >= 0; a--) {
    mul(c, c, c);
    if (a !== 2 && a !== 4) mul(c, c, i);
  }
  o.set(c);
}

/** The canonical 32 little-endian bytes of n. */
function pack(o, n) {
  var m = gf(), t = gf(), i, j, b;
  t.set(n);
  car(t);
  car(t);
  car(t);
  for (j = 0; j < 2; j++) {
    m[0] = t[0] - 0xffed;
    for (i = 1; i < 15; i++) {
      m[i] = t[i] - 0xffff - ((m[i - 1] >> 16) & 1);
      m[i - 1] = m[i - 1] & 0xffff;
    }
    m[15] = t[15] - 0x7fff - ((m[14] >> 16) & 1);
    b = (m[15] >> 16) & 1;
    m[14] = m[14] & 0xffff;
    sel(t, m, 1 - b);
  }
  for (i = 0; i < 16; i++) {
    o[2 * i] = t[i];
    o[2 * i + 1] = t[i] >> 8;
  }
}

var A24 = gf();
A24[0] = 0xdb41;
A24[1] = 1;

/**
 * X25519(scalar, u): the 32-byte shared value (RFC 7748 §5: the scalar is
 * clamped, the top bit of u is ignored).
 * @throws {Error} code INVALID_LENGTH unless both are 32 bytes; WEAK_SHARED_SECRET when the result is all zero (a low-order u), as the Node providers
 */
function x25519(n, p) {
  U.need(n, 32, 'X25519 scalar');
  U.need(p, 32, 'X25519 public key');
  var z = new Uint8Array(32), x = gf(), a = gf(), b = gf(), c = gf(), d = gf(), e = gf(), f = gf(), q = new Uint8Array(32), i, r;
  z.set(n);
  z[31] = (n[31] & 127) | 64;
  z[0] &= 248;
  for (i = 0; i < 16; i++) x[i] = p[2 * i] + (p[2 * i + 1] << 8);
  x[15] = x[15] & 0x7fff;
  b.set(x);
  a[0] = d[0] = 1;
  for (i = 254; i >= 0; --i) {
    r = (z[i >>> 3] >>> (i & 7)) & 1;
    sel(a, b, r);
    sel(c, d, r);
    add(e, a, c);
    sub(a, a, c);
    add(c, b, d);
    sub(b, b, d);
    mul(d, e, e);
    mul(f, a, a);
    mul(a, c, a);
    mul(c, b, e);
    add(e, a, c);
    sub(a, a, c);
    mul(b, a, a);
    sub(c, d, f);
    mul(a, c, A24);
    add(a, a, d);
    mul(c, c, a);
    mul(a, d, f);
    mul(d, b, x);
    mul(b, e, e);
    sel(a, b, r);
    sel(c, d, r);
  }
  inv(c, c);
  mul(a, a, c);
  pack(q, a);
  U.wipe(z); U.wipe(a); U.wipe(b); U.wipe(c); U.wipe(d); U.wipe(e); U.wipe(f);
  var acc = 0;
  for (i = 0; i < 32; i++) acc |= q[i];
  if (acc === 0) throw U.err('WEAK_SHARED_SECRET', 'X25519 shared secret is all zero (low-order peer public key)');
  return q;
}
exports.x25519 = x25519;

var NINE = new Uint8Array(32);
NINE[0] = 9;
/** The X25519 public key of a 32-byte private scalar. */
exports.x25519Base = function (n) {
  return x25519(n, NINE);
};
