/**
 * One session of a secure channel: the encryptor and decryptor over one
 * finished Noise handshake, with the explicit truncated counter, the replay
 * window, key phases (Noise Rekey() by message count and by time) and the
 * session's own limits: soft limits ask for renewal (a new handshake, see
 * renewal.ts), hard limits refuse to seal or open. Every limit counts from this
 * session's birth, not the channel's.
 *
 * Counter forms: the sender uses the 12-bit short form while at most
 * SHORT_FORM_MAX_UNCONFIRMED of its messages are unconfirmed (the peer's
 * reliable ACKs and keep-alive reports confirm counters), the 20-bit long form
 * beyond, and refuses to seal past REJECT_AFTER_UNCONFIRMED, so a receiver
 * reconstructs every counter exactly after any run of losses.
 *
 * Processing is atomic: decrypt authenticates on a copy of the state and only
 * then commits the window, the key phase and the counters. A drop never
 * throws into the caller's receive path: tryOpen() returns its reason
 * without counting it (the channel tries each of its live sessions and counts
 * once, on its current session), open() counts it in `drops`.
 */
import { ErrorCode, HopsealError } from '../errors.ts'
import type { CipherState, TransportState } from '../noise/index.ts'
import { MAX_PHASE_STEPS, REJECT_AFTER_UNCONFIRMED, RENEW_AFTER_AUTH_FAILURES, RENEW_AFTER_UNCONFIRMED, SHORT_FORM_MAX_UNCONFIRMED } from './constants.ts'
import { MEDIUM_LIMITS, type SessionLimits } from './limits.ts'
import { ReplayWindow, reconstructCounterNumber } from './replay-window.ts'
import { Control, decodeHeader, encodeHeader, MessageType, type Header } from './wire.ts'

const RENEW_REQUEST = Uint8Array.of(Control.RENEW)

export type { SessionLimits } from './limits.ts'

/** The `ip` medium's session limits. */
export const DEFAULT_SESSION_LIMITS: SessionLimits = MEDIUM_LIMITS.ip.session

export interface Opened {
  type: MessageType
  counter: bigint
  plaintext: Uint8Array
}

/**
 * Why a message was not opened:
 * - `decode`: shorter than its header, or a renewal flight (type 11: no header, no counter);
 * - `duplicate`: its counter was accepted before (replay window);
 * - `stale`: its counter is older than the replay window reaches;
 * - `auth`: no key of the session authenticates it (forged, corrupted, or another session's);
 * - `expired`: the session is closed, or past its hard limit (its age, or a
 *   counter at rejectAfterMessages) and the message is not a RENEW request.
 */
export type DropReason = 'duplicate' | 'stale' | 'auth' | 'expired' | 'decode'

/** What the sending side of a session may do now. */
export type SendState = 'ok' | 'renew' | 'expired'

/** A time source: a function, or a clock object (passing the clock itself keeps the session from holding a closure, and whatever scope that closure captured). */
export type SessionNow = (() => number) | { now(): number }

const SESSION_LIMIT_KEYS = Object.keys(DEFAULT_SESSION_LIMITS) as (keyof SessionLimits)[]

/**
 * The limits a session runs under: the caller's object itself when it is
 * complete (a listener's limits, shared by all its channels: limits are
 * configuration and never mutated), else the defaults with its overrides.
 */
function sessionLimits(limits: Partial<SessionLimits>): SessionLimits {
  for (const k of SESSION_LIMIT_KEYS) if (typeof limits[k] !== 'number') return { ...DEFAULT_SESSION_LIMITS, ...limits }
  return limits as SessionLimits
}

export class ChannelSession {
  readonly limits: SessionLimits
  /** When this session's keys were made (clock ms). */
  readonly born: number
  /** The first handshake's hash (§11.2 channel binding). */
  readonly handshakeHash: Uint8Array
  /*
   * Counters are numbers (every limit is below 2^53: REJECT_AFTER_MESSAGES is
   * 2^48); the API speaks bigint. Heap matters here: a gateway holds one
   * session per device, so the replay window, the drop counts and the
   * previous key exist only once they are needed.
   */
  private sendCounter = 0
  /** The highest of this side's counters that the peer confirmed receiving (-1: none). */
  private confirmedTop = -1
  private sendPhase: 0 | 1 = 0
  private sentUnderKey = 0
  private sendKeyBorn: number
  private readonly send: CipherState
  private recvCurrent: CipherState
  private recvPrevious: CipherState | undefined
  private recvPhase: 0 | 1 = 0
  /** Made at the first accepted message (an idle channel has none). */
  private window: ReplayWindow | undefined
  private drops_: Record<DropReason, number> | undefined
  private closed = false
  private readonly clock: SessionNow

