import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { isHopsealError } from '../../src/errors.ts'
import { ManualClock } from '../../src/time/clock.ts'
import { memoryLinkPair } from '../../hil-sim/links/memory-link.ts'
import { modelLink, type LinkModelOptions } from '../../hil-sim/links/model.ts'
import { frame, rig, run } from './links-rig.ts'

const indices = (r: { arrivals: { index: number }[] }): number[] => r.arrivals.map((a) => a.index)
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

describe('hil-sim links: model link on a manual clock', () => {
  it('loses 20 % ± 2 % of 10 000 frames; every other frame arrives exactly once, in order', async () => {
    const r = rig({ loss: 0.2 }, 'loss')
    await run(r, 10_000, 1, 10)
    const s = r.radio.stats
    assert.equal(s.sent, 10_000)
    assert.ok(s.lost >= 1800 && s.lost <= 2200, `lost ${s.lost}`)
    assert.equal(r.arrivals.length, 10_000 - s.lost)
    assert.equal(s.delivered, r.arrivals.length)
    const got = indices(r)
    assert.deepEqual(got, [...got].sort((a, b) => a - b), 'no reordering without reorder')
    assert.equal(new Set(got).size, got.length, 'no duplicates without duplicate')
    assert.equal(s.bytes, 10_000 * 16, 'lost frames went on the air too')
  })

  it('Gilbert–Elliott burst loss loses in runs (mean run ≈ 1/exit) at the stationary rate enter/(enter+exit)', async () => {
    const r = rig({ burstLoss: { enter: 0.02, exit: 0.2 } }, 'burst')
    await run(r, 10_000, 1, 10)
    const got = new Set(indices(r))
    const runs: number[] = []
    let cur = 0
    for (let i = 0; i < 10_000; i++) {
      if (!got.has(i)) cur++
      else if (cur > 0) {
        runs.push(cur)
        cur = 0
      }
    }
    const lostFrac = r.radio.stats.lost / 10_000
    const meanRun = runs.reduce((a, b) => a + b, 0) / runs.length
    assert.ok(Math.abs(lostFrac - 0.02 / 0.22) < 0.03, `lost fraction ${lostFrac}`)
    assert.ok(meanRun > 4 && meanRun < 6.5, `mean burst ${meanRun} frames (expected ≈ 5)`)
    // Independent 9 % loss would give mean runs of ≈ 1.1 frames: the bursts are real.
  })

  it('duplicates ≈ 10 %: each duplicated frame arrives exactly twice, back to back', async () => {
    const r = rig({ duplicate: 0.1 }, 'dup')
    await run(r, 5000, 1, 10)
    const s = r.radio.stats
    assert.ok(s.duplicated >= 400 && s.duplicated <= 600, `duplicated ${s.duplicated}`)
    assert.equal(r.arrivals.length, 5000 + s.duplicated)
    assert.equal(s.delivered, r.arrivals.length)
    const counts = new Map<number, number>()
    for (const i of indices(r)) counts.set(i, (counts.get(i) ?? 0) + 1)
    assert.equal([...counts.values()].filter((c) => c === 2).length, s.duplicated)
    assert.deepEqual([...counts.keys()], range(5000))
    const got = indices(r)
    for (let k = 1; k < got.length; k++) assert.ok(got[k]! >= got[k - 1]!, 'a copy arrives right after its original')
  })

  it('reordering changes arrival order and still delivers each frame exactly once (loss = dup = 0)', async () => {
    const r = rig({ reorder: 0.1, reorderDelayMs: 20 }, 'reorder')
    await run(r, 2000, 1, 100)
    const got = indices(r)
    assert.deepEqual([...got].sort((a, b) => a - b), range(2000), 'every frame exactly once')
    assert.notDeepEqual(got, range(2000), 'arrival order differs from send order')
    const overtaken = got.filter((v, k) => k > 0 && v < got[k - 1]!).length
    assert.ok(overtaken > 100, `${overtaken} frames arrived after a later-sent frame`)
    assert.ok(Math.abs(r.radio.stats.reordered - 200) < 60, `held back ${r.radio.stats.reordered}`)
    for (const a of r.arrivals) {
      const d = a.at - r.sentAt[a.index]!
      assert.ok(d === 0 || d === 20, `delay ${d} is 0 or the hold-back`)
    }
  })

  it('latency 20 ms + jitter 10 ms: every frame takes 20..30 ms, jitter varies, order is kept', async () => {
    const r = rig({ latencyMs: 20, jitterMs: 10 }, 'jitter')
    await run(r, 500, 5, 100)
    assert.deepEqual(indices(r), range(500))
    const delays = r.arrivals.map((a) => a.at - r.sentAt[a.index]!)
    assert.ok(delays.every((d) => d >= 20 && d <= 30), `delays ${Math.min(...delays)}..${Math.max(...delays)}`)
    assert.ok(Math.max(...delays) - Math.min(...delays) > 8, 'jitter spreads delays over the range')
  })

  it('bandwidth: 10 frames of 100 B at 8 000 bps queue behind each other and land at k·100 ms', async () => {
    const r = rig({ bandwidthBps: 8000 }, 'bw')
    for (let i = 0; i < 10; i++) await r.send(100)
    r.clock.advance(999)
    assert.equal(r.arrivals.length, 9, 'the 10th frame needs the full n·b·8/r = 1000 ms')
    r.clock.advance(1)
    await r.settle()
    assert.deepEqual(
      r.arrivals.map((a) => a.at),
      range(10).map((k) => (k + 1) * 100),
    )
    assert.equal(r.radio.stats.airtimeMs, 1000)
  })

  it('mtu: capped at the inner link, over it rejects FRAME_TOO_LARGE; closed and down links reject TRANSPORT_UNAVAILABLE', async () => {
    const clock = new ManualClock()
    const [a, b] = memoryLinkPair({ mtu: 100, clock })
    const capped = modelLink(a, { mtu: 500 }, { seed: 1, clock })
    assert.equal(capped.mtu, 100)
    const m = modelLink(a, { mtu: 50 }, { seed: 1, clock })
    assert.equal(m.mtu, 50)
    await m.send(new Uint8Array(50))
    await assert.rejects(m.send(new Uint8Array(51)), (e) => isHopsealError(e, 'FRAME_TOO_LARGE'))
    assert.equal(m.stats.sent, 1, 'a rejected frame is not counted')
    const states: boolean[] = []
    m.onStateChange((up) => states.push(up))
    b.setUp(false)
    assert.equal(m.up, false)
    await assert.rejects(m.send(new Uint8Array(1)), (e) => isHopsealError(e, 'TRANSPORT_UNAVAILABLE'))
    b.setUp(true)
    assert.deepEqual(states, [false, true])
    await m.close()
    assert.equal(m.up, false)
    await assert.rejects(m.send(new Uint8Array(1)), (e) => isHopsealError(e, 'TRANSPORT_UNAVAILABLE'))
    await assert.rejects(b.send(new Uint8Array(1)), (e) => isHopsealError(e, 'TRANSPORT_UNAVAILABLE'), 'close() closes the inner link')
  })

  it('blackout loses every frame while on and none after', async () => {
    const r = rig({}, 'blackout')
    await run(r, 50, 1, 1)
    r.radio.blackout(true)
    assert.equal(r.radio.blackedOut, true)
    await run(r, 100, 1, 1)
    r.radio.blackout(false)
    await run(r, 50, 1, 1)
    assert.equal(r.radio.stats.lost, 100)
    assert.deepEqual(indices(r), [...range(50), ...range(50).map((i) => 150 + i)])
  })

  it('overflow: beyond maxQueue frames in flight the model drops and counts, never transmits', async () => {
    const r = rig({ latencyMs: 100, maxQueue: 5 }, 'overflow')
    for (let i = 0; i < 8; i++) await r.send()
    assert.equal(r.radio.inFlight, 5)
    r.clock.advance(100)
    await r.settle()
    assert.deepEqual(indices(r), range(5))
    assert.deepEqual(r.radio.stats, { sent: 8, delivered: 5, lost: 0, duplicated: 0, reordered: 0, overflow: 3, bytes: 80, airtimeMs: 0, dutyViolations: 0, linkErrors: 0 })
  })

  it('setOptions changes the medium at runtime and checks fields', async () => {
    const r = rig({ loss: 0 }, 'set')
    await run(r, 10, 1, 1)
    r.radio.setOptions({ loss: 1 })
    await run(r, 10, 1, 1)
    r.radio.setOptions({ loss: undefined, latencyMs: 7 })
    await run(r, 1, 0, 7)
    assert.deepEqual(indices(r), [...range(10), 20])
    assert.equal(r.arrivals.at(-1)!.at - r.sentAt[20]!, 7)
    assert.throws(() => r.radio.setOptions({ loss: 1.5 }), (e) => isHopsealError(e, 'INVALID_ARGUMENT') && /loss/.test((e as Error).message))
    assert.throws(() => r.radio.setOptions({ los: 0.1 } as LinkModelOptions), (e) => isHopsealError(e, 'INVALID_ARGUMENT') && /unknown option 'los'/.test((e as Error).message))
    for (const bad of [{ jitterMs: -1 }, { bandwidthBps: 0 }, { mtu: 1.5 }, { maxQueue: 0 }, { dutyCycle: { ratio: 0, windowMs: 1 } }, { burstLoss: { enter: 0.1 } }] as LinkModelOptions[]) {
      assert.throws(() => modelLink(r.far, bad, { seed: 1 }), (e) => isHopsealError(e, 'INVALID_ARGUMENT'), JSON.stringify(bad))
    }
  })
})

