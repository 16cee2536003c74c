/** Injected time: tests advance a manual clock instead of sleeping. */
export interface Clock {
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
}

/**
 * Background timers (idle checks, pending-handshake expiry) must not keep a
 * process alive; timers of awaited work (handshakes, retransmissions) must.
 */
export function background(handle: unknown): unknown {
  ;(handle as { unref?: () => void } | undefined)?.unref?.()
  return handle
}

/** A manual clock for tests: `advance(ms)` fires due timers in order. */
export class ManualClock implements Clock {
  private t = 0
  private seq = 0
  private readonly timers = new Map<number, { at: number; fn: () => void }>()
  now(): number {
    return this.t
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq
    this.timers.set(id, { at: this.t + ms, fn })
    return id
  }
  clearTimeout(h: unknown): void {
    this.timers.delete(h as number)
  }
  advance(ms: number): void {
    const end = this.t + ms
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e
      if (!next) break
      this.timers.delete(next[0])
      this.t = next[1].at
      next[1].fn()
    }
    this.t = end
  }
}

/**
 * Compressed real time for simulations: `now()` runs `scale` times faster than
 * the wall clock and timers fire after `ms / scale` real milliseconds, so a
 * 1 % LoRa duty cycle (seconds of off-time per frame) runs in milliseconds
 * while components that use real time (brokers, PTYs) keep working.
 */
export class ScaledClock implements Clock {
  private readonly t0 = Date.now()
  constructor(readonly scale: number, private readonly origin = 0) {
    if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError(`clock scale must be a positive number, got ${scale}`)
  }
  now(): number {
    return this.origin + (Date.now() - this.t0) * this.scale
  }
  setTimeout(fn: () => void, ms: number): unknown {
    return setTimeout(fn, Math.max(0, ms) / this.scale)
  }
  clearTimeout(h: unknown): void {
    clearTimeout(h as ReturnType<typeof setTimeout>)
  }
}
