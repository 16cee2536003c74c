/**
 * HandshakeState (Noise §5.3), spec-shaped: Initialize, WriteMessage,
 * ReadMessage, then `finish()` hands over a TransportState and leaves the
 * handshake unusable (type-state).
 *
 * Atomicity: each WriteMessage/ReadMessage runs on copies of the symmetric
 * state and keys and commits only when the whole message succeeded, so a
 * rejected message (bad tag, bad point, wrong length) changes nothing and the
 * handshake can still accept the genuine message.
 *
 * DH goes through {@link StaticKey}, so static (and optionally ephemeral) keys
 * can live in a vault; DH may be async, hence the async message methods.
 */
import { ErrorCode, HopsealError } from '../errors.ts'
import { concat, wipe } from '../bytes/index.ts'
import { defaultCryptoProvider, type CryptoProvider, type KeyPair } from '../crypto/index.ts'
import type { CipherState } from './cipher-state.ts'
import { NOISE_MAX_MESSAGE_LENGTH, NOISE_PSK_LENGTH, NOISE_TAG_LENGTH } from './constants.ts'
import type { Token } from './patterns.ts'
import { parseProtocolName, type NoiseProtocol } from './protocol.ts'
import { softwareStaticKey, type StaticKey } from './static-key.ts'
import { SymmetricState } from './symmetric-state.ts'

export interface HandshakeOptions {
  /** A protocol name such as `Noise_XX_25519_ChaChaPoly_SHA256`, or a parsed protocol. */
  protocol: string | NoiseProtocol
  initiator: boolean
  prologue?: Uint8Array
  /** Local static key (software or vault-backed). */
  s?: StaticKey
  /**
   * Local ephemeral key: a fixed software key pair (test vectors), or a factory
   * (e.g. an ephemeral generated inside a secure element). Default: generated
   * in software by the crypto provider when the pattern's `e` token is written.
   */
  e?: KeyPair | (() => Promise<StaticKey>)
  /** Remote static public key, when the pattern pre-shares it (IK, KK, NK, …). */
  rs?: Uint8Array
  /** Remote ephemeral public key, only for patterns with an `e` pre-message (fallback). */
  re?: Uint8Array
  /** Pre-shared keys (32 bytes each), consumed in the order the psk tokens appear. */
  psks?: Uint8Array[]
  crypto?: CryptoProvider
  /** Upper bound on a handshake message, ≤ 65535 (Noise §3). */
  maxMessageLength?: number
}

/** What a finished handshake hands to the transport phase. */
export interface TransportState {
  /** Encrypts this side's outgoing messages. */
  send: CipherState
  /** Decrypts the peer's messages (for one-way patterns the responder's only state). */
  recv: CipherState
  handshakeHash: Uint8Array
  /** The peer's static public key, when the pattern transmits or pre-shares it. */
  remoteStatic?: Uint8Array
  protocol: NoiseProtocol
  initiator: boolean
}

interface Keys {
  e?: StaticKey
  re?: Uint8Array
  rs?: Uint8Array
}

export class HandshakeState {
  readonly protocol: NoiseProtocol
  readonly initiator: boolean
  private ss: SymmetricState
  private keys: Keys
  private readonly s: StaticKey | undefined
  private readonly fixedE: KeyPair | (() => Promise<StaticKey>) | undefined
  private readonly psks: Uint8Array[]
  private pskIndex = 0
  private messageIndex = 0
  private busy = false
  private finished = false
  private dead = false
  private readonly crypto: CryptoProvider
  private readonly maxLen: number

  private constructor(opts: HandshakeOptions, protocol: NoiseProtocol, crypto: CryptoProvider) {
    this.protocol = protocol
    this.initiator = opts.initiator
    this.crypto = crypto
    this.s = opts.s
    this.fixedE = opts.e
    this.psks = (opts.psks ?? []).map((p) => p.slice())
    this.maxLen = opts.maxMessageLength ?? NOISE_MAX_MESSAGE_LENGTH
    this.keys = { rs: opts.rs?.slice(), re: opts.re?.slice() }
    this.ss = SymmetricState.initialize(crypto, protocol)
  }

