/**
 * P-256 point compression without BigInt (the interpreter has none), for
 * Noise P256 keys: 33-byte compressed SEC1 points on the wire (SEC 1 v2
 * 2.3.3/2.3.4), X || Y for the ATECC608.
 *
 * Field elements are 16 limbs of 16 bits, little-endian, in Float64Arrays:
 * a limb product is < 2^32 and a column of 16 of them < 2^36, far inside the
 * 2^53 a double holds exactly, so no bit operation ever sees a value over
 * 2^31. Reduction uses the prime's shape, p = 2^256 - 2^224 + 2^192 + 2^96 - 1
 * (FIPS 186-4 D.2.3): 2^256 = 2^224 - 2^192 - 2^96 + 1 (mod p), so each limb
 * above 2^256 folds into four limbs 16 places lower (rejected: Montgomery
 * form, which needs conversions in and out for a single exponentiation).
 *
 * Square root: p = 3 (mod 4), so y = a^((p+1)/4) when a is a square, and
 * (p+1)/4 = (2^32 - 1) 2^222 + 2^190 + 2^94: 253 squarings and 7
 * multiplications with the chain below. Whether a is a square is checked by
 * squaring y back: a point whose x gives no square is not on the curve.
 */
var err = require('hopseal/routing/bytes').err;

var T = new Float64Array(32); // product scratch

/** Carries t[0..15] into 16-bit limbs, folding what passes 2^256 back in; value then in [0, 2^256). */
function carry(t) {
  var i, v, c;
  for (;;) {
    c = 0;
    for (i = 0; i < 16; i++) {
      v = t[i] + c;
      c = Math.floor(v / 65536);
      t[i] = v - c * 65536;
    }
    if (!c) return;
    t[0] += c;
    t[6] -= c;
    t[12] -= c;
    t[14] += c;
  }
}

/** Folds t[16..31] into t[0..15] and carries into 16-bit limbs r, value in [0, 2^256). */
function reduce(t, r) {
  var k, v, i;
  for (k = 31; k >= 16; k--) {
    v = t[k];
    if (v) {
      i = k - 16;
      t[i] += v;
      t[i + 6] -= v;
      t[i + 12] -= v;
      t[i + 14] += v;
    }
  }
  carry(t);
  for (i = 0; i < 16; i++) r[i] = t[i];
}

/** r = a * b mod p (partly reduced: < 2^256); r may be a or b. */
function mul(a, b, r) {
  var t = T, i, j, k, ai;
  t.fill(0);
  for (i = 0; i < 16; i++) {
    ai = a[i];
    if (ai) for (j = 0, k = i; j < 16; j++, k++) t[k] += ai * b[j];
  }
  reduce(t, r);
}

/**
 * r = a^2 mod p; r may be a. Squaring is 253 of the 260 field operations of a
 * square root, so its code is generated once, unrolled: the 136 limb products
 * into locals, the fold of the upper 15 columns into the lower 16 as fixed
 * small-integer combinations (the reduction above, worked out symbolically),
 * then one carry chain. The interpreter runs source text, so no loop, no
 * array index and no call in the body: 3.6 times faster than the loops
 * (measured), for about 3 KB of code made at load.
 */
var sqr = (function () {
  var i, j, k, s, v, M = [], src = 'var c,v';
  for (i = 0; i < 16; i++) src += ',a' + i + '=a[' + i + '],d' + i + '=a' + i + '+a' + i;
  for (k = 0; k < 31; k++) {
    src += ',c' + k + '=';
    for (i = 0, s = ''; i < 16; i++) {
      j = k - i;
      if (j >= i && j < 16) s += (s ? '+' : '') + (i === j ? 'a' : 'd') + i + '*a' + j;
    }
    src += s;
  }
  src += ';';
  // M[col][limb]: how much of column col ends in limb (< 16) after folding 2^256 = 2^224 - 2^192 - 2^96 + 1
  for (k = 0; k < 31; k++) {
    M[k] = new Int8Array(32);
    M[k][k] = 1;
  }
  for (i = 31; i >= 16; i--) {
    for (k = 0; k < 31; k++) {
      v = M[k][i];
      if (!v) continue;
      M[k][i] = 0;
      M[k][i - 16] += v;
      M[k][i - 10] -= v;
      M[k][i - 4] -= v;
      M[k][i - 2] += v;
    }
  }
  for (i = 0; i < 16; i++) {
    src += 'v=' + (i ? 'c+' : '');
    for (k = 0, s = ''; k < 31; k++) {
      v = M[k][i];
      if (v) s += (v < 0 ? '-' : s ? '+' : '') + (v === 1 || v === -1 ? '' : Math.abs(v) + '*') + 'c' + k;
    }
    src += s + ';c=Math.floor(v/65536);r[' + i + ']=v-c*65536;';
  }
  // new Function bodies see only globals: carry comes in as an argument
  return new Function('carry', 'return function(a,r){' + src + 'if(c){r[0]+=c;r[6]-=c;r[12]-=c;r[14]+=c;carry(r);}}')(carry);
})();

