/** The warp clock of the soaks: timers in order, jumps over quiet stretches, no jump while touched or held. */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { WarpClock } from '../../hil-sim/warp-clock.ts'

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms))

it('fires timers in due order and jumps a quiet simulated day in milliseconds of wall time', async () => {
  const c = new WarpClock(1000)
  const fired: string[] = []
  c.setTimeout(() => fired.push('day'), 86_400_000)
  c.setTimeout(() => fired.push('hour'), 3_600_000)
  const cancelled = c.setTimeout(() => fired.push('cancelled'), 60_000)
  c.clearTimeout(cancelled)
  const t0 = Date.now()
  try {
    for (let i = 0; i < 500 && fired.length < 2; i++) await wait(2)
  } finally {
    c.stop()
  }
  assert.deepEqual(fired, ['hour', 'day'])
  assert.ok(Date.now() - t0 < 1000, 'a simulated day took less than a second')
  assert.ok(c.now() >= 86_400_000)
  assert.ok(c.skippedMs > 80_000_000, `${c.skippedMs} ms skipped`)
})

it('does not jump while something touches it or while hold() says so', async () => {
  // A 300 ms quiet period: wide enough that an event-loop hiccup on a loaded machine (GC, other test files) is not taken for quiet.
  const c = new WarpClock(1000, 300)
  let fired = false
  c.setTimeout(() => (fired = true), 3_600_000)
  let held = true
  c.hold = () => held
  let touching = false
  const toucher = (): void => {
    c.touch()
    if (touching) setImmediate(toucher)
  }
  try {
    await wait(400)
    assert.equal(fired, false, 'held: an hour at 1000× is 3.6 s of wall time; no jump while held')
    held = false
    touching = true
    toucher()
    await wait(400)
    assert.equal(fired, false, 'touched continuously: no jump')
    touching = false
    for (let i = 0; i < 300 && !fired; i++) await wait(10)
    assert.equal(fired, true, 'quiet again: jumped to the timer')
    assert.ok(c.skippedMs > 2_000_000)
  } finally {
    touching = false
    c.stop()
  }
})
