/**
 * Reassembly of fragmented messages (fragment.ts) received on one link, with
 * bounded memory whatever arrives:
 *
 * - at most `maxMessages` partial messages and `maxBytes` buffered fragment
 *   bytes; a new message beyond either limit evicts the oldest partial
 *   (`evicted`);
 * - a partial with no new fragment for `timeoutMs` on the injected clock is
 *   dropped (`expired`);
 * - duplicate fragments are ignored (`duplicate`); a fragment whose last index
 *   differs from its partial's drops that partial (`inconsistent`) and starts
 *   over from the new fragment (the sender's 7-bit ids wrapped);
 * - a completed msgId is remembered, so late duplicates of its fragments are
 *   ignored (`duplicate`) rather than starting a ghost message. It is
 *   forgotten after `timeoutMs`, or as soon as a new message 32..96 ids ahead
 *   of it starts (the sender is about to wrap back to it: ids are 7 bits);
 * - a message growing over `maxMessage` bytes is dropped (`too_large`).
 *
 * Fragments are kept as the views they arrived in (frames are copies owned by
 * the receiver, FrameLink contract); the message is copied once, at the end.
 */
import { ErrorCode, HopsealError } from '../../../../src/errors.ts'
import { background, type Clock } from '../../../../src/time/clock.ts'
import { MSG_ID_MODULUS } from './constants.ts'

/** A received fragment (fragment.ts `ParsedFrame` of kind 'fragment'). */
export interface Fragment {
  msgId: number
  index: number
  last: number
  payload: Uint8Array
}

export interface ReassemblerOptions {
  clock: Clock
  /** Inactivity timeout of a partial message (ms). */
  timeoutMs: number
  /** Most partial messages held at once. */
  maxMessages: number
  /** Most fragment bytes held at once, all partials together. */
  maxBytes: number
  /** Largest message accepted (bytes). */
  maxMessage: number
  /** Called once per dropped fragment or partial message, with the reason. */
  onDrop?: (reason: 'evicted' | 'expired' | 'duplicate' | 'inconsistent' | 'too_large') => void
}

interface Partial {
  readonly msgId: number
  readonly last: number
  readonly parts: (Uint8Array | undefined)[]
  received: number
  bytes: number
  timer: unknown
}

/** Ids ahead of a remembered one that make it forgettable (see module doc). */
const FORGET_MIN_DISTANCE = 32
const FORGET_MAX_DISTANCE = 96

export class Reassembler {
  private readonly partials = new Map<number, Partial>()
  private readonly completed = new Map<number, number>() // msgId → forget at (clock ms)
  private total = 0
  private readonly o: ReassemblerOptions

  /** @throws INVALID_ARGUMENT for non-positive limits. */
  constructor(opts: ReassemblerOptions) {
    for (const k of ['timeoutMs', 'maxMessages', 'maxBytes', 'maxMessage'] as const) {
      const v = opts[k]
      if (!Number.isFinite(v) || v <= 0) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `reassembly ${k} expected a positive number, got ${v}`)
    }
    this.o = opts
  }

  /** Fragment bytes held now (≤ maxBytes). */
  get bufferedBytes(): number {
    return this.total
  }

  /** Partial messages held now (≤ maxMessages). */
  get partialCount(): number {
    return this.partials.size
  }

  /** Adds one fragment; returns the whole message when this fragment completed it. Never throws. */
  push(f: Fragment): Uint8Array | undefined {
    const now = this.o.clock.now()
    const forgetAt = this.completed.get(f.msgId)
    if (forgetAt !== undefined) {
      if (forgetAt > now) {
        this.o.onDrop?.('duplicate')
        return undefined
      }
      this.completed.delete(f.msgId)
    }
    let p = this.partials.get(f.msgId)
    if (p && p.last !== f.last) {
      this.remove(p)
      this.o.onDrop?.('inconsistent')
      p = undefined
    }
    if (!p) {
      while (this.partials.size >= this.o.maxMessages) this.evictOldest()
      p = { msgId: f.msgId, last: f.last, parts: new Array<Uint8Array | undefined>(f.last + 1), received: 0, bytes: 0, timer: undefined }
      this.partials.set(f.msgId, p)
      this.forgetPassed(f.msgId)
    }
    if (p.parts[f.index] !== undefined) {
      this.o.onDrop?.('duplicate')
      return undefined
    }
    const len = f.payload.length
    if (p.bytes + len > this.o.maxMessage || p.bytes + len > this.o.maxBytes) {
      this.remove(p)
      this.o.onDrop?.('too_large')
      return undefined
    }
    while (this.total + len > this.o.maxBytes) this.evictOldest(p)
    p.parts[f.index] = f.payload
    p.received++
    p.bytes += len
    this.total += len
    if (p.received === p.last + 1) {
      const msg = new Uint8Array(p.bytes)
      let o = 0
      for (const part of p.parts) {
        msg.set(part!, o)
        o += part!.length
      }
      this.remove(p)
      this.completed.set(p.msgId, now + this.o.timeoutMs)
      return msg
    }
    this.arm(p)
    return undefined
  }

  /** Drops every partial message and cancels their timers. */
  clear(): void {
    for (const p of [...this.partials.values()]) this.remove(p)
    this.completed.clear()
  }

  private arm(p: Partial): void {
    if (p.timer !== undefined) this.o.clock.clearTimeout(p.timer)
    p.timer = background(
      this.o.clock.setTimeout(() => {
        p.timer = undefined
        if (this.partials.get(p.msgId) !== p) return
        this.remove(p)
        this.o.onDrop?.('expired')
      }, this.o.timeoutMs),
    )
  }

  /** Evicts the oldest partial other than `keep` (there is one whenever `keep` alone fits the limits). */
  private evictOldest(keep?: Partial): void {
    for (const p of this.partials.values()) {
      if (p === keep) continue
      this.remove(p)
      this.o.onDrop?.('evicted')
      return
    }
  }

  private remove(p: Partial): void {
    if (p.timer !== undefined) this.o.clock.clearTimeout(p.timer)
    p.timer = undefined
    if (this.partials.get(p.msgId) === p) this.partials.delete(p.msgId)
    this.total -= p.bytes
    p.bytes = 0
    p.parts.fill(undefined)
  }

  private forgetPassed(msgId: number): void {
    for (const id of this.completed.keys()) {
      const ahead = (msgId - id + MSG_ID_MODULUS) % MSG_ID_MODULUS
      if (ahead >= FORGET_MIN_DISTANCE && ahead <= FORGET_MAX_DISTANCE) this.completed.delete(id)
    }
  }
}