  constructor(
    transport: TransportState,
    now: SessionNow,
    limits: Partial<SessionLimits> = {},
    /** Renewals since the channel's first handshake (0 for the first session). */
    readonly epoch = 0,
  ) {
    this.limits = sessionLimits(limits)
    // The window is made lazily: check its size now, as ReplayWindow's constructor would.
    const w = this.limits.replayWindow
    if (!Number.isInteger(w) || w < 32 || w % 32 !== 0 || w > 65536) throw new RangeError('replay window size must be a multiple of 32 in 32..65536')
    this.clock = now
    this.born = this.now()
    this.sendKeyBorn = this.born
    this.send = transport.send
    this.recvCurrent = transport.recv
    this.handshakeHash = transport.handshakeHash
  }

  /** Drops by reason. */
  get drops(): Record<DropReason, number> {
    return (this.drops_ ??= { duplicate: 0, stale: 0, auth: 0, expired: 0, decode: 0 })
  }

  /** The highest counter received so far (-1n before any). */
  get highestReceived(): bigint {
    return this.window ? this.window.highest : -1n
  }

  get messagesSent(): bigint {
    return BigInt(this.sendCounter)
  }

  /** Messages sent since the last one the peer confirmed. */
  get unconfirmed(): bigint {
    return BigInt(this.sendCounter - 1 - this.confirmedTop)
  }

  /** The peer reports it accepted counter `n` of ours (a reliable ACK, a keep-alive report). Ignores reports of counters never sent. */
  confirm(n: bigint): void {
    if (n > this.confirmedTop && n < this.sendCounter) this.confirmedTop = Number(n)
  }

  private now(): number {
    const c = this.clock
    return typeof c === 'function' ? c() : c.now()
  }

  /** The sending side's state: `renew` past a soft limit, `expired` past a hard one (seal() would throw). */
  sendState(): SendState {
    if (this.closed) return 'expired'
    const age = this.now() - this.born
    const l = this.limits
    const unconfirmed = this.sendCounter - 1 - this.confirmedTop
    if (this.sendCounter >= l.rejectAfterMessages || age >= l.rejectAfterMs || unconfirmed >= REJECT_AFTER_UNCONFIRMED) return 'expired'
    if (this.sendCounter >= l.renewAfterMessages || age >= l.renewAfterMs || unconfirmed >= RENEW_AFTER_UNCONFIRMED || (this.drops_?.auth ?? 0) >= RENEW_AFTER_AUTH_FAILURES) return 'renew'
    return 'ok'
  }

  /** True once the session is too old to open messages (receive-side hard limit). */
  get receiveExpired(): boolean {
    return this.now() - this.born >= this.limits.rejectAfterMs
  }

  /** Encrypts one message: header ‖ counter ‖ AEAD. Throws CHANNEL_CLOSED, or CHANNEL_EXPIRED past a hard limit. */
  seal(type: MessageType, plaintext: Uint8Array): Uint8Array {
    if (this.closed) throw new HopsealError(ErrorCode.CHANNEL_CLOSED, 'channel is closed')
    if (this.sendState() === 'expired') throw new HopsealError(ErrorCode.CHANNEL_EXPIRED, 'session reached a hard limit (age, messages or unconfirmed messages): renew the channel')
    const t = this.now()
    const l = this.limits
    if (this.sentUnderKey >= l.rekeyAfterMessages || (l.rekeyAfterMs > 0 && t - this.sendKeyBorn >= l.rekeyAfterMs)) {
      this.send.rekey()
      this.sendPhase ^= 1
      this.sentUnderKey = 0
      this.sendKeyBorn = t
    }
    return this.sealNext(type, plaintext)
  }

  private sealNext(type: MessageType, plaintext: Uint8Array): Uint8Array {
    const n = this.sendCounter
    const header = encodeHeader(type, this.sendPhase, n, n - this.confirmedTop > SHORT_FORM_MAX_UNCONFIRMED)
    const sealed = this.send.encryptWithNonce(n, header, plaintext, header)
    this.sendCounter++
    this.sentUnderKey++
    return sealed
  }

