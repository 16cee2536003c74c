/**
 * transports.md §3: a UART carries COBS(frame ‖ CRC-16/CCITT-FALSE(frame), big-endian) ‖ 00;
 * a frame is 00 ‖ message (whole) or (0x80 | msgId) index last ‖ bytes (fragment).
 */
import { cat, fail } from './bytes.ts'

export function crc16(data: Uint8Array): number {
  let crc = 0xffff
  for (const byte of data) {
    crc ^= byte << 8
    for (let k = 0; k < 8; k++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  }
  return crc
}

export function cobsDecode(enc: Uint8Array): Uint8Array {
  const out: number[] = []
  let i = 0
  while (i < enc.length) {
    const code = enc[i++]!
    if (code === 0) fail('zero inside a COBS frame')
    if (i + code - 1 > enc.length) fail('COBS block past the end')
    for (let k = 1; k < code; k++) out.push(enc[i++]!)
    if (code !== 0xff && i < enc.length) out.push(0)
  }
  return Uint8Array.from(out)
}

/** Splits a UART byte stream into checked frames (an empty run between two delimiters is ignored). */
export function uartFrames(stream: Uint8Array): Uint8Array[] {
  if (stream.at(-1) !== 0) fail('UART bytes do not end with a delimiter')
  const frames: Uint8Array[] = []
  let start = 0
  for (let i = 0; i < stream.length; i++) {
    if (stream[i] !== 0) continue
    if (i > start) {
      const raw = cobsDecode(stream.subarray(start, i))
      if (raw.length < 2) fail('frame shorter than its CRC')
      const body = raw.subarray(0, raw.length - 2)
      const crc = (raw[raw.length - 2]! << 8) | raw[raw.length - 1]!
      if (crc16(body) !== crc) fail(`bad CRC ${crc.toString(16)}`)
      frames.push(body)
    }
    start = i + 1
  }
  return frames
}

/** The routing message carried by the frames of one message (all of its fragments, in any order). */
export function reassemble(frames: Uint8Array[], mtu: number): Uint8Array {
  for (const f of frames) if (f.length > mtu) fail(`frame of ${f.length} bytes over the MTU ${mtu}`)
  const first = frames[0]
  if (!first) fail('no frame')
  if (first[0] === 0x00) {
    if (frames.length !== 1) fail('a whole message is one frame')
    if (first.length - 1 + 1 > mtu) fail('whole frame over the MTU')
    return first.slice(1)
  }
  if ((first[0]! & 0x80) === 0) fail('reserved first byte')
  const id = first[0]! & 0x7f
  const last = first[2]!
  if (last === 0) fail('a one-fragment message must travel whole')
  const parts = new Map<number, Uint8Array>()
  for (const f of frames) {
    if (f.length < 4 || (f[0]! & 0x7f) !== id || (f[0]! & 0x80) === 0 || f[2] !== last || f[1]! > last) fail('inconsistent fragment')
    parts.set(f[1]!, f.subarray(3))
  }
  if (parts.size !== last + 1) fail('fragments missing')
  const ordered = [...Array(last + 1).keys()].map((k) => parts.get(k)!)
  for (const p of ordered.slice(0, -1)) if (p.length !== mtu - 3) fail('a fragment before the last is not full')
  return cat(...ordered)
}
