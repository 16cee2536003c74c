/**
 * Reliable mode for application messages, in the spirit of Matter's MRP:
 * every DATA message carries a sequence number inside the encryption
 * (varint, before the payload); the receiver acknowledges cumulatively
 * (CONTROL ACK with the next sequence it expects), delivers in order exactly
 * once, and buffers a bounded number of early messages; the sender keeps a
 * bounded number of unacknowledged messages and retransmits them (re-sealed
 * with a new channel counter) with exponential backoff from a retransmission
 * timeout measured like TCP's (RFC 6298: smoothed RTT + 4 × its variation,
 * first transmissions only), floored at `minAckTimeoutMs`.
 *
 * Both ends must enable it. `send()` resolves when the peer acknowledged,
 * rejects LIMIT_EXCEEDED when the send buffer is full (nothing accepted is
 * dropped) and CHANNEL_DELIVERY_FAILED after the last retransmission.
 */
import { ErrorCode, HopsealError } from '../errors.ts'
import { concat, decodeVarint, encodeVarint } from '../bytes/index.ts'
import type { Clock } from './clock.ts'

export interface ReliableOptions {
  /**
   * Retransmission timeout before the first round trip is measured (ms);
   * afterwards it follows the measured RTT (never below minAckTimeoutMs) and
   * doubles at each retransmission of a message, up to maxBackoffMs.
   */
  ackTimeoutMs: number
  /** Floor of the measured retransmission timeout (ms). */
  minAckTimeoutMs: number
  maxBackoffMs: number
  /** Retransmissions of one message before delivery fails. */
  maxRetransmits: number
  /** Unacknowledged messages the sender holds (bounded memory). */
  sendBuffer: number
  /** Early (out-of-order) messages the receiver holds. */
  receiveBuffer: number
}

/** Later messages selectively acknowledged before a gap counts as lost (TCP's three duplicate acks). */
export const FAST_RETRANSMIT_AFTER = 3

/** Largest selective-ack bitmap (bytes): covers the 64 messages after the first gap, the default receive buffer. */
export const MAX_SACK_BYTES = 8

/** Defaults sized for a broker restart or a radio blackout of about a minute. */
export const DEFAULT_RELIABLE: ReliableOptions = Object.freeze({ ackTimeoutMs: 1000, minAckTimeoutMs: 100, maxBackoffMs: 8000, maxRetransmits: 12, sendBuffer: 64, receiveBuffer: 64 })

interface Outstanding {
  payload: Uint8Array
  attempts: number
  timer: unknown
  resolve: () => void
  reject: (e: Error) => void
  /** This transmission was a fast retransmit (at most one per transmission). */
  fastSent?: boolean
  /** When the first transmission went out (clock ms): the RTT sample if it is acknowledged without a retransmission. */
  sentAt: number
  /** Tells the channel that its first transmission arrived (confirms its counter), when the ack comes. */
  confirm?: () => void
  /** The last transmission failed locally (never went out, e.g. the session had expired). */
  failed?: boolean
  /** The last transmission has not left this node yet (it waits in a duty-cycled radio's send queue). */
  sending?: boolean
}

/** RFC 6298 gains: SRTT ← 7/8 SRTT + 1/8 R, RTTVAR ← 3/4 RTTVAR + 1/4 |SRTT − R|. */
const RTT_ALPHA = 1 / 8
const RTT_BETA = 1 / 4
/** The floor of the RTO's variance term is SRTT divided by this (see `rto`). */
const RTO_VARIANCE_FLOOR_DIVISOR = 4

export class ReliableSender {
  private next = 0
  private readonly outstanding = new Map<number, Outstanding>()
  private srtt: number | undefined
  private rttvar = 0

  constructor(
    private readonly opts: ReliableOptions,
    private readonly clock: Clock,
    /** Seals and sends one framed plaintext (seq ‖ payload); may resolve with a callback run when that transmission is known to have arrived. */
    private readonly transmit: (framed: Uint8Array) => Promise<(() => void) | void>,
    private readonly count: (reason: string) => void,
  ) {}

  /**
   * The sending window in use: from the oldest unacknowledged sequence to the
   * next one. It bounds memory here and, because it never exceeds the
   * receiver's early buffer, no message the receiver would have to drop is
   * ever sent (counting only unacknowledged messages let selective acks slide
   * the window past a lost message until the receiver dropped everything).
   */
  get unacked(): number {
    for (const seq of this.outstanding.keys()) return this.next - seq // Map keeps insertion (= sequence) order
    return 0
  }

