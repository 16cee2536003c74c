/**
 * Seeded link models: a FrameLink wrapper that loses, duplicates, delays,
 * reorders and paces frames on their way to an inner link (a memory pair, a
 * real PTY), so protocol code meets LoRa or BLE behaviour in a test.
 *
 * Determinism: every decision about a frame (lost, duplicated, held back, its
 * jitter) is drawn when it is sent, from one forked PRNG stream per feature
 * that draws exactly once per send whatever the options are. The same seed and
 * the same sequence of sends therefore give the same decisions on a manual
 * clock, a scaled clock or a real PTY, and switching one feature on does not
 * change another's pattern. Only arrival times depend on the clock.
 *
 * The model acts on the sending side only; wrap both ends for a two-way radio.
 * Received frames pass through untouched.
 */
import { ErrorCode, HopsealError } from '../../src/errors.ts'
import type { FrameLink } from '../../src/transports/link.ts'
import { systemClock, type Clock } from '../../src/time/clock.ts'
import { DEFAULT_MAX_QUEUE, DEFAULT_REORDER_DELAY_MS } from './constants.ts'
import { DutyCycleMeter } from './duty-cycle.ts'
import { checkLinkModelOptions, type LinkModelOptions } from './options.ts'
import { seededRandom, type Random } from './prng.ts'

export type { LinkModelOptions, DutyCycleRule } from './options.ts'

/** Counters of one model link (a snapshot; frames and bytes on the sending side). */
export interface LinkStats {
  /** Frames accepted by send(). */
  sent: number
  /** Copies handed to the inner link that it accepted (duplicates count twice). */
  delivered: number
  /** Frames lost on the medium (random, burst or blackout). */
  lost: number
  /** Extra copies made by `duplicate`. */
  duplicated: number
  /** Frames held back by `reorder`. */
  reordered: number
  /** Frames dropped because `maxQueue` frames were already in flight (never transmitted). */
  overflow: number
  /** Bytes transmitted (lost frames included: they went on the air). */
  bytes: number
  /** Total time on the medium (ms): airtime, or serialisation at `bandwidthBps`. */
  airtimeMs: number
  /** Frames that broke the measured duty-cycle rule (still transmitted and delivered). */
  dutyViolations: number
  /** Copies the inner link rejected at delivery time (it went down or closed meanwhile). */
  linkErrors: number
}

/** A FrameLink with a seeded medium in front of it. */
export interface ModelLink extends FrameLink {
  /** Forwards to the inner link's state changes (a no-op when it has none). */
  onStateChange(handler: (up: boolean) => void): void
  /** A snapshot of the counters. */
  readonly stats: LinkStats
  /** Frames scheduled for delivery and not yet handed to the inner link. */
  readonly inFlight: number
  /** Whether a blackout is on. */
  readonly blackedOut: boolean
  /** Starts or ends a radio blackout: every frame sent while on is lost (scenarios switch it over time). */
  blackout(on: boolean): void
  /**
   * Changes options at runtime (a field set to `undefined` switches it off).
   * PRNG streams continue: frame n's draws are the same whatever changed before.
   * @throws HopsealError INVALID_ARGUMENT for a bad field
   */
  setOptions(partial: LinkModelOptions): void
}

interface Held {
  at: number
  seq: number
  frame: Uint8Array
}

class Model implements ModelLink {
  private opts: LinkModelOptions
  private readonly clock: Clock
  private readonly rng: { burst: Random; loss: Random; duplicate: Random; reorder: Random; jitter: Random }
  private readonly s: LinkStats = { sent: 0, delivered: 0, lost: 0, duplicated: 0, reordered: 0, overflow: 0, bytes: 0, airtimeMs: 0, dutyViolations: 0, linkErrors: 0 }
  private readonly duty = new DutyCycleMeter()
  private queue: Held[] = []
  private seq = 0
  private timer: unknown = undefined
  private armedAt = 0
  private busyUntil = -Infinity
  private fifoFloor = -Infinity
  private burstBad = false
  private dark = false
  private closed = false

  constructor(
    private readonly inner: FrameLink,
    opts: LinkModelOptions,
    ctx: { seed: string | number; clock?: Clock },
  ) {
    checkLinkModelOptions(opts)
    this.opts = { ...opts }
    this.clock = ctx.clock ?? systemClock
    const root = seededRandom(ctx.seed)
    this.rng = { burst: root.fork('burst'), loss: root.fork('loss'), duplicate: root.fork('duplicate'), reorder: root.fork('reorder'), jitter: root.fork('jitter') }
  }

  get mtu(): number {
    return Math.min(this.opts.mtu ?? Infinity, this.inner.mtu)
  }
  get up(): boolean {
    return !this.closed && this.inner.up
  }
  get stats(): LinkStats {
    return { ...this.s }
  }
  get inFlight(): number {
    return this.queue.length
  }
  get blackedOut(): boolean {
    return this.dark
  }

  blackout(on: boolean): void {
    this.dark = on
  }

