/**
 * The routing message codec, device subset (docs/protocol.md "Routing
 * messages"; the reference is src/routing/codec.ts):
 *
 *   short    = a:u8 (a < 0x80) b:u8 payload        onward [0#a], return [0#b]
 *   general  = (0x80 | n):u8 address*n m:u8 address*m payload    (n, m <= 63)
 *   listener = (0xc0 | b):u8 payload (b < 0x40)  onward [0#00] (the default
 *              listener), return [0#b]: 1 byte of header
 *   address = v:u8 (v < 0x80)                     LOCAL 1-byte value v
 *           | (0x80 | type):u8 len:varint value   any other (1 <= len <= 255)
 *
 * An address is { t: type, v: Uint8Array }. Encodings are canonical (the
 * listener form, else the short form, and the 1-byte address form whenever
 * they apply) and the
 * decoder refuses any other spelling, like the Node codec, so the device and
 * Node produce and accept the same bytes.
 */
var B = require('hopseal/routing/bytes');

/** Default route limit (RoutingLimits.maxRouteLength). */
var MAX_ROUTE = 16;

/** A LOCAL address from a byte value or bytes. */
exports.local = function (v) {
  return { t: 0, v: typeof v === 'number' ? new Uint8Array([v]) : v };
};

/** An address of any transport type (1 MEMORY, 2 MQTT, 3 SERIAL). */
exports.address = function (type, v) {
  return { t: type, v: typeof v === 'string' ? B.ascii(v) : v };
};

function shortLocal(a) {
  return a.t === 0 && a.v.length === 1 && a.v[0] < 0x80;
}

function useShort(onward, ret) {
  return onward.length === 1 && ret.length === 1 && shortLocal(onward[0]) && ret[0].t === 0 && ret[0].v.length === 1;
}

/** The listener form applies: onward [0#00], return [0#b] with b < 0x40. */
function useListener(onward, ret) {
  return useShort(onward, ret) && onward[0].v[0] === 0 && ret[0].v[0] < 0x40;
}

function putRoute(out, r) {
  for (var i = 0; i < r.length; i++) {
    var a = r[i];
    if (shortLocal(a)) {
      out.push(a.v[0]);
      continue;
    }
    if (a.t > 0x7f || a.v.length < 1 || a.v.length > 255) throw B.err('INVALID_ARGUMENT', 'bad address');
    out.push(0x80 | a.t);
    var l = B.varint(a.v.length);
    for (var j = 0; j < l.length; j++) out.push(l[j]);
    for (j = 0; j < a.v.length; j++) out.push(a.v[j]);
  }
}

/** Encodes onward route, return route and payload. Throws LIMIT_EXCEEDED for a route over 16 addresses. */
exports.encode = function (onward, ret, payload) {
  if (onward.length > MAX_ROUTE || ret.length > MAX_ROUTE) throw B.err('LIMIT_EXCEEDED', 'route too long');
  var h;
  if (useListener(onward, ret)) h = [0xc0 | ret[0].v[0]];
  else if (useShort(onward, ret)) h = [onward[0].v[0], ret[0].v[0]];
  else {
    h = [0x80 | onward.length];
    putRoute(h, onward);
    h.push(ret.length);
    putRoute(h, ret);
  }
  var out = new Uint8Array(h.length + payload.length);
  out.set(h, 0);
  out.set(payload, h.length);
  return out;
};

function readRoute(b, p, count) {
  if (count > MAX_ROUTE) throw B.err('LIMIT_EXCEEDED', 'route of ' + count + ' addresses');
  var r = [];
  for (var i = 0; i < count; i++) {
    if (p.o >= b.length) throw B.err('DECODE_ERROR', 'address truncated');
    var a = b[p.o++];
    if (a < 0x80) {
      r.push(exports.local(a));
      continue;
    }
    var l = B.readVarint(b, p.o);
    p.o += l[1];
    if (l[0] === 0 || l[0] > 255) throw B.err('DECODE_ERROR', 'address length');
    if (p.o + l[0] > b.length) throw B.err('DECODE_ERROR', 'address value truncated');
    var addr = { t: a & 0x7f, v: B.copy(b, p.o, p.o + l[0]) };
    p.o += l[0];
    if (shortLocal(addr)) throw B.err('DECODE_ERROR', 'non-canonical address');
    r.push(addr);
  }
  return r;
}

/** Decodes a routing message: { onward, ret, payload }. Throws DECODE_ERROR / LIMIT_EXCEEDED. */
exports.decode = function (b) {
  if (b.length < 1) throw B.err('DECODE_ERROR', 'short message');
  if (b[0] >= 0xc0) return { onward: [exports.local(0)], ret: [exports.local(b[0] & 0x3f)], payload: b.subarray(1) };
  if (b.length < 2) throw B.err('DECODE_ERROR', 'short message');
  if (b[0] === 0 && b[1] < 0x40) throw B.err('DECODE_ERROR', 'non-canonical header');
  if (b[0] < 0x80) return { onward: [exports.local(b[0])], ret: [exports.local(b[1])], payload: b.subarray(2) };
  var p = { o: 1 };
  var onward = readRoute(b, p, b[0] & 0x3f);
  if (p.o >= b.length) throw B.err('DECODE_ERROR', 'no return count');
  var m = b[p.o++];
  if (m > 63) throw B.err('DECODE_ERROR', 'return count > 63');
  var ret = readRoute(b, p, m);
  if (useShort(onward, ret)) throw B.err('DECODE_ERROR', 'non-canonical header');
  return { onward: onward, ret: ret, payload: b.subarray(p.o) };
};

/** Address equality. */
exports.same = function (a, b) {
  return a.t === b.t && B.same(a.v, b.v);
};
