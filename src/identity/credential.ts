/**
 * Credentials (docs/identity.md §5): an issuer identity signs attributes
 * about a subject identifier, valid from not-before until expiry.
 *
 * Wire form: {1: data (bstr), 2: signature}; data = {1: issuer identifier,
 * 2: signing change index, 3: subject identifier, 4: attributes {text: text |
 * bstr}, 5: not-before, 6: expires}. The signature covers
 * DOMAIN.credential || 0x00 || data. The credential id is SHA-256(data)
 * truncated to 16 bytes, in hex: revocation lists name credentials by it.
 */
import { equalConstantTime, toHex, utf8 } from '../bytes/index.ts'
import { defaultCryptoProvider, type CryptoProvider } from '../crypto/index.ts'
import { ErrorCode, HopsealError } from '../errors.ts'
import type { CallOptions, KeyHandle, Vault } from '../vault/index.ts'
import { encodeCanonical, decodeSigned } from './cbor.ts'
import {
  CLOCK_SKEW_SECONDS,
  CREDENTIAL_ID_LENGTH,
  IDENTIFIER_LENGTH,
  MAX_ATTRIBUTE_NAME_BYTES,
  MAX_ATTRIBUTE_VALUE_BYTES,
  MAX_ATTRIBUTES,
  MAX_CHANGES,
  MAX_CREDENTIAL_BYTES,
  MAX_TIME,
} from './constants.ts'
import { identifierFromText, identifierToText, truncatedHash, type Identifier } from './identifier.ts'
import type { Identity } from './identity.ts'
import type { RevocationRegistry } from './revocation.ts'
import { identityKeyOf, SIGNATURE_LENGTH, signedMessage, vaultSign, verifySignature } from './signing.ts'
import { checkTime } from './time.ts'

/** Attribute values are UTF-8 strings or byte strings. */
export type AttributeValue = string | Uint8Array
export type Attributes = ReadonlyMap<string, AttributeValue>

/**
 * Attribute names: 1..64 of `A-Z a-z 0-9 _ - .`, so every name can appear in a
 * policy as `subject.<name>`. `identifier` is reserved: policies read
 * `subject.identifier` from the verified identity, never from an issuer.
 */
const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]+$/
export const RESERVED_ATTRIBUTES: readonly string[] = ['identifier']

/** A credential as decoded, before any signature or policy check. */
export interface DecodedCredential {
  readonly data: Uint8Array
  readonly signature: Uint8Array
  /** Hex of the 16-byte credential id. */
  readonly id: string
  readonly issuer: Identifier
  readonly changeIndex: number
  readonly subject: Identifier
  readonly attributes: Attributes
  readonly notBefore: number
  readonly expires: number
}

/** A credential that passed {@link verifyCredential}. */
export type VerifiedCredential = Omit<DecodedCredential, 'data' | 'signature'>

const CODE = ErrorCode.CREDENTIAL_MALFORMED

export interface IssueCredentialOptions extends CallOptions {
  subject: Identifier
  attributes: Record<string, AttributeValue> | Attributes
  /** Seconds since the epoch; defaults to `now`. */
  notBefore?: number
  expires: number
  /** Now, seconds since the epoch (injected clock). */
  now: number
}

/**
 * Issues a credential signed by the issuer's current key `key` in `vault`.
 * @throws HopsealError INVALID_ARGUMENT for a key that is not the issuer's current key, a bad attribute or bad times; LIMIT_EXCEEDED over the size limits.
 * @example const cred = await issueCredential(vault, issuerKey, issuer, { subject: device.identifier, attributes: { role: 'monitor', site: 'ward-3' }, now, expires: now + 86400 * 90 })
 */