  setOptions(partial: LinkModelOptions): void {
    checkLinkModelOptions(partial)
    this.opts = { ...this.opts, ...partial }
    if (!this.opts.burstLoss) this.burstBad = false
  }

  async send(frame: Uint8Array): Promise<void> {
    if (!(frame instanceof Uint8Array)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `frame expected a Uint8Array, got ${typeof frame}`)
    if (this.closed) throw new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, 'model link is closed')
    if (!this.inner.up) throw new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, 'model link: inner link is down')
    if (frame.length > this.mtu) throw new HopsealError(ErrorCode.FRAME_TOO_LARGE, `frame of ${frame.length} bytes exceeds the link mtu ${this.mtu}`)
    const o = this.opts
    // One draw per stream per send, before any branch (see the file comment).
    const rBurst = this.rng.burst.next()
    const rLoss = this.rng.loss.next()
    const rDup = this.rng.duplicate.next()
    const rReorder = this.rng.reorder.next()
    const rJitter = this.rng.jitter.next()

    if (o.burstLoss) this.burstBad = this.burstBad ? rBurst >= o.burstLoss.exit : rBurst < o.burstLoss.enter
    const maxQueue = o.maxQueue ?? DEFAULT_MAX_QUEUE
    this.s.sent++
    if (this.queue.length >= maxQueue) {
      this.s.overflow++ // the radio buffer is full: never transmitted
      return
    }

    const now = this.clock.now()
    const start = Math.max(now, this.busyUntil)
    const dur = o.airtimeMs ? o.airtimeMs(frame.length) : o.bandwidthBps ? (frame.length * 8000) / o.bandwidthBps : 0
    if (!(Number.isFinite(dur) && dur >= 0)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `link model: airtimeMs(${frame.length}) returned ${dur}, expected a finite number ≥ 0`)
    this.busyUntil = start + dur
    this.s.bytes += frame.length
    this.s.airtimeMs += dur
    if (o.dutyCycle && this.duty.record(start, dur, o.dutyCycle)) this.s.dutyViolations++

    if (this.dark || this.burstBad || rLoss < (o.loss ?? 0)) {
      this.s.lost++
      return
    }
    let at = start + dur + (o.latencyMs ?? 0) + rJitter * (o.jitterMs ?? 0)
    if (rReorder < (o.reorder ?? 0)) {
      at += o.reorderDelayMs ?? DEFAULT_REORDER_DELAY_MS
      this.s.reordered++
    } else {
      at = Math.max(at, this.fifoFloor)
      this.fifoFloor = at
    }
    const copy = frame.slice()
    this.hold(at, copy)
    if (rDup < (o.duplicate ?? 0) && this.queue.length < maxQueue) {
      this.hold(at, copy)
      this.s.duplicated++
    }
  }

  onFrame(handler: (frame: Uint8Array) => void): void {
    this.inner.onFrame(handler)
  }

  onStateChange(handler: (up: boolean) => void): void {
    this.inner.onStateChange?.(handler)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.timer = undefined
    this.queue = []
    await this.inner.close()
  }

  /** Inserts in (at, seq) order: equal times keep send order. */
  private hold(at: number, frame: Uint8Array): void {
    const h: Held = { at, seq: this.seq++, frame }
    let lo = 0
    let hi = this.queue.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((this.queue[mid] as Held).at <= at) lo = mid + 1
      else hi = mid
    }
    this.queue.splice(lo, 0, h)
    if (lo === 0) this.arm()
  }

  private arm(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    const head = this.queue[0]
    if (!head) {
      this.timer = undefined
      return
    }
    this.armedAt = head.at
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, head.at - this.clock.now()))
  }

  private fire(): void {
    this.timer = undefined
    // A real timer may fire a hair early; the head it was armed for is due.
    const limit = Math.max(this.clock.now(), this.armedAt)
    let n = 0
    while (n < this.queue.length && (this.queue[n] as Held).at <= limit) n++
    const due = this.queue.splice(0, n)
    this.arm()
    for (const h of due) this.deliver(h.frame)
  }

  private deliver(frame: Uint8Array): void {
    let p: Promise<void>
    try {
      p = this.inner.send(frame)
    } catch (e) {
      p = Promise.reject(e)
    }
    p.then(
      () => void this.s.delivered++,
      () => void this.s.linkErrors++,
    )
  }
}

/**
 * Wraps `inner` in a seeded medium.
 *
 * @throws HopsealError INVALID_ARGUMENT for a bad option (named) or seed
 * @example
 *   const [a, b] = memoryLinkPair({ clock })
 *   const radio = modelLink(a, loraLinkModel({ sf: 9, loss: 0.1 }), { seed: 'run-1', clock })
 *   await radio.send(frame) // arrives at b after its airtime, or is lost
 */
export function modelLink(inner: FrameLink, opts: LinkModelOptions, ctx: { seed: string | number; clock?: Clock }): ModelLink {
  return new Model(inner, opts, ctx)
}
