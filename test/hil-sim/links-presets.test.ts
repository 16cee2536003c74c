import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { isHopsealError } from '../../src/errors.ts'
import { loraAirtimeMs } from '../../targets/node/transports/serial/airtime.ts'
import { bleUartLinkModel, ideal, loraLinkModel } from '../../hil-sim/links/presets.ts'
import { rig, run } from './links-rig.ts'

describe('hil-sim links: presets', () => {
  it('LoRa mtu per SF: SF12/11/10 → 51, SF9 → 115, SF8/7 → 222; over it rejects FRAME_TOO_LARGE', async () => {
    assert.deepEqual(
      [12, 11, 10, 9, 8, 7].map((sf) => loraLinkModel({ sf }).mtu),
      [51, 51, 51, 115, 222, 222],
    )
    const r = rig(loraLinkModel({ sf: 12 }), 'lora-mtu')
    await r.send(51)
    await assert.rejects(r.send(52), (e) => isHopsealError(e, 'FRAME_TOO_LARGE'))
    assert.throws(() => loraLinkModel({ sf: 6 }), (e) => isHopsealError(e, 'INVALID_ARGUMENT'))
    assert.throws(() => loraLinkModel({ sf: 7, mtu: 300 }), (e) => isHopsealError(e, 'INVALID_ARGUMENT'))
  })

  it('a LoRa SF7 frame of 13 B arrives after its 46.336 ms airtime, a second one queues behind it', async () => {
    const air = loraAirtimeMs(13, { sf: 7 })
    assert.equal(air, 46.336)
    const r = rig(loraLinkModel({ sf: 7 }), 'lora-air')
    await r.send(13)
    await r.send(13)
    r.clock.advance(46)
    assert.equal(r.arrivals.length, 0)
    r.clock.advance(2 * air - 46)
    assert.deepEqual(
      r.arrivals.map((a) => a.at),
      [air, 2 * air],
    )
    await r.settle()
    assert.equal(r.radio.stats.airtimeMs, 2 * air)
  })

  it('SF12 airtime comes from the Semtech formula (51 B ≈ 2.5 s)', async () => {
    const r = rig(loraLinkModel({ sf: 12 }), 'sf12')
    await r.send(51)
    r.clock.advance(10_000)
    assert.equal(r.arrivals[0]!.at, loraAirtimeMs(51, { sf: 12 }))
    assert.ok(r.arrivals[0]!.at > 2000 && r.arrivals[0]!.at < 3000)
  })

  it('duty cycle is measured, not enforced: frames over 1 % of the window count as violations', async () => {
    const air = loraAirtimeMs(13, { sf: 7 }) // 46.336 ms; 1 % of 10 s = 100 ms
    const r = rig(loraLinkModel({ sf: 7, dutyCycle: { ratio: 0.01, windowMs: 10_000 } }), 'duty')
    await run(r, 4, 1000, 0, 13) // 46, 93 (ok), 139, 185 ms in the window: 2 violations
    assert.equal(r.radio.stats.dutyViolations, 2)
    r.clock.advance(10_000)
    await run(r, 2, 1000, 1000, 13) // a fresh window: 2 frames fit
    assert.equal(r.radio.stats.dutyViolations, 2)
    await r.send(13)
    r.clock.advance(1000)
    await r.settle()
    assert.equal(r.radio.stats.dutyViolations, 3)
    assert.equal(r.arrivals.length, 7, 'violating frames are still delivered')
    assert.ok(Math.abs(r.radio.stats.airtimeMs - 7 * air) < 1e-9)
    // The EU868 1 %/hour default, and off on request.
    assert.deepEqual(loraLinkModel({ sf: 9 }).dutyCycle, { ratio: 0.01, windowMs: 3_600_000 })
    assert.equal(loraLinkModel({ sf: 9, dutyCycle: false }).dutyCycle, undefined)
  })

  it('time-off spacing (airtime/ratio) keeps the time-off rule, yet exceeds an hour window by one frame', async () => {
    const air = loraAirtimeMs(51, { sf: 10 }) // 370.688 ms: 97.1 frames' spacing per hour
    const timeOff = rig(loraLinkModel({ sf: 10, dutyCycle: { ratio: 0.01, windowMs: 3_600_000, policy: 'time-off' } }), 'time-off')
    await run(timeOff, 200, air / 0.01, 0, 51)
    assert.equal(timeOff.radio.stats.dutyViolations, 0)
    await timeOff.send(51) // run() waited a full spacing after the last frame: allowed
    await timeOff.send(51) // back to back: inside the previous frame's time-off
    assert.equal(timeOff.radio.stats.dutyViolations, 1, 'a frame sent before the time-off ends')
    const window = rig(loraLinkModel({ sf: 10 }), 'time-off')
    await run(window, 200, air / 0.01, 0, 51)
    assert.ok(window.radio.stats.dutyViolations > 50, `window rule: ${window.radio.stats.dutyViolations} frames over 1 % of an hour`)
  })

  it('window rule: a burst of the whole budget then silence for the window is within the rule', async () => {
    const air = loraAirtimeMs(51, { sf: 10 })
    const budget = Math.floor(36_000 / air) // frames per hour at 1 %
    const r = rig(loraLinkModel({ sf: 10 }), 'burst-window')
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < budget; i++) await r.send(51) // they queue on the air: the last starts at (budget−1)·air
      r.clock.advance(3_600_000 + budget * air)
    }
    assert.equal(r.radio.stats.dutyViolations, 0)
    await run(r, budget + 1, 0, 0, 51)
    assert.equal(r.radio.stats.dutyViolations, 1, 'one frame over the budget')
    assert.throws(() => loraLinkModel({ sf: 7, dutyCycle: { ratio: 0.01, windowMs: 1, policy: 'x' as 'window' } }), (e) => isHopsealError(e, 'INVALID_ARGUMENT'))
  })

  it('LoRa reorder: a held-back frame arrives 3 max-size airtimes late and is overtaken', async () => {
    const r = rig(loraLinkModel({ sf: 7, reorder: 0.3, dutyCycle: false }), 'lora-reorder')
    await run(r, 200, 0, 60_000, 20)
    const got = r.arrivals.map((a) => a.index)
    assert.deepEqual([...got].sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => i))
    assert.ok(got.some((v, k) => k > 0 && v < got[k - 1]!), 'some frame arrived after a later one')
  })

  it('BLE UART: 20-byte frames, 7.5–15 ms per frame, 4 frames per connection interval', async () => {
    const m = bleUartLinkModel()
    assert.equal(m.mtu, 20)
    assert.equal(m.latencyMs, 7.5)
    assert.equal(m.jitterMs, 7.5)
    assert.equal(m.bandwidthBps, (4 * 20 * 8 * 1000) / 7.5)
    const r = rig(m, 'ble')
    await run(r, 100, 20, 100, 20)
    const delays = r.arrivals.map((a) => a.at - r.sentAt[a.index]!)
    assert.equal(delays.length, 100)
    const tx = 7.5 / 4
    assert.ok(delays.every((d) => d >= 7.5 + tx - 1e-9 && d <= 15 + tx + 1e-9), `${Math.min(...delays)}..${Math.max(...delays)}`)
    await assert.rejects(r.send(21), (e) => isHopsealError(e, 'FRAME_TOO_LARGE'))
    assert.throws(() => bleUartLinkModel({ connectionIntervalMs: 0 }), (e) => isHopsealError(e, 'INVALID_ARGUMENT'))
  })

  it('ideal() delivers everything in order on the next clock tick', async () => {
    const r = rig(ideal(), 'ideal')
    await run(r, 100, 0, 0)
    assert.deepEqual(
      r.arrivals.map((a) => a.index),
      Array.from({ length: 100 }, (_, i) => i),
    )
    assert.ok(r.arrivals.every((a) => a.at === 0))
  })
})
