import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ReplayWindow, reconstructCounter } from '../../src/channel/replay-window.ts'

describe('replay window', () => {
  it('table: accepts new, reordered-within-window once; drops duplicates and stale', () => {
    const w = new ReplayWindow(64)
    const table: [bigint, 'ok' | 'duplicate' | 'stale'][] = [
      [0n, 'ok'], [0n, 'duplicate'], [1n, 'ok'], [5n, 'ok'], [3n, 'ok'], [3n, 'duplicate'], [2n, 'ok'],
      [100n, 'ok'], [37n, 'ok'], [36n, 'stale'], [5n, 'stale'], [99n, 'ok'], [99n, 'duplicate'],
      [164n, 'ok'], [100n, 'stale'], [101n, 'ok'], [1000n, 'ok'], [937n, 'ok'], [936n, 'stale'],
    ]
    for (const [n, want] of table) {
      const got = w.check(n)
      assert.equal(got, want, `counter ${n}`)
      if (got === 'ok') w.commit(n)
    }
    assert.equal(w.highest, 1000n)
  })

  it('check never changes state (a forged packet cannot move the window)', () => {
    const w = new ReplayWindow(32)
    w.commit(10n)
    for (let i = 0; i < 5; i++) assert.equal(w.check(1_000_000n), 'ok')
    assert.equal(w.highest, 10n)
    assert.equal(w.check(9n), 'ok')
  })

  it('bits reused after the window slides are cleared', () => {
    const w = new ReplayWindow(32)
    for (let n = 0n; n < 32n; n++) w.commit(n)
    w.commit(40n)
    for (let n = 33n; n < 40n; n++) assert.equal(w.check(n), 'ok', `counter ${n} was never seen`)
    assert.equal(w.check(40n), 'duplicate')
  })

  it('reconstructs truncated counters around the expected value', () => {
    assert.equal(reconstructCounter(0n, 0, 12), 0n)
    assert.equal(reconstructCounter(4095n, 4095, 12), 4095n)
    assert.equal(reconstructCounter(4096n, 0, 12), 4096n)
    assert.equal(reconstructCounter(4100n, 4090, 12), 4090n) // late, just below the wrap
    assert.equal(reconstructCounter(8190n, 2, 12), 8194n) // ahead across the wrap
    assert.equal(reconstructCounter(1_000_000n, 1_000_000 & 0xfff, 12), 1_000_000n)
    for (let e = 0n; e < 20000n; e += 97n) {
      for (const d of [-1000n, -1n, 0n, 1n, 1000n]) {
        const n = e + d
        if (n < 0n) continue
        assert.equal(reconstructCounter(e, Number(n & 0xfffn), 12), n, `expected ${e}, actual ${n}`)
      }
    }
  })
})
