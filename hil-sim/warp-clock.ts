/**
 * Simulated time for soaks: a month of a device's life in minutes.
 *
 * A discrete-event clock whose timers are the simulation's events. Simulated
 * time moves when a timer fires (to that timer's due time) and, when the
 * process is quiet, jumps straight to the next timer. While work is going on
 * (crypto, routing, a message crossing the real MQTT broker over TCP) it
 * stands still by default (`scale` 0): how long the work takes on this CPU
 * does not show in simulated time, so a run does not depend on the speed or
 * the load of the machine. (A clock that ran `scale` times faster than the
 * wall clock while busy made 1 ms of CPU 10 simulated seconds at 10 000×,
 * longer than an SF12 frame: under load the week soak fell behind its
 * readings, 6 598 of 10 080 delivered. `scale` > 0 is still available.)
 *
 * "Quiet" means, all at once:
 * - no timer of this clock is due;
 * - nothing is in flight that the clock was told about: `begin()` / `end()`
 *   pairs (the soak runner counts MQTT messages from publish to delivery);
 *   a count that has not moved for `busyTimeoutMs` of wall time is taken as
 *   lost (a publish the broker dropped while restarting) and cleared;
 * - `hold()` is false (a real component working on wall-clock time, e.g. an
 *   MQTT client reconnecting, or a broker restart being applied);
 * - `quietTurns` turns of the event loop (each one polls I/O) passed with no
 *   timer fired, no `touch()` and no `begin()` / `end()`.
 *
 * Timers live in a binary heap ordered by (due time, creation order);
 * cleared timers leave it lazily and the heap is rebuilt when they outnumber
 * the live ones, so a channel re-arming a week-long idle timer on every
 * message does not grow memory. One real timer or immediate drives the queue.
 */
import type { Clock } from '../src/time/clock.ts'

interface Timer {
  at: number
  seq: number
  fn: (() => void) | undefined
}

export interface WarpClockOptions {
  /**
   * Simulated ms per wall-clock ms while the process is busy (not quiet).
   * 0 (default): simulated time stands still while work runs and moves only
   * by timers and jumps.
   */
  scale?: number
  /** Event-loop turns without activity before the clock jumps (default 3). */
  quietTurns?: number
  /** Wall ms after which an unchanged in-flight count is taken as lost (default 50). */
  busyTimeoutMs?: number
  /** Wall ms after which a hold() that stayed true is no longer honoured (default 30 000): a broker that never comes back must not stop simulated time, and so the run's deadline, forever. */
  maxHoldMs?: number
  /** Simulated time at the start (ms, default 0). */
  origin?: number
}

export class WarpClock implements Clock {
  readonly scale: number
  private readonly quietTurns: number
  private readonly busyTimeoutMs: number
  private readonly maxHoldMs: number
  /** Wall ms since when hold() has been true (undefined: not held; -1: held too long, overridden until it ends). */
  private heldSince: number | undefined
  /** Simulated ms at `realAt` (wall ms, performance.now()). */
  private simAt: number
  private realAt = performance.now()
  private readonly heap: Timer[] = []
  private readonly live = new Map<number, Timer>()
  private seq = 0
  private quiet = 0
  private busy_ = 0
  private busyChangedAt = 0
  /** The pending driver: an immediate (`fast`) or a real timer (`slow`). */
  private driver: { kind: 'fast' | 'slow'; cancel: () => void } | undefined
  private stopped = false
  /** Simulated ms skipped by jumps (for reports). */
  skippedMs = 0
  /** Jumps made. */
  jumps = 0
  /** Timers fired. */
  fired = 0
  /** In-flight counts cleared after busyTimeoutMs without a change (messages taken as lost). */
  busyExpired = 0
  /** Holds that lasted longer than maxHoldMs and were overridden. */
  holdExpired = 0
  /**
   * While this returns true the clock does not jump: a real component is
   * busy on wall-clock time (an MQTT client reconnecting after a broker
   * restart), and jumping would let simulated hours pass in its few real
   * milliseconds.
   */
  hold: () => boolean = () => false

  constructor(opts: WarpClockOptions = {}) {
    const scale = opts.scale ?? 0
    if (!(scale >= 0) || !Number.isFinite(scale)) throw new RangeError(`clock scale must be a number ≥ 0, got ${scale}`)
    const quietTurns = opts.quietTurns ?? 3
    if (!Number.isInteger(quietTurns) || quietTurns < 1) throw new RangeError(`quietTurns must be an integer ≥ 1, got ${quietTurns}`)
    const busyTimeoutMs = opts.busyTimeoutMs ?? 50
    if (!(busyTimeoutMs > 0)) throw new RangeError(`busyTimeoutMs must be > 0, got ${busyTimeoutMs}`)
    this.scale = scale
    this.quietTurns = quietTurns
    this.busyTimeoutMs = busyTimeoutMs
    const maxHoldMs = opts.maxHoldMs ?? 30_000
    if (!(maxHoldMs > 0)) throw new RangeError(`maxHoldMs must be > 0, got ${maxHoldMs}`)
    this.maxHoldMs = maxHoldMs
    this.simAt = opts.origin ?? 0
    this.kick()
  }

