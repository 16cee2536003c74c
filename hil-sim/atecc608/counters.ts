/**
 * The two monotonic counters live in the config zone, bytes 52–59 (Counter[0])
 * and 60–67 (Counter[1]) (spec A3 config map; `atecc608_config_t.Counter0/1`),
 * so a host that reads the config zone sees them move, and a host can give a
 * counter its starting value by writing those bytes before the config lock.
 *
 * The encoding of a non-zero value on silicon is not public (Microchip: "contact
 * Microchip for details"). The only public fact is the pattern for zero,
 * `FF FF FF FF 00 00 00 00`, which every published config image carries. The
 * simulator uses its own self-checking encoding that agrees with that pattern:
 * bytes 0–3 = NOT(value) and bytes 4–7 = value, both uint32 little-endian. A
 * pattern that is not of that form is refused (execution error) rather than
 * guessed at.
 */
import { COUNTER_MAX, ConfigOffset } from '../../vaults/atecc608/constants.ts'

function offset(id: 0 | 1): number {
  return id === 0 ? ConfigOffset.COUNTER0 : ConfigOffset.COUNTER1
}

/** The counter's value, or undefined when its bytes are not a value the simulator can read. */
export function readCounter(config: Uint8Array, id: 0 | 1): number | undefined {
  const dv = new DataView(config.buffer, config.byteOffset + offset(id), 8)
  const inv = dv.getUint32(0, true)
  const v = dv.getUint32(4, true)
  if ((inv ^ v) >>> 0 !== 0xffffffff || v > COUNTER_MAX) return undefined
  return v
}

/** Stores `value` (0..COUNTER_MAX) in the counter's config bytes. */
export function writeCounter(config: Uint8Array, id: 0 | 1, value: number): void {
  const dv = new DataView(config.buffer, config.byteOffset + offset(id), 8)
  dv.setUint32(0, ~value >>> 0, true)
  dv.setUint32(4, value >>> 0, true)
}

/** The 8 config bytes that encode `value` (for provisioning a starting value). */
export function encodeCounter(value: number): Uint8Array {
  const b = new Uint8Array(128)
  writeCounter(b, 0, value)
  return b.slice(ConfigOffset.COUNTER0, ConfigOffset.COUNTER0 + 8)
}