  /**
   * A CONTROL RENEW request, sealed even past the session's hard time and
   * unconfirmed limits (it carries no data: the limits protect data; a
   * responder whose session expired has no other way to ask for renewal).
   */
  sealRenewRequest(): Uint8Array {
    if (this.closed) throw new HopsealError(ErrorCode.CHANNEL_CLOSED, 'channel is closed')
    return this.sealNext(MessageType.CONTROL, RENEW_REQUEST)
  }

  /**
   * Authenticates and decrypts one message without counting a failure: the
   * channel tries each of its live sessions and counts once.
   */
  tryOpen(message: Uint8Array): Opened | DropReason {
    if (this.closed) return 'expired'
    let h
    try {
      h = decodeHeader(message)
    } catch {
      return 'decode'
    }
    if (h.type === MessageType.HANDSHAKE) return 'decode'
    // Past the hard limit only a RENEW request is opened (session.sealRenewRequest).
    const expired = this.receiveExpired
    if (expired && h.type !== MessageType.CONTROL) return 'expired'
    // Numbers, not bigints: counters stay below rejectAfterMessages (at most 2^48).
    const top = this.window ? this.window.highestNumber : -1
    const n = reconstructCounterNumber(top + 1, h.counter, h.bits)
    const verdict = this.window ? this.window.check(n) : 'ok'
    if (verdict !== 'ok') return verdict
    if (n >= this.limits.rejectAfterMessages) return 'expired'
    const found = this.decrypt(h, n, n > top, message.subarray(0, h.length), message.subarray(h.length))
    if (!found) return 'auth'
    if (expired && !(found.plaintext.length === 1 && found.plaintext[0] === Control.RENEW)) {
      found.next?.destroy()
      return 'expired'
    }
    // Authenticated: commit.
    ;(this.window ??= new ReplayWindow(this.limits.replayWindow)).commit(n)
    if (found.next) {
      this.recvPrevious?.destroy()
      this.recvPrevious = this.recvCurrent
      this.recvCurrent = found.next
      this.recvPhase = h.phase
    }
    return { type: h.type, counter: BigInt(n), plaintext: found.plaintext }
  }

  /**
   * Which key opens counter n: the current phase's, the previous one's
   * (reordered), or a later phase's (the peer rekeyed, perhaps several times
   * while its messages were lost): only for a message newer than anything
   * accepted (`newest`). A later phase's key comes back uncommitted as `next`.
   */
  private decrypt(h: Header, n: number, newest: boolean, ad: Uint8Array, body: Uint8Array): { plaintext: Uint8Array; next?: CipherState } | undefined {
    const sameKey = h.phase === this.recvPhase ? this.recvCurrent : this.recvPrevious
    if (sameKey) {
      try {
        return { plaintext: sameKey.decryptWithNonce(n, ad, body) }
      } catch {
        /* a later phase, below */
      }
    }
    return newest ? this.decryptLaterPhase(h.phase, n, ad, body) : undefined
  }

  /** Tries the keys MAX_PHASE_STEPS rekeys ahead whose phase bit matches the message's; the matching key is returned, the others destroyed. */
  private decryptLaterPhase(phase: 0 | 1, n: number, ad: Uint8Array, body: Uint8Array): { plaintext: Uint8Array; next: CipherState } | undefined {
    const steps = phase === this.recvPhase ? [2] : [1, 3]
    const k = this.recvCurrent.clone()
    for (let step = 1; step <= MAX_PHASE_STEPS; step++) {
      k.rekey()
      if (!steps.includes(step)) continue
      try {
        return { plaintext: k.decryptWithNonce(n, ad, body), next: k }
      } catch {
        /* next step */
      }
    }
    k.destroy()
    return undefined
  }

  /** tryOpen() that counts the reason of a drop (undefined: dropped). */
  open(message: Uint8Array): Opened | undefined {
    const r = this.tryOpen(message)
    if (typeof r === 'string') {
      this.drops[r]++
      return undefined
    }
    return r
  }

  /** Counts a drop decided by the caller. */
  countDrop(reason: DropReason): void {
    this.drops[reason]++
  }

  /** Wipes keys; further seal() throws CHANNEL_CLOSED, open() returns undefined. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.send.destroy()
    this.recvCurrent.destroy()
    this.recvPrevious?.destroy()
  }

  get isClosed(): boolean {
    return this.closed
  }
}
