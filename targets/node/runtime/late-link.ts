/**
 * A serial FrameLink that may open later: a gateway must start even when its
 * USB radio enumerates after the service (boot order), or is unplugged at
 * start. Until the port opens the link is down: sends reject
 * TRANSPORT_UNAVAILABLE, so the gateway keeps downlinks in its mailboxes, and
 * opening is retried with exponential backoff. Once open, the serial link's
 * own re-plug handling (serialport-link.ts) takes over.
 *
 * Why not only openSerialLink: it rejects when the first open fails, which
 * would make the whole node fail to start on a transient USB condition.
 */
import { ErrorCode, HopsealError } from '../../../src/errors.ts'
import type { FrameLink } from '../../../src/transports/link.ts'
import { openSerialLink, type SerialLink, type SerialLinkOptions } from '../transports/serial/index.ts'
import { background, type Clock } from '../../../src/time/clock.ts'

/** Open retries: first after 1 s, doubling to 30 s (a radio that is not there is not a hot loop). */
export const OPEN_RETRY_INITIAL_MS = 1_000
export const OPEN_RETRY_MAX_MS = 30_000

export interface LateLinkOptions extends Omit<SerialLinkOptions, 'clock'> {
  clock: Clock
  /** Called after each failed open attempt (attempt number from 1, the error). */
  onOpenError?: (attempt: number, e: unknown) => void
  /** Opener, injectable for tests (default openSerialLink). */
  open?: (path: string, opts: SerialLinkOptions) => Promise<SerialLink>
}

export class LateSerialLink implements FrameLink {
  readonly mtu: number
  private inner: SerialLink | undefined
  private frameHandler: ((frame: Uint8Array) => void) | undefined
  private readonly stateHandlers: ((up: boolean) => void)[] = []
  private timer: unknown
  private delay = OPEN_RETRY_INITIAL_MS
  private attempts = 0
  private closed = false

  constructor(
    readonly path: string,
    private readonly opts: LateLinkOptions,
  ) {
    this.mtu = opts.mtu ?? 1024
  }

  /** Tries to open now; on failure keeps retrying in the background. Resolves true when open. */
  async start(): Promise<boolean> {
    return this.attempt()
  }

  get up(): boolean {
    return this.inner?.up ?? false
  }

  /** The open serial link's counters, plus `openAttempts`. */
  get counters(): Readonly<Record<string, number>> {
    return { ...(this.inner?.counters ?? {}), openAttempts: this.attempts }
  }

  send(frame: Uint8Array): Promise<void> {
    if (!this.inner) return Promise.reject(new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, `serial link ${this.path} is not open yet`))
    return this.inner.send(frame)
  }

  onFrame(handler: (frame: Uint8Array) => void): void {
    this.frameHandler = handler
    this.inner?.onFrame(handler)
  }

  onStateChange(handler: (up: boolean) => void): void {
    this.stateHandlers.push(handler)
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.timer !== undefined) this.opts.clock.clearTimeout(this.timer)
    this.timer = undefined
    const inner = this.inner
    this.inner = undefined
    await inner?.close()
  }

  private async attempt(): Promise<boolean> {
    if (this.closed) return false
    this.attempts++
    const { clock: _c, onOpenError, open, ...linkOpts } = this.opts
    let link: SerialLink
    try {
      link = await (open ?? openSerialLink)(this.path, { ...linkOpts, clock: this.opts.clock })
    } catch (e) {
      onOpenError?.(this.attempts, e)
      this.retryLater()
      return false
    }
    if (this.closed) {
      await link.close()
      return false
    }
    this.inner = link
    if (this.frameHandler) link.onFrame(this.frameHandler)
    link.onStateChange?.((up) => this.emit(up))
    this.emit(link.up)
    return true
  }

  private retryLater(): void {
    if (this.closed) return
    const wait = this.delay
    this.delay = Math.min(this.delay * 2, OPEN_RETRY_MAX_MS)
    this.timer = background(
      this.opts.clock.setTimeout(() => {
        this.timer = undefined
        void this.attempt()
      }, wait),
    )
  }

  private emit(up: boolean): void {
    for (const h of this.stateHandlers) h(up)
  }
}