  send(payload: Uint8Array): Promise<void> {
    if (this.unacked >= Math.min(this.opts.sendBuffer, this.opts.receiveBuffer)) {
      return Promise.reject(new HopsealError(ErrorCode.LIMIT_EXCEEDED, `reliable send window full (${this.unacked} messages since the oldest unacknowledged one)`))
    }
    const seq = this.next++
    return new Promise<void>((resolve, reject) => {
      const o: Outstanding = { payload: payload.slice(), attempts: 0, timer: undefined, resolve, reject, sentAt: this.clock.now() }
      this.outstanding.set(seq, o)
      this.fire(seq, o)
    })
  }

  /**
   * ACK(n, sack): every sequence below n arrived, and so did n + 1 + i for
   * every bit i set in `sack` (LSB first). The selective part stops the
   * sender from retransmitting messages the receiver already buffers behind
   * one lost message (on a radio with 20 % loss, cumulative acks alone made
   * every outstanding message go out again at each timeout).
   */
  onAck(n: number, sack?: Uint8Array): void {
    let highest = n - 1
    let sample: Outstanding | undefined
    for (const [seq, o] of this.outstanding) {
      const d = seq - n - 1
      const sacked = sack !== undefined && sackBit(sack, d)
      if (seq >= n && !sacked) continue
      highest = Math.max(highest, seq)
      if (o.attempts === 1) sample = o // Karn: a retransmitted message's ack is ambiguous
      this.clock.clearTimeout(o.timer)
      this.outstanding.delete(seq)
      // The receiver holds at least the first transmission's counter: if a later copy arrived instead, its counter is higher.
      o.confirm?.()
      o.resolve()
    }
    if (sample) this.measure(this.clock.now() - sample.sentAt)
    // Fast retransmit: a message FAST_RETRANSMIT_AFTER later messages overtook
    // is lost, not late; resend it now (once per transmission) rather than
    // after its backoff timer, which on a lossy radio doubles at each loss.
    for (const [seq, o] of this.outstanding) {
      if (seq >= highest) break
      if (!o.fastSent && highest - seq >= FAST_RETRANSMIT_AFTER && this.sackedAbove(seq, n, sack) >= FAST_RETRANSMIT_AFTER) {
        this.clock.clearTimeout(o.timer)
        this.count('reliable.fast_retransmit')
        this.fire(seq, o, true)
      }
    }
  }

  /**
   * The retransmission timeout now in use (ms): RFC 6298's SRTT + max(G,
   * 4·RTTVAR) with G = SRTT/4. On a link whose round trip hardly varies (LoRa:
   * airtime plus a duty-cycle wait) RTTVAR decays to 0 and a plain SRTT +
   * 4·RTTVAR fires just as the ACK arrives, sending a copy per message.
   */
  get rto(): number {
    if (this.srtt === undefined) return this.opts.ackTimeoutMs
    const rto = this.srtt + Math.max(this.srtt / RTO_VARIANCE_FLOOR_DIVISOR, 4 * this.rttvar)
    return Math.min(Math.max(this.opts.minAckTimeoutMs, rto), this.opts.maxBackoffMs)
  }

  private measure(r: number): void {
    if (!(r >= 0)) return
    if (this.srtt === undefined) {
      this.srtt = r
      this.rttvar = r / 2
    } else {
      this.rttvar = (1 - RTT_BETA) * this.rttvar + RTT_BETA * Math.abs(this.srtt - r)
      this.srtt = (1 - RTT_ALPHA) * this.srtt + RTT_ALPHA * r
    }
  }

  private sackedAbove(seq: number, n: number, sack: Uint8Array | undefined): number {
    if (!sack) return 0
    let c = 0
    for (let d = Math.max(0, seq - n); d < sack.length * 8; d++) if (sackBit(sack, d)) c++
    return c
  }

