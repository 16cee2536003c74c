/**
 * Purpose-key attestations (docs/identity.md §4): an identity key signs a
 * Noise static public key (X25519 32 B, or P-256 33 B compressed) with an
 * expiry. In first-contact XX (architecture.md §4) each side sends its
 * identity and this attestation; the receiver calls {@link verifyAttestation}
 * with the Noise-authenticated remote static key and gets the identifier back.
 *
 * Wire form: {1: data (bstr), 2: signature}; data = {1: signing change index,
 * 2: static public key, 3: expires}. The static key's type follows from its
 * length. The signature covers DOMAIN.attestation || 0x00 || identifier (20 B,
 * not sent: the verifier has the identity) || data, binding the attestation to
 * exactly one identity.
 */
import { equalConstantTime } from '../bytes/index.ts'
import { defaultCryptoProvider, type CryptoProvider } from '../crypto/index.ts'
import { ErrorCode, HopsealError } from '../errors.ts'
import type { CallOptions, KeyHandle, Vault } from '../vault/index.ts'
import { encodeCanonical, decodeSigned } from './cbor.ts'
import { MAX_ATTESTATION_BYTES, MAX_CHANGES, MAX_TIME } from './constants.ts'
import type { Identifier } from './identifier.ts'
import type { Identity } from './identity.ts'
import { identityKeyOf, SIGNATURE_LENGTH, signedMessage, vaultSign, verifySignature } from './signing.ts'
import { checkTime } from './time.ts'

export type StaticKeyType = 'x25519' | 'p256'

/** An attestation as decoded, before any signature check. */
export interface DecodedAttestation {
  readonly data: Uint8Array
  readonly signature: Uint8Array
  /** Index of the identity change whose key signed it. */
  readonly changeIndex: number
  readonly staticKey: Uint8Array
  readonly staticKeyType: StaticKeyType
  /** Seconds since the epoch. */
  readonly expires: number
}

/** What a verified attestation tells the channel layer. */
export interface VerifiedAttestation {
  readonly identifier: Identifier
  readonly staticKey: Uint8Array
  readonly staticKeyType: StaticKeyType
  readonly expires: number
  readonly changeIndex: number
}

const CODE = ErrorCode.IDENTITY_ATTESTATION_MALFORMED

export interface CreateAttestationOptions extends CallOptions {
  /** Now, seconds since the epoch (injected clock). */
  now: number
  /** Expiry, seconds since the epoch; must not outlive the signing key. */
  expires: number
  crypto?: CryptoProvider
}

/**
 * Signs `staticPublicKey` (X25519 32 B, P-256 33 or 65 B) with the identity's
 * current key, held in `vault` as `key`.
 * @throws HopsealError INVALID_ARGUMENT when `key` is not the identity's current key or times are wrong; INVALID_POINT for a bad P-256 key.
 * @example const att = await createAttestation(vault, idKey, identity, await vault.publicKey(noiseKey), { now, expires: now + 30 * 86400 })
 */
export async function createAttestation(vault: Vault, key: KeyHandle, identity: Identity, staticPublicKey: Uint8Array, opts: CreateAttestationOptions): Promise<Uint8Array> {
  const crypto = opts.crypto ?? defaultCryptoProvider()
  checkTime('now', opts.now)
  checkTime('expires', opts.expires)
  const staticKey = normaliseStaticKey(crypto, staticPublicKey)
  const k = await identityKeyOf(vault, key, opts)
  const cur = identity.current
  if (k.type !== cur.keyType || !equalConstantTime(k.publicKey, cur.publicKey)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `key is not the current key of ${identity.identifier}`)
  identity.checkValidAt(opts.now)
  if (opts.expires <= opts.now || opts.expires > cur.expires) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `expires must be after now and no later than the signing key's expiry (${cur.expires})`)
  const data = encodeCanonical(
    new Map<number, unknown>([
      [1, cur.index],
      [2, staticKey],
      [3, opts.expires],
    ]),
  )
  const signature = await vaultSign(vault, key, signedMessage('attestation', identity.identifierBytes, data), opts)
  return encodeCanonical(
    new Map<number, Uint8Array>([
      [1, data],
      [2, signature],
    ]),
  )
}

/**
 * Decodes an attestation (structure only: canonical CBOR, field types, limits).
 * @throws HopsealError IDENTITY_ATTESTATION_MALFORMED.
 */
