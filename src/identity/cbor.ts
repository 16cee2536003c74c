/**
 * Deterministic CBOR (RFC 8949 §4.2.1) for every identity-layer object,
 * through cborg. Decoding is total and strict:
 *
 * - the input length is bounded before any parsing;
 * - cborg runs with strict minimal-length integers, no indefinite lengths, no
 *   undefined/NaN/Infinity/bigints/tags, duplicate map keys refused;
 * - the decoded value is re-encoded with the RFC 8949 encoder and must equal
 *   the input byte for byte. That single check refuses every remaining
 *   non-canonical form (unsorted keys, floats where integers fit, invalid UTF-8
 *   replaced on decode, trailing bytes) without re-implementing the rules.
 *
 * Any failure, including a RangeError from pathological nesting, becomes a
 * HopsealError with the caller's code.
 */
import { decode, encode, rfc8949EncodeOptions } from 'cborg'
import { equalConstantTime } from '../bytes/index.ts'
import { HopsealError } from '../errors.ts'

const DECODE_OPTIONS = {
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowInfinity: false,
  allowNaN: false,
  allowBigInt: false,
  useMaps: true,
  rejectDuplicateMapKeys: true,
} as const

/**
 * Encodes `value` deterministically (maps with integer keys sorted per RFC 8949 §4.2.1).
 * The result is copied into a fresh buffer: cborg may return a view into its
 * pooled writer memory, which a later encode overwrites (seen in tests: a
 * credential's bytes changed under the caller after the next verification).
 */
export function encodeCanonical(value: unknown): Uint8Array {
  return new Uint8Array(encode(value, rfc8949EncodeOptions))
}

/** Decodes exactly one canonical CBOR item of at most `maxBytes`; throws `code` otherwise. */
export function decodeCanonical(bytes: unknown, maxBytes: number, code: string, what: string): unknown {
  if (!(bytes instanceof Uint8Array)) throw new HopsealError(code, `${what} expected Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`)
  if (bytes.length === 0) throw new HopsealError(code, `${what} is empty`)
  if (bytes.length > maxBytes) throw new HopsealError(code, `${what} is ${bytes.length} bytes, limit ${maxBytes}`)
  let value: unknown
  let again: Uint8Array
  try {
    value = decode(bytes, DECODE_OPTIONS)
    again = encodeCanonical(value)
  } catch (e) {
    throw new HopsealError(code, `${what} is not valid CBOR: ${(e as Error).message}`)
  }
  if (!equalConstantTime(again, bytes)) throw new HopsealError(code, `${what} is not in deterministic CBOR form (RFC 8949 §4.2)`)
  return value
}

/**
 * Schema reader for an integer-keyed CBOR map: each accessor checks one field's
 * type and bounds, `done()` refuses unknown keys. Byte strings are copied, so
 * a decoded object never aliases the caller's buffer.
 */
export class MapReader {
  private readonly seen = new Set<number>()
  private readonly map: Map<unknown, unknown>
  constructor(
    value: unknown,
    private readonly code: string,
    private readonly what: string,
  ) {
    if (!(value instanceof Map)) throw new HopsealError(code, `${what} expected a CBOR map`)
    this.map = value
  }

  private get(key: number, optional: boolean): unknown {
    this.seen.add(key)
    const v = this.map.get(key)
    if (v === undefined && !optional) throw new HopsealError(this.code, `${this.what} field ${key} missing`)
    return v
  }

  bytes(key: number, lengths: number[]): Uint8Array
  bytes(key: number, lengths: number[], optional: true): Uint8Array | undefined
  bytes(key: number, lengths: number[], optional = false): Uint8Array | undefined {
    const v = this.get(key, optional)
    if (v === undefined) return undefined
    if (!(v instanceof Uint8Array)) throw new HopsealError(this.code, `${this.what} field ${key} expected a byte string`)
    if (lengths.length > 0 && !lengths.includes(v.length)) throw new HopsealError(this.code, `${this.what} field ${key} expected ${lengths.join(' or ')} bytes, got ${v.length}`)
    return v.slice()
  }

  uint(key: number, max: number): number
  uint(key: number, max: number, optional: true): number | undefined
  uint(key: number, max: number, optional = false): number | undefined {
    const v = this.get(key, optional)
    if (v === undefined) return undefined
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) throw new HopsealError(this.code, `${this.what} field ${key} expected an unsigned integer ≤ ${max}`)
    return v
  }

  /** An optional flag: absent means false; present must be `true` (a present `false` would be a second encoding of the same value). */
  flag(key: number): boolean {
    const v = this.get(key, true)
    if (v === undefined) return false
    if (v !== true) throw new HopsealError(this.code, `${this.what} field ${key} must be true when present`)
    return true
  }

  /** The raw value of a field (for nested structures the caller checks itself). */
  raw(key: number, optional = false): unknown {
    return this.get(key, optional)
  }

  done(): void {
    for (const k of this.map.keys()) {
      if (typeof k !== 'number' || !this.seen.has(k)) throw new HopsealError(this.code, `${this.what} has unknown field ${String(k)}`)
    }
  }
}

/** Checks a CBOR array value with a bounded length. */
export function readArray(value: unknown, min: number, max: number, code: string, what: string): unknown[] {
  if (!Array.isArray(value)) throw new HopsealError(code, `${what} expected a CBOR array`)
  if (value.length < min || value.length > max) throw new HopsealError(code, `${what} has ${value.length} entries, expected ${min}..${max}`)
  return value
}

/**
 * Decodes a signed object `{1: data (bstr), 2: signature}` and opens its data
 * map: the envelope shared by attestations, credentials and revocation lists.
 */
export function decodeSigned(bytes: unknown, maxBytes: number, signatureLength: number, code: string, what: string): { data: Uint8Array; signature: Uint8Array; fields: MapReader } {
  const outer = new MapReader(decodeCanonical(bytes, maxBytes, code, what), code, what)
  const data = outer.bytes(1, [])
  const signature = outer.bytes(2, [signatureLength])
  outer.done()
  const fields = new MapReader(decodeCanonical(data, maxBytes, code, `${what} data`), code, `${what} data`)
  return { data, signature, fields }
}
