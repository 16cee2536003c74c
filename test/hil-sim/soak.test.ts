/**
 * The soak of issue 12 as a test: hil-sim/scenarios/month.yaml, 30 simulated
 * days of a sleepy LoRa SF12 monitor (43 200 readings, 10 % loss and
 * reordering, a broker restart every simulated day, a gateway restart, a
 * 3-hour blackout), as a user runs it: `hopseal sim run FILE --json` in a
 * child process with --expose-gc, so the heap figures are taken after a full
 * collection. On the warp clock the month takes about a minute of wall time
 * alone on 2 cores (docs/hil-sim.md); the child's timeout only turns a hang
 * into a failure. Every reading delivered once and in order, no plaintext at
 * the taps, renewals within the expected count, heap flat. Then the fleet
 * variant, 50 sensors for a week (about 40 s alone).
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { it } from 'node:test'
import { promisify } from 'node:util'
import type { SoakSummary } from '../../hil-sim/scenario/soak.ts'

it('month.yaml: 43 200 readings over 30 simulated days, every check of the scenario holds', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', 'bin/hopseal.js', 'sim', 'run', 'hil-sim/scenarios/month.yaml', '--json'], { timeout: 900_000, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }).catch((e: { stdout?: string; stderr?: string }) => {
    // exit 1 when a check fails: the summary on stdout says which
    if (e.stdout) return { stdout: e.stdout }
    throw e
  })
  const s = JSON.parse(stdout) as SoakSummary
  console.log(`# month soak: ${JSON.stringify({ readings: s.readings, soak: s.soak, radio: s.radio, faults: s.faults.length })}`)
  for (const c of s.checks) assert.ok(c.ok, `${c.name}: ${c.detail}`)
  assert.equal(s.readings.sent, 43_200)
  assert.equal(s.readings.received, 43_200)
  assert.equal(s.readings.duplicates, 0)
  assert.equal(s.readings.out_of_order, 0)
  assert.equal(s.taps.plaintext_matches, 0)
  assert.ok(s.taps.broker_messages > 43_200 && s.taps.gateway_frames > 43_200, 'the taps saw the traffic')
  assert.ok(s.soak.simulated_days >= 30, `${s.soak.simulated_days} simulated days`)
  // Renewal every 12 h (lora medium): at least 2 a day over 30 days, within the file's 55..120.
  assert.ok(s.soak.renewals >= 55 && s.soak.renewals <= 120, `${s.soak.renewals} renewals`)
  assert.ok(s.soak.heap_growth_ratio <= 1.1, `heap ${s.soak.heap_mb_by_day[0]} → ${s.soak.heap_mb_by_day.at(-1)} MB`)
  assert.ok(s.soak.heap_mb_by_day.length >= 30, 'a heap sample per simulated day')
  assert.equal(s.soak.outbox_dropped, 0)
  assert.ok(s.faults.filter((f) => f.startsWith('broker-restart')).length >= 30, s.faults.join('; '))
  assert.ok(s.faults.some((f) => f.startsWith('gateway-restart')) && s.faults.some((f) => f.startsWith('radio-blackout')), s.faults.join('; '))
  assert.ok(s.ok)
})

it('fleet-week.yaml: 50 sleepy sensors for 7 simulated days (50 400 readings), every check of the scenario holds', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', 'bin/hopseal.js', 'sim', 'run', 'hil-sim/scenarios/fleet-week.yaml', '--json'], { timeout: 900_000, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }).catch((e: { stdout?: string }) => {
    if (e.stdout) return { stdout: e.stdout }
    throw e
  })
  const s = JSON.parse(stdout) as SoakSummary
  console.log(`# fleet-week soak: ${JSON.stringify({ readings: s.readings, soak: s.soak, radio: s.radio, faults: s.faults.length })}`)
  for (const c of s.checks) assert.ok(c.ok, `${c.name}: ${c.detail}`)
  assert.equal(s.readings.sent, 50_400)
  assert.equal(s.readings.received, 50_400)
  assert.equal(s.readings.duplicates, 0)
  assert.equal(s.taps.plaintext_matches, 0)
  assert.ok(s.soak.heap_growth_ratio <= 1.1, `heap ${s.soak.heap_mb_by_day[0]} → ${s.soak.heap_mb_by_day.at(-1)} MB`)
  assert.ok(s.ok)
})
