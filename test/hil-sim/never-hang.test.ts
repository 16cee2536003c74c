/**
 * A scenario that cannot meet its expectations ends with a summary naming
 * the failed checks and exit code 1, never a hang (issue 12 item 6): a dead
 * radio (loss 1) before the first handshake, and a radio that dies after it
 * with readings in flight, in wall-clock and in simulated time. Each run is
 * `hopseal sim run FILE --json` in a child process; the child's timeout is
 * only the guard that turns a hang into a failure (the runs end at their
 * own deadlines, a few seconds of wall time, long before it).
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, describe, it } from 'node:test'

const ROOT = resolve(import.meta.dirname, '../..')
const BIN = join(ROOT, 'bin/hopseal.js')
/** A run that has not ended by then hangs (its own deadline is 4 s of wall time, or a few seconds for a simulated day). */
const HANG_GUARD_MS = 120_000
const dir = mkdtempSync(join(tmpdir(), 'hopseal-never-hang-'))
after(() => rmSync(dir, { recursive: true, force: true }))

interface Summary {
  ok: boolean
  readings: { sent: number; received: number }
  checks: { name: string; ok: boolean; detail: string }[]
}

function runFile(name: string, text: string): Promise<{ code: number | null; summary: Summary; killed: boolean }> {
  const file = join(dir, `${name}.yaml`)
  writeFileSync(file, text)
  return new Promise((done) => {
    execFile(process.execPath, [BIN, 'sim', 'run', file, '--json'], { cwd: ROOT, timeout: HANG_GUARD_MS, killSignal: 'SIGKILL', maxBuffer: 16 << 20 }, (e, stdout) => {
      const err = e as (Error & { code?: number; killed?: boolean }) | null
      assert.ok(!err?.killed, `${name}: no summary within ${HANG_GUARD_MS / 1000} s: the run hangs`)
      done({ code: err ? (err.code ?? null) : 0, summary: JSON.parse(stdout) as Summary, killed: false })
    })
  })
}

function failed(s: Summary): string[] {
  return s.checks.filter((c) => !c.ok).map((c) => c.name)
}

const WALL = (link: string, faults: string) => `
name: dead-wall
seed: dead-wall-1
apps:
  - { name: phone }
devices:
  - { name: monitor, link: { medium: memory, profile: lora, sf: 7, dutyCycle: 0.01${link} } }
workload: { readings: 30, intervalMs: 100, timeoutMs: 4s }
${faults}`

const SIM = (link: string, faults: string) => `
name: dead-sim
seed: dead-sim-1
time: simulated
apps:
  - { name: phone }
devices:
  - { name: monitor, sleep: { awakeMs: 10s }, link: { profile: lora, sf: 12, dutyCycle: 0.1${link} } }
workload: { readings: 300, intervalMs: 60s, timeoutMs: 1d }
expect: { renewals: { min: 1 } }
${faults}`

describe('a run that cannot meet its expectations ends, with exit 1 and the failed checks named', { concurrency: 2 }, () => {
  it('wall clock, loss 1: no channel by the deadline', async () => {
    const r = await runFile('wall-dead', WALL(', loss: 1', ''))
    assert.equal(r.code, 1)
    assert.equal(r.summary.ok, false)
    assert.deepEqual(failed(r.summary), ['every device opened its channel', 'delivered = sent, exactly once, in order', 'no plaintext at the broker and gateway taps'])
    assert.match(r.summary.checks[0]!.detail, /no channel by the deadline: monitor/)
  })

  it('wall clock, the radio dies after the handshake with readings in flight', async () => {
    const r = await runFile('wall-dies', WALL('', 'faults:\n  - { at: 1s, kind: radio-blackout, device: monitor, durationMs: 600s }\n'))
    assert.equal(r.code, 1)
    const names = failed(r.summary)
    assert.ok(names.includes('delivered = sent, exactly once, in order'), names.join('; '))
    assert.ok(!names.includes('every device opened its channel'))
    assert.ok(r.summary.readings.received < r.summary.readings.sent)
  })

  it('simulated time, loss 1: a simulated day of failed handshakes, then the summary', async () => {
    const r = await runFile('sim-dead', SIM(', loss: 1', 'faults:\n  - { kind: broker-restart, at: 6h, every: 12h }\n'))
    assert.equal(r.code, 1)
    assert.deepEqual(failed(r.summary), ['every device has an open channel', 'delivered = sent, exactly once, in order', 'no plaintext at the broker and gateway taps', 'renewals within the expected count'])
    assert.equal(r.summary.readings.received, 0)
  })

  it('simulated time, the radio dies for a week two hours in: readings wait in the outbox until the deadline', async () => {
    const r = await runFile('sim-dies', SIM(', loss: 0.1', 'faults:\n  - { kind: radio-blackout, device: monitor, at: 2h, durationMs: 7d }\n'))
    assert.equal(r.code, 1)
    const names = failed(r.summary)
    assert.ok(names.includes('delivered = sent, exactly once, in order'), names.join('; '))
    assert.ok(names.includes('every fault ran'), 'the blackout was still on at the deadline')
    assert.ok(r.summary.readings.received > 0 && r.summary.readings.received < r.summary.readings.sent)
  })
})
