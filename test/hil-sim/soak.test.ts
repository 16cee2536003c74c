/**
 * The soak of issue 12 as a test: hil-sim/scenarios/week.yaml (the month
 * scenario cut to 7 simulated days, ~40 s on 2 cores; month.yaml itself takes
 * about four times that and runs in `npm run bench`), as a user runs it:
 * `hopseal sim run FILE --json` in a child process with --expose-gc, so the
 * heap figures are taken after a full collection. A sleepy LoRa SF12 monitor
 * with 10 % loss, a broker restart every simulated day, a gateway restart, a
 * 3-hour blackout: every reading delivered once and in order, no plaintext at
 * the taps, renewals within the expected count, heap flat.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { it } from 'node:test'
import { promisify } from 'node:util'
import type { SoakSummary } from '../../hil-sim/scenario/soak.ts'

it('week.yaml: 10 080 readings over 7 simulated days, every check of the scenario holds', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', 'bin/hopseal.js', 'sim', 'run', 'hil-sim/scenarios/week.yaml', '--json'], { timeout: 300_000, maxBuffer: 16 * 1024 * 1024 }).catch((e: { stdout?: string; stderr?: string }) => {
    // exit 1 when a check fails: the summary on stdout says which
    if (e.stdout) return { stdout: e.stdout }
    throw e
  })
  const s = JSON.parse(stdout) as SoakSummary
  console.log(`# week soak: ${JSON.stringify({ readings: s.readings, soak: s.soak, radio: s.radio, faults: s.faults.length })}`)
  for (const c of s.checks) assert.ok(c.ok, `${c.name}: ${c.detail}`)
  assert.equal(s.readings.sent, 10_080)
  assert.equal(s.readings.received, 10_080)
  assert.equal(s.readings.duplicates, 0)
  assert.equal(s.taps.plaintext_matches, 0)
  assert.ok(s.taps.broker_messages > 10_080 && s.taps.gateway_frames > 10_080, 'the taps saw the traffic')
  assert.ok(s.soak.simulated_days >= 7, `${s.soak.simulated_days} simulated days`)
  assert.ok(s.soak.renewals >= 12, `${s.soak.renewals} renewals`)
  assert.ok(s.faults.some((f) => f.startsWith('gateway-restart')) && s.faults.some((f) => f.startsWith('radio-blackout')), s.faults.join('; '))
  assert.ok(s.ok)
})
