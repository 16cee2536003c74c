/**
 * Revocation lists (docs/identity.md §6): an issuer signs the full, cumulative
 * set of credential ids (and optionally whole subjects) it has revoked, with a
 * sequence number. A verifier keeps the newest list per issuer and refuses any
 * list whose number is not greater than the one it holds, so an old list cannot
 * be replayed over a newer one to "un-revoke" a credential.
 *
 * Wire form: {1: data (bstr), 2: signature}; data = {1: issuer identifier,
 * 2: signing change index, 3: sequence number, 4: issued-at, 5: [credential id
 * (16 B)...], 6: [subject identifier (20 B)...]}; both arrays strictly
 * ascending (one encoding per set), 6 omitted when empty.
 */
import { equalConstantTime, fromHex, toHex } from '../bytes/index.ts'
import { defaultCryptoProvider, type CryptoProvider } from '../crypto/index.ts'
import { ErrorCode, HopsealError } from '../errors.ts'
import type { CallOptions, KeyHandle, Vault } from '../vault/index.ts'
import { encodeCanonical, readArray, decodeSigned } from './cbor.ts'
import { CREDENTIAL_ID_LENGTH, IDENTIFIER_LENGTH, MAX_CHANGES, MAX_REVOCATION_BYTES, MAX_REVOKED, MAX_TIME } from './constants.ts'
import { identifierFromText, identifierToText, type Identifier } from './identifier.ts'
import type { Identity } from './identity.ts'
import { identityKeyOf, SIGNATURE_LENGTH, signedMessage, vaultSign, verifySignature } from './signing.ts'
import { checkTime } from './time.ts'

const CODE = ErrorCode.CREDENTIAL_REVOCATION_MALFORMED

/** A decoded revocation list. */
export interface RevocationList {
  readonly encoded: Uint8Array
  readonly data: Uint8Array
  readonly signature: Uint8Array
  readonly issuer: Identifier
  readonly changeIndex: number
  readonly sequence: number
  readonly issuedAt: number
  /** Revoked credential ids, hex. */
  readonly credentials: ReadonlySet<string>
  /** Subjects all of whose credentials from this issuer are revoked. */
  readonly subjects: ReadonlySet<Identifier>
}

export interface CreateRevocationListOptions extends CallOptions {
  /** Must be greater than every earlier list's number (the issuer keeps it). */
  sequence: number
  /** Credential ids (hex) revoked; the list is cumulative. */
  credentials: Iterable<string>
  subjects?: Iterable<Identifier>
  /** Now, seconds since the epoch (injected clock). */
  now: number
}

/**
 * Signs a revocation list with the issuer's current key.
 * @throws HopsealError INVALID_ARGUMENT (bad id, key not current), LIMIT_EXCEEDED (over MAX_REVOKED entries).
 * @example const list = await createRevocationList(vault, key, issuer, { sequence: 2, credentials: [cred.id], now })
 */
export async function createRevocationList(vault: Vault, key: KeyHandle, issuer: Identity, opts: CreateRevocationListOptions): Promise<Uint8Array> {
  checkTime('now', opts.now)
  if (!Number.isSafeInteger(opts.sequence) || opts.sequence < 0) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'sequence expected a non-negative safe integer')
  const ids = sortedUnique([...opts.credentials].map((h) => checkedHex(h, CREDENTIAL_ID_LENGTH)))
  const subjects = sortedUnique([...(opts.subjects ?? [])].map((s) => identifierFromText(s)))
  if (ids.length + subjects.length > MAX_REVOKED) throw new HopsealError(ErrorCode.LIMIT_EXCEEDED, `at most ${MAX_REVOKED} revocations per list`)
  const k = await identityKeyOf(vault, key, opts)
  const cur = issuer.current
  if (k.type !== cur.keyType || !equalConstantTime(k.publicKey, cur.publicKey)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `key is not the current key of issuer ${issuer.identifier}`)
  issuer.checkValidAt(opts.now)
  const m = new Map<number, unknown>([
    [1, issuer.identifierBytes],
    [2, cur.index],
    [3, opts.sequence],
    [4, opts.now],
    [5, ids],
  ])
  if (subjects.length > 0) m.set(6, subjects)
  const data = encodeCanonical(m)
  const signature = await vaultSign(vault, key, signedMessage('revocation', data), opts)
  return encodeCanonical(
    new Map<number, Uint8Array>([
      [1, data],
      [2, signature],
    ]),
  )
}

/**
 * Decodes a revocation list (structure only).
 * @throws HopsealError CREDENTIAL_REVOCATION_MALFORMED.
 */
export function decodeRevocationList(bytes: Uint8Array): RevocationList {
  const { data, signature, fields: r } = decodeSigned(bytes, MAX_REVOCATION_BYTES, SIGNATURE_LENGTH, CODE, 'revocation list')
  const issuer = identifierToText(r.bytes(1, [IDENTIFIER_LENGTH]))
  const changeIndex = r.uint(2, MAX_CHANGES - 1)
  const sequence = r.uint(3, Number.MAX_SAFE_INTEGER)
  const issuedAt = r.uint(4, MAX_TIME)
  const ids = readSortedBytes(r.raw(5), CREDENTIAL_ID_LENGTH, 'credential ids')
  const rawSubjects = r.raw(6, true)
  const subjects = rawSubjects === undefined ? [] : readSortedBytes(rawSubjects, IDENTIFIER_LENGTH, 'subjects')
  if (rawSubjects !== undefined && subjects.length === 0) throw new HopsealError(CODE, 'an empty subject list must be omitted')
  r.done()
  if (ids.length + subjects.length > MAX_REVOKED) throw new HopsealError(CODE, `more than ${MAX_REVOKED} revocations`)
  return {
    encoded: bytes.slice(),
    data,
    signature,
    issuer,
    changeIndex,
    sequence,
    issuedAt,
    credentials: new Set(ids.map(toHex)),
    subjects: new Set(subjects.map(identifierToText)),
  }
}