  /**
   * Sends again now every outstanding message whose last transmission never
   * went out (a renewed session: what failed for want of keys leaves at once
   * instead of at its backoff timer; what went out is left to its timer).
   */
  retransmitFailed(): void {
    for (const [seq, o] of this.outstanding) {
      if (!o.failed) continue
      this.clock.clearTimeout(o.timer)
      this.fire(seq, o)
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

  private fire(seq: number, o: Outstanding, fast = false): void {
    o.fastSent = fast
    o.attempts++
    if (o.attempts > 1) this.count('reliable.retransmitted')
    o.failed = false
    o.sending = true
    this.transmit(concat(encodeVarint(seq), o.payload)).then(
      (confirm) => {
        o.sending = false
        // The earliest transmission that went out: whichever copy arrived, the receiver holds at least its counter.
        if (confirm && !o.confirm) o.confirm = confirm
      },
      () => {
        o.sending = false
        o.failed = true
        this.count('reliable.send_error')
      },
    )
    const wait = Math.min(this.rto * 2 ** (o.attempts - 1), this.opts.maxBackoffMs)
    o.timer = this.clock.setTimeout(() => {
      if (!this.outstanding.has(seq)) return
      if (o.sending) {
        // The last copy is still queued behind the radio's duty cycle: another copy would only queue behind it
        // (on a LoRa link at 10 %, copies piled up until round trips and timeouts only grew). Wait for it to leave.
        this.count('reliable.retransmit_still_queued')
        this.rearm(seq, o, wait)
        return
      }
      if (o.attempts > this.opts.maxRetransmits) {
        this.outstanding.delete(seq)
        this.count('reliable.delivery_failed')
        o.reject(new HopsealError(ErrorCode.CHANNEL_DELIVERY_FAILED, `message ${seq} not acknowledged after ${o.attempts} transmissions`))
        return
      }
      this.fire(seq, o)
    }, wait)
  }

  private rearm(seq: number, o: Outstanding, wait: number): void {
    o.timer = this.clock.setTimeout(() => {
      if (!this.outstanding.has(seq)) return
      if (o.sending) return this.rearm(seq, o, wait)
      this.fire(seq, o)
    }, wait)
  }
}

export class ReliableReceiver<M = unknown> {
  private expected = 0
  private readonly early = new Map<number, { payload: Uint8Array; meta: M }>()
  /** Accepted in order, not yet handed to `deliver` (one drain loop keeps them in order). */
  private readonly ready: { payload: Uint8Array; meta: M }[] = []
  private draining: Promise<void> | undefined

  constructor(
    private readonly opts: ReliableOptions,
    private readonly deliver: (payload: Uint8Array, meta: M) => Promise<void>,
    /** Sends ACK(next, sack): `sack` has bit i set when next + 1 + i is buffered (empty when nothing is). */
    private readonly ack: (next: number, sack: Uint8Array) => Promise<void>,
    private readonly count: (reason: string) => void,
  ) {}

  /**
   * Handles one framed plaintext; once what it made deliverable was
   * delivered, acks. The sequence state changes synchronously,
   * before any await, so a retransmission that arrives while an earlier copy
   * is still being delivered is a duplicate, never a second delivery.
   */
  async receive(framed: Uint8Array, meta: M): Promise<void> {
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
      this.ready.push({ payload: framed.slice(off), meta })
      this.expected++
      for (let m = this.early.get(this.expected); m; m = this.early.get(this.expected)) {
        this.early.delete(this.expected)
        this.ready.push(m)
        this.expected++
      }
    } else if (this.early.size < this.opts.receiveBuffer && seq < this.expected + 4 * this.opts.receiveBuffer) {
      this.early.set(seq, { payload: framed.slice(off), meta })
    } else this.count('reliable.drop_buffer_full')
    await this.drain()
    // Acked once delivered: a resolved send() means the peer's application has it.
    await this.ack(this.expected, this.sack())
  }

  private drain(): Promise<void> {
    if (this.draining) return this.draining
    if (this.ready.length === 0) return Promise.resolve()
    const run = async (): Promise<void> => {
      try {
        for (let m = this.ready.shift(); m; m = this.ready.shift()) await this.deliver(m.payload, m.meta)
      } finally {
        this.draining = undefined
      }
    }
    // Assigned before the loop's first await can clear it (the loop always awaits: ready is not empty).
    this.draining = run()
    return this.draining
  }

  /** The selective-ack bitmap of the early buffer, at most MAX_SACK_BYTES, trailing zero bytes trimmed. */
  private sack(): Uint8Array {
    if (this.early.size === 0) return new Uint8Array(0)
    const bits = new Uint8Array(MAX_SACK_BYTES)
    let len = 0
    for (const seq of this.early.keys()) {
      const d = seq - this.expected - 1
      const byte = d >= 0 ? bits[d >> 3] : undefined
      if (byte === undefined) continue // beyond what MAX_SACK_BYTES can say
      bits[d >> 3] = byte | (1 << (d & 7))
      len = Math.max(len, (d >> 3) + 1)
    }
    return bits.subarray(0, len)
  }
}

/** Bit `d` of a selective-ack bitmap (LSB first): false below 0 and past its last byte. */
function sackBit(sack: Uint8Array, d: number): boolean {
  const byte = d >= 0 ? sack[d >> 3] : undefined
  return byte !== undefined && (byte & (1 << (d & 7))) !== 0
}