  now(): number {
    return this.scale === 0 ? this.simAt : this.simAt + (performance.now() - this.realAt) * this.scale
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq
    const t: Timer = { at: this.now() + (ms > 0 ? ms : 0), seq: id, fn }
    this.live.set(id, t)
    this.push(t)
    if (this.driver?.kind === 'slow') this.kick()
    return id
  }

  clearTimeout(handle: unknown): void {
    if (typeof handle !== 'number') return
    const t = this.live.get(handle)
    if (!t) return
    this.live.delete(handle)
    t.fn = undefined
    if (this.heap.length > 1024 && this.heap.length > 2 * this.live.size) this.rebuild()
  }

  /** Something happened that the clock cannot see (a frame on a link): do not jump yet. */
  touch(): void {
    this.quiet = 0
    if (this.driver?.kind === 'slow') this.kick()
  }

  /** Work the clock must wait for has started (e.g. a message published to the broker). */
  begin(): void {
    this.busy_++
    this.busyChangedAt = performance.now()
    this.quiet = 0
  }

  /** Work begun with begin() has ended (the message was delivered). */
  end(): void {
    if (this.busy_ > 0) this.busy_--
    this.busyChangedAt = performance.now()
    this.quiet = 0
    if (this.busy_ === 0 && this.driver?.kind === 'slow') this.kick()
  }

  /** Work in flight (begin() without end()). */
  get busy(): number {
    return this.busy_
  }

  /** Stops driving timers (pending ones never fire). */
  stop(): void {
    this.stopped = true
    this.driver?.cancel()
    this.driver = undefined
  }

  /** Timers waiting. */
  get pending(): number {
    return this.live.size
  }

  /** Heap entries, cleared timers not yet dropped included (bounded: see clearTimeout). */
  get queued(): number {
    return this.heap.length
  }

  private drive(): void {
    this.driver = undefined
    if (this.stopped) return
    const t = this.peek()
    if (t && t.at <= this.now()) {
      this.pop()
      this.live.delete(t.seq)
      this.advanceTo(t.at)
      const fn = t.fn
      t.fn = undefined
      this.quiet = 0
      this.fired++
      try {
        fn?.()
      } finally {
        this.fast() // promise and I/O work the timer started runs before the next timer
      }
      return
    }
    if (this.busy_ > 0 && performance.now() - this.busyChangedAt > this.busyTimeoutMs) {
      this.busy_ = 0
      this.busyExpired++
    }
    if (this.busy_ > 0 || this.held()) {
      this.quiet = 0
      return this.slow(1)
    }
    if (++this.quiet < this.quietTurns) return this.fast()
    if (!t) return this.slow(5) // nothing to do until someone sets a timer or touches
    // Quiet: jump to the next timer.
    const now = this.now()
    this.skippedMs += t.at - now
    this.jumps++
    this.advanceTo(t.at)
    this.fast()
  }

  /** hold(), unless it has been true for longer than maxHoldMs of wall time. */
  private held(): boolean {
    if (!this.hold()) {
      this.heldSince = undefined
      return false
    }
    const now = performance.now()
    if (this.heldSince === undefined) this.heldSince = now
    else if (this.heldSince === -1) return false // this hold was already overridden
    else if (now - this.heldSince > this.maxHoldMs) {
      this.heldSince = -1
      this.holdExpired++
      return false
    }
    return true
  }

  private advanceTo(at: number): void {
    const now = this.now()
    this.simAt = at > now ? at : now
    this.realAt = performance.now()
  }

  private kick(): void {
    this.driver?.cancel()
    this.fast()
  }

  private fast(): void {
    if (this.stopped) return
    const h = setImmediate(() => this.drive())
    this.driver = { kind: 'fast', cancel: () => clearImmediate(h) }
  }

  private slow(ms: number): void {
    if (this.stopped) return
    const h = setTimeout(() => this.drive(), ms)
    this.driver = { kind: 'slow', cancel: () => clearTimeout(h) }
  }

  // Binary min-heap on (at, seq); cleared timers (fn undefined) are dropped when they reach the top.

  private peek(): Timer | undefined {
    while (this.heap.length > 0 && this.heap[0]!.fn === undefined) this.pop()
    return this.heap[0]
  }

  private push(t: Timer): void {
    const h = this.heap
    h.push(t)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!before(h[i]!, h[p]!)) break
      ;[h[i], h[p]] = [h[p]!, h[i]!]
      i = p
    }
  }

  private pop(): void {
    const h = this.heap
    const last = h.pop()
    if (h.length === 0 || !last) return
    h[0] = last
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < h.length && before(h[l]!, h[m]!)) m = l
      if (r < h.length && before(h[r]!, h[m]!)) m = r
      if (m === i) return
      ;[h[i], h[m]] = [h[m]!, h[i]!]
      i = m
    }
  }

  private rebuild(): void {
    const keep = this.heap.filter((t) => t.fn !== undefined)
    this.heap.length = 0
    for (const t of keep) this.push(t)
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq)
}
