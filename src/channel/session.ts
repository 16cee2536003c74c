/**
 * The established half of a secure channel: encryptor and decryptor over a
 * finished Noise handshake, with the explicit truncated counter, the replay
 * window, and rekey by message count and by time (soft limits trigger a
 * rekey, hard limits refuse to send or receive until a new handshake).
 *
 * Processing is atomic: decrypt authenticates on a copy of the state and only
 * then commits the window, the key phase and the counters. Every drop is
 * counted by reason; none throws into the caller's receive path unless asked.
 */
import { ErrorCode, HopsealError } from '../errors.ts'
import type { CipherState, TransportState } from '../noise/index.ts'
import { REJECT_AFTER_MESSAGES, REJECT_AFTER_MS, REKEY_AFTER_MESSAGES, REKEY_AFTER_MS, REPLAY_WINDOW_SIZE } from './constants.ts'
import { ReplayWindow, reconstructCounter } from './replay-window.ts'
import { decodeHeader, encodeHeader, MessageType } from './wire.ts'

export interface SessionLimits {
  replayWindow: number
  rekeyAfterMessages: number
  rejectAfterMessages: number
  rekeyAfterMs: number
  rejectAfterMs: number
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = Object.freeze({
  replayWindow: REPLAY_WINDOW_SIZE,
  rekeyAfterMessages: REKEY_AFTER_MESSAGES,
  rejectAfterMessages: REJECT_AFTER_MESSAGES,
  rekeyAfterMs: REKEY_AFTER_MS,
  rejectAfterMs: REJECT_AFTER_MS,
})

export interface Opened {
  type: MessageType
  counter: bigint
  plaintext: Uint8Array
}

export class ChannelSession {
  readonly limits: SessionLimits
  /** Drops by reason: replay, stale, auth, expired, decode. */
  readonly drops = { duplicate: 0, stale: 0, auth: 0, expired: 0, decode: 0 }
  private sendCounter = 0n
  private sendPhase: 0 | 1 = 0
  private sentSinceRekey = 0
  private sendKeyBorn: number
  private recvCurrent: CipherState
  private recvPrevious: CipherState | undefined
  private recvPhase: 0 | 1 = 0
  private readonly window: ReplayWindow
  private readonly born: number
  private closed = false

  constructor(
    private readonly transport: TransportState,
    private readonly now: () => number,
    limits: Partial<SessionLimits> = {},
  ) {
    this.limits = { ...DEFAULT_SESSION_LIMITS, ...limits }
    this.window = new ReplayWindow(this.limits.replayWindow)
    this.born = now()
    this.sendKeyBorn = this.born
    this.recvCurrent = transport.recv
  }

  get handshakeHash(): Uint8Array {
    return this.transport.handshakeHash
  }

  /** The highest counter received so far (-1n before any). */
  get highestReceived(): bigint {
    return this.window.highest
  }

  get messagesSent(): bigint {
    return this.sendCounter
  }

  /** Encrypts one message: header ‖ counter ‖ AEAD. Throws CHANNEL_EXPIRED past the hard limits. */
  seal(type: MessageType, plaintext: Uint8Array): Uint8Array {
    if (this.closed) throw new HopsealError(ErrorCode.CHANNEL_CLOSED, 'channel is closed')
    const t = this.now()
    if (this.sendCounter >= BigInt(this.limits.rejectAfterMessages) || t - this.born >= this.limits.rejectAfterMs) {
      throw new HopsealError(ErrorCode.CHANNEL_EXPIRED, 'channel reached its hard message or time limit: start a new handshake')
    }
    if (this.sentSinceRekey >= this.limits.rekeyAfterMessages || t - this.sendKeyBorn >= this.limits.rekeyAfterMs) {
      this.transport.send.rekey()
      this.sendPhase ^= 1
      this.sentSinceRekey = 0
      this.sendKeyBorn = t
    }
    const n = this.sendCounter
    // Short (12-bit) form: the receiver reconstructs any counter within ±2048 of
    // its window top, which covers the default 1024-message window.
    const header = encodeHeader(type, this.sendPhase, n, false)
    const sealed = this.transport.send.encryptWithNonce(n, header, plaintext, header)
    this.sendCounter++
    this.sentSinceRekey++
    return sealed
  }

  /**
   * Authenticates and decrypts one message. Returns undefined (and counts the
   * reason) for duplicates, stale, forged or expired messages: never delivered.
   */
  open(message: Uint8Array): Opened | undefined {
    if (this.closed) return undefined
    let h
    try {
      h = decodeHeader(message)
    } catch {
      this.drops.decode++
      return undefined
    }
    if (h.type === MessageType.HANDSHAKE) {
      this.drops.decode++
      return undefined
    }
    if (this.now() - this.born >= this.limits.rejectAfterMs) {
      this.drops.expired++
      return undefined
    }
    const n = reconstructCounter(this.window.highest + 1n, h.counter, h.bits)
    const verdict = this.window.check(n)
    if (verdict !== 'ok') {
      this.drops[verdict]++
      return undefined
    }
    if (n >= BigInt(this.limits.rejectAfterMessages)) {
      this.drops.expired++
      return undefined
    }
    const ad = message.subarray(0, h.length)
    const body = message.subarray(h.length)
    // Which key: the current phase, the next one (peer rekeyed), or the previous one (reordered).
    let plaintext: Uint8Array | undefined
    let next: CipherState | undefined
    try {
      if (h.phase === this.recvPhase) plaintext = this.recvCurrent.decryptWithNonce(n, ad, body)
      else {
        try {
          next = this.recvCurrent.clone()
          next.rekey()
          plaintext = next.decryptWithNonce(n, ad, body)
        } catch (e) {
          next?.destroy()
          next = undefined
          if (!this.recvPrevious) throw e
          plaintext = this.recvPrevious.decryptWithNonce(n, ad, body)
        }
      }
    } catch {
      this.drops.auth++
      return undefined
    }
    // Authenticated: commit.
    this.window.commit(n)
    if (next) {
      this.recvPrevious?.destroy()
      this.recvPrevious = this.recvCurrent
      this.recvCurrent = next
      this.recvPhase = h.phase
    }
    return { type: h.type, counter: n, plaintext }
  }

  /** Wipes keys; further seal() throws CHANNEL_CLOSED, open() returns undefined. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.transport.send.destroy()
    this.recvCurrent.destroy()
    this.recvPrevious?.destroy()
  }

  get isClosed(): boolean {
    return this.closed
  }
}
