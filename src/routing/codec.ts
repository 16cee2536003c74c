/**
 * The routing message codec (architecture.md §4): onward route, return route,
 * payload, varint-framed:
 *
 *   message  = route(onward) route(return) payload
 *   route    = varint(count) address*count
 *   address  = u8(type) varint(length) value[length]
 *   payload  = the remaining bytes (the transport frames whole messages)
 *
 * A one-hop message to a 1-byte local address with a 1-byte return address
 * costs 1+3 + 1+3 = 8 bytes of header. Decoding is total: any input gives a
 * message or DECODE_ERROR / LIMIT_EXCEEDED, bounded by RoutingLimits.
 */
import { ErrorCode, HopsealError } from '../errors.ts'
import { decodeVarint, encodeVarint, varintLength } from '../bytes/index.ts'
import { MAX_ADDRESS_LENGTH, type Address, type Route } from './address.ts'

export interface RoutingMessage {
  onward: Route
  returnRoute: Route
  payload: Uint8Array
}

export interface RoutingLimits {
  /** Largest encoded message accepted or produced (bytes). */
  maxMessageSize: number
  /** Most addresses in one route. */
  maxRouteLength: number
}

export const DEFAULT_ROUTING_LIMITS: RoutingLimits = Object.freeze({ maxMessageSize: 64 * 1024, maxRouteLength: 16 })

function routeSize(r: Route): number {
  let n = varintLength(r.length)
  for (const a of r) n += 1 + varintLength(a.value.length) + a.value.length
  return n
}

/** Header bytes a message with these routes costs. */
export function headerSize(onward: Route, returnRoute: Route): number {
  return routeSize(onward) + routeSize(returnRoute)
}

export function encodeRoutingMessage(m: RoutingMessage, limits: RoutingLimits = DEFAULT_ROUTING_LIMITS): Uint8Array {
  if (m.onward.length > limits.maxRouteLength || m.returnRoute.length > limits.maxRouteLength) {
    throw new HopsealError(ErrorCode.LIMIT_EXCEEDED, `route longer than ${limits.maxRouteLength} addresses`)
  }
  const size = headerSize(m.onward, m.returnRoute) + m.payload.length
  if (size > limits.maxMessageSize) throw new HopsealError(ErrorCode.LIMIT_EXCEEDED, `routing message of ${size} bytes exceeds ${limits.maxMessageSize}`)
  const out = new Uint8Array(size)
  let o = 0
  const put = (b: Uint8Array): void => {
    out.set(b, o)
    o += b.length
  }
  for (const r of [m.onward, m.returnRoute]) {
    put(encodeVarint(r.length))
    for (const a of r) {
      out[o++] = a.type
      put(encodeVarint(a.value.length))
      put(a.value)
    }
  }
  put(m.payload)
  return out
}

export function decodeRoutingMessage(b: Uint8Array, limits: RoutingLimits = DEFAULT_ROUTING_LIMITS): RoutingMessage {
  if (!(b instanceof Uint8Array)) throw new HopsealError(ErrorCode.DECODE_ERROR, 'routing message expected bytes')
  if (b.length > limits.maxMessageSize) throw new HopsealError(ErrorCode.LIMIT_EXCEEDED, `routing message of ${b.length} bytes exceeds ${limits.maxMessageSize}`)
  let o = 0
  const route = (): Address[] => {
    const { value: count, length } = decodeVarint(b, o)
    o += length
    if (count > limits.maxRouteLength) throw new HopsealError(ErrorCode.LIMIT_EXCEEDED, `route of ${count} addresses exceeds ${limits.maxRouteLength}`)
    const r: Address[] = []
    for (let i = 0; i < count; i++) {
      if (o >= b.length) throw new HopsealError(ErrorCode.DECODE_ERROR, 'address truncated')
      const type = b[o++]!
      const { value: len, length: l } = decodeVarint(b, o)
      o += l
      if (len === 0 || len > MAX_ADDRESS_LENGTH) throw new HopsealError(ErrorCode.DECODE_ERROR, `address length ${len} out of range 1..${MAX_ADDRESS_LENGTH}`)
      if (o + len > b.length) throw new HopsealError(ErrorCode.DECODE_ERROR, 'address value truncated')
      r.push(Object.freeze({ type, value: b.slice(o, o + len) }))
      o += len
    }
    return r
  }
  const onward = route()
  const returnRoute = route()
  return { onward, returnRoute, payload: b.slice(o) }
}
