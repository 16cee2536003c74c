/**
 * Addresses and routes. An address is a transport type and an opaque value;
 * on a constrained link both are short (a 1-byte type, a 1–2 byte value).
 * Text form `type#value` (value as UTF-8 when printable, else `0x` + hex).
 */
import { ErrorCode, HopsealError } from '../errors.ts'
import { fromHex, toHex, utf8 } from '../bytes/index.ts'

/** Transport types (one byte on the wire). */
export const TransportType = {
  LOCAL: 0,
  MEMORY: 1,
  MQTT: 2,
  SERIAL: 3,
} as const

export interface Address {
  readonly type: number
  readonly value: Uint8Array
}

export type Route = readonly Address[]

/** Longest address value, in bytes (routing limits). */
export const MAX_ADDRESS_LENGTH = 255

export function address(type: number, value: string | Uint8Array): Address {
  if (!Number.isInteger(type) || type < 0 || type > 255) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `address type expected 0..255, got ${type}`)
  const v = typeof value === 'string' ? utf8(value) : value.slice()
  if (v.length === 0 || v.length > MAX_ADDRESS_LENGTH) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `address value expected 1..${MAX_ADDRESS_LENGTH} bytes, got ${v.length}`)
  return Object.freeze({ type, value: v })
}

/**
 * LOCAL 0x00: the node's default listener. `Node.newAddress()` never hands it
 * out; a message to it with a 1-byte return address below 0x40 costs one byte
 * of routing header (codec.ts), so a handshake's first flight on a LoRa DR0
 * frame keeps a byte for its payload. Text form `0#0x00`.
 */
export const DEFAULT_LISTENER: Address = Object.freeze({ type: TransportType.LOCAL, value: Uint8Array.of(0) })

/** A worker address on this node. */
export function local(name: string | Uint8Array): Address {
  return address(TransportType.LOCAL, name)
}

export function addressEquals(a: Address, b: Address): boolean {
  if (a.type !== b.type || a.value.length !== b.value.length) return false
  for (let i = 0; i < a.value.length; i++) if (a.value[i] !== b.value[i]) return false
  return true
}

/** A stable map key for an address. */
export function addressKey(a: Address): string {
  return `${a.type}#${toHex(a.value)}`
}

export function addressToString(a: Address): string {
  const printable = a.value.every((c) => c >= 0x21 && c <= 0x7e && c !== 0x23 && c !== 0x3b)
  return `${a.type}#${printable ? new TextDecoder().decode(a.value) : '0x' + toHex(a.value)}`
}

/** Parses `type#value` or a bare `value` (local). */
export function parseAddress(s: string): Address {
  const i = s.indexOf('#')
  if (i < 0) return local(s)
  const type = Number(s.slice(0, i))
  const v = s.slice(i + 1)
  return address(type, v.startsWith('0x') ? fromHex(v.slice(2)) : v)
}

/** Parses `a;1#b;c` into a route. */
export function parseRoute(s: string): Address[] {
  return s.split(';').filter(Boolean).map(parseAddress)
}

export function routeToString(r: Route): string {
  return r.map(addressToString).join(';')
}
