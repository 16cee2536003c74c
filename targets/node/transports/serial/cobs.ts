/**
 * Consistent Overhead Byte Stuffing: S. Cheshire and M. Baker, "Consistent
 * Overhead Byte Stuffing", IEEE/ACM Trans. Networking 7(2), 1999.
 *
 * The encoded form contains no 0x00, so 0x00 can delimit frames on a byte
 * stream. Data is cut at each zero into blocks; each block is written as a
 * code byte (its length + 1) and its non-zero bytes, the zero being implied. A
 * code of 0xFF means 254 data bytes with *no* implied zero (§3, the maximum
 * run). The final block never carries an implied zero. Overhead is at most one
 * byte per 254 bytes (plus one), whatever the data.
 *
 * Rejected: SLIP/HDLC byte escaping, whose worst case doubles the frame (a
 * payload of 0x7E bytes), which matters on a 20-byte BLE write.
 */
import { ErrorCode, HopsealError } from '../../../../src/errors.ts'
import { COBS_MAX_RUN } from './constants.ts'

/** Largest encoded size of `n` data bytes (without the 0x00 delimiter). */
export function cobsMaxEncodedLength(n: number): number {
  return n + 1 + Math.floor(Math.max(n - 1, 0) / COBS_MAX_RUN)
}

/**
 * Encodes `data` (no delimiter appended).
 * @example cobsEncode(Uint8Array.of(0x11, 0x22, 0x00, 0x33)) // 03 11 22 02 33
 */
export function cobsEncode(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(cobsMaxEncodedLength(data.length))
  const n = cobsEncodeInto(data, out, 0)
  return n === out.length ? out : out.slice(0, n)
}

/**
 * Encodes `data` into `dst` at `offset` (room for `cobsMaxEncodedLength(data.length)`
 * bytes is the caller's duty) and returns the number of bytes written.
 */
export function cobsEncodeInto(data: Uint8Array, dst: Uint8Array, offset: number): number {
  let codeAt = offset
  let code = 1
  let o = offset + 1
  for (let i = 0; i < data.length; i++) {
    // A full run is closed only when more data follows, so 254 non-zero bytes
    // encode as FF + 254 bytes with no trailing empty block.
    if (code === 0xff) {
      dst[codeAt] = code
      codeAt = o++
      code = 1
    }
    const b = data[i]!
    if (b === 0) {
      dst[codeAt] = code
      codeAt = o++
      code = 1
    } else {
      dst[o++] = b
      code++
    }
  }
  dst[codeAt] = code
  return o - offset
}

/**
 * Decodes `src[0, length)` into `dst` (which may be `src` itself: the output
 * never overtakes the input) and returns the decoded length, or -1 when the
 * input is not valid COBS (a 0x00 byte, or a block running past the end).
 * Allocation-free, for the streaming decoder.
 */
export function cobsDecodeInto(src: Uint8Array, length: number, dst: Uint8Array): number {
  let i = 0
  let o = 0
  while (i < length) {
    const code = src[i++]!
    if (code === 0) return -1
    const end = i + code - 1
    if (end > length) return -1
    while (i < end) {
      const b = src[i++]!
      if (b === 0) return -1
      dst[o++] = b
    }
    if (code !== 0xff && i < length) dst[o++] = 0
  }
  return o
}

/**
 * Decodes one COBS-encoded frame (without its delimiter).
 * @throws DECODE_ERROR when `encoded` is empty or not valid COBS.
 */
export function cobsDecode(encoded: Uint8Array): Uint8Array {
  if (encoded.length === 0) throw new HopsealError(ErrorCode.DECODE_ERROR, 'COBS frame is empty')
  const out = new Uint8Array(encoded.length)
  const n = cobsDecodeInto(encoded, encoded.length, out)
  if (n < 0) throw new HopsealError(ErrorCode.DECODE_ERROR, 'invalid COBS frame (zero byte or block past the end)')
  return out.slice(0, n)
}
