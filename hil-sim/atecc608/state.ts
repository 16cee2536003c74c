/**
 * The simulated device's non-volatile state (config, OTP and data zones,
 * counters, which slots hold a valid key) and its JSON state file, so a
 * simulated device survives restarts. Volatile state (TempKey, MsgDigBuf) is
 * never written.
 */
import { readFileSync } from 'node:fs'
import { fromHex, toHex } from '../../src/bytes/index.ts'
import { ErrorCode, HopsealError } from '../../src/errors.ts'
import { writeFileAtomic } from '../../src/store/atomic-file.ts'
import { CONFIG_SIZE, OTP_SIZE, SLOT_COUNT, slotSize } from '../../vaults/atecc608/constants.ts'

export interface DeviceState {
  config: Uint8Array
  otp: Uint8Array
  /** 16 slots, sizes 36 (0–7), 416 (8), 72 (9–15). Private-key slots hold 4 zero bytes ‖ scalar. */
  data: Uint8Array[]
  counters: [number, number]
  /** Slots that hold a private key (GenKey done or written before lock). */
  keyValid: boolean[]
}

export function blankState(config: Uint8Array): DeviceState {
  if (config.length !== CONFIG_SIZE) throw new HopsealError(ErrorCode.INVALID_LENGTH, `config expected ${CONFIG_SIZE} bytes, got ${config.length}`)
  return {
    config: config.slice(),
    otp: new Uint8Array(OTP_SIZE),
    data: Array.from({ length: SLOT_COUNT }, (_, s) => new Uint8Array(slotSize(s))),
    counters: [0, 0],
    keyValid: new Array<boolean>(SLOT_COUNT).fill(false),
  }
}

const FORMAT = 'hopseal-atecc608-sim/1'

export function encodeState(s: DeviceState): Uint8Array {
  const json = { format: FORMAT, config: toHex(s.config), otp: toHex(s.otp), data: s.data.map(toHex), counters: s.counters, keyValid: s.keyValid }
  return new TextEncoder().encode(JSON.stringify(json, null, 1) + '\n')
}

/** Decodes a state file; any malformed content is VAULT_STORE_CORRUPT. */
export function decodeState(bytes: Uint8Array): DeviceState {
  try {
    const j = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>
    if (j.format !== FORMAT) throw new Error(`format ${String(j.format)}`)
    const data = (j.data as string[]).map((h) => fromHex(h))
    const st: DeviceState = {
      config: fromHex(j.config as string),
      otp: fromHex(j.otp as string),
      data,
      counters: [Number((j.counters as number[])[0]), Number((j.counters as number[])[1])],
      keyValid: (j.keyValid as boolean[]).map((b) => b === true),
    }
    if (st.config.length !== CONFIG_SIZE || st.otp.length !== OTP_SIZE || data.length !== SLOT_COUNT || st.keyValid.length !== SLOT_COUNT) throw new Error('sizes')
    data.forEach((d, i) => {
      if (d.length !== slotSize(i)) throw new Error(`slot ${i} size`)
    })
    if (!st.counters.every((c) => Number.isSafeInteger(c) && c >= 0)) throw new Error('counters')
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
