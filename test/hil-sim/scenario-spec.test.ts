/**
 * Scenario files are user input: every mistake is CONFIG_INVALID naming the
 * file, the key path and a fix, never a crash; a valid file gets its defaults.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isHopsealError } from '../../src/errors.ts'
import { parseDuration, parseScenario } from '../../hil-sim/scenario/spec.ts'

const BASE = `
name: t
apps:
  - { name: phone }
devices:
  - { name: monitor, vault: atecc608-sim }
workload: { readings: 5 }
`

function rejects(text: string, pattern: RegExp): void {
  assert.throws(() => parseScenario(text, 'x.yaml'), (e: unknown) => {
    assert.ok(isHopsealError(e, 'CONFIG_INVALID'), String(e))
    assert.match(e.message, /x\.yaml/)
    assert.match(e.message, pattern)
    return true
  })
}

describe('scenario spec', () => {
  it('a minimal file gets the documented defaults', () => {
    const s = parseScenario(BASE, 'x.yaml')
    assert.equal(s.mode, 'kk')
    assert.equal(s.broker, 'embedded')
    assert.equal(s.seed, 't')
    assert.equal(s.clockScale, 1000)
    assert.deepEqual(s.devices[0]!.link, { medium: 'memory', profile: 'lora', sf: 7, dutyCycle: 0.01, loss: 0, reorder: 0, duplicate: 0, latencyMs: 0 })
    assert.equal(s.devices[0]!.app, 'phone')
    assert.deepEqual(s.workload, { readings: 5, intervalMs: 100, timeoutMs: 120_000 })
    assert.deepEqual(s.faults, [])
  })

  it('durations: ms, s, m, h, d; anything else is NaN', () => {
    assert.equal(parseDuration('250'), 250)
    assert.equal(parseDuration('1.5s'), 1500)
    assert.equal(parseDuration('2m'), 120_000)
    assert.equal(parseDuration('3h'), 10_800_000)
    assert.equal(parseDuration('30d'), 2_592_000_000)
    assert.ok(Number.isNaN(parseDuration('10 hours')))
  })

  it('time: simulated files take days, sleepy devices, repeating and gateway-restart faults, renewal and heap expectations', () => {
    const s = parseScenario(BASE.replace('vault: atecc608-sim }', 'vault: atecc608-sim, sleep: { awakeMs: 10s } }').replace('readings: 5', 'readings: 43200, intervalMs: 60s, timeoutMs: 32d') + 'time: simulated\nfaults:\n  - { kind: broker-restart, at: 6h, every: 1d }\n  - { kind: gateway-restart, at: 10d }\nexpect: { renewals: { min: 55, max: 100 }, heapGrowthMax: 1.1 }\n', 'x.yaml')
    assert.equal(s.time, 'simulated')
    assert.deepEqual(s.devices[0]!.sleep, { awakeMs: 10_000 })
    assert.deepEqual(s.workload, { readings: 43_200, intervalMs: 60_000, timeoutMs: 32 * 86_400_000 })
    assert.deepEqual(s.faults, [{ at: 6 * 3_600_000, every: 86_400_000, kind: 'broker-restart', downMs: 500 }, { at: 10 * 86_400_000, kind: 'gateway-restart' }])
    assert.deepEqual(s.expect.renewals, { min: 55, max: 100 })
    assert.equal(s.expect.heapGrowthMax, 1.1)
    assert.equal(parseScenario(BASE, 'x.yaml').time, 'wall')
    assert.equal(s.clockScale, 0, 'simulated: time stands still while work runs unless clockScale says otherwise')
    assert.equal(s.devices[0]!.channelMedium, undefined, 'channel medium follows the link profile unless set')
  })

  it('time: simulated devices may set their channel medium; any file may set loss 1 (a dead radio)', () => {
    const sim = BASE.replace('vault: atecc608-sim }', 'vault: atecc608-sim, channelMedium: ip, link: { loss: 1 } }') + 'time: simulated\nclockScale: 5000\n'
    const s = parseScenario(sim, 'x.yaml')
    assert.equal(s.devices[0]!.channelMedium, 'ip')
    assert.equal(s.devices[0]!.link.loss, 1)
    assert.equal(s.clockScale, 5000)
    assert.equal(parseScenario(BASE.replace('vault: atecc608-sim }', 'vault: atecc608-sim, link: { loss: 1 } }'), 'x.yaml').devices[0]!.link.loss, 1)
    assert.equal(s.workload.intervalMs, 60_000, 'a simulated file reads once a minute unless told (100 ms is below its 1 s minimum)')
  })

  const cases: [string, string, RegExp][] = [
    ['a wall-clock file with a repeating fault', BASE + 'faults:\n  - { at: 1s, kind: broker-restart, every: 1d }\n', /faults\[0\]\.every: unknown key/],
    ['a wall-clock file with a gateway restart (simulated only)', BASE + 'faults:\n  - { at: 1s, kind: gateway-restart }\n', /kind.*"gateway-restart" is not allowed/],
    ['a wall-clock file with a sleepy device', BASE.replace('vault: atecc608-sim }', 'vault: atecc608-sim, sleep: { awakeMs: 1s } }'), /devices\[0\]\.sleep: unknown key/],
    ['a wall-clock file longer than an hour', BASE.replace('readings: 5', 'readings: 5, timeoutMs: 2d'), /timeoutMs.*1000\.\.3600000/],
    ['bad time', BASE + 'time: virtual\n', /time.*"virtual" is not allowed.*wall, simulated/],
    ['YAML syntax', 'name: [unclosed', /x\.yaml:\d+:\d+: YAML syntax/],
    ['not a mapping', '- a\n- b', /expected a mapping at the top level/],
    ['unknown key with a suggestion', BASE + 'worklaod: {}\n', /worklaod.*unknown key.*did you mean "workload"/],
    ['missing name', BASE.replace('name: t', ''), /name/],
    ['bad mode', BASE + 'mode: nk\n', /mode.*"nk" is not allowed.*kk, xx/],
    ['loss out of range', BASE.replace('vault: atecc608-sim }', 'vault: atecc608-sim, link: { loss: 2 } }'), /link\.loss.*0\.\.1/],
    ['an unknown channel medium', BASE.replace('vault: atecc608-sim }', 'vault: atecc608-sim, channelMedium: wifi }') + 'time: simulated\n', /devices\[0\]\.channelMedium: "wifi" is not allowed.*ip, lora, ble/],
    ['a channel medium in a wall-clock file', BASE.replace('vault: atecc608-sim }', 'vault: atecc608-sim, channelMedium: lora }'), /devices\[0\]\.channelMedium: unknown key/],
    ['a negative clockScale in a simulated file', BASE + 'time: simulated\nclockScale: -1\n', /clockScale.*0\.\.1000000/],
    ['a repeat shorter than a minute', BASE + 'time: simulated\nfaults:\n  - { kind: broker-restart, at: 1h, every: 10s }\n', /faults\[0\]\.every.*60000/],
    ['a blackout longer than a week', BASE + 'time: simulated\nfaults:\n  - { kind: radio-blackout, device: monitor, at: 1h, durationMs: 8d }\n', /faults\[0\]\.durationMs/],
    ['renewals with an unknown key', BASE + 'time: simulated\nexpect: { renewals: { least: 3 } }\n', /expect\.renewals\.least: unknown key/],
    ['heap growth below 1', BASE + 'time: simulated\nexpect: { heapGrowthMax: 0.5 }\n', /expect\.heapGrowthMax.*1\.\.100/],
    ['renewal expectations in a wall-clock file', BASE + 'expect: { renewals: { min: 1 } }\n', /expect\.renewals: unknown key/],
    ['bad duration', BASE.replace('readings: 5', 'readings: 5, timeoutMs: soon'), /timeoutMs.*duration/],
    ['unknown app', BASE.replace('vault: atecc608-sim }', 'vault: atecc608-sim, app: tablet }'), /no app named "tablet".*phone/],
    ['invalid node name', BASE.replace('name: monitor', 'name: "9 lives"'), /not a valid node name/],
    ['no devices', BASE.replace(/devices:\n.*\n/, 'devices: []\n'), /no devices/],
    ['fault on an unknown device', BASE + 'faults:\n  - { at: 1s, kind: radio-blackout, device: ghost, durationMs: 100 }\n', /no device named "ghost"/],
    ['unknown fault kind', BASE + 'faults:\n  - { at: 1s, kind: meteor }\n', /kind.*"meteor" is not allowed/],
    ['secure-element stall without a secure element', BASE.replace('vault: atecc608-sim', 'vault: software') + 'faults:\n  - { at: 1s, kind: secure-element-stall, device: monitor }\n', /has no secure element.*atecc608-sim/],
    ['duplicate keys', BASE + 'mode: kk\nmode: xx\n', /YAML syntax/],
  ]
  for (const [what, text, pattern] of cases) it(`rejects: ${what}`, () => rejects(text, pattern))
})
