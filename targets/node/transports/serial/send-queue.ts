/**
 * The send queue of one link: a bounded FIFO of frames that hands them to the
 * FrameLink one at a time, waiting on the injected clock for the pacing and
 * duty-cycle rules (pacing.ts). A message's frames are queued together or not
 * at all, and the message's promise settles when its last frame was handed to
 * the link, or rejects with the first failure (its remaining frames are
 * dropped: a message with a missing fragment is useless to the receiver).
 */
import { ErrorCode, HopsealError } from '../../../../src/errors.ts'
import type { Clock } from '../../../../src/time/clock.ts'
import type { FrameLink } from '../../../../src/transports/link.ts'
import { PacingGate } from './pacing.ts'
import type { LinkProfile } from './profiles.ts'

/** Counters a send queue updates (owned by the transport's per-link stats). */
export interface SendCounters {
  framesSent: number
  bytesSent: number
  airtimeMs: number
  waitedMs: number
}

interface Message {
  remaining: number
  done: boolean
  resolve(): void
  reject(e: unknown): void
}

interface Item {
  frame: Uint8Array
  msg: Message
}

export class SendQueue {
  readonly gate: PacingGate
  private readonly items: Item[] = []
  private head = 0
  private running = false
  private closed = false
  private timer: unknown
  private wake: (() => void) | undefined

  constructor(
    private readonly link: FrameLink,
    private readonly profile: LinkProfile,
    private readonly clock: Clock,
    private readonly maxQueuedFrames: number,
    private readonly counters: SendCounters,
  ) {
    this.gate = new PacingGate(profile)
  }

  /** Frames waiting (not yet handed to the link). */
  get length(): number {
    return this.items.length - this.head
  }

  /** Whether `frames` more frames fit the queue now. */
  hasRoom(frames: number): boolean {
    return this.length + frames <= this.maxQueuedFrames
  }

  /**
   * Queues the frames of one message.
   * @throws LIMIT_EXCEEDED when they do not all fit the queue (nothing is queued);
   *   TRANSPORT_UNAVAILABLE once closed.
   */
  enqueue(frames: Uint8Array[]): Promise<void> {
    if (this.closed) return Promise.reject(new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, 'serial link send queue is closed'))
    if (this.length + frames.length > this.maxQueuedFrames) {
      return Promise.reject(new HopsealError(ErrorCode.LIMIT_EXCEEDED, `serial link send queue full: ${this.length} + ${frames.length} frames > ${this.maxQueuedFrames}`))
    }
    return new Promise<void>((resolve, reject) => {
      const msg: Message = { remaining: frames.length, done: false, resolve, reject }
      for (const frame of frames) this.items.push({ frame, msg })
      void this.pump()
    })
  }

  /** Rejects every queued message with `error` (link down, transport closed). Returns how many messages failed. */
  failAll(error: HopsealError): number {
    let n = 0
    for (let i = this.head; i < this.items.length; i++) {
      const m = this.items[i]!.msg
      if (!m.done) {
        m.done = true
        m.reject(error)
        n++
      }
    }
    this.items.length = 0
    this.head = 0
    this.interrupt()
    return n
  }

  /** Stops the pump and rejects everything queued. */
  close(error: HopsealError): number {
    this.closed = true
    return this.failAll(error)
  }

  /** Ends a pacing wait early so the pump re-evaluates (the queue changed). */
  private interrupt(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.wake?.()
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = undefined
        this.timer = undefined
        resolve()
      }
      this.timer = this.clock.setTimeout(() => this.wake?.(), ms)
    })
  }

  private shift(): Item | undefined {
    const it = this.items[this.head]
    if (!it) return undefined
    this.items[this.head++] = undefined as unknown as Item
    if (this.head === this.items.length) {
      this.items.length = 0
      this.head = 0
    } else if (this.head > 1024) {
      this.items.splice(0, this.head)
      this.head = 0
    }
    return it
  }

  private async pump(): Promise<void> {
    if (this.running) return
    this.running = true
    try {
      while (!this.closed) {
        const item = this.items[this.head]
        if (!item) return
        if (item.msg.done) {
          this.shift()
          continue
        }
        const airtime = this.profile.airtimeMs(item.frame.length)
        const now = this.clock.now()
        const at = this.gate.earliest(now, airtime)
        if (at > now) {
          await this.sleep(at - now)
          // capped at the planned wait: a test clock may jump past `at`
          this.counters.waitedMs += Math.min(this.clock.now(), at) - now
          continue // re-check: the queue may have been failed or closed meanwhile
        }
        this.shift()
        this.gate.record(now, airtime)
        this.counters.airtimeMs += airtime
        try {
          await this.link.send(item.frame)
          this.counters.framesSent++
          this.counters.bytesSent += item.frame.length
          if (!item.msg.done && --item.msg.remaining === 0) {
            item.msg.done = true
            item.msg.resolve()
          }
        } catch (e) {
          if (!item.msg.done) {
            item.msg.done = true
            item.msg.reject(e)
          }
        }
      }
    } finally {
      this.running = false
    }
  }
}
