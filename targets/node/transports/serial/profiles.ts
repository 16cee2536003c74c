/**
 * Link profiles: what the serial transport must respect on the medium behind
 * a FrameLink: the radio frame size (MTU), pacing between writes, time on air
 * per frame and the duty-cycle rule that bounds it.
 *
 * The MTU and the airtime count the radio frame, i.e. fragment header +
 * fragment (fragment.ts). COBS and the CRC belong to the UART between the host
 * and its modem, not to the air, so they count in neither.
 */
import { ErrorCode, HopsealError } from '../../../../src/errors.ts'
import { loraAirtimeMs, type LoraParams } from './airtime.ts'
import {
  BLE_DEFAULT_MTU,
  BLE_DEFAULT_WRITE_INTERVAL_MS,
  BLE_MS_PER_BYTE,
  BLE_PACKET_OVERHEAD_BYTES,
  DEFAULT_RAW_MTU,
  DEFAULT_REASSEMBLY_TIMEOUT_MS,
  EU868_DR_TO_SF,
  EU868_MTU_BY_SF,
  LORA_DEFAULT_DUTY_CYCLE,
  LORA_DEFAULT_DUTY_WINDOW_MS,
  LORA_DEFAULT_SF,
  LORA_REASSEMBLY_MARGIN_MS,
  MIN_MTU,
} from './constants.ts'

/** A duty-cycle rule: at most `ratio` of the time on air. */
export interface DutyCycle {
  /** Fraction of time the radio may transmit, in (0, 1). */
  ratio: number
  /**
   * `window`: the airtime sent in any trailing `windowMs` stays ≤ ratio × windowMs
   * (ETSI EN 300 220 measures over one hour; bursts are allowed).
   * `time-off`: after each frame the radio stays silent airtime × (1/ratio − 1)
   * (LMIC style; no bursts, even spacing).
   */
  policy: 'window' | 'time-off'
  /** Length of the sliding window (ms); used by the `window` policy. */
  windowMs: number
}

/** What the send queue and the reassembler need to know about a medium. */
export type LinkProfile = {
  name: 'raw' | 'ble-uart' | 'lora'
  /** Largest radio frame (bytes): fragment header + fragment. */
  mtu: number
  /** Least time between the starts of two frames (ms). */
  writeIntervalMs: number
  /** Time on air of one frame of `frameBytes` bytes (ms). */
  airtimeMs(frameBytes: number): number
  dutyCycle?: DutyCycle
  /** A partial message with no new fragment for this long is dropped (ms). */
  reassemblyTimeoutMs: number
}

function fail(msg: string): never {
  throw new HopsealError(ErrorCode.INVALID_ARGUMENT, msg)
}

function checkMtu(label: string, mtu: number, max: number): number {
  if (!Number.isInteger(mtu) || mtu < MIN_MTU || mtu > max) fail(`${label} mtu expected an integer in ${MIN_MTU}..${max}, got ${mtu}`)
  return mtu
}

function checkMs(label: string, v: number): number {
  if (!Number.isFinite(v) || v < 0) fail(`${label} expected a non-negative number of ms, got ${v}`)
  return v
}

function checkTimeout(label: string, v: number | undefined, dflt: number): number {
  const t = v ?? dflt
  if (!Number.isFinite(t) || t <= 0) fail(`${label} reassemblyTimeoutMs expected a positive number, got ${t}`)
  return t
}

/**
 * A wire with no radio behind it (USB-CDC, UART, TCP): no pacing, no airtime.
 * @example rawProfile()            // mtu 1024
 */
export function rawProfile(opts: { mtu?: number; reassemblyTimeoutMs?: number } = {}): LinkProfile {
  return Object.freeze({
    name: 'raw' as const,
    mtu: checkMtu('raw profile', opts.mtu ?? DEFAULT_RAW_MTU, 65_536),
    writeIntervalMs: 0,
    airtimeMs: () => 0,
    reassemblyTimeoutMs: checkTimeout('raw profile', opts.reassemblyTimeoutMs, DEFAULT_REASSEMBLY_TIMEOUT_MS),
  })
}

/**
 * A BLE UART bridge (Nordic UART Service style): 20-byte writes (ATT_MTU 23
 * minus the 3-byte ATT header, valid without MTU exchange), one write per
 * connection interval (default 8 ms ≈ the 7.5 ms minimum interval). Airtime is
 * the LE 1M PHY packet: (17 + frame) bytes at 1 µs per bit.
 * @example bleUartProfile({ mtu: 244, writeIntervalMs: 15 }) // after an ATT MTU exchange to 247
 */
