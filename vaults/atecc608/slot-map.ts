/**
 * The slot map: which key slots hold a hopseal key, with its label and a
 * generation tag (so a handle to a deleted key never resolves to the key that
 * later reuses its slot). Persistent entries live on the device itself, in the
 * clear data slot 8 (416 bytes), so any host that opens the device finds its
 * keys by label; session entries stay in host memory.
 *
 * Encoding (docs/hardware.md "Slot map"): "HSM" ‖ version 1 ‖ count ‖ entries ‖ CRC-16
 * (the ATECC CRC, little-endian) over everything before it; each entry is
 * slot ‖ key type (4 = P-256) ‖ tag (4 bytes) ‖ label length ‖ label (ASCII).
 * An all-zero slot is an empty map.
 */
import { ErrorCode, HopsealError } from '../../src/errors.ts'
import { atcaCrc16 } from './crc.ts'

export interface SlotMapEntry {
  slot: number
  /** 8 hex digits, fresh per GenKey. */
  tag: string
  label?: string
}

const MAGIC = [0x48, 0x53, 0x4d, 0x01] // "HSM", version 1
/** Bytes of the map slot (slot 8). */
export const SLOT_MAP_CAPACITY = 416

export function encodeSlotMap(entries: readonly SlotMapEntry[]): Uint8Array {
  const parts: number[] = [...MAGIC, entries.length]
  for (const e of entries) {
    const label = e.label === undefined ? [] : [...new TextEncoder().encode(e.label)]
    if (!/^[0-9a-f]{8}$/.test(e.tag)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'slot-map tag expected 8 hex digits')
    parts.push(e.slot, 0x04, ...hexBytes(e.tag), label.length, ...label)
  }
  const body = Uint8Array.from(parts)
  const out = new Uint8Array(body.length + 2)
  out.set(body)
  const c = atcaCrc16(body)
  out[body.length] = c & 0xff
  out[body.length + 1] = c >> 8
  if (out.length > SLOT_MAP_CAPACITY) throw new HopsealError(ErrorCode.LIMIT_EXCEEDED, `slot map needs ${out.length} bytes, the map slot holds ${SLOT_MAP_CAPACITY}: use shorter labels`)
  return out
}

/** Total encoded length from the first bytes (needs ≥ 5 bytes), or 0 for an empty (all-zero) map. */
export function decodeSlotMap(bytes: Uint8Array): SlotMapEntry[] {
  if (bytes.length >= 5 && bytes.subarray(0, 5).every((b) => b === 0)) return []
  const corrupt = (why: string): never => {
    throw new HopsealError(ErrorCode.VAULT_STORE_CORRUPT, `ATECC608 slot map: ${why}`)
  }
  if (bytes.length < 7 || MAGIC.some((m, i) => bytes[i] !== m)) corrupt('no hopseal slot map in the map slot (foreign data?)')
  const n = bytes[4]!
  if (n > 16) corrupt(`${n} entries`)
  const entries: SlotMapEntry[] = []
  let o = 5
  const seen = new Set<number>()
  for (let i = 0; i < n; i++) {
    if (o + 7 > bytes.length) corrupt('truncated entry')
    const slot = bytes[o]!
    const type = bytes[o + 1]!
    const tag = toHex8(bytes.subarray(o + 2, o + 6))
    const len = bytes[o + 6]!
    o += 7
    if (slot > 15 || type !== 0x04 || seen.has(slot) || len > 64 || o + len > bytes.length) corrupt('bad entry')
    seen.add(slot)
    const labelBytes = bytes.subarray(o, o + len)
    if (!labelBytes.every((b) => b >= 0x20 && b <= 0x7e)) corrupt('label not printable ASCII')
    o += len
    entries.push(len === 0 ? { slot, tag } : { slot, tag, label: new TextDecoder().decode(labelBytes) })
  }
  if (o + 2 > bytes.length) corrupt('truncated CRC')
  const c = atcaCrc16(bytes, o)
  if (bytes[o] !== (c & 0xff) || bytes[o + 1] !== c >> 8) corrupt('CRC mismatch')
  return entries
}

function hexBytes(h: string): number[] {
  const out: number[] = []
  for (let i = 0; i < h.length; i += 2) out.push(parseInt(h.slice(i, i + 2), 16))
  return out
}
function toHex8(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('')
}
