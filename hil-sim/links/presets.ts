/**
 * Link model presets: option sets for the media hopseal targets. PTYs ignore
 * the baud rate (platform-notes trap 4), so this is where LoRa and BLE timing
 * comes from in a simulation.
 */
import { ErrorCode, HopsealError } from '../../src/errors.ts'
import { loraAirtimeMs, type LoraParams } from '../../targets/node/transports/serial/airtime.ts'
import { BLE_DEFAULT_MTU, EU868_MTU_BY_SF, LORA_DEFAULT_DUTY_CYCLE, LORA_DEFAULT_DUTY_WINDOW_MS } from '../../targets/node/transports/serial/constants.ts'
import { BLE_CONNECTION_INTERVAL_MS, BLE_PACKETS_PER_EVENT, LORA_REORDER_AIRTIMES } from './constants.ts'
import { checkLinkModelOptions, type LinkModelOptions } from './options.ts'

/** LoRa modulation plus any model option; `dutyCycle: false` stops measuring it. */
export type LoraLinkModelOptions = LoraParams & Omit<LinkModelOptions, 'airtimeMs' | 'bandwidthBps' | 'dutyCycle'> & { dutyCycle?: LinkModelOptions['dutyCycle'] | false }

/**
 * A LoRa radio: each frame arrives after its time on air (Semtech formula) and
 * frames queue behind each other; the MTU is the EU868 maximum payload for the
 * SF (SF12–10: 51, SF9: 115, SF8–7: 222); the 1 %/hour EU868 duty cycle is
 * measured (`stats.dutyViolations`); a held-back frame (`reorder`) arrives
 * three max-size airtimes late so later frames can overtake it.
 *
 * @throws HopsealError INVALID_ARGUMENT for bad LoRa parameters or model options
 * @example modelLink(a, loraLinkModel({ sf: 12, loss: 0.1 }), { seed: 1, clock })
 */
export function loraLinkModel(opts: LoraLinkModelOptions): LinkModelOptions {
  const { sf, bwHz, cr, preamble, explicitHeader, crc, lowDataRateOptimize, dutyCycle, ...model } = opts
  const radio: LoraParams = { sf, bwHz, cr, preamble, explicitHeader, crc, lowDataRateOptimize }
  loraAirtimeMs(0, radio) // checks the parameters now, not at the first send
  const mtu = model.mtu ?? (EU868_MTU_BY_SF[sf] as number)
  if (!Number.isInteger(mtu) || mtu < 1 || mtu > 255) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `LoRa link model: mtu expected 1..255 bytes (one LoRa payload), got ${String(model.mtu)}`)
  const out: LinkModelOptions = {
    reorderDelayMs: LORA_REORDER_AIRTIMES * loraAirtimeMs(mtu, radio),
    ...model,
    mtu,
    airtimeMs: (n) => loraAirtimeMs(n, radio),
  }
  if (dutyCycle !== false) out.dutyCycle = dutyCycle ?? { ratio: LORA_DEFAULT_DUTY_CYCLE, windowMs: LORA_DEFAULT_DUTY_WINDOW_MS }
  checkLinkModelOptions(out)
  return out
}

/** BLE UART connection parameters plus any model option. */
export type BleUartLinkModelOptions = Omit<LinkModelOptions, 'airtimeMs'> & {
  /** Connection interval (ms); default 7.5. */
  connectionIntervalMs?: number
  /** Packets the link carries per connection event; default 4. */
  packetsPerEvent?: number
}

/**
 * A BLE UART (Nordic UART Service style) link: 20-byte frames; a write waits
 * for the next connection event (jitter 0..interval) and is handed on at the
 * peer's following event (latency one interval), so ≈ 7.5–15 ms per frame;
 * bandwidth `packetsPerEvent` frames of `mtu` bytes per interval. The BLE link
 * layer acknowledges and retransmits, so loss and reordering default to 0.
 *
 * @throws HopsealError INVALID_ARGUMENT for a bad interval, packet count or model option
 */
export function bleUartLinkModel(opts: BleUartLinkModelOptions = {}): LinkModelOptions {
  const { connectionIntervalMs = BLE_CONNECTION_INTERVAL_MS, packetsPerEvent = BLE_PACKETS_PER_EVENT, ...model } = opts
  if (!(Number.isFinite(connectionIntervalMs) && connectionIntervalMs > 0)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `BLE link model: connectionIntervalMs expected a positive number, got ${connectionIntervalMs}`)
  if (!(Number.isSafeInteger(packetsPerEvent) && packetsPerEvent >= 1)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `BLE link model: packetsPerEvent expected an integer ≥ 1, got ${packetsPerEvent}`)
  const mtu = model.mtu ?? BLE_DEFAULT_MTU
  const out: LinkModelOptions = {
    latencyMs: connectionIntervalMs,
    jitterMs: connectionIntervalMs,
    bandwidthBps: (packetsPerEvent * mtu * 8 * 1000) / connectionIntervalMs,
    ...model,
    mtu,
  }
  checkLinkModelOptions(out)
  return out
}

/** No loss, no delay beyond one clock tick: the control run of a scenario. */
export function ideal(): LinkModelOptions {
  return {}
}
