/** A scenario device's radio: its link profile, its link model, and the totals the summaries report. */
import { loraProfile, bleUartProfile, rawProfile, type LinkProfile } from '../../targets/node/transports/serial/index.ts'
import type { ModelLink } from '../links/model.ts'
import { loraLinkModel, bleUartLinkModel, ideal } from '../links/presets.ts'
import type { DeviceSpec } from './spec.ts'

export function profileFor(d: DeviceSpec): LinkProfile {
  if (d.link.profile === 'lora') return loraProfile({ sf: d.link.sf, dutyCycle: d.link.dutyCycle })
  if (d.link.profile === 'ble-uart') return bleUartProfile()
  return rawProfile()
}

export function modelFor(d: DeviceSpec, loss = d.link.loss) {
  const common = { loss, reorder: d.link.reorder, duplicate: d.link.duplicate, latencyMs: d.link.latencyMs }
  if (d.link.profile === 'lora') return loraLinkModel({ sf: d.link.sf, ...common, dutyCycle: { ratio: d.link.dutyCycle, windowMs: 3_600_000 } })
  if (d.link.profile === 'ble-uart') return bleUartLinkModel(common)
  return { ...ideal(), ...common }
}

/** Frames, bytes, airtime and what the models did to them, over every link both ways. */
export function radioTotals(links: Iterable<ModelLink>) {
  const radio = { frames: 0, bytes: 0, airtime_ms: 0, lost: 0, duplicated: 0, reordered: 0, duty_violations: 0 }
  for (const m of links) {
    const s = m.stats
    radio.frames += s.sent
    radio.bytes += s.bytes
    radio.airtime_ms += s.airtimeMs
    radio.lost += s.lost
    radio.duplicated += s.duplicated
    radio.reordered += s.reordered
    radio.duty_violations += s.dutyViolations
  }
  return radio
}