  /** §5.3 Initialize. Checks every key the pattern needs; throws NOISE_MISSING_KEY / INVALID_KEY. */
  static create(opts: HandshakeOptions): HandshakeState {
    if (!opts || typeof opts.initiator !== 'boolean') throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'options.initiator expected a boolean')
    const protocol = typeof opts.protocol === 'string' ? parseProtocolName(opts.protocol) : opts.protocol
    const crypto = opts.crypto ?? defaultCryptoProvider()
    const maxLen = opts.maxMessageLength ?? NOISE_MAX_MESSAGE_LENGTH
    if (!Number.isInteger(maxLen) || maxLen < 1 || maxLen > NOISE_MAX_MESSAGE_LENGTH) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'maxMessageLength expected 1..65535')
    const hs = new HandshakeState(opts, protocol, crypto)
    hs.checkKeys(opts)
    const ss = hs.ss
    ss.mixHash(opts.prologue ?? new Uint8Array(0))
    // §5.3: pre-message public keys are hashed, initiator's first.
    const pre = (tokens: readonly ('e' | 's')[], mine: boolean): void => {
      for (const t of tokens) {
        if (t === 's') ss.mixHash(mine ? present(hs.s, 'local static key').publicKey : present(hs.keys.rs, 'remote static key'))
        else {
          const pub = mine ? hs.ephemeralPublicForPremessage() : present(hs.keys.re, 'remote ephemeral key')
          ss.mixHash(pub)
          if (protocol.pattern.psk) ss.mixKey(pub)
        }
      }
    }
    pre(protocol.pattern.preInitiator, hs.initiator)
    pre(protocol.pattern.preResponder, !hs.initiator)
    return hs
  }

  /** True when every handshake message has been written or read. */
  isFinished(): boolean {
    return this.finished
  }

  /** True when the next call should be writeMessage (this side's turn). */
  isMyTurn(): boolean {
    if (this.finished) return false
    return this.protocol.pattern.oneWay ? this.initiator : (this.messageIndex % 2 === 0) === this.initiator
  }

  /** h, usable as a channel binding (§11.2); final only once finished. */
  getHandshakeHash(): Uint8Array {
    this.checkAlive()
    return this.ss.h.slice()
  }

  /** The peer's static public key once known. */
  getRemoteStatic(): Uint8Array | undefined {
    return this.keys.rs?.slice()
  }

  /** The local ephemeral public key once generated. */
  getLocalEphemeral(): Uint8Array | undefined {
    return this.keys.e?.publicKey.slice()
  }

  /** §5.3 WriteMessage(payload). Returns the message bytes. */
  async writeMessage(payload: Uint8Array = new Uint8Array(0)): Promise<Uint8Array> {
    this.enter(true)
    try {
      const tokens = this.currentTokens()
      const ss = this.ss.clone()
      const keys: Keys = { ...this.keys }
      let pskIndex = this.pskIndex
      const parts: Uint8Array[] = []
      let generated: StaticKey | undefined
      let committed = false
      try {
        for (const t of tokens) {
          switch (t) {
            case 'e': {
              generated = await this.newEphemeral()
              keys.e = generated
              parts.push(generated.publicKey)
              ss.mixHash(generated.publicKey)
              if (this.protocol.pattern.psk) ss.mixKey(generated.publicKey)
              break
            }
            case 's':
              parts.push(ss.encryptAndHash(present(this.s, 'local static key').publicKey))
              break
            case 'psk':
              ss.mixKeyAndHash(present(this.psks[pskIndex++], `psk ${pskIndex}`))
              break
            default:
              ss.mixKey(await this.dhToken(t, keys))
          }
        }
        parts.push(ss.encryptAndHash(payload))
        const msg = concat(...parts)
        if (msg.length > this.maxLen) {
          throw new HopsealError(ErrorCode.NOISE_MESSAGE_TOO_LONG, `handshake message of ${msg.length} bytes exceeds the ${this.maxLen}-byte limit`)
        }
        this.commit(ss, keys, pskIndex)
        committed = true
        return msg
      } finally {
        // A message that failed after making its ephemeral leaves nothing behind: neither the key nor its copy of the state.
        if (!committed) {
          generated?.destroy?.()
          if (ss !== this.ss) ss.destroy()
        }
      }
    } finally {
      this.busy = false
    }
  }

  /** §5.3 ReadMessage(message). Returns the payload. A rejected message changes nothing. */
  async readMessage(message: Uint8Array): Promise<Uint8Array> {
    this.enter(false)
    let pending: SymmetricState | undefined
    try {
      if (!(message instanceof Uint8Array)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'message expected Uint8Array')
      if (message.length > this.maxLen) throw new HopsealError(ErrorCode.NOISE_MESSAGE_TOO_LONG, `handshake message of ${message.length} bytes exceeds the ${this.maxLen}-byte limit`)
      const tokens = this.currentTokens()
      const ss = (pending = this.ss.clone())
      const keys: Keys = { ...this.keys }
      let pskIndex = this.pskIndex
      const pubLen = this.protocol.publicKeyLength
      let off = 0
      const take = (n: number, what: string): Uint8Array => {
        if (message.length - off < n) throw new HopsealError(ErrorCode.NOISE_MESSAGE_TOO_SHORT, `handshake message ${this.messageIndex + 1} truncated in ${what}`)
        const b = message.subarray(off, off + n)
        off += n
        return b
      }
      for (const t of tokens) {
        switch (t) {
          case 'e': {
            const re = this.checkPublic(take(pubLen, 'e'), 'remote ephemeral')
            keys.re = re
            ss.mixHash(re)
            if (this.protocol.pattern.psk) ss.mixKey(re)
            break
          }
          case 's': {
            const n = ss.cipher.hasKey() ? pubLen + NOISE_TAG_LENGTH : pubLen
            const rs = ss.decryptAndHash(take(n, 's'))
            keys.rs = this.checkPublic(rs, 'remote static')
            break
          }
          case 'psk':
            ss.mixKeyAndHash(present(this.psks[pskIndex++], `psk ${pskIndex}`))
            break
          default:
            ss.mixKey(await this.dhToken(t, keys))
        }
      }
      const rest = message.subarray(off)
      if (ss.cipher.hasKey() && rest.length < NOISE_TAG_LENGTH) throw new HopsealError(ErrorCode.NOISE_MESSAGE_TOO_SHORT, `handshake message ${this.messageIndex + 1} has no room for the payload tag`)
      const payload = ss.decryptAndHash(rest)
      this.commit(ss, keys, pskIndex)
      return payload
    } finally {
      // A rejected message's copy of the state held secrets too (ck, k).
      if (pending && pending !== this.ss) pending.destroy()
      this.busy = false
    }
  }

  /**
   * §5.3 Split, as a type-state transition: returns the transport ciphers and
   * destroys this handshake's secrets. Any later call throws NOISE_WRONG_STATE.
   */
  finish(): TransportState {
    this.checkAlive()
    if (!this.finished) throw new HopsealError(ErrorCode.NOISE_WRONG_STATE, 'handshake not finished')
    const [c1, c2] = this.ss.split()
    const out: TransportState = {
      send: this.initiator ? c1 : c2,
      recv: this.initiator ? c2 : c1,
      handshakeHash: this.ss.h.slice(),
      protocol: this.protocol,
      initiator: this.initiator,
      ...(this.keys.rs ? { remoteStatic: this.keys.rs.slice() } : {}),
    }
    this.destroy()
    return out
  }

  /**
   * Wipes every secret; the handshake becomes unusable. finish() calls it, and
   * so must the owner of a handshake that failed or was abandoned. The local
   * ephemeral is destroyed through `StaticKey.destroy` (software keys: the
   * private key zero-filled, provider caches cleared; see `wipeKeyPair`),
   * whether it was generated here, passed as a key pair (a private copy) or
   * made by the `e` factory (the handshake owns what the factory returns).
   */
  destroy(): void {
    if (this.dead) return
    this.dead = true
    this.ss.destroy()
    this.keys.e?.destroy?.()
    for (const p of this.psks) wipe(p)
  }

  // ---- internals ----

  private enter(writing: boolean): void {
    this.checkAlive()
    if (this.busy) throw new HopsealError(ErrorCode.NOISE_BUSY, 'another handshake message is being processed')
    if (this.finished) throw new HopsealError(ErrorCode.NOISE_WRONG_STATE, 'handshake already finished: call finish()')
    if (this.isMyTurn() !== writing) throw new HopsealError(ErrorCode.NOISE_WRONG_STATE, writing ? 'not our turn to write: expected readMessage' : 'not our turn to read: expected writeMessage')
    this.busy = true
  }

  /** The tokens of the message to process now (enter() already refused a finished handshake). */
  private currentTokens(): readonly Token[] {
    const tokens = this.protocol.pattern.messages[this.messageIndex]
    if (!tokens) throw new HopsealError(ErrorCode.NOISE_WRONG_STATE, `${this.protocol.pattern.name} has no message ${this.messageIndex + 1}`)
    return tokens
  }

  private checkAlive(): void {
    if (this.dead) throw new HopsealError(ErrorCode.NOISE_WRONG_STATE, 'handshake state was finished or destroyed')
  }

  private commit(ss: SymmetricState, keys: Keys, pskIndex: number): void {
    if (ss !== this.ss) {
      // the replaced copy held secrets too
      this.ss.destroy()
      this.ss = ss
    }
    this.keys = keys
    this.pskIndex = pskIndex
    this.messageIndex++
    if (this.messageIndex >= this.protocol.pattern.messages.length) this.finished = true
  }

  private async newEphemeral(): Promise<StaticKey> {
    const e = this.fixedE
    if (typeof e === 'function') return this.checkLocal(await e(), 'ephemeral')
    if (e) return softwareStaticKey(this.crypto, e.type === this.protocol.keyType ? ownCopy(e) : this.wrongType('ephemeral'))
    return softwareStaticKey(this.crypto, this.crypto.generateKeyPair(this.protocol.keyType))
  }

  private ephemeralPublicForPremessage(): Uint8Array {
    // Only fallback patterns pre-share an initiator ephemeral; it must be a fixed key.
    const e = this.fixedE
    if (!e || typeof e === 'function') throw new HopsealError(ErrorCode.NOISE_MISSING_KEY, 'pattern pre-shares the local ephemeral: pass options.e as a key pair')
    const k = softwareStaticKey(this.crypto, ownCopy(e))
    this.keys.e = k
    return k.publicKey
  }

  /** §7.3 DH tokens: the first letter is the initiator's key, the second the responder's. */
  private async dhToken(t: 'ee' | 'es' | 'se' | 'ss', keys: Keys): Promise<Uint8Array> {
    const mineFirst = this.initiator
    const [a, b] = t.split('') as ['e' | 's', 'e' | 's']
    const localTok = mineFirst ? a : b
    const remoteTok = mineFirst ? b : a
    const local = localTok === 'e' ? keys.e : this.s
    const remote = remoteTok === 'e' ? keys.re : keys.rs
    if (!local || !remote) throw new HopsealError(ErrorCode.NOISE_MISSING_KEY, `token ${t} needs a key that is not set`)
    return local.dh(remote)
  }

  private checkPublic(pub: Uint8Array, what: string): Uint8Array {
    if (this.protocol.keyType === 'p256') {
      if (pub[0] !== 0x02 && pub[0] !== 0x03) throw new HopsealError(ErrorCode.INVALID_POINT, `${what} P-256 key must be a 33-byte compressed point`)
      this.crypto.p256Point(pub, true) // throws INVALID_POINT when not on the curve
    }
    return pub.slice()
  }

  private checkLocal(k: StaticKey, what: string): StaticKey {
    if (k.type !== this.protocol.keyType || k.publicKey.length !== this.protocol.publicKeyLength) return this.wrongType(what)
    return k
  }

  private wrongType(what: string): never {
    throw new HopsealError(ErrorCode.INVALID_KEY, `${what} key does not match ${this.protocol.dh} (${this.protocol.keyType}, ${this.protocol.publicKeyLength}-byte public key)`)
  }

  private checkKeys(opts: HandshakeOptions): void {
    const p = this.protocol.pattern
    const needsS = (this.initiator ? p.preInitiator : p.preResponder).includes('s') || p.messages.some((m, i) => m.includes('s') && (i % 2 === 0) === this.initiator)
    const needsRs = (this.initiator ? p.preResponder : p.preInitiator).includes('s')
    const needsRe = (this.initiator ? p.preResponder : p.preInitiator).includes('e')
    if (needsS && !opts.s) throw new HopsealError(ErrorCode.NOISE_MISSING_KEY, `${p.name} needs a local static key (options.s)`)
    if (opts.s) this.checkLocal(opts.s, 'local static')
    if (needsRs) {
      if (!opts.rs) throw new HopsealError(ErrorCode.NOISE_MISSING_KEY, `${p.name} needs the remote static public key (options.rs)`)
      if (opts.rs.length !== this.protocol.publicKeyLength) throw new HopsealError(ErrorCode.INVALID_KEY, `options.rs expected ${this.protocol.publicKeyLength} bytes, got ${opts.rs.length}`)
      this.checkPublic(opts.rs, 'options.rs')
    }
    if (needsRe && !opts.re) throw new HopsealError(ErrorCode.NOISE_MISSING_KEY, `${p.name} needs the remote ephemeral public key (options.re)`)
    const pskCount = p.messages.reduce((n, m) => n + m.filter((t) => t === 'psk').length, 0)
    if ((opts.psks?.length ?? 0) !== pskCount) throw new HopsealError(ErrorCode.NOISE_MISSING_KEY, `${p.name} needs ${pskCount} psk(s), got ${opts.psks?.length ?? 0}`)
    for (const k of opts.psks ?? []) if (!(k instanceof Uint8Array) || k.length !== NOISE_PSK_LENGTH) throw new HopsealError(ErrorCode.INVALID_KEY, 'each psk must be 32 bytes')
  }
}

/** A key the pattern needs (checkKeys() made sure of it at Initialize): absent here means a bug, reported as NOISE_MISSING_KEY. */
function present<T>(key: T | undefined, what: string): T {
  if (key === undefined) throw new HopsealError(ErrorCode.NOISE_MISSING_KEY, `${what} is not set`)
  return key
}

/** A fixed ephemeral key pair (test vectors, fallback) is copied, so wiping it at finish() leaves the caller's untouched. */
function ownCopy(kp: KeyPair): KeyPair {
  return { type: kp.type, privateKey: kp.privateKey.slice(), publicKey: kp.publicKey }
}
