/**
 * The simulated device's non-volatile state (config zone, which also holds the
 * serial number and the monotonic counters, OTP and data zones, which slots
 * hold a valid key, the RNG's power-up number) and its JSON state file, so a
 * simulated device survives restarts. Volatile state (TempKey, MsgDigBuf, the
 * persistent latch) is never written.
 *
 * Format 2 (current). Format 1 files (counters kept beside the config) are
 * read and their counters moved into config bytes 52–67.
 */
import { readFileSync } from 'node:fs'
import { fromHex, toHex } from '../../src/bytes/index.ts'
import { ErrorCode, HopsealError } from '../../src/errors.ts'
import { writeFileAtomic } from '../../targets/node/store/atomic-file.ts'
import { CONFIG_SIZE, OTP_SIZE, SLOT_COUNT, slotSize } from '../../vaults/atecc608/constants.ts'
import { writeCounter } from './counters.ts'

export interface DeviceState {
  config: Uint8Array
  otp: Uint8Array
  /** 16 slots, sizes 36 (0–7), 416 (8), 72 (9–15). Private-key slots hold 4 zero bytes ‖ scalar. */
  data: Uint8Array[]
  /** Slots that hold a private key (GenKey or PrivWrite done). */
  keyValid: boolean[]
  /** Power-ups so far: the seeded RNG's stream number (./rng.ts), so a restarted device never repeats its Random output. */
  rngEpoch: number
}

export function blankState(config: Uint8Array): DeviceState {
  if (config.length !== CONFIG_SIZE) throw new HopsealError(ErrorCode.INVALID_LENGTH, `config expected ${CONFIG_SIZE} bytes, got ${config.length}`)
  return {
    config: config.slice(),
    otp: new Uint8Array(OTP_SIZE),
    data: Array.from({ length: SLOT_COUNT }, (_, s) => new Uint8Array(slotSize(s))),
    keyValid: new Array<boolean>(SLOT_COUNT).fill(false),
    rngEpoch: 0,
  }
}

const FORMAT = 'hopseal-atecc608-sim/2'
const FORMAT_V1 = 'hopseal-atecc608-sim/1'

export function encodeState(s: DeviceState): Uint8Array {
  const json = { format: FORMAT, config: toHex(s.config), otp: toHex(s.otp), data: s.data.map(toHex), keyValid: s.keyValid, rngEpoch: s.rngEpoch }
  return new TextEncoder().encode(JSON.stringify(json, null, 1) + '\n')
}

/** Decodes a state file; any malformed content is VAULT_STORE_CORRUPT. */
export function decodeState(bytes: Uint8Array): DeviceState {
  try {
    const j = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>
    if (j.format !== FORMAT && j.format !== FORMAT_V1) throw new Error(`format ${String(j.format)}`)
    const data = (j.data as string[]).map((h) => fromHex(h))
    const st: DeviceState = {
      config: fromHex(j.config as string),
      otp: fromHex(j.otp as string),
      data,
      keyValid: (j.keyValid as boolean[]).map((b) => b === true),
      rngEpoch: j.format === FORMAT ? Number(j.rngEpoch) : 1,
    }
    if (!Number.isSafeInteger(st.rngEpoch) || st.rngEpoch < 0) throw new Error('rngEpoch')
    if (st.config.length !== CONFIG_SIZE || st.otp.length !== OTP_SIZE || data.length !== SLOT_COUNT || st.keyValid.length !== SLOT_COUNT) throw new Error('sizes')
    data.forEach((d, i) => {
      if (d.length !== slotSize(i)) throw new Error(`slot ${i} size`)
    })
    if (j.format === FORMAT_V1) {
      const counters = (j.counters as number[]).map(Number)
      if (counters.length !== 2 || !counters.every((c) => Number.isSafeInteger(c) && c >= 0)) throw new Error('counters')
      writeCounter(st.config, 0, counters[0]!)
      writeCounter(st.config, 1, counters[1]!)
    }
    return st
  } catch (e) {
    throw new HopsealError(ErrorCode.VAULT_STORE_CORRUPT, `ATECC608 simulator state file is malformed (${(e as Error).message})`, { cause: e })
  }
}

export function loadStateFile(path: string): DeviceState | undefined {
  let bytes: Uint8Array
  try {
    bytes = readFileSync(path)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new HopsealError(ErrorCode.VAULT_STORE_IO, `cannot read simulator state ${path}: ${(e as Error).message}`, { cause: e })
  }
  return decodeState(bytes)
}

export function saveStateFile(path: string, s: DeviceState): void {
  writeFileAtomic(path, encodeState(s))
}
