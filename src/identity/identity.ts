/**
 * Identity = change history (docs/identity.md §3).
 *
 * The first change holds a primary public key (Ed25519, or ECDSA P-256 for
 * HSM and ATECC608 keys), creation and expiry times, and is signed by that
 * key. A rotation appends a change that links to the previous one and is
 * signed by both the previous key and the new key; it may set `revokeAll`,
 * which retires everything (purpose-key attestations, credentials, revocation
 * lists) signed by earlier keys. The identifier is the truncated hash of the
 * first change's signed bytes, so it never changes across rotations.
 *
 * Wire form: CBOR array of changes; change = {1: data (bstr), 2: sig by this
 * change's key, 3: sig by the previous change's key (rotations only)};
 * data = {1: previous-change link, 2: key type, 3: public key, 4: created,
 * 5: expires, 6: revokeAll}.
 */
import { equalConstantTime, toHex } from '../bytes/index.ts'
import { defaultCryptoProvider, type CryptoProvider } from '../crypto/index.ts'
import { ErrorCode, HopsealError } from '../errors.ts'
import type { CallOptions, KeyHandle, Vault } from '../vault/index.ts'
import { decodeCanonical, encodeCanonical, MapReader, readArray } from './cbor.ts'
import { CHANGE_LINK_LENGTH, CLOCK_SKEW_SECONDS, KEY_TYPE_CODE, MAX_CHANGES, MAX_IDENTITY_BYTES, MAX_TIME, type IdentityKeyType } from './constants.ts'
import { identifierFromText, identifierToText, truncatedHash, type Identifier } from './identifier.ts'
import { identityKeyOf, PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, signedMessage, vaultSign, verifySignature } from './signing.ts'
import { checkTime } from './time.ts'

/** One verified change of a history. */
export interface IdentityChange {
  readonly index: number
  /** The exact signed bytes (deterministic CBOR map). */
  readonly data: Uint8Array
  /** Truncated SHA-256 of `data`: the next change's link (and, for change 0, the identifier). */
  readonly hash: Uint8Array
  readonly previous?: Uint8Array
  readonly keyType: IdentityKeyType
  readonly publicKey: Uint8Array
  /** Seconds since the Unix epoch. */
  readonly created: number
  readonly expires: number
  /** A rotation that retires everything signed by earlier keys. */
  readonly revokeAll: boolean
  readonly signature: Uint8Array
  readonly previousSignature?: Uint8Array
}

export interface IdentityOptions {
  crypto?: CryptoProvider
}

const CODE = ErrorCode.IDENTITY_MALFORMED
const KEY_TYPE_BY_CODE: IdentityKeyType[] = ['ed25519', 'p256']

/** A decoded, signature-checked identity. Construct with {@link decodeIdentity}, {@link verifyIdentity} or {@link createIdentity}. */
export class Identity {
  readonly identifier: Identifier
  readonly identifierBytes: Uint8Array

  private constructor(
    /** The exact wire bytes. */
    readonly encoded: Uint8Array,
    readonly changes: readonly IdentityChange[],
  ) {
    this.identifierBytes = changes[0]!.hash.slice()
    this.identifier = identifierToText(this.identifierBytes)
  }

  /** The latest change: its key is the identity's current key. */
  get current(): IdentityChange {
    return this.changes[this.changes.length - 1]!
  }

  /** When the identity (its current key) expires, seconds since the epoch. */
  get expires(): number {
    return this.current.expires
  }

  /**
   * Throws unless the identity is valid at `now` (seconds).
   * @throws HopsealError IDENTITY_EXPIRED at or after the current change's expiry; IDENTITY_BAD_CHANGE when created in the future.
   */
  checkValidAt(now: number): void {
    checkTime('now', now)
    if (now >= this.current.expires) throw new HopsealError(ErrorCode.IDENTITY_EXPIRED, `identity ${this.identifier} expired at ${this.current.expires}, now ${now}`)
    if (this.current.created > now + CLOCK_SKEW_SECONDS) throw new HopsealError(ErrorCode.IDENTITY_BAD_CHANGE, `identity ${this.identifier} change ${this.current.index} is created in the future (${this.current.created} > ${now})`)
  }

