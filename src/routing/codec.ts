/**
 * The routing message codec (architecture.md §4): onward route, return route,
 * payload, in a compact varint-based encoding with header compression for
 * constrained links (every byte crosses a 51-byte LoRa frame):
 *
 *   message   = short | general | listener
 *   short     = u8(a < 0x80) u8(b) payload
 *               onward = [LOCAL a], return = [LOCAL b]: 2 bytes of header
 *   general   = u8(0x80 | n) address*n u8(m) address*m payload     (n, m ≤ 63)
 *   listener  = u8(0xc0 | b) payload                                 (b < 0x40)
 *               onward = [LOCAL 0x00] (the default listener), return = [LOCAL b]:
 *               1 byte of header
 *   address   = u8(v < 0x80)                          LOCAL, 1-byte value v
 *             | u8(0x80 | type) varint(len) value     any other address
 *   payload   = the remaining bytes (transports frame whole messages)
 *
 * Encodings are canonical: the listener form, else the short form, and the
 * 1-byte address form are used whenever they apply, and the decoder refuses any other spelling, so a
 * message has exactly one encoding. Decoding is total: any input gives a
 * message or DECODE_ERROR / LIMIT_EXCEEDED, bounded by RoutingLimits.
 */
import { ErrorCode, HopsealError } from '../errors.ts'
import { decodeVarint, encodeVarint, varintLength } from '../bytes/index.ts'
import { MAX_ADDRESS_LENGTH, TransportType, type Address, type Route } from './address.ts'

export interface RoutingMessage {
  onward: Route
  returnRoute: Route
  payload: Uint8Array
}

export interface RoutingLimits {
  /** Largest encoded message accepted or produced (bytes). */
  maxMessageSize: number
  /** Most addresses in one route (≤ 63). */
  maxRouteLength: number
}

export const DEFAULT_ROUTING_LIMITS: RoutingLimits = Object.freeze({ maxMessageSize: 64 * 1024, maxRouteLength: 16 })
const MAX_ROUTE_FIELD = 63
/** First byte of the listener form: 0xc0 | the return address (below 0x40). */
const LISTENER_FORM = 0xc0
const LISTENER_RETURN_LIMIT = 0x40

const isShortLocal = (a: Address): boolean => a.type === TransportType.LOCAL && a.value.length === 1 && a.value[0]! < 0x80
const isByteLocal = (a: Address): boolean => a.type === TransportType.LOCAL && a.value.length === 1

function useShort(m: { onward: Route; returnRoute: Route }): boolean {
  return m.onward.length === 1 && m.returnRoute.length === 1 && isShortLocal(m.onward[0]!) && isByteLocal(m.returnRoute[0]!)
}

/** The listener form applies: onward [LOCAL 0x00], return [LOCAL b] with b < 0x40. */
function useListener(m: { onward: Route; returnRoute: Route }): boolean {
  return useShort(m) && m.onward[0]!.value[0] === 0 && m.returnRoute[0]!.value[0]! < LISTENER_RETURN_LIMIT
}

function addressSize(a: Address): number {
  return isShortLocal(a) ? 1 : 1 + varintLength(a.value.length) + a.value.length
}

/** Header bytes a message with these routes costs. */
export function headerSize(onward: Route, returnRoute: Route): number {
  if (useListener({ onward, returnRoute })) return 1
  if (useShort({ onward, returnRoute })) return 2
  let n = 2
  for (const a of onward) n += addressSize(a)
  for (const a of returnRoute) n += addressSize(a)
  return n
}

/** Writes the addresses of `r` into `out` at `at`; returns the offset after them. */
function encodeRoute(out: Uint8Array, at: number, r: Route): number {
  let o = at
  for (const a of r) {
    if (isShortLocal(a)) {
      out[o++] = a.value[0]!
      continue
    }
    if (a.type > 0x7f) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `address type ${a.type} exceeds 127`)
    out[o++] = 0x80 | a.type
    const len = encodeVarint(a.value.length)
    out.set(len, o)
    o += len.length
    out.set(a.value, o)
    o += a.value.length
  }
  return o
}

