/**
 * The guard between runtime data and anything printed (logs, /status,
 * `node validate`): key material and credentials never leave through it.
 *
 * - Any byte array (`Uint8Array`, `Buffer`, `ArrayBuffer`, any typed array
 *   view) prints as `<N bytes>`: a key handed to a log call by mistake shows
 *   its length only.
 * - A field whose name matches {@link SENSITIVE_NAME} prints `[redacted]`,
 *   whatever its value.
 * - `user:password@` is stripped from every URL inside a string.
 * - Strings are cut at MAX_LOG_STRING characters and objects at
 *   MAX_LOG_DEPTH levels, so one field cannot make a line unbounded.
 */
import { MAX_LOG_DEPTH, MAX_LOG_STRING } from './constants.ts'

/** Field names whose values are never printed. `key` also matches `publicKey`: we err on the side of silence. */
export const SENSITIVE_NAME = /key|secret|private|pin|passphrase|password|token/i

export const REDACTED = '[redacted]'

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi

/** Removes `user:password@` from every URL in `s`. */
export function stripUrlCredentials(s: string): string {
  return s.replace(URL_CREDENTIALS, '$1')
}

/** A printable, bounded, credential-free version of a string. */
export function safeString(s: string): string {
  const cut = s.length > MAX_LOG_STRING ? s.slice(0, MAX_LOG_STRING) + '…' : s
  return stripUrlCredentials(cut)
}

/** The text of an error, credential-free (HopsealError messages never carry key material by contract). */
export function errorText(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code
    const msg = e.message
    const prefix = typeof code === 'string' && !msg.startsWith(code) ? `${code}: ` : e.name === 'HopsealError' || e.name === 'Error' ? '' : `${e.name}: `
    return safeString(prefix + msg)
  }
  return safeString(String(e))
}

/**
 * A JSON-safe copy of `value` for a field named `name`, with the guard's rules
 * applied recursively.
 */
export function sanitize(name: string, value: unknown, depth = 0): unknown {
  if (SENSITIVE_NAME.test(name)) return REDACTED
  if (value === null || value === undefined) return null
  if (typeof value === 'string') return safeString(value)
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value)
  if (typeof value === 'boolean') return value
  if (typeof value === 'bigint') return value.toString()
  if (ArrayBuffer.isView(value)) return `<${value.byteLength} bytes>`
  if (value instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer)) return `<${value.byteLength} bytes>`
  if (value instanceof Error) return errorText(value)
  if (value instanceof Date) return value.toISOString()
  if (value instanceof URL) return safeString(value.href)
  if (typeof value === 'function' || typeof value === 'symbol') return `[${typeof value}]`
  if (depth >= MAX_LOG_DEPTH) return '[object]'
  if (Array.isArray(value)) return value.slice(0, 64).map((v) => sanitize('', v, depth + 1))
  if (value instanceof Map) return sanitize(name, Object.fromEntries(value), depth)
  if (value instanceof Set) return sanitize(name, [...value], depth)
  // A class instance that says how to print itself (Secret) is trusted to redact itself.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return sanitize(name, (value as { toJSON(): unknown }).toJSON(), depth + 1)
  const out: Record<string, unknown> = {}
  let n = 0
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (n++ >= 64) break
    out[k] = sanitize(k, v, depth + 1)
  }
  return out
}