  /**
   * The change whose key signed an object (attestation, credential,
   * revocation list), if that key may still speak for the identity at `now`.
   * @throws HopsealError IDENTITY_UNKNOWN_CHANGE beyond this copy of the history; `revokedCode` when a later change revoked all earlier keys; `expiredCode` when that key or the identity has expired.
   */
  signerAt(index: number, now: number, revokedCode: string, expiredCode: string): IdentityChange {
    const c = this.changes[index]
    if (!c) throw new HopsealError(ErrorCode.IDENTITY_UNKNOWN_CHANGE, `identity ${this.identifier} has ${this.changes.length} changes; signed by change ${index}: update the identity`)
    for (let j = index + 1; j < this.changes.length; j++) {
      if (this.changes[j]!.revokeAll) throw new HopsealError(revokedCode, `signed by key ${index} of ${this.identifier}, retired by revoke-all rotation ${j}`)
    }
    this.checkValidAt(now)
    if (now >= c.expires) throw new HopsealError(expiredCode, `signed by key ${index} of ${this.identifier}, which expired at ${c.expires}`)
    return c
  }

  /**
   * Appends a rotation to `newKey`, signed by the current key and the new key,
   * and returns the new identity (this object is unchanged).
   * @throws HopsealError INVALID_ARGUMENT when `currentKey` is not the current key or `newKey` equals it.
   * @example const id2 = await id.rotate(vault, oldHandle, newHandle, { now, expires: now + 365 * 86400, revokeAll: true })
   */
  async rotate(vault: Vault, currentKey: KeyHandle, newKey: KeyHandle, opts: RotateOptions): Promise<Identity> {
    const crypto = opts.crypto ?? defaultCryptoProvider()
    checkTime('now', opts.now)
    checkTime('expires', opts.expires)
    const cur = await identityKeyOf(vault, currentKey, opts)
    if (cur.type !== this.current.keyType || !equalConstantTime(cur.publicKey, this.current.publicKey)) {
      throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `currentKey is not the current key of ${this.identifier}`)
    }
    const next = await identityKeyOf(vault, newKey, opts)
    if (next.type === cur.type && equalConstantTime(next.publicKey, cur.publicKey)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'newKey must differ from the current key')
    if (opts.now < this.current.created) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `now (${opts.now}) is before the current change (${this.current.created})`)
    if (opts.now >= this.current.expires) throw new HopsealError(ErrorCode.IDENTITY_EXPIRED, `the current key expired at ${this.current.expires}; an expired key cannot sign a rotation`)
    if (opts.expires <= opts.now) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'expires must be after now')
    const data = encodeChangeData({ previous: this.current.hash, keyType: next.type, publicKey: next.publicKey, created: opts.now, expires: opts.expires, revokeAll: opts.revokeAll === true })
    const msg = signedMessage('change', data)
    const signature = await vaultSign(vault, newKey, msg, opts)
    const previousSignature = await vaultSign(vault, currentKey, msg, opts)
    const changes = [...this.changes.map((c) => encodeChange(c.data, c.signature, c.previousSignature)), encodeChange(data, signature, previousSignature)]
    return decodeIdentity(encodeCanonical(changes), { crypto })
  }

  /** JSON-friendly summary (public data only). */
  describe(): IdentitySummary {
    return {
      identifier: this.identifier,
      bytes: this.encoded.length,
      changes: this.changes.map((c) => ({ index: c.index, keyType: c.keyType, publicKey: toHex(c.publicKey), created: c.created, expires: c.expires, revokeAll: c.revokeAll })),
    }
  }

  /** @internal Builds from verified parts; only this module calls it. */
  static fromVerified(encoded: Uint8Array, changes: IdentityChange[]): Identity {
    return new Identity(encoded, changes)
  }
}

export interface IdentitySummary {
  identifier: Identifier
  bytes: number
  changes: { index: number; keyType: IdentityKeyType; publicKey: string; created: number; expires: number; revokeAll: boolean }[]
}

