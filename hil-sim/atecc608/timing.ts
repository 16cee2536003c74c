/**
 * How long the simulated chip stays busy after a command (spec A2: it NACKs
 * its address until it is done; cryptoauthlib-style hosts poll every 2 ms).
 *
 * Three modes:
 * - `instant` (tests): 0 ms, the answer is there at once;
 * - `max`: the maximum time for the device's clock divider (ChipMode bits
 *   7:3), cryptoauthlib's no-poll table (vaults/atecc608/constants.ts
 *   `execTimeTable`): the longest a host must be ready to wait;
 * - `realtime`: a typical time with seeded jitter, never above the maximum.
 *
 * **Typical times.** The public ATECC608 documents give one figure per command
 * and divider (the table above, which cryptoauthlib waits as a ceiling); the
 * full data sheet is under NDA. Microchip's public data sheet of the sibling
 * ATSHA204A (same command engine family) gives typical and maximum times side
 * by side, and its note says to delay the typical time and then poll. The
 * model takes, for each command, that sibling's typical/maximum ratio where it
 * has the command, and the median of those ratios (0.24) where it has not
 * (the ECC commands, AES, KDF, Counter, PrivWrite, SelfTest, SecureBoot),
 * times the 608's maximum for the current divider. Jitter is uniform in
 * ±25 % of the typical time (part-to-part and temperature variation of the
 * chip's internal oscillator, which the data sheets name without a figure),
 * clamped to [1 ms, maximum]. A command refused with 03 or 0F answers after
 * 1 ms ("failing commands return relatively quickly, often well before the
 * typical execution time", ATSHA204A data sheet §8.5.3).
 *
 * The jitter comes from its own random stream (seeded from the device seed
 * when there is one), so `realtime` and `instant` runs of one seed produce
 * the same keys, signatures and Random output.
 */
import { Opcode, Status, execTimeTable } from '../../vaults/atecc608/constants.ts'
import type { Rng } from './rng.ts'

export type SimTiming = 'realtime' | 'max' | 'instant'

/**
 * Typical ÷ maximum execution time per opcode, from the ATSHA204A public data
 * sheet (Table 8-4: DeriveKey 14/62, DevRev 0.4/2, GenDig 11/43, CheckMac
 * 12/38, Lock 5/24, MAC 12/35, Nonce 22/60, Random 11/50, Read 0.4/4, SHA
 * 11/22, UpdateExtra 8/12, Write 4/42 ms).
 */
export const TYPICAL_RATIO: Readonly<Record<number, number>> = {
  [Opcode.DERIVE_KEY]: 14 / 62,
  [Opcode.INFO]: 0.4 / 2,
  [Opcode.GENDIG]: 11 / 43,
  [Opcode.CHECKMAC]: 12 / 38,
  [Opcode.LOCK]: 5 / 24,
  [Opcode.MAC]: 12 / 35,
  [Opcode.NONCE]: 22 / 60,
  [Opcode.RANDOM]: 11 / 50,
  [Opcode.READ]: 0.4 / 4,
  [Opcode.SHA]: 11 / 22,
  [Opcode.UPDATE_EXTRA]: 8 / 12,
  [Opcode.WRITE]: 4 / 42,
}
/** The median of the sibling's ratios (HMAC 27/69 and Pause 0.4/2 included): for commands it does not have. */
export const TYPICAL_RATIO_DEFAULT = 0.24
/** Jitter: ± this fraction of the typical time, uniform. */
export const JITTER_FRACTION = 0.25
/** A refused command (03, 0F) answers after this long, ms. */
export const REFUSED_MS = 1
/** Busy time of an opcode the chip does not have (it answers 03 at once). */
const UNKNOWN_OPCODE_MS = 1

/** The maximum execution time, ms, of `opcode` for a ChipMode byte (clock divider); undefined for an unknown opcode. */
export function maxExecMs(opcode: number, chipMode: number): number | undefined {
  return execTimeTable(chipMode)[opcode]
}

/** The model's typical execution time, ms, of `opcode` for a ChipMode byte. */
export function typicalExecMs(opcode: number, chipMode: number): number | undefined {
  const max = maxExecMs(opcode, chipMode)
  if (max === undefined) return undefined
  return Math.max(REFUSED_MS, max * (TYPICAL_RATIO[opcode] ?? TYPICAL_RATIO_DEFAULT))
}

/** One draw in [0, 1) from 4 bytes of `rng`. */
function unit(rng: Rng): number {
  const b = rng(4)
  return (((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0) / 2 ** 32
}

/**
 * The busy time, ms, of one executed command: `opcode`, the device's ChipMode
 * byte and the status of the answer (undefined for a data answer).
 */
export type ExecTimer = (opcode: number, chipMode: number, status: number | undefined) => number

/**
 * The timer for a mode. `rng` feeds the `realtime` jitter (only that mode
 * draws from it).
 * @example
 * const t = execTimer('realtime', deterministicRng('dev-1/timing'))
 * t(0x41, 0x00, undefined) // a Sign at M0: 27.6 ms ± 25 %, at most 115
 */
export function execTimer(mode: SimTiming, rng: Rng): ExecTimer {
  if (mode === 'instant') return () => 0
  return (opcode, chipMode, status) => {
    const max = maxExecMs(opcode, chipMode)
    if (max === undefined) return UNKNOWN_OPCODE_MS
    if (mode === 'max') return max
    if (status === Status.PARSE_ERROR || status === Status.EXECUTION_ERROR) return REFUSED_MS
    const typ = typicalExecMs(opcode, chipMode)!
    const ms = typ * (1 + JITTER_FRACTION * (2 * unit(rng) - 1))
    return Math.min(max, Math.max(REFUSED_MS, ms))
  }
}
