/**
 * The part of a framed byte-stream link shared by `streamFrameLink` (any
 * stream) and `openSerialLink` (a serial port that can be unplugged and
 * re-plugged): encode frames onto the current stream, decode the bytes that
 * come back, track writes in flight and the up/down state. Internal.
 */
import { ErrorCode, HopsealError } from '../../../../src/errors.ts'
import { cobsMaxEncodedLength } from './cobs.ts'
import { CRC_LENGTH, DEFAULT_RAW_MTU } from './constants.ts'
import { encodeFrame, FrameDecoder } from './framer.ts'

/** The slice of a Node stream the framing needs (net.Socket, SerialPort, PassThrough). */
export interface ByteStream {
  write(b: Uint8Array, cb?: (e?: Error | null) => void): unknown
  on(ev: 'data', f: (b: Buffer) => void): unknown
}

/** Largest MTU a framed stream link accepts (bytes): bounds the decoder buffer. */
const MAX_STREAM_MTU = 65_536

export interface FrameCodecOptions {
  mtu?: number
  maxFrame?: number
}

interface PendingWrite {
  reject(e: Error): void
}

export class FrameCodecLink {
  readonly mtu: number
  readonly decoder: FrameDecoder
  private stream: ByteStream | undefined
  private flushFirst = false
  private closed = false
  private readonly pending = new Set<PendingWrite>()
  private frameHandler: ((frame: Uint8Array) => void) | undefined
  private readonly stateHandlers: ((up: boolean) => void)[] = []
  private readonly sent = { framesSent: 0, bytesSent: 0, bytesReceived: 0, writeErrors: 0 }
  /** Extra counters owned by the wrapper (reopens, stream errors…). */
  readonly extra: Record<string, number> = {}

  constructor(
    readonly label: string,
    opts: FrameCodecOptions = {},
  ) {
    const mtu = opts.mtu ?? DEFAULT_RAW_MTU
    if (!Number.isInteger(mtu) || mtu < 1 || mtu > MAX_STREAM_MTU) {
      throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `${label}: mtu expected an integer in 1..${MAX_STREAM_MTU}, got ${mtu}`)
    }
    this.mtu = mtu
    this.decoder = new FrameDecoder((f) => this.frameHandler?.(f), opts.maxFrame ?? cobsMaxEncodedLength(mtu + CRC_LENGTH))
  }

  get up(): boolean {
    return !this.closed && this.stream !== undefined
  }

  get isClosed(): boolean {
    return this.closed
  }

  get counters(): Readonly<Record<string, number>> {
    return { ...this.decoder.counters, ...this.sent, ...this.extra }
  }

  count(key: string, n = 1): void {
    this.extra[key] = (this.extra[key] ?? 0) + n
  }

  /** Receive path: bytes read from the current stream. */
  receive(b: Uint8Array): void {
    if (this.closed || !(b instanceof Uint8Array)) return
    this.sent.bytesReceived += b.length
    this.decoder.push(b)
  }

  /** Makes `stream` the current one (link up). The first frame written is preceded by a lone 0x00 that flushes the peer's partial frame. */
  attach(stream: ByteStream): void {
    if (this.closed) return
    this.stream = stream
    this.flushFirst = true
    this.decoder.reset()
    this.emitState(true)
  }

  /** The current stream is gone (link down): writes in flight reject TRANSPORT_UNAVAILABLE. */
  detach(reason: string): void {
    const wasUp = this.up
    this.stream = undefined
    this.decoder.reset()
    this.failPending(reason)
    if (wasUp) this.emitState(false)
  }

  /** Closes for good: the current stream is detached and later sends reject. */
  close(): void {
    if (this.closed) return
    const wasUp = this.up
    this.closed = true
    this.stream = undefined
    this.failPending('link closed')
    if (wasUp) this.emitState(false)
  }

  send(frame: Uint8Array): Promise<void> {
    if (!(frame instanceof Uint8Array)) return Promise.reject(new HopsealError(ErrorCode.INVALID_ARGUMENT, `${this.label}: frame expected Uint8Array`))
    if (frame.length > this.mtu) return Promise.reject(new HopsealError(ErrorCode.FRAME_TOO_LARGE, `${this.label}: frame of ${frame.length} bytes exceeds the MTU ${this.mtu}`))
    const stream = this.stream
    if (this.closed || !stream) return Promise.reject(new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, `${this.label}: link is ${this.closed ? 'closed' : 'down'}`))
    let wire = encodeFrame(frame)
    if (this.flushFirst) {
      this.flushFirst = false
      const w = new Uint8Array(wire.length + 1)
      w.set(wire, 1)
      wire = w
    }
    return new Promise<void>((resolve, reject) => {
      let settled = false
      const p: PendingWrite = {
        reject: (e) => {
          if (settled) return
          settled = true
          this.pending.delete(p)
          reject(e)
        },
      }
      this.pending.add(p)
      const done = (err?: Error | null): void => {
        if (settled) return
        settled = true
        this.pending.delete(p)
        if (err) {
          this.sent.writeErrors++
          reject(new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, `${this.label}: write failed: ${err.message}`, { cause: err }))
        } else {
          this.sent.framesSent++
          this.sent.bytesSent += wire.length
          resolve()
        }
      }
      try {
        stream.write(wire, done)
      } catch (e) {
        done(e instanceof Error ? e : new Error(String(e)))
      }
    })
  }

  onFrame(handler: (frame: Uint8Array) => void): void {
    this.frameHandler = handler
  }

  onStateChange(handler: (up: boolean) => void): void {
    this.stateHandlers.push(handler)
  }

  private failPending(reason: string): void {
    for (const p of [...this.pending]) p.reject(new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, `${this.label}: ${reason} before the write completed`))
  }

  private emitState(up: boolean): void {
    for (const h of this.stateHandlers) {
      try {
        h(up)
      } catch {
        this.count('stateHandlerErrors')
      }
    }
  }
}