export interface CreateIdentityOptions extends CallOptions, IdentityOptions {
  /** Creation time, seconds since the epoch (injected clock). */
  now: number
  /** Expiry of the primary key, seconds since the epoch. */
  expires: number
}

export interface RotateOptions extends CreateIdentityOptions {
  /** Retire every attestation, credential and revocation list signed by earlier keys. */
  revokeAll?: boolean
}

/**
 * Creates a new identity whose primary key is `key` (ed25519 or p256) in `vault`.
 * @throws HopsealError VAULT_KEY_TYPE_UNSUPPORTED for x25519 handles; INVALID_ARGUMENT for bad times.
 * @example const h = await vault.generateKey('p256'); const id = await createIdentity(vault, h, { now, expires: now + 86400 * 365 })
 */
export async function createIdentity(vault: Vault, key: KeyHandle, opts: CreateIdentityOptions): Promise<Identity> {
  const crypto = opts.crypto ?? defaultCryptoProvider()
  checkTime('now', opts.now)
  checkTime('expires', opts.expires)
  if (opts.expires <= opts.now) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'expires must be after now')
  const k = await identityKeyOf(vault, key, opts)
  const data = encodeChangeData({ keyType: k.type, publicKey: k.publicKey, created: opts.now, expires: opts.expires, revokeAll: false })
  const signature = await vaultSign(vault, key, signedMessage('change', data), opts)
  return decodeIdentity(encodeCanonical([encodeChange(data, signature, undefined)]), { crypto })
}

/**
 * Decodes an identity and checks its whole history: canonical encoding,
 * limits, every change's signature(s) and links. It does not check times:
 * use {@link verifyIdentity} for an identity received from a peer.
 * @throws HopsealError IDENTITY_MALFORMED, IDENTITY_BAD_SIGNATURE, IDENTITY_BAD_CHANGE.
 */
export function decodeIdentity(bytes: Uint8Array, opts: IdentityOptions = {}): Identity {
  const crypto = opts.crypto ?? defaultCryptoProvider()
  const value = decodeCanonical(bytes, MAX_IDENTITY_BYTES, CODE, 'identity')
  const items = readArray(value, 1, MAX_CHANGES, CODE, 'identity')
  const changes: IdentityChange[] = []
  for (let i = 0; i < items.length; i++) {
    const outer = new MapReader(items[i], CODE, `identity change ${i}`)
    const data = outer.bytes(1, [])
    const signature = outer.bytes(2, [SIGNATURE_LENGTH])
    const previousSignature = outer.bytes(3, [SIGNATURE_LENGTH], true)
    outer.done()
    const d = decodeChangeData(data, i)
    const prev = changes[i - 1]
    if (i === 0) {
      if (d.previous || previousSignature || d.revokeAll) throw new HopsealError(CODE, 'the first change cannot have a previous link, a previous signature or revokeAll')
    } else {
      if (!d.previous) throw new HopsealError(CODE, `change ${i} has no previous-change link`)
      if (!previousSignature) throw new HopsealError(ErrorCode.IDENTITY_BAD_SIGNATURE, `rotation ${i} is not signed by the previous key (both keys must sign)`)
    }
    const msg = signedMessage('change', data)
    if (!verifySignature(crypto, d.keyType, d.publicKey, msg, signature)) throw new HopsealError(ErrorCode.IDENTITY_BAD_SIGNATURE, `change ${i} is not signed by its own key`)
    if (prev) {
      if (!equalConstantTime(d.previous!, prev.hash)) throw new HopsealError(ErrorCode.IDENTITY_BAD_CHANGE, `change ${i} does not link to change ${i - 1}`)
      if (!verifySignature(crypto, prev.keyType, prev.publicKey, msg, previousSignature!)) throw new HopsealError(ErrorCode.IDENTITY_BAD_SIGNATURE, `rotation ${i} is not signed by the previous key (both keys must sign)`)
      if (d.keyType === prev.keyType && equalConstantTime(d.publicKey, prev.publicKey)) throw new HopsealError(ErrorCode.IDENTITY_BAD_CHANGE, `rotation ${i} keeps the same key`)
      if (d.created < prev.created || d.created >= prev.expires) throw new HopsealError(ErrorCode.IDENTITY_BAD_CHANGE, `rotation ${i} is not within the previous key's lifetime`)
    }
    const hash = truncatedHash(crypto, data, CHANGE_LINK_LENGTH)
    changes.push(Object.freeze({ index: i, data, hash, ...d, signature, ...(previousSignature ? { previousSignature } : {}) }))
  }
  return Identity.fromVerified(bytes.slice(), changes)
}

