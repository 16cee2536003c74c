/**
 * An in-memory cable: two FrameLink ends that deliver each other's frames on a
 * later tick, the wire under link models in tests and simulations.
 *
 * Delivery is never re-entrant (a handler that replies from inside onFrame
 * cannot recurse into the sender) and frames are copied at send, so a caller
 * may reuse its buffer. With a `clock`, delivery is a 0 ms timer of that clock,
 * so a ManualClock's advance() drives it; without one, setImmediate.
 */
import { ErrorCode, HopsealError } from '../../src/errors.ts'
import type { FrameLink } from '../../src/transports/link.ts'
import type { Clock } from '../../src/time/clock.ts'
import { DEFAULT_MEMORY_MAX_PENDING, DEFAULT_MEMORY_MTU } from './constants.ts'

/** One end of a memory cable. */
export interface MemoryLink extends FrameLink {
  onStateChange(handler: (up: boolean) => void): void
  /**
   * Unplugs (`false`) or re-plugs (`true`) this end. The cable is up only while
   * both ends are plugged and open; both ends see the state change, frames in
   * flight are lost and sends reject TRANSPORT_UNAVAILABLE while down.
   */
  setUp(up: boolean): void
}

export interface MemoryLinkOptions {
  /** Largest frame (bytes); default DEFAULT_MEMORY_MTU. */
  mtu?: number
  /** Drives delivery (0 ms timers); default setImmediate. */
  clock?: Clock
  /** Frames one direction holds before sends reject LIMIT_EXCEEDED; default DEFAULT_MEMORY_MAX_PENDING. */
  maxPending?: number
}

class Cable {
  readonly ends: [End, End]
  constructor(
    readonly mtu: number,
    readonly maxPending: number,
    readonly clock: Clock | undefined,
  ) {
    this.ends = [new End(this, 0), new End(this, 1)]
  }
  get up(): boolean {
    return this.ends.every((e) => e.plugged && !e.closed)
  }
  /** Applies a change to an end and tells both ends if the cable's state flipped. */
  change(apply: () => void): void {
    const before = this.up
    apply()
    const after = this.up
    if (before === after) return
    for (const e of this.ends) {
      if (!after) e.pending = []
      e.notify(after)
    }
  }
}

class End implements MemoryLink {
  plugged = true
  closed = false
  /** Frames on their way to this end. */
  pending: Uint8Array[] = []
  private scheduled = false
  private handler: ((frame: Uint8Array) => void) | undefined
  private readonly stateHandlers = new Set<(up: boolean) => void>()

  constructor(
    private readonly cable: Cable,
    private readonly index: 0 | 1,
  ) {}

  get mtu(): number {
    return this.cable.mtu
  }
  get up(): boolean {
    return this.cable.up
  }

  async send(frame: Uint8Array): Promise<void> {
    if (!(frame instanceof Uint8Array)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `frame expected a Uint8Array, got ${typeof frame}`)
    if (this.closed) throw new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, 'memory link is closed')
    const peer = this.cable.ends[this.index ^ 1] as End
    if (peer.closed) throw new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, 'memory link: the other end is closed')
    if (!this.cable.up) throw new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, 'memory link is unplugged')
    if (frame.length > this.cable.mtu) throw new HopsealError(ErrorCode.FRAME_TOO_LARGE, `frame of ${frame.length} bytes exceeds the link mtu ${this.cable.mtu}`)
    if (peer.pending.length >= this.cable.maxPending) throw new HopsealError(ErrorCode.LIMIT_EXCEEDED, `memory link: ${peer.pending.length} frames pending delivery (maxPending); yield to the event loop`)
    peer.pending.push(frame.slice())
    peer.schedule()
  }

  onFrame(handler: (frame: Uint8Array) => void): void {
    this.handler = handler
  }

  onStateChange(handler: (up: boolean) => void): void {
    this.stateHandlers.add(handler)
  }

  setUp(up: boolean): void {
    if (this.closed) throw new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, 'memory link is closed')
    this.cable.change(() => (this.plugged = up))
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.cable.change(() => (this.closed = true))
    this.pending = []
  }

  /** @internal */
  notify(up: boolean): void {
    for (const h of this.stateHandlers) h(up)
  }

  /** @internal one delivery task per tick per direction, FIFO */
  schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    const run = (): void => {
      this.scheduled = false
      const frames = this.pending
      this.pending = []
      for (const f of frames) {
        if (this.closed || !this.cable.up) return
        this.handler?.(f)
      }
    }
    if (this.cable.clock) this.cable.clock.setTimeout(run, 0)
    else setImmediate(run)
  }
}

/**
 * Two connected ends.
 *
 * @throws HopsealError INVALID_ARGUMENT for a bad mtu or maxPending
 * @example
 *   const [a, b] = memoryLinkPair({ mtu: 222 })
 *   b.onFrame((f) => console.log(f))
 *   await a.send(new Uint8Array([1, 2, 3]))
 */
export function memoryLinkPair(opts: MemoryLinkOptions = {}): [MemoryLink, MemoryLink] {
  const mtu = opts.mtu ?? DEFAULT_MEMORY_MTU
  const maxPending = opts.maxPending ?? DEFAULT_MEMORY_MAX_PENDING
  if (!Number.isSafeInteger(mtu) || mtu < 1) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `memoryLinkPair: mtu expected an integer ≥ 1, got ${String(mtu)}`)
  if (!Number.isSafeInteger(maxPending) || maxPending < 1) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `memoryLinkPair: maxPending expected an integer ≥ 1, got ${String(maxPending)}`)
  return new Cable(mtu, maxPending, opts.clock).ends
}