export async function issueCredential(vault: Vault, key: KeyHandle, issuer: Identity, opts: IssueCredentialOptions): Promise<Uint8Array> {
  checkTime('now', opts.now)
  const notBefore = opts.notBefore ?? opts.now
  checkTime('notBefore', notBefore)
  checkTime('expires', opts.expires)
  if (opts.expires <= notBefore) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'expires must be after notBefore')
  const subject = identifierFromText(opts.subject)
  const attrs = new Map<string, AttributeValue>()
  const entries = opts.attributes instanceof Map ? [...opts.attributes] : Object.entries(opts.attributes ?? {})
  if (entries.length > MAX_ATTRIBUTES) throw new HopsealError(ErrorCode.LIMIT_EXCEEDED, `at most ${MAX_ATTRIBUTES} attributes, got ${entries.length}`)
  for (const [k, v] of entries) {
    attrs.set(k, checkAttribute(k, v, ErrorCode.INVALID_ARGUMENT))
  }
  const k = await identityKeyOf(vault, key, opts)
  const cur = issuer.current
  if (k.type !== cur.keyType || !equalConstantTime(k.publicKey, cur.publicKey)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `key is not the current key of issuer ${issuer.identifier}`)
  issuer.checkValidAt(opts.now)
  const data = encodeCanonical(
    new Map<number, unknown>([
      [1, issuer.identifierBytes],
      [2, cur.index],
      [3, subject],
      [4, attrs],
      [5, notBefore],
      [6, opts.expires],
    ]),
  )
  if (data.length > MAX_CREDENTIAL_BYTES - 80) throw new HopsealError(ErrorCode.LIMIT_EXCEEDED, `credential would exceed ${MAX_CREDENTIAL_BYTES} bytes`)
  const signature = await vaultSign(vault, key, signedMessage('credential', data), opts)
  return encodeCanonical(
    new Map<number, Uint8Array>([
      [1, data],
      [2, signature],
    ]),
  )
}

/**
 * Decodes a credential (structure only).
 * @throws HopsealError CREDENTIAL_MALFORMED.
 */
export function decodeCredential(bytes: Uint8Array, opts: { crypto?: CryptoProvider } = {}): DecodedCredential {
  const crypto = opts.crypto ?? defaultCryptoProvider()
  const { data, signature, fields: r } = decodeSigned(bytes, MAX_CREDENTIAL_BYTES, SIGNATURE_LENGTH, CODE, 'credential')
  const issuer = identifierToText(r.bytes(1, [IDENTIFIER_LENGTH]))
  const changeIndex = r.uint(2, MAX_CHANGES - 1)
  const subject = identifierToText(r.bytes(3, [IDENTIFIER_LENGTH]))
  const rawAttrs = r.raw(4)
  const notBefore = r.uint(5, MAX_TIME)
  const expires = r.uint(6, MAX_TIME)
  r.done()
  if (!(rawAttrs instanceof Map)) throw new HopsealError(CODE, 'credential attributes expected a CBOR map')
  if (rawAttrs.size > MAX_ATTRIBUTES) throw new HopsealError(CODE, `credential has ${rawAttrs.size} attributes, limit ${MAX_ATTRIBUTES}`)
  const attributes = new Map<string, AttributeValue>()
  for (const [k, v] of rawAttrs as Map<unknown, unknown>) {
    attributes.set(k as string, checkAttribute(k, v, CODE))
  }
  if (expires <= notBefore) throw new HopsealError(CODE, 'credential expires before it becomes valid')
  const id = toHex(truncatedHash(crypto, data, CREDENTIAL_ID_LENGTH))
  return { data, signature, id, issuer, changeIndex, subject, attributes, notBefore, expires }
}

export interface VerifyCredentialOptions {
  /** The identifier the credential must be about (the authenticated peer). */
  subject: Identifier
  /** Trusted issuers (verified identities). */
  anchors: readonly Identity[]
  /** Revocation lists accepted so far; without it nothing is considered revoked. */
  revocations?: RevocationRegistry
  /** Now, seconds since the epoch (injected clock). */
  now: number
  crypto?: CryptoProvider
}

/**
 * Verifies a credential: issuer among the trust anchors, issuer key not
 * retired, signature, subject binding, validity times, revocation.
 * @throws HopsealError CREDENTIAL_MALFORMED, CREDENTIAL_UNTRUSTED_ISSUER, IDENTITY_UNKNOWN_CHANGE,
 *   IDENTITY_EXPIRED (issuer), CREDENTIAL_BAD_SIGNATURE, CREDENTIAL_WRONG_SUBJECT,
 *   CREDENTIAL_NOT_YET_VALID, CREDENTIAL_EXPIRED, CREDENTIAL_REVOKED.
 * @example const c = verifyCredential(bytes, { subject: peer.identifier, anchors: [issuer], revocations, now })
 */
