/**
 * `hopseal demo`, `hopseal sim list` and `hopseal sim run` through main():
 * the commands hil-sim owns, run as a user would from the docs (docs/cli.md),
 * checking the summary each prints, not how the scenarios work inside
 * (test/hil-sim covers that).
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { main } from '../../targets/node/cli/main.ts'
import '../../targets/node/commands/register.ts'

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = []
  const err: string[] = []
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l), env: {}, ctx: { env: {}, home: '/nonexistent-hopseal-home' } })
  return { code, out: out.join('\n'), err: err.join('\n') }
}

interface Summary {
  scenario: string
  ok: boolean
  handshake: { mode: string }
  readings: { sent: number; received: number }
}

it('demo --json runs the heart-rate scenario end to end and every check passes', async () => {
  const r = await run(['demo', '--mode', 'xx', '--duration', '2s', '--json'])
  assert.equal(r.code, 0, r.err)
  const s = JSON.parse(r.out) as Summary
  assert.equal(s.scenario, 'heart-rate')
  assert.equal(s.ok, true)
  assert.equal(s.handshake.mode, 'xx')
  assert.ok(s.readings.sent > 0)
  assert.equal(s.readings.received, s.readings.sent)
})

it('sim list names the bundled scenarios; sim run FILE --json runs one', async () => {
  const l = await run(['sim', 'list'])
  assert.equal(l.code, 0, l.err)
  assert.match(l.out, /^heart-rate +heart-rate monitor/m)
  assert.match(l.out, /^flood +/m)
  const r = await run(['sim', 'run', 'hil-sim/scenarios/heart-rate.yaml', '--seed', 'docs', '--json'])
  assert.equal(r.code, 0, r.err)
  const s = JSON.parse(r.out) as Summary
  assert.equal(s.scenario, 'heart-rate')
  assert.equal(s.ok, true)
  // a bundled scenario by the name sim list prints
  const byName = await run(['sim', 'run', 'heart-rate', '--seed', 'docs', '--json'])
  assert.equal(byName.code, 0, byName.err)
  assert.equal((JSON.parse(byName.out) as Summary).scenario, 'heart-rate')
  const missing = await run(['sim', 'run', 'no/such/file.yaml'])
  assert.equal(missing.code, 1)
  assert.match(missing.err, /^error CONFIG_INVALID: no\/such\/file\.yaml: cannot read/m)
})
