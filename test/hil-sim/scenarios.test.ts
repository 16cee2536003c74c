/**
 * Every scenario file in hil-sim/scenarios runs as a user runs it,
 * `hopseal sim run FILE --json` in a child process, and must pass its own
 * checks with every reading delivered once and no plaintext at the taps;
 * `npm start`'s command (`hopseal demo`) likewise, with `--json`.
 * Files that need Mosquitto or socat need them here (no skip in CI).
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, it } from 'node:test'
import { promisify } from 'node:util'
import { needMosquitto } from '../helpers/mosquitto.ts'
import { needSystem } from '../helpers/system.ts'

const ROOT = resolve(import.meta.dirname, '../..')
const BIN = join(ROOT, 'bin/hopseal.js')
const DIR = join(ROOT, 'hil-sim/scenarios')
const run = promisify(execFile)

interface Summary {
  scenario: string
  ok: boolean
  vaults: Record<string, string>
  handshake: { mode: string; failures: number }
  readings: { sent: number; received: number; duplicates: number; out_of_order: number; failed: number }
  taps: { broker_messages: number; gateway_frames: number; plaintext_matches: number }
  faults: string[]
  checks: { name: string; ok: boolean; detail: string }[]
}

async function hopseal(args: string[]): Promise<{ summary: Summary; stderr: string }> {
  const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, FORCE_COLOR: '0' }, maxBuffer: 16 << 20, timeout: 180_000 })
  assert.ok(!stdout.includes('\u001b['), 'no colour codes when stdout is not a TTY')
  return { summary: JSON.parse(stdout) as Summary, stderr }
}

function assertDelivered(s: Summary): void {
  for (const c of s.checks) assert.ok(c.ok, `${c.name}: ${c.detail}`)
  assert.equal(s.ok, true)
  assert.ok(s.readings.sent > 0)
  assert.equal(s.readings.received, s.readings.sent, 'readings received = sent')
  assert.equal(s.readings.duplicates + s.readings.out_of_order + s.readings.failed, 0)
  assert.equal(s.taps.plaintext_matches, 0, 'no reading in plaintext at the broker or gateway taps')
  assert.ok(s.taps.broker_messages >= s.readings.sent && s.taps.gateway_frames >= s.readings.sent, 'the taps saw the traffic')
}

// Soaks (time: simulated) run in test/hil-sim/soak.test.ts (month.yaml) and npm run bench (month.yaml; week.yaml with --quick).
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml') && !/^time: simulated$/m.test(readFileSync(join(DIR, f), 'utf8'))).sort()
console.log(`# ${files.length} wall-clock scenario files: ${files.join(', ')}`)

describe('hopseal sim run, every file in hil-sim/scenarios', { concurrency: 3 }, () => {
  it('finds the scenario files, including a broker restart and a secure element fault', () => {
    assert.ok(files.length >= 4, files.join())
    const kinds = files.map((f) => readFileSync(join(DIR, f), 'utf8'))
    assert.ok(kinds.some((t) => /kind: broker-restart/.test(t)))
    assert.ok(kinds.some((t) => /kind: secure-element-stall/.test(t)))
  })

  for (const f of files) {
    const text = readFileSync(join(DIR, f), 'utf8')
    const skip = (/broker: mosquitto/.test(text) && needMosquitto()) || (/medium: pty/.test(text) && needSystem('socat')) || false
    it(f, { skip }, async () => {
      const { summary: s } = await hopseal(['sim', 'run', join('hil-sim/scenarios', f), '--json'])
      assertDelivered(s)
      const faults = [...text.matchAll(/kind: ([a-z-]+)/g)].map((m) => m[1]!)
      assert.equal(s.faults.length, faults.reduce((n, k) => n + (k === 'secure-element-stall' ? 1 : 1), 0), `every fault ran: ${s.faults.join('; ')}`)
      if (faults.includes('secure-element-stall')) assert.ok(s.handshake.failures > 0, 'the stalled secure element failed a handshake attempt first')
    })
  }
})

describe('npm start (hopseal demo)', () => {
  it('package.json start runs the demo', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    assert.equal(pkg.scripts.start, 'node bin/hopseal.js demo')
  })

  it('demo --json: the heart-rate scenario, KK, readings sent = received, plaintext matches 0', async () => {
    const { summary: s } = await hopseal(['demo', '--json'])
    assert.equal(s.scenario, 'heart-rate')
    assert.equal(s.handshake.mode, 'kk')
    assert.equal(s.vaults.monitor, 'atecc608-sim')
    assert.ok(['softhsm', 'software'].includes(s.vaults.phone!))
    assertDelivered(s)
  })

  it('demo --scenario flood --mode xx --loss 0.1 --duration 2s --json', async () => {
    const { summary: s } = await hopseal(['demo', '--scenario', 'flood', '--mode', 'xx', '--loss', '0.1', '--duration', '2s', '--json'])
    assert.equal(s.scenario, 'flood')
    assert.equal(s.handshake.mode, 'xx')
    assertDelivered(s)
  })
})