export function verifyCredential(bytes: Uint8Array, opts: VerifyCredentialOptions): VerifiedCredential {
  const crypto = opts.crypto ?? defaultCryptoProvider()
  checkTime('now', opts.now)
  const subject = identifierFromText(opts.subject)
  if (!Array.isArray(opts.anchors)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'anchors expected an array of identities')
  const c = decodeCredential(bytes, { crypto })
  const issuer = opts.anchors.find((a) => a.identifier === c.issuer)
  if (!issuer) throw new HopsealError(ErrorCode.CREDENTIAL_UNTRUSTED_ISSUER, `issuer ${c.issuer} is not a trust anchor`)
  const signer = issuer.signerAt(c.changeIndex, opts.now, ErrorCode.CREDENTIAL_REVOKED, ErrorCode.CREDENTIAL_EXPIRED)
  if (!verifySignature(crypto, signer.keyType, signer.publicKey, signedMessage('credential', c.data), c.signature)) {
    throw new HopsealError(ErrorCode.CREDENTIAL_BAD_SIGNATURE, `credential not signed by key ${c.changeIndex} of ${c.issuer}`)
  }
  if (!equalConstantTime(identifierFromText(c.subject), subject)) throw new HopsealError(ErrorCode.CREDENTIAL_WRONG_SUBJECT, `credential is about ${c.subject}, not ${opts.subject}`)
  if (opts.now + CLOCK_SKEW_SECONDS < c.notBefore) throw new HopsealError(ErrorCode.CREDENTIAL_NOT_YET_VALID, `credential valid from ${c.notBefore}, now ${opts.now}`)
  if (opts.now >= c.expires) throw new HopsealError(ErrorCode.CREDENTIAL_EXPIRED, `credential expired at ${c.expires}, now ${opts.now}`)
  if (opts.revocations?.isRevoked(c.issuer, c.id, c.subject)) throw new HopsealError(ErrorCode.CREDENTIAL_REVOKED, `credential ${c.id} is revoked by ${c.issuer}`)
  return { id: c.id, issuer: c.issuer, changeIndex: c.changeIndex, subject: c.subject, attributes: c.attributes, notBefore: c.notBefore, expires: c.expires }
}

/** Checks one attribute and returns its value (byte strings copied). */
function checkAttribute(k: unknown, v: unknown, code: string): AttributeValue {
  if (typeof k !== 'string' || k.length === 0 || utf8(k).length > MAX_ATTRIBUTE_NAME_BYTES || !ATTRIBUTE_NAME.test(k)) {
    throw new HopsealError(code, `attribute name must be 1..${MAX_ATTRIBUTE_NAME_BYTES} of A-Z a-z 0-9 _ - . , got ${JSON.stringify(String(k).slice(0, 70))}`)
  }
  if (RESERVED_ATTRIBUTES.includes(k)) throw new HopsealError(code, `attribute name ${k} is reserved`)
  if (typeof v === 'string') {
    if (utf8(v).length > MAX_ATTRIBUTE_VALUE_BYTES) throw new HopsealError(code, `attribute ${k} longer than ${MAX_ATTRIBUTE_VALUE_BYTES} bytes`)
    return v
  }
  if (v instanceof Uint8Array) {
    if (v.length > MAX_ATTRIBUTE_VALUE_BYTES) throw new HopsealError(code, `attribute ${k} longer than ${MAX_ATTRIBUTE_VALUE_BYTES} bytes`)
    return v.slice()
  }
  throw new HopsealError(code, `attribute ${k} must be a string or bytes`)
}

/** Attribute value as text for display: strings as is, bytes as `0x` + hex. */
export function attributeText(v: AttributeValue): string {
  return typeof v === 'string' ? v : '0x' + toHex(v)
}