/** r = a^(2^n) mod p. */
function sqrn(a, n, r) {
  sqr(a, r);
  while (--n > 0) sqr(r, r);
}

function fe() { return new Float64Array(16); }

/** Big-endian 32 bytes at b[o] -> limbs. */
function load(b, o) {
  var r = fe();
  for (var i = 0; i < 16; i++) r[i] = b[o + 30 - 2 * i] * 256 + b[o + 31 - 2 * i];
  return r;
}

function store(a, out, o) {
  for (var i = 0; i < 16; i++) {
    out[o + 30 - 2 * i] = a[i] >> 8;
    out[o + 31 - 2 * i] = a[i] & 0xff;
  }
}

var P = load([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 0);
var B = load([0x5a, 0xc6, 0x35, 0xd8, 0xaa, 0x3a, 0x93, 0xe7, 0xb3, 0xeb, 0xbd, 0x55, 0x76, 0x98, 0x86, 0xbc, 0x65, 0x1d, 0x06, 0xb0, 0xcc, 0x53, 0xb0, 0xf6, 0x3b, 0xce, 0x3c, 0x3e, 0x27, 0xd2, 0x60, 0x4b], 0);

/** -1, 0, 1 as a compares with b (both limb arrays of 16). */
function cmp(a, b) {
  for (var i = 15; i >= 0; i--) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

/** a mod p for a in [0, 2^256) (one subtraction suffices: 2^256 < 2p). */
function canon(a) {
  if (cmp(a, P) < 0) return a;
  var c = 0, v;
  for (var i = 0; i < 16; i++) {
    v = a[i] - P[i] + c;
    c = v < 0 ? -1 : 0;
    a[i] = v - c * 65536;
  }
  return a;
}

/** x^3 - 3x + b mod p, canonical. */
function rhs(x) {
  var r = fe(), t = T;
  sqr(x, r);
  mul(r, x, r);
  t.fill(0);
  for (var i = 0; i < 16; i++) t[i] = r[i] - 3 * x[i] + B[i];
  reduce(t, r);
  return canon(r);
}

/** a^((p+1)/4) mod p, canonical. */
function sqrt(a) {
  var x2 = fe(), x4 = fe(), t = fe();
  sqr(a, x2);
  mul(x2, a, x2); // 2^2 - 1
  sqrn(x2, 2, x4);
  mul(x4, x2, x4); // 2^4 - 1
  sqrn(x4, 4, t);
  mul(t, x4, t); // 2^8 - 1
  sqrn(t, 8, x2);
  mul(x2, t, x2); // 2^16 - 1
  sqrn(x2, 16, t);
  mul(t, x2, t); // 2^32 - 1
  sqrn(t, 32, t);
  mul(t, a, t); // (2^32 - 1) 2^32 + 1
  sqrn(t, 96, t);
  mul(t, a, t);
  sqrn(t, 94, t); // ((2^32 - 1) 2^32 + 1) 2^190 + 2^94
  return canon(t);
}

/**
 * 33-byte compressed point (02/03 || X) -> 64-byte X || Y, or null when it is
 * not a compressed encoding of a point on the curve (X >= p, no square root).
 */
exports.decompress = function (c) {
  if (!c || c.length !== 33 || (c[0] !== 2 && c[0] !== 3)) return null;
  var x = load(c, 1);
  if (cmp(x, P) >= 0) return null;
  var a = rhs(x), y = sqrt(a), y2 = fe();
  sqr(y, y2);
  if (cmp(canon(y2), a) !== 0) return null;
  if ((y[0] & 1) !== (c[0] & 1)) {
    if (cmp(y, fe()) === 0) return null;
    var k = 0, v;
    for (var i = 0; i < 16; i++) {
      v = P[i] - y[i] + k;
      k = v < 0 ? -1 : 0;
      y[i] = v - k * 65536;
    }
  }
  var out = new Uint8Array(64);
  out.set(c.subarray(1), 0);
  store(y, out, 32);
  return out;
};

/**
 * X || Y (64 bytes, or 65 with the 04 prefix) -> 33-byte compressed point.
 * @throws INVALID_POINT when the point is not on the curve (or a coordinate >= p)
 */
exports.compress = function (xy) {
  var o = xy && xy.length === 65 && xy[0] === 4 ? 1 : 0;
  if (!xy || xy.length - o !== 64) throw err('INVALID_POINT', 'X || Y length');
  var x = load(xy, o), y = load(xy, o + 32), y2 = fe();
  if (cmp(x, P) >= 0 || cmp(y, P) >= 0) throw err('INVALID_POINT', 'coordinate >= p');
  sqr(y, y2);
  if (cmp(canon(y2), rhs(x)) !== 0) throw err('INVALID_POINT', 'off the curve');
  var out = new Uint8Array(33);
  out[0] = 2 | (xy[o + 63] & 1);
  out.set(xy.subarray(o, o + 32), 1);
  return out;
};

/** Whether X || Y (64 bytes) is a point on the curve. */
exports.onCurve = function (xy) {
  try {
    exports.compress(xy);
    return true;
  } catch (e) {
    return false;
  }
};