describe('hil-sim links: reproducibility', () => {
  const noisy: LinkModelOptions = { loss: 0.1, burstLoss: { enter: 0.01, exit: 0.3 }, duplicate: 0.05, reorder: 0.05, reorderDelayMs: 15, latencyMs: 3, jitterMs: 4, bandwidthBps: 64_000 }

  it('the same seed and sends give identical arrivals and stats; another seed differs', async () => {
    const go = async (seed: string) => {
      const r = rig(noisy, seed)
      await run(r, 3000, 2, 200, 24)
      return { arrivals: r.arrivals, stats: r.radio.stats }
    }
    const a = await go('same')
    const b = await go('same')
    const c = await go('other')
    assert.deepEqual(a, b)
    assert.ok(a.stats.lost > 0 && a.stats.duplicated > 0 && a.stats.reordered > 0)
    assert.notDeepEqual(a.arrivals.map((x) => x.index), c.arrivals.map((x) => x.index))
    assert.notDeepEqual(a.stats, c.stats)
  })

  it('decisions do not depend on timing: the delivered set is the same at any send spacing', async () => {
    const slow = rig({ loss: 0.3, duplicate: 0.1 }, 'timing')
    await run(slow, 1000, 17, 10)
    const fast = rig({ loss: 0.3, duplicate: 0.1 }, 'timing')
    await run(fast, 1000, 0.25, 10)
    assert.deepEqual(indices(fast), indices(slow))
  })

  it('features draw from separate streams: adding jitter and latency keeps the loss pattern', async () => {
    const plain = rig({ loss: 0.25 }, 'streams')
    await run(plain, 2000, 1, 10)
    const jittery = rig({ loss: 0.25, latencyMs: 5, jitterMs: 3, duplicate: 0 }, 'streams')
    await run(jittery, 2000, 1, 20)
    assert.deepEqual(indices(jittery), indices(plain))
  })
})

describe('hil-sim links: model inputs', () => {
  it('copies the frame at send (the caller may reuse its buffer)', async () => {
    const r = rig({ latencyMs: 5 }, 'copy')
    const f = frame(0)
    await r.radio.send(f)
    f.fill(0xff)
    r.clock.advance(5)
    assert.deepEqual(r.arrivals.map((a) => a.index), [0])
  })
})