/**
 * Verifies a revocation list against its issuer's identity.
 * @throws HopsealError CREDENTIAL_REVOCATION_MALFORMED, CREDENTIAL_REVOCATION_BAD_SIGNATURE (wrong issuer, bad signature, retired key), IDENTITY_UNKNOWN_CHANGE.
 */
export function verifyRevocationList(bytes: Uint8Array, issuer: Identity, opts: { now: number; crypto?: CryptoProvider }): RevocationList {
  const crypto = opts.crypto ?? defaultCryptoProvider()
  checkTime('now', opts.now)
  const list = decodeRevocationList(bytes)
  if (list.issuer !== issuer.identifier) throw new HopsealError(ErrorCode.CREDENTIAL_REVOCATION_BAD_SIGNATURE, `revocation list is from ${list.issuer}, not ${issuer.identifier}`)
  const BAD = ErrorCode.CREDENTIAL_REVOCATION_BAD_SIGNATURE
  const signer = issuer.signerAt(list.changeIndex, opts.now, BAD, BAD)
  if (!verifySignature(crypto, signer.keyType, signer.publicKey, signedMessage('revocation', list.data), list.signature)) {
    throw new HopsealError(BAD, `revocation list not signed by key ${list.changeIndex} of ${issuer.identifier}`)
  }
  return list
}

/**
 * The newest accepted revocation list per issuer. `accept` is atomic: a list
 * that fails any check leaves the registry unchanged.
 */
export class RevocationRegistry {
  private readonly lists = new Map<Identifier, RevocationList>()

  /**
   * Verifies and installs `bytes` if newer than the list held for its issuer.
   * Re-accepting the identical list is a no-op.
   * @throws HopsealError CREDENTIAL_REVOCATION_STALE for an older (or conflicting equal-numbered) list, and the errors of {@link verifyRevocationList}.
   */
  accept(bytes: Uint8Array, issuer: Identity, opts: { now: number; crypto?: CryptoProvider }): RevocationList {
    const list = verifyRevocationList(bytes, issuer, opts)
    const held = this.lists.get(list.issuer)
    if (held) {
      if (list.sequence === held.sequence && equalConstantTime(list.encoded, held.encoded)) return held
      if (list.sequence <= held.sequence) {
        throw new HopsealError(ErrorCode.CREDENTIAL_REVOCATION_STALE, `revocation list ${list.sequence} from ${list.issuer} is not newer than the one held (${held.sequence})`)
      }
    }
    this.lists.set(list.issuer, list)
    return list
  }

  /** True when `issuer`'s newest list revokes credential `credentialId` (hex) or all of `subject`'s credentials. */
  isRevoked(issuer: Identifier, credentialId: string, subject?: Identifier): boolean {
    const l = this.lists.get(issuer)
    if (!l) return false
    return l.credentials.has(credentialId) || (subject !== undefined && l.subjects.has(subject))
  }

  /**
   * Installs a list from trusted local storage (it was verified when first
   * accepted): structure is checked, signatures are not, sequence rules apply.
   * @throws HopsealError CREDENTIAL_REVOCATION_MALFORMED, CREDENTIAL_REVOCATION_STALE.
   */
  restore(bytes: Uint8Array): RevocationList {
    const list = decodeRevocationList(bytes)
    const held = this.lists.get(list.issuer)
    if (held && held.sequence >= list.sequence) throw new HopsealError(ErrorCode.CREDENTIAL_REVOCATION_STALE, `duplicate revocation list for ${list.issuer}`)
    this.lists.set(list.issuer, list)
    return list
  }

  /** The list held for `issuer`, if any. */
  latest(issuer: Identifier): RevocationList | undefined {
    return this.lists.get(issuer)
  }

  /** Every held list's bytes (for storage). */
  encodedLists(): Uint8Array[] {
    return [...this.lists.values()].map((l) => l.encoded)
  }
}

function readSortedBytes(value: unknown, length: number, what: string): Uint8Array[] {
  const items = readArray(value, 0, MAX_REVOKED, CODE, `revocation list ${what}`)
  const out: Uint8Array[] = []
  for (const it of items) {
    if (!(it instanceof Uint8Array) || it.length !== length) throw new HopsealError(CODE, `revocation list ${what} entries must be ${length}-byte strings`)
    const prev = out[out.length - 1]
    if (prev && compareBytes(prev, it) >= 0) throw new HopsealError(CODE, `revocation list ${what} must be strictly ascending`)
    out.push(it.slice())
  }
  return out
}

function sortedUnique(items: Uint8Array[]): Uint8Array[] {
  const sorted = items.sort(compareBytes)
  return sorted.filter((b, i) => i === 0 || compareBytes(sorted[i - 1]!, b) !== 0)
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}

function checkedHex(h: string, length: number): Uint8Array {
  if (typeof h !== 'string' || !/^[0-9a-f]*$/.test(h) || h.length !== 2 * length) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `credential id expected ${2 * length} lowercase hex digits`)
  return fromHex(h)
}
