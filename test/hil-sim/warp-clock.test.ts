/**
 * The warp clock of the soaks: timers in due order, simulated time standing
 * still while work is in flight, jumps over quiet stretches, no jump while
 * touched, busy or held, and bounded memory for re-armed timers. Assertions
 * are on simulated times and counts, never on how long the wall clock took.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { WarpClock } from '../../hil-sim/warp-clock.ts'

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms))
const turn = () => new Promise((r) => setImmediate(r))

/** Waits (in wall time, bounded) until `cond` holds; returns whether it did. */
async function until(cond: () => boolean, tries = 2000): Promise<boolean> {
  for (let i = 0; i < tries && !cond(); i++) await wait(1)
  return cond()
}

it('fires timers in due order (creation order on ties) and jumps a quiet simulated day', async () => {
  const c = new WarpClock()
  const fired: string[] = []
  const at: number[] = []
  c.setTimeout(() => (fired.push('day'), at.push(c.now())), 86_400_000)
  c.setTimeout(() => (fired.push('hour-a'), at.push(c.now())), 3_600_000)
  c.setTimeout(() => (fired.push('hour-b'), at.push(c.now())), 3_600_000)
  const cancelled = c.setTimeout(() => fired.push('cancelled'), 60_000)
  c.clearTimeout(cancelled)
  try {
    assert.ok(await until(() => fired.length === 3))
  } finally {
    c.stop()
  }
  assert.deepEqual(fired, ['hour-a', 'hour-b', 'day'])
  assert.deepEqual(at, [3_600_000, 3_600_000, 86_400_000], 'each timer fires at its due simulated time')
  assert.equal(c.now(), 86_400_000)
  assert.equal(c.skippedMs, 86_400_000)
  assert.equal(c.jumps, 2)
  assert.equal(c.pending, 0)
})

it('stands still while work runs (scale 0): a timer set from a timer counts from the first one’s time', async () => {
  const c = new WarpClock()
  const seen: number[] = []
  c.setTimeout(() => {
    seen.push(c.now())
    let x = 0
    for (let i = 0; i < 1e6; i++) x += i // CPU work: no simulated time passes
    seen.push(c.now() + (x > 0 ? 0 : 1))
    c.setTimeout(() => seen.push(c.now()), 1500)
  }, 1000)
  try {
    assert.ok(await until(() => seen.length === 3))
  } finally {
    c.stop()
  }
  assert.deepEqual(seen, [1000, 1000, 2500])
})

it('does not jump while a message is in flight (begin without end), while held, or while touched', async () => {
  const c = new WarpClock({ busyTimeoutMs: 60_000 })
  let fired = false
  c.setTimeout(() => (fired = true), 3_600_000)
  let touching = false
  const toucher = (): void => {
    c.touch()
    if (touching) setImmediate(toucher)
  }
  // try/finally: a failed assertion must not leave the clock or the touch loop running (the test file would hang).
  try {
    c.begin()
    for (let i = 0; i < 30; i++) await turn()
    await wait(10)
    assert.equal(fired, false, 'in flight: no jump')
    assert.equal(c.now(), 0)
    let held = true
    c.hold = () => held
    c.end()
    for (let i = 0; i < 30; i++) await turn()
    await wait(10)
    assert.equal(fired, false, 'held: no jump')
    held = false
    touching = true
    toucher()
    for (let i = 0; i < 30; i++) await turn()
    assert.equal(fired, false, 'touched every turn: no jump')
    touching = false
    assert.ok(await until(() => fired), 'quiet again: jumped to the timer')
    assert.equal(c.now(), 3_600_000)
    assert.equal(c.busyExpired, 0)
  } finally {
    touching = false
    c.stop()
  }
})

it('takes an in-flight count that stopped moving as lost (a message the broker dropped), then jumps', async () => {
  const c = new WarpClock({ busyTimeoutMs: 5 })
  let fired = false
  c.setTimeout(() => (fired = true), 60_000)
  c.begin()
  try {
    assert.ok(await until(() => fired))
  } finally {
    c.stop()
  }
  assert.equal(c.busyExpired, 1)
  assert.equal(c.busy, 0)
})

it('keeps memory bounded when timers are re-armed far in the future (an idle timer per message)', async () => {
  const c = new WarpClock()
  let h: unknown
  for (let i = 0; i < 100_000; i++) {
    c.clearTimeout(h)
    h = c.setTimeout(() => undefined, 7 * 86_400_000)
  }
  c.stop()
  assert.equal(c.pending, 1)
  assert.ok(c.queued <= 2050, `${c.queued} heap entries for 1 live timer`)
})

it('with scale > 0, simulated time also runs while busy', async () => {
  const c = new WarpClock({ scale: 1000 })
  c.begin()
  const t0 = c.now()
  await wait(20)
  c.stop()
  assert.ok(c.now() > t0)
})

it('refuses nonsense options', () => {
  assert.throws(() => new WarpClock({ scale: -1 }), RangeError)
  assert.throws(() => new WarpClock({ quietTurns: 0 }), RangeError)
  assert.throws(() => new WarpClock({ busyTimeoutMs: 0 }), RangeError)
  assert.throws(() => new WarpClock({ maxHoldMs: 0 }), RangeError)
})

it('stops honouring a hold that lasts longer than maxHoldMs (a broker that never comes back), once per hold', async () => {
  const c = new WarpClock({ maxHoldMs: 5 })
  c.hold = () => true
  let fired = 0
  c.setTimeout(() => fired++, 60_000)
  c.setTimeout(() => fired++, 120_000)
  try {
    assert.ok(await until(() => fired === 2))
  } finally {
    c.stop()
  }
  assert.equal(c.holdExpired, 1)
  assert.equal(c.now(), 120_000)
})
