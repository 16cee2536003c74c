import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { seededRandom } from '../../hil-sim/links/prng.ts'
import { isHopsealError } from '../../src/errors.ts'

const take = (r: { next(): number }, n: number): number[] => Array.from({ length: n }, () => r.next())

describe('hil-sim links: seeded PRNG (sfc32 keyed by SHA-256)', () => {
  it('gives a fixed sequence for a fixed seed (a change of algorithm or seeding shows here)', () => {
    assert.deepEqual(take(seededRandom('hopseal'), 4), [0.09369284426793456, 0.29470691992901266, 0.8050072453916073, 0.11046789330430329])
    const r = seededRandom(42)
    assert.deepEqual(
      Array.from({ length: 6 }, () => r.int(1000)),
      [690, 702, 183, 516, 99, 557],
    )
    const f = seededRandom('hopseal').fork('loss')
    assert.deepEqual(
      Array.from({ length: 3 }, () => f.int(1 << 30)),
      [435281720, 609190939, 1066906185],
    )
  })

  it('same seed → same sequence, different seeds differ, 7 and "7" are one seed', () => {
    assert.deepEqual(take(seededRandom('a'), 100), take(seededRandom('a'), 100))
    assert.notDeepEqual(take(seededRandom('a'), 100), take(seededRandom('b'), 100))
    assert.deepEqual(take(seededRandom(7), 10), take(seededRandom('7'), 10))
  })

  it('fork depends on the seed and label, not on how much the parent drew', () => {
    const p1 = seededRandom('s')
    const early = take(p1.fork('x'), 20)
    take(p1, 1000)
    assert.deepEqual(take(p1.fork('x'), 20), early)
    assert.notDeepEqual(take(seededRandom('s').fork('y'), 20), early)
    assert.notDeepEqual(take(seededRandom('s'), 20), early, 'a child differs from its parent')
  })

  it('next() stays in [0,1) and int(n) covers 0..n-1 evenly (chi-square, 10 bins × 10 000)', () => {
    const r = seededRandom('uniform')
    const bins = new Array<number>(10).fill(0)
    for (let i = 0; i < 100_000; i++) {
      const x = r.next()
      assert.ok(x >= 0 && x < 1)
      bins[r.int(10)]!++
    }
    const chi = bins.reduce((s, b) => s + (b - 10_000) ** 2 / 10_000, 0)
    assert.ok(chi < 27.88, `chi-square ${chi} over the p=0.001 critical value for 9 dof`)
    assert.ok(bins.every((b) => b > 0))
    assert.equal(seededRandom('one').int(1), 0)
  })

  it('chance(p) draws once whatever p is, so streams stay aligned', () => {
    const a = seededRandom('c')
    const b = seededRandom('c')
    a.chance(0)
    a.chance(1)
    b.next()
    b.next()
    assert.equal(a.next(), b.next())
    assert.equal(seededRandom('c').chance(0), false)
    assert.equal(seededRandom('c').chance(1), true)
  })

  it('rejects bad seeds and bad int bounds with INVALID_ARGUMENT', () => {
    for (const bad of [NaN, Infinity, undefined, {}]) {
      assert.throws(() => seededRandom(bad as never), (e) => isHopsealError(e, 'INVALID_ARGUMENT'))
    }
    const r = seededRandom(1)
    for (const n of [0, -1, 1.5, 2 ** 32 + 1]) assert.throws(() => r.int(n), (e) => isHopsealError(e, 'INVALID_ARGUMENT'))
  })
})