export function bleUartProfile(opts: { mtu?: number; writeIntervalMs?: number; reassemblyTimeoutMs?: number } = {}): LinkProfile {
  return Object.freeze({
    name: 'ble-uart' as const,
    mtu: checkMtu('ble-uart profile', opts.mtu ?? BLE_DEFAULT_MTU, 512),
    writeIntervalMs: checkMs('ble-uart writeIntervalMs', opts.writeIntervalMs ?? BLE_DEFAULT_WRITE_INTERVAL_MS),
    airtimeMs: (frameBytes: number) => (frameBytes + BLE_PACKET_OVERHEAD_BYTES) * BLE_MS_PER_BYTE,
    reassemblyTimeoutMs: checkTimeout('ble-uart profile', opts.reassemblyTimeoutMs, DEFAULT_REASSEMBLY_TIMEOUT_MS),
  })
}

/** Options of {@link loraProfile}. */
export interface LoraProfileOptions {
  /** Spreading factor 7..12; default 7 (or the one of `dataRate`). */
  sf?: number
  /** EU868 data rate DR0..DR5 = SF12..SF7 at 125 kHz; an alternative to `sf`. */
  dataRate?: number
  bwHz?: number
  cr?: 1 | 2 | 3 | 4
  /** Radio frame size; default by spreading factor: SF12/11/10 → 51, SF9 → 115, SF8/7 → 222 (EU868 N). */
  mtu?: number
  /** Duty-cycle ratio in (0, 1]; default 0.01 (1 %); 1 = no limit. */
  dutyCycle?: number
  /** Default 'window' (ETSI EN 300 220 measures over one hour). */
  dutyPolicy?: 'window' | 'time-off'
  /** Window of the `window` policy (ms); default 3 600 000. */
  windowMs?: number
  /**
   * Default: the longest silence the duty cycle can impose between two frames
   * (`windowMs` for the window policy, airtime(mtu)/ratio for time-off) + 30 s,
   * so a message is not dropped only because the radio was waiting for budget.
   */
  reassemblyTimeoutMs?: number
}

/**
 * A LoRa radio behind a UART modem, with the Semtech airtime formula and a
 * duty-cycle limit.
 * @throws INVALID_ARGUMENT for unknown data rates, conflicting sf/dataRate,
 *   an MTU outside 4..255, or a duty-cycle budget too small for one frame.
 * @example loraProfile({ dataRate: 0 })  // SF12, mtu 51, 1 % over one hour
 */
export function loraProfile(opts: LoraProfileOptions = {}): LinkProfile {
  let sf = opts.sf
  if (opts.dataRate !== undefined) {
    const fromDr = Number.isInteger(opts.dataRate) ? EU868_DR_TO_SF[opts.dataRate] : undefined
    if (fromDr === undefined) fail(`lora profile dataRate expected EU868 DR0..DR5, got ${opts.dataRate}`)
    if (sf !== undefined && sf !== fromDr) fail(`lora profile: sf ${sf} contradicts dataRate DR${opts.dataRate} (SF${fromDr})`)
    sf = fromDr
  }
  sf ??= LORA_DEFAULT_SF
  const params: LoraParams = { sf, ...(opts.bwHz !== undefined ? { bwHz: opts.bwHz } : {}), ...(opts.cr !== undefined ? { cr: opts.cr } : {}) }
  const mtu = checkMtu('lora profile', opts.mtu ?? EU868_MTU_BY_SF[sf] ?? 51, 255)
  const airtimeMs = (frameBytes: number): number => loraAirtimeMs(frameBytes, params)
  const maxAirtime = airtimeMs(mtu) // also validates sf, bw and cr

  const ratio = opts.dutyCycle ?? LORA_DEFAULT_DUTY_CYCLE
  if (!Number.isFinite(ratio) || ratio <= 0 || ratio > 1) fail(`lora profile dutyCycle expected a ratio in (0, 1], got ${ratio}`)
  const policy = opts.dutyPolicy ?? 'window'
  if (policy !== 'window' && policy !== 'time-off') fail(`lora profile dutyPolicy expected 'window' or 'time-off', got ${String(policy)}`)
  const windowMs = opts.windowMs ?? LORA_DEFAULT_DUTY_WINDOW_MS
  if (!Number.isFinite(windowMs) || windowMs <= 0) fail(`lora profile windowMs expected a positive number, got ${windowMs}`)
  const limited = ratio < 1
  if (limited && policy === 'window' && maxAirtime > ratio * windowMs) {
    fail(`lora profile: one ${mtu}-byte frame (${maxAirtime.toFixed(1)} ms on air) exceeds the duty-cycle budget of ${(ratio * windowMs).toFixed(1)} ms per ${windowMs} ms`)
  }
  const longestGap = !limited ? maxAirtime : policy === 'window' ? windowMs : maxAirtime / ratio
  return Object.freeze({
    name: 'lora' as const,
    mtu,
    writeIntervalMs: 0,
    airtimeMs,
    ...(limited ? { dutyCycle: Object.freeze({ ratio, policy, windowMs }) } : {}),
    reassemblyTimeoutMs: checkTimeout('lora profile', opts.reassemblyTimeoutMs, Math.ceil(longestGap) + LORA_REASSEMBLY_MARGIN_MS),
  })
}