export function encodeRoutingMessage(m: RoutingMessage, limits: RoutingLimits = DEFAULT_ROUTING_LIMITS): Uint8Array {
  const maxRoute = Math.min(limits.maxRouteLength, MAX_ROUTE_FIELD)
  if (m.onward.length > maxRoute || m.returnRoute.length > maxRoute) {
    throw new HopsealError(ErrorCode.LIMIT_EXCEEDED, `route longer than ${maxRoute} addresses`)
  }
  const size = headerSize(m.onward, m.returnRoute) + m.payload.length
  if (size > limits.maxMessageSize) throw new HopsealError(ErrorCode.LIMIT_EXCEEDED, `routing message of ${size} bytes exceeds ${limits.maxMessageSize}`)
  const out = new Uint8Array(size)
  let o = 0
  if (useListener(m)) {
    out[o++] = LISTENER_FORM | m.returnRoute[0]!.value[0]!
  } else if (useShort(m)) {
    out[o++] = m.onward[0]!.value[0]!
    out[o++] = m.returnRoute[0]!.value[0]!
  } else {
    out[o++] = 0x80 | m.onward.length
    o = encodeRoute(out, o, m.onward)
    out[o++] = m.returnRoute.length
    o = encodeRoute(out, o, m.returnRoute)
  }
  out.set(m.payload, o)
  return out
}

/** A decoded LOCAL address with a 1-byte value. */
function byteLocal(v: number): Address {
  return Object.freeze({ type: TransportType.LOCAL, value: Uint8Array.of(v) })
}

/**
 * Decodes `count` addresses of `b` from offset `at` into `into`; returns the
 * offset after them. (A module function, not a closure per message: tsx's
 * keepNames names every closure it makes with a defineProperty call.)
 */
function decodeRoute(b: Uint8Array, at: number, count: number, limits: RoutingLimits, into: Address[]): number {
  if (count > limits.maxRouteLength) throw new HopsealError(ErrorCode.LIMIT_EXCEEDED, `route of ${count} addresses exceeds ${limits.maxRouteLength}`)
  let o = at
  for (let i = 0; i < count; i++) {
    if (o >= b.length) throw new HopsealError(ErrorCode.DECODE_ERROR, 'address truncated')
    const a = b[o++]!
    if (a < 0x80) {
      into.push(byteLocal(a))
      continue
    }
    const type = a & 0x7f
    const { value: len, length: l } = decodeVarint(b, o)
    o += l
    if (len === 0 || len > MAX_ADDRESS_LENGTH) throw new HopsealError(ErrorCode.DECODE_ERROR, `address length ${len} out of range 1..${MAX_ADDRESS_LENGTH}`)
    if (o + len > b.length) throw new HopsealError(ErrorCode.DECODE_ERROR, 'address value truncated')
    const value = b.slice(o, o + len)
    o += len
    const addr = Object.freeze({ type, value })
    if (isShortLocal(addr)) throw new HopsealError(ErrorCode.DECODE_ERROR, 'non-canonical address: a 1-byte LOCAL value below 0x80 has a 1-byte form')
    into.push(addr)
  }
  return o
}

export function decodeRoutingMessage(b: Uint8Array, limits: RoutingLimits = DEFAULT_ROUTING_LIMITS): RoutingMessage {
  if (!(b instanceof Uint8Array)) throw new HopsealError(ErrorCode.DECODE_ERROR, 'routing message expected bytes')
  if (b.length > limits.maxMessageSize) throw new HopsealError(ErrorCode.LIMIT_EXCEEDED, `routing message of ${b.length} bytes exceeds ${limits.maxMessageSize}`)
  if (b.length < 1) throw new HopsealError(ErrorCode.DECODE_ERROR, 'routing message shorter than its header')
  const f = b[0]!
  if (f >= LISTENER_FORM) return { onward: [byteLocal(0)], returnRoute: [byteLocal(f & (LISTENER_RETURN_LIMIT - 1))], payload: b.slice(1) }
  if (b.length < 2) throw new HopsealError(ErrorCode.DECODE_ERROR, 'routing message shorter than its header')
  if (f < 0x80) {
    if (f === 0 && b[1]! < LISTENER_RETURN_LIMIT) throw new HopsealError(ErrorCode.DECODE_ERROR, 'non-canonical header: the listener form applies')
    return { onward: [byteLocal(f)], returnRoute: [byteLocal(b[1]!)], payload: b.slice(2) }
  }
  const onward: Address[] = []
  let o = decodeRoute(b, 1, f & MAX_ROUTE_FIELD, limits, onward)
  if (o >= b.length) throw new HopsealError(ErrorCode.DECODE_ERROR, 'return route count missing')
  const m = b[o++]!
  if (m > MAX_ROUTE_FIELD) throw new HopsealError(ErrorCode.DECODE_ERROR, `return route count ${m} exceeds ${MAX_ROUTE_FIELD}`)
  const returnRoute: Address[] = []
  o = decodeRoute(b, o, m, limits, returnRoute)
  if (useShort({ onward, returnRoute })) throw new HopsealError(ErrorCode.DECODE_ERROR, 'non-canonical header: the short form applies')
  return { onward, returnRoute, payload: b.slice(o) }
}
