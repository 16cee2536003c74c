/**
 * Checks of option values shared by commands. Each returns the parsed value
 * or a reason (a string) the caller prints as a usage error (exit 2): a
 * malformed option is the caller's typo, not a runtime failure.
 */
import { fromHex } from '../../../src/bytes/index.ts'
import { isHopsealError } from '../../../src/errors.ts'
import { addressToString, parseRoute, TransportType, type Address } from '../../../src/routing/address.ts'

/** Largest duration an option accepts (ms): 24 h, beyond any one-shot command and within a Node timer. */
export const MAX_DURATION_MS = 24 * 3_600_000

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/**
 * `500ms`, `10s`, `1.5s`, `2m`, `1h` → milliseconds (a bare number is seconds).
 * @returns the duration, or a reason string when it does not parse or is out of 1 ms..24 h.
 */
export function parseDurationOption(option: string, text: string): number | string {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim())
  if (!m) return `${option} expected a duration such as 500ms, 10s, 2m or 1h, got ${JSON.stringify(text)}`
  const ms = Math.round(Number(m[1]) * UNITS[m[2] ?? 's']!)
  if (!(ms >= 1 && ms <= MAX_DURATION_MS)) return `${option} expected 1ms..24h, got ${JSON.stringify(text)}`
  return ms
}

/**
 * A route in text form (`2#gateway;0#hr`, see routing/address.ts).
 * @returns the route, or a reason string.
 */
export function parseRouteOption(option: string, text: string): Address[] | string {
  if (text.startsWith('/')) {
    return `${option} ${JSON.stringify(text)} looks like an Ockam-style route; hopseal routes are TYPE#VALUE hops separated by ';' (2 = MQTT node name, 3 = serial link, 0 = a worker on that node), e.g. "2#gateway;0#hr"`
  }
  let route: Address[]
  try {
    route = parseRoute(text)
  } catch (e) {
    if (!isHopsealError(e)) throw e
    return `${option} ${JSON.stringify(text)} does not parse: ${e.message.replace(/^[A-Z_]+: /, '')} (write TYPE#VALUE hops separated by ';': 2 = MQTT, 3 = serial, 0 = a worker on that node, e.g. "2#gateway;0#hr")`
  }
  if (route.length === 0) return `${option} is empty (write a route such as "2#gateway;0#hr")`
  const first = route[0]
  if (first && first.type === TransportType.LOCAL) {
    return `${option} ${JSON.stringify(text)} starts with a worker on this node (${addressToString(first)}): the first hop must leave it, e.g. "2#<MQTT node name>;0#${new TextDecoder().decode(first.value)}" or "3#<serial link>;…"`
  }
  if (route.some((a) => !Object.values(TransportType).includes(a.type as (typeof TransportType)[keyof typeof TransportType]))) {
    return `${option} ${JSON.stringify(text)} has a hop of unknown type (known: 0 worker, 1 memory, 2 MQTT, 3 serial)`
  }
  return route
}

/**
 * A public key in hex (optionally `0x`-prefixed) of `length` bytes.
 * @returns the bytes, or a reason string.
 */
export function parsePublicKeyOption(option: string, text: string, length: number, what: string): Uint8Array | string {
  const hex = text.trim().replace(/^0x/i, '')
  const bytes = /^[0-9a-fA-F]*$/.test(hex) && hex.length % 2 === 0 ? fromHex(hex) : undefined
  if (!bytes || bytes.length !== length) return `${option} expected ${what}: ${length} bytes as ${2 * length} hex digits, got ${JSON.stringify(text.length > 80 ? text.slice(0, 80) + '…' : text)}`
  return bytes
}