export function decodeAttestation(bytes: Uint8Array): DecodedAttestation {
  const { data, signature, fields: r } = decodeSigned(bytes, MAX_ATTESTATION_BYTES, SIGNATURE_LENGTH, CODE, 'attestation')
  const changeIndex = r.uint(1, MAX_CHANGES - 1)
  const staticKey = r.bytes(2, [32, 33])
  const expires = r.uint(3, MAX_TIME)
  r.done()
  const staticKeyType: StaticKeyType = staticKey.length === 32 ? 'x25519' : 'p256'
  if (staticKeyType === 'p256' && staticKey[0] !== 2 && staticKey[0] !== 3) throw new HopsealError(CODE, 'attestation P-256 static key must be compressed SEC1')
  return { data, signature, changeIndex, staticKey, staticKeyType, expires }
}

export interface VerifyAttestationOptions {
  /** Now, seconds since the epoch (injected clock). */
  now: number
  /**
   * The Noise-authenticated remote static public key. When given, it must equal
   * the attested key (IDENTITY_MISBINDING otherwise). P-256 keys may be 33 or 65 bytes.
   */
  expectedStaticKey?: Uint8Array
  /** Refuse attestations by any key but the current one, even without a revoke-all rotation. */
  requireCurrentKey?: boolean
  crypto?: CryptoProvider
}

/**
 * Verifies a purpose-key attestation against a (verified) identity and returns
 * the identifier it binds the static key to.
 * @throws HopsealError IDENTITY_ATTESTATION_MALFORMED, IDENTITY_UNKNOWN_CHANGE,
 *   IDENTITY_ATTESTATION_REVOKED (signed by a key a revoke-all rotation retired, or
 *   an earlier key under `requireCurrentKey`), IDENTITY_EXPIRED,
 *   IDENTITY_ATTESTATION_BAD_SIGNATURE, IDENTITY_ATTESTATION_EXPIRED, IDENTITY_MISBINDING.
 * @example const { identifier } = verifyAttestation(peerIdentity, att, { expectedStaticKey: hs.finish().remoteStatic, now })
 */
export function verifyAttestation(identity: Identity, bytes: Uint8Array, opts: VerifyAttestationOptions): VerifiedAttestation {
  const crypto = opts.crypto ?? defaultCryptoProvider()
  checkTime('now', opts.now)
  const expected = opts.expectedStaticKey === undefined ? undefined : normaliseStaticKey(crypto, opts.expectedStaticKey)
  const a = decodeAttestation(bytes)
  const signer = identity.signerAt(a.changeIndex, opts.now, ErrorCode.IDENTITY_ATTESTATION_REVOKED, ErrorCode.IDENTITY_ATTESTATION_EXPIRED)
  if (opts.requireCurrentKey && signer !== identity.current) throw new HopsealError(ErrorCode.IDENTITY_ATTESTATION_REVOKED, `attestation by key ${a.changeIndex}, but the current key is ${identity.current.index}`)
  const msg = signedMessage('attestation', identity.identifierBytes, a.data)
  if (!verifySignature(crypto, signer.keyType, signer.publicKey, msg, a.signature)) {
    throw new HopsealError(ErrorCode.IDENTITY_ATTESTATION_BAD_SIGNATURE, `attestation not signed by key ${a.changeIndex} of ${identity.identifier}`)
  }
  if (a.staticKeyType === 'p256') {
    try {
      crypto.p256Point(a.staticKey, true)
    } catch {
      throw new HopsealError(CODE, 'attested P-256 static key is not a valid point')
    }
  }
  if (opts.now >= a.expires) throw new HopsealError(ErrorCode.IDENTITY_ATTESTATION_EXPIRED, `attestation expired at ${a.expires}, now ${opts.now}`)
  if (expected && !equalConstantTime(expected, a.staticKey)) {
    throw new HopsealError(ErrorCode.IDENTITY_MISBINDING, `the attested static key of ${identity.identifier} is not the Noise remote static key`)
  }
  return { identifier: identity.identifier, staticKey: a.staticKey, staticKeyType: a.staticKeyType, expires: a.expires, changeIndex: a.changeIndex }
}

function normaliseStaticKey(crypto: CryptoProvider, key: Uint8Array): Uint8Array {
  if (!(key instanceof Uint8Array)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'static public key expected Uint8Array')
  if (key.length === 32) return key.slice()
  if (key.length === 33 || key.length === 65) return crypto.p256Point(key, true)
  throw new HopsealError(ErrorCode.INVALID_LENGTH, `static public key expected 32 (X25519), 33 or 65 (P-256) bytes, got ${key.length}`)
}
