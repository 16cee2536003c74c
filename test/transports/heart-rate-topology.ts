/**
 * The heart-rate topology of issue 5 as an integration test: device ↔ `lora`
 * profile over a radio link (a real socat PTY pair, or memory) ↔ gateway ↔
 * MQTT broker (real Mosquitto, or embedded aedes) ↔ phone app; a secure
 * channel (KK or XX), then 1 000 readings with 20 % loss and reordering on
 * the radio, reliable mode: every reading arrives exactly once and in order,
 * and the taps on the broker (`#`) and on the gateway's serial line record
 * only ciphertext. Built on the scenario runner (hil-sim/scenario), so the
 * test and `hopseal sim run` exercise the same code.
 */
import assert from 'node:assert/strict'
import { parseScenario } from '../../hil-sim/scenario/spec.ts'
import { runScenario, type RunOptions, type Summary } from '../../hil-sim/scenario/run.ts'

export interface TopologyCase {
  mode: 'kk' | 'xx'
  medium: 'memory' | 'pty'
  deviceVault: 'software' | 'atecc608-sim'
  readings?: number
  loss?: number
  faults?: string
}

export function topologySpec(c: TopologyCase) {
  return parseScenario(
    `
name: heart-rate-${c.mode}-${c.medium}
seed: topology-${c.mode}-${c.medium}
mode: ${c.mode}
clockScale: 20000
apps:
  - { name: phone, vault: software }
devices:
  - name: monitor
    vault: ${c.deviceVault}
    app: phone
    link: { medium: ${c.medium}, profile: lora, sf: 7, dutyCycle: 0.01, loss: ${c.loss ?? 0.2}, reorder: 0.1 }
workload: { readings: ${c.readings ?? 1000}, intervalMs: 0, timeoutMs: 120s }
${c.faults ?? ''}
`,
    `<test ${c.mode}/${c.medium}>`,
  )
}

export async function runTopology(c: TopologyCase, broker?: RunOptions['broker']): Promise<Summary> {
  const s = await runScenario(topologySpec(c), broker ? { broker } : {})
  const n = c.readings ?? 1000
  console.log(`# ${c.mode}/${c.medium}: ${JSON.stringify({ readings: s.readings, handshake: s.handshake, taps: s.taps, radio: s.radio, faults: s.faults, ms: s.durationMs })}`)
  assert.equal(s.readings.sent, n, 'every reading accepted')
  assert.equal(s.readings.received, n, 'every reading delivered')
  assert.equal(s.readings.duplicates, 0)
  assert.equal(s.readings.out_of_order, 0)
  assert.equal(s.readings.failed, 0)
  assert.equal(s.handshake.mode, c.mode)
  assert.ok(s.radio.lost > 0 && s.radio.reordered > 0, 'the radio really lost and reordered frames')
  assert.ok(s.taps.broker_messages >= n && s.taps.gateway_frames >= n, 'the taps recorded the traffic')
  assert.equal(s.taps.plaintext_matches, 0, 'no reading in plaintext at the broker or the gateway')
  for (const ch of s.checks) assert.ok(ch.ok, `${ch.name}: ${ch.detail}`)
  return s
}
