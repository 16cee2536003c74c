/**
 * Unsigned LEB128 varints limited to 2^53-1 (safe integers), as used by the
 * routing codec. Decoding is total: it returns a value or throws DECODE_ERROR.
 */
import { ErrorCode, HopsealError } from '../errors.ts'

const MAX_BYTES = 8 // 8 × 7 = 56 bits ≥ 53

export function varintLength(n: number): number {
  let len = 1
  while (n >= 0x80) {
    n = Math.floor(n / 128)
    len++
  }
  return len
}

export function encodeVarint(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `varint expected a non-negative safe integer, got ${n}`)
  const out = new Uint8Array(varintLength(n))
  let i = 0
  while (n >= 0x80) {
    out[i++] = (n % 128) | 0x80
    n = Math.floor(n / 128)
  }
  out[i] = n
  return out
}

/** Decodes a varint at `offset`; returns the value and the number of bytes read. Rejects non-minimal encodings. */
export function decodeVarint(b: Uint8Array, offset = 0): { value: number; length: number } {
  let value = 0
  let mul = 1
  for (let i = 0; i < MAX_BYTES; i++) {
    const pos = offset + i
    if (pos >= b.length) throw new HopsealError(ErrorCode.DECODE_ERROR, 'varint truncated')
    const byte = b[pos]!
    value += (byte & 0x7f) * mul
    if ((byte & 0x80) === 0) {
      if (i > 0 && byte === 0) throw new HopsealError(ErrorCode.DECODE_ERROR, 'varint not minimally encoded')
      if (!Number.isSafeInteger(value)) throw new HopsealError(ErrorCode.DECODE_ERROR, 'varint exceeds 2^53-1')
      return { value, length: i + 1 }
    }
    mul *= 128
  }
  throw new HopsealError(ErrorCode.DECODE_ERROR, 'varint longer than 8 bytes')
}
