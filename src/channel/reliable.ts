/**
 * Reliable mode for application messages, in the spirit of Matter's MRP:
 * every DATA message carries a sequence number inside the encryption
 * (varint, before the payload); the receiver acknowledges cumulatively
 * (CONTROL ACK with the next sequence it expects), delivers in order exactly
 * once, and buffers a bounded number of early messages; the sender keeps a
 * bounded number of unacknowledged messages and retransmits them (re-sealed
 * with a new channel counter) with exponential backoff.
 *
 * Both ends must enable it. `send()` resolves when the peer acknowledged,
 * rejects LIMIT_EXCEEDED when the send buffer is full (nothing accepted is
 * dropped) and CHANNEL_DELIVERY_FAILED after the last retransmission.
 */
import { ErrorCode, HopsealError } from '../errors.ts'
import { concat, decodeVarint, encodeVarint } from '../bytes/index.ts'
import type { Clock } from './clock.ts'

export interface ReliableOptions {
  /** First retransmission after this long without an ack (ms); doubles up to maxBackoffMs. */
  ackTimeoutMs: number
  maxBackoffMs: number
  /** Retransmissions of one message before delivery fails. */
  maxRetransmits: number
  /** Unacknowledged messages the sender holds (bounded memory). */
  sendBuffer: number
  /** Early (out-of-order) messages the receiver holds. */
  receiveBuffer: number
}

/** Defaults sized for a broker restart or a radio blackout of about a minute. */
export const DEFAULT_RELIABLE: ReliableOptions = Object.freeze({ ackTimeoutMs: 1000, maxBackoffMs: 8000, maxRetransmits: 12, sendBuffer: 64, receiveBuffer: 64 })

interface Outstanding {
  payload: Uint8Array
  attempts: number
  timer: unknown
  resolve: () => void
  reject: (e: Error) => void
}

export class ReliableSender {
  private next = 0
  private readonly outstanding = new Map<number, Outstanding>()

  constructor(
    private readonly opts: ReliableOptions,
    private readonly clock: Clock,
    /** Seals and sends one framed plaintext (seq ‖ payload). */
    private readonly transmit: (framed: Uint8Array) => Promise<void>,
    private readonly count: (reason: string) => void,
  ) {}

  get unacked(): number {
    return this.outstanding.size
  }

  send(payload: Uint8Array): Promise<void> {
    if (this.outstanding.size >= this.opts.sendBuffer) {
      return Promise.reject(new HopsealError(ErrorCode.LIMIT_EXCEEDED, `reliable send buffer full (${this.opts.sendBuffer} unacknowledged messages)`))
    }
    const seq = this.next++
    return new Promise<void>((resolve, reject) => {
      const o: Outstanding = { payload: payload.slice(), attempts: 0, timer: undefined, resolve, reject }
      this.outstanding.set(seq, o)
      this.fire(seq, o)
    })
  }

  /** ACK(n): every sequence below n arrived. */
  onAck(n: number): void {
    for (const [seq, o] of this.outstanding) {
      if (seq >= n) continue
      this.clock.clearTimeout(o.timer)
      this.outstanding.delete(seq)
      o.resolve()
    }
  }

  /** Fails everything still outstanding (channel closed). */
  fail(e: Error): void {
    for (const o of this.outstanding.values()) {
      this.clock.clearTimeout(o.timer)
      o.reject(e)
    }
    this.outstanding.clear()
  }

  private fire(seq: number, o: Outstanding): void {
    o.attempts++
    if (o.attempts > 1) this.count('reliable.retransmitted')
    this.transmit(concat(encodeVarint(seq), o.payload)).catch(() => this.count('reliable.send_error'))
    const wait = Math.min(this.opts.ackTimeoutMs * 2 ** (o.attempts - 1), this.opts.maxBackoffMs)
    o.timer = this.clock.setTimeout(() => {
      if (!this.outstanding.has(seq)) return
      if (o.attempts > this.opts.maxRetransmits) {
        this.outstanding.delete(seq)
        this.count('reliable.delivery_failed')
        o.reject(new HopsealError(ErrorCode.CHANNEL_DELIVERY_FAILED, `message ${seq} not acknowledged after ${o.attempts} transmissions`))
        return
      }
      this.fire(seq, o)
    }, wait)
  }
}

export class ReliableReceiver {
  private expected = 0
  private readonly early = new Map<number, Uint8Array>()

  constructor(
    private readonly opts: ReliableOptions,
    private readonly deliver: (payload: Uint8Array) => Promise<void>,
    private readonly ack: (next: number) => Promise<void>,
    private readonly count: (reason: string) => void,
  ) {}

  /** Handles one framed plaintext; delivers what is now in order; always acks. */
  async receive(framed: Uint8Array): Promise<void> {
    let seq: number
    let off: number
    try {
      const v = decodeVarint(framed, 0)
      seq = v.value
      off = v.length
    } catch {
      this.count('reliable.drop_decode')
      return
    }
    if (seq < this.expected || this.early.has(seq)) this.count('reliable.duplicate')
    else if (seq === this.expected) {
      await this.deliver(framed.subarray(off))
      this.expected++
      for (let m = this.early.get(this.expected); m; m = this.early.get(this.expected)) {
        this.early.delete(this.expected)
        await this.deliver(m)
        this.expected++
      }
    } else if (this.early.size < this.opts.receiveBuffer && seq < this.expected + 4 * this.opts.receiveBuffer) {
      this.early.set(seq, framed.slice(off))
    } else this.count('reliable.drop_buffer_full')
    await this.ack(this.expected)
  }
}