export interface VerifyIdentityOptions extends IdentityOptions {
  /** Current time, seconds since the epoch (injected clock). */
  now: number
  /** Refuse an identity with another identifier (IDENTITY_MISMATCH). */
  expected?: Identifier
}

/**
 * Decodes a peer's identity and checks it is valid now (and is the expected one).
 * @throws HopsealError IDENTITY_MALFORMED, IDENTITY_BAD_SIGNATURE, IDENTITY_BAD_CHANGE, IDENTITY_EXPIRED, IDENTITY_MISMATCH.
 * @example const peer = verifyIdentity(payloadBytes, { now: Math.floor(Date.now() / 1000) })
 */
export function verifyIdentity(bytes: Uint8Array, opts: VerifyIdentityOptions): Identity {
  checkTime('now', opts.now)
  const expected = opts.expected === undefined ? undefined : identifierFromText(opts.expected)
  const id = decodeIdentity(bytes, opts)
  if (expected && !equalConstantTime(expected, id.identifierBytes)) throw new HopsealError(ErrorCode.IDENTITY_MISMATCH, `expected identity ${opts.expected}, got ${id.identifier}`)
  id.checkValidAt(opts.now)
  return id
}

export interface ChangeFields {
  previous?: Uint8Array
  keyType: IdentityKeyType
  publicKey: Uint8Array
  created: number
  expires: number
  revokeAll: boolean
}

/** @internal The signed bytes of a change (compact.ts rebuilds them from the compact form). */
export function encodeChangeData(f: ChangeFields): Uint8Array {
  const m = new Map<number, unknown>()
  if (f.previous) m.set(1, f.previous)
  m.set(2, KEY_TYPE_CODE[f.keyType])
  m.set(3, f.publicKey)
  m.set(4, f.created)
  m.set(5, f.expires)
  if (f.revokeAll) m.set(6, true)
  return encodeCanonical(m)
}

/** @internal One change as the identity's CBOR array holds it. */
export function encodeChange(data: Uint8Array, signature: Uint8Array, previousSignature: Uint8Array | undefined): Map<number, Uint8Array> {
  const m = new Map<number, Uint8Array>([
    [1, data],
    [2, signature],
  ])
  if (previousSignature) m.set(3, previousSignature)
  return m
}

function decodeChangeData(data: Uint8Array, i: number): ChangeFields {
  const what = `identity change ${i} data`
  const r = new MapReader(decodeCanonical(data, MAX_IDENTITY_BYTES, CODE, what), CODE, what)
  const previous = r.bytes(1, [CHANGE_LINK_LENGTH], true)
  const keyType = KEY_TYPE_BY_CODE[r.uint(2, KEY_TYPE_BY_CODE.length - 1)]!
  const publicKey = r.bytes(3, [PUBLIC_KEY_LENGTH[keyType]])
  if (keyType === 'p256' && publicKey[0] !== 2 && publicKey[0] !== 3) throw new HopsealError(CODE, `${what}: P-256 key must be compressed SEC1`)
  const created = r.uint(4, MAX_TIME)
  const expires = r.uint(5, MAX_TIME)
  const revokeAll = r.flag(6)
  r.done()
  if (expires <= created) throw new HopsealError(CODE, `${what}: expires (${expires}) must be after created (${created})`)
  return { ...(previous ? { previous } : {}), keyType, publicKey, created, expires, revokeAll }
}
