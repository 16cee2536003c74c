/**
 * Heart-rate / river-level readings: 8 bytes each, distinctive so a tap can
 * search for them: 'H' (0x48) ‖ device index u16 ‖ sequence u24 ‖ value u16.
 * Values come from the scenario's seeded PRNG.
 */
export const READING_BYTES = 8

export function encodeReading(device: number, seq: number, value: number): Uint8Array {
  const b = new Uint8Array(READING_BYTES)
  b[0] = 0x48
  b[1] = device >> 8
  b[2] = device & 0xff
  b[3] = (seq >> 16) & 0xff
  b[4] = (seq >> 8) & 0xff
  b[5] = seq & 0xff
  b[6] = value >> 8
  b[7] = value & 0xff
  return b
}

export function decodeReading(b: Uint8Array): { device: number; seq: number; value: number } | undefined {
  if (b.length !== READING_BYTES || b[0] !== 0x48) return undefined
  return { device: (b[1]! << 8) | b[2]!, seq: (b[3]! << 16) | (b[4]! << 8) | b[5]!, value: (b[6]! << 8) | b[7]! }
}

/**
 * Counts occurrences of any of `needles` (all READING_BYTES long) in `haystacks`,
 * in one pass over the bytes (a set of 8-byte keys, not a search per reading).
 */
export function countPlaintext(needles: Iterable<Uint8Array>, haystacks: Iterable<Uint8Array>): number {
  const set = new Set<string>()
  for (const n of needles) set.add(Buffer.from(n).toString('latin1'))
  let hits = 0
  for (const h of haystacks) {
    const s = Buffer.from(h.buffer, h.byteOffset, h.byteLength).toString('latin1')
    for (let i = 0; i + READING_BYTES <= s.length; i++) if (s.charCodeAt(i) === 0x48 && set.has(s.slice(i, i + READING_BYTES))) hits++
  }
  return hits
}
