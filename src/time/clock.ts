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
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn })
    return id
  }
  clearTimeout(h: unknown): void {
    this.timers.delete(h as number)
  }
  advance(ms: number): void {
    const end = this.t + ms
    for (let next = this.due(end); next; next = this.due(end)) this.fire(next)
    this.t = end
  }

  /**
   * Like advance() but to the absolute time `limit`, letting promise and
   * setImmediate work settle before and after each timer, so async code that
   * reacts to a timer (a send queue, a backoff) can schedule its next one in time.
   */
  async runUntil(limit: number): Promise<void> {
    for (;;) {
      await settle()
      const next = this.due(limit)
      if (!next) break
      this.fire(next)
    }
    this.t = Math.max(this.t, limit)
    await settle()
  }

  private due(limit: number): [number, { at: number; fn: () => void }] | undefined {
    let next: [number, { at: number; fn: () => void }] | undefined
    for (const e of this.timers) if (e[1].at <= limit && (!next || e[1].at < next[1].at)) next = e
    return next
  }

  private fire([id, timer]: [number, { at: number; fn: () => void }]): void {
    this.timers.delete(id)
    this.t = Math.max(this.t, timer.at)
    timer.fn()
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r))
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
