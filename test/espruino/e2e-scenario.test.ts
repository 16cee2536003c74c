/**
 * Scenario files with `devices[].runtime: espruino` (hil-sim/scenario): the
 * spec refuses what the device cannot do (a PKCS#11 vault, the raw profile,
 * XX first contact), and a wall-clock scenario runs its monitor in the
 * Espruino interpreter (key in the simulated ATECC608 on a PTY, radio on a
 * PTY relayed onto the seeded link model) through the gateway and MQTT to
 * the phone, as `hopseal demo --device espruino` does, with every check of
 * the summary holding.
 *
 * The run skips with a printed reason without the interpreter or socat; it
 * fails then when HOPSEAL_REQUIRE_SYSTEM=1 (or CI).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isHopsealError } from '../../src/errors.ts'
import { parseScenario } from '../../hil-sim/scenario/spec.ts'
import { runScenario } from '../../hil-sim/scenario/run.ts'
import { needSystem } from '../helpers/system.ts'
import { skipUnlessEspruino } from './harness.ts'

const FILE = `
name: espruino-monitor
seed: espruino-1
mode: kk
apps:
  - { name: phone, vault: software }
devices:
  - { name: monitor, vault: atecc608-sim, runtime: espruino, link: { profile: lora, sf: 7, dutyCycle: 1, loss: 0.1 } }
workload: { readings: 20, intervalMs: 100, timeoutMs: 90s }
`

function rejects(text: string, pattern: RegExp): void {
  assert.throws(() => parseScenario(text, 'x.yaml'), (e: unknown) => {
    assert.ok(isHopsealError(e, 'CONFIG_INVALID'), String(e))
    assert.match(e.message, pattern)
    return true
  })
}

const skipReason = (): false | string => skipUnlessEspruino() || needSystem('socat')

describe('scenario runtime: espruino', () => {
  it('the spec takes runtime: espruino and refuses what an Espruino device cannot do', () => {
    const s = parseScenario(FILE, 'x.yaml')
    assert.equal(s.devices[0]!.runtime, 'espruino')
    assert.equal(parseScenario(FILE.replace(', runtime: espruino', ''), 'x.yaml').devices[0]!.runtime, undefined)
    rejects(FILE.replace('runtime: espruino', 'runtime: micropython'), /runtime/)
    rejects(FILE.replace('vault: atecc608-sim, runtime', 'vault: softhsm, runtime'), /PKCS#11/)
    rejects(FILE.replace('profile: lora', 'profile: raw'), /lora or ble-uart/)
    rejects(FILE.replace('mode: kk', 'mode: xx'), /known-peer/)
    rejects(FILE.replace('runtime: espruino', 'runtime: espruino, count: 5'), /count/)
  })

  it('runs the monitor in the interpreter: every reading once, in order, no plaintext at the taps', { skip: skipReason(), timeout: 180_000 }, async () => {
    const s = await runScenario(parseScenario(FILE, 'x.yaml'))
    const failed = s.checks.filter((c) => !c.ok)
    assert.deepEqual(failed, [], JSON.stringify(s.checks))
    assert.equal(s.readings.received, 20)
    assert.equal(s.handshake.attempts, 1)
    assert.ok(s.radio.lost > 0, 'the link model lost frames')
    console.log(`# espruino scenario: handshake ${s.handshake.ms} ms, ${s.readings.received} readings in ${s.durationMs} ms, ${s.radio.lost} frames lost`)
  })
})
