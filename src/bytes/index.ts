/**
 * Uint8Array helpers shared by every layer. Portable: no Node built-ins.
 */
import { ErrorCode, HopsealError } from '../errors.ts'

export type Bytes = Uint8Array

/** Checks that `value` is a Uint8Array (of `length` bytes when given); throws a labelled error. */
export function assertBytes(label: string, value: unknown, ...lengths: number[]): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `${label} expected Uint8Array, got ${value === null ? 'null' : typeof value}`)
  }
  if (lengths.length > 0 && !lengths.includes(value.length)) {
    throw new HopsealError(ErrorCode.INVALID_LENGTH, `${label} expected ${lengths.join(' or ')} bytes, got ${value.length}`)
  }
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

/**
 * Constant-time equality: the time depends only on the lengths, never on where
 * the inputs differ. Use it for tags, MACs, secrets and key comparisons.
 */
export function equalConstantTime(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}

/** Zero-fills buffers that held secrets. Accepts undefined for convenience. */
export function wipe(...buffers: (Uint8Array | undefined)[]): void {
  for (const b of buffers) b?.fill(0)
}

/** A copy that shares no memory with its input. */
export function copy(b: Uint8Array): Uint8Array {
  return b.slice()
}

const HEX = '0123456789abcdef'
export function toHex(b: Uint8Array): string {
  let s = ''
  for (let i = 0; i < b.length; i++) s += HEX[b[i]! >> 4]! + HEX[b[i]! & 15]!
  return s
}

export function fromHex(hex: string): Uint8Array {
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new HopsealError(ErrorCode.DECODE_ERROR, 'hex string expected an even number of hex digits')
  }
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16)
  return out
}

const enc = new TextEncoder()
const dec = new TextDecoder('utf-8', { fatal: true })
export function utf8(s: string): Uint8Array {
  return enc.encode(s)
}
export function fromUtf8(b: Uint8Array): string {
  try {
    return dec.decode(b)
  } catch {
    throw new HopsealError(ErrorCode.DECODE_ERROR, 'invalid UTF-8')
  }
}

/** Big-endian u64 into 8 bytes (n < 2^64, as a bigint). */
export function u64be(n: bigint): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, n, false)
  return out
}

export { encodeVarint, decodeVarint, varintLength } from './varint.ts'
