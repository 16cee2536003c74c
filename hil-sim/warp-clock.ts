/**
 * Simulated time for soaks: a month of a device's life in minutes.
 *
 * While something happens, simulated time runs `scale` times faster than the
 * wall clock (so radio airtime, MQTT round trips through a real broker and
 * retransmission timers keep their proportions). When no one called touch()
 * for `idleMs` of wall time (the soak runner touches on every radio frame,
 * every publish its broker tap sees and every delivery), it jumps straight to
 * its next timer: the minute a sleeping device waits between readings costs a
 * few milliseconds. Timers firing do not count as activity: what they start
 * is either another timer of this clock (which the jump reaches in order) or
 * real I/O that touches.
 *
 * Timers live in this clock's own queue and fire in order of their due time;
 * one real timer drives the queue. A message in flight through a real
 * component (TCP to a broker) when the clock jumps arrives late in simulated
 * time, as after a long radio delay: the protocol layers handle that anyway.
 */
import type { Clock } from '../src/time/clock.ts'

interface Timer {
  at: number
  seq: number
  fn: () => void
}

export class WarpClock implements Clock {
  /** Simulated ms at `realAt`. */
  private simAt: number
  private realAt = performance.now()
  private lastActivity = performance.now()
  private readonly timers = new Map<number, Timer>()
  private seq = 0
  private driver: (() => void) | undefined
  private stopped = false
  /** Simulated ms skipped by jumps (for reports). */
  skippedMs = 0
  /**
   * While this returns true the clock does not jump: a real component is
   * busy on wall-clock time (an MQTT client reconnecting after a broker
   * restart), and jumping would let simulated hours pass in its few real
   * milliseconds.
   */
  hold: () => boolean = () => false

  constructor(
    readonly scale: number,
    private readonly idleMs = 1,
    origin = 0,
  ) {
    if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError(`clock scale must be a positive number, got ${scale}`)
    this.simAt = origin
    this.drive()
  }

  now(): number {
    return this.simAt + (performance.now() - this.realAt) * this.scale
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq
    this.timers.set(id, { at: this.now() + Math.max(0, ms), seq: id, fn })
    return id
  }

  clearTimeout(handle: unknown): void {
    if (typeof handle === 'number') this.timers.delete(handle)
  }

  /** Something happened that the clock cannot see (a frame on a link): do not jump yet. */
  touch(): void {
    this.lastActivity = performance.now()
  }

  /** Stops driving timers (pending ones never fire). */
  stop(): void {
    this.stopped = true
    this.driver?.()
  }

  /** Timers waiting. */
  get pending(): number {
    return this.timers.size
  }

  private next(): Timer | undefined {
    let best: Timer | undefined
    for (const t of this.timers.values()) if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t
    return best
  }

  private drive(): void {
    if (this.stopped) return
    const t = this.next()
    const now = this.now()
    if (t && t.at <= now) {
      this.timers.delete(t.seq)
      try {
        t.fn()
      } finally {
        this.soon() // promise and I/O work the timer started runs before the next timer
      }
      return
    }
    if (t && performance.now() - this.lastActivity >= this.idleMs && !this.hold()) {
      // Quiet: jump to the next timer.
      this.skippedMs += t.at - now
      this.simAt = t.at
      this.realAt = performance.now()
      this.soon()
      return
    }
    const wait = t ? Math.min((t.at - now) / this.scale, this.idleMs) : this.idleMs
    const h = setTimeout(() => this.drive(), Math.max(0, wait))
    this.driver = () => clearTimeout(h)
  }

  private soon(): void {
    const h = setImmediate(() => this.drive())
    this.driver = () => clearImmediate(h)
  }
}
