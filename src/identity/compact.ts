/**
 * The compact in-handshake form of an identity and its purpose-key
 * attestation (docs/identity.md §4.1): the same signed objects with only the
 * bytes the receiver cannot recompute. The receiver rebuilds the exact
 * canonical CBOR of every signed `data` (so every signature and the
 * identifier are those of the full form) and verifies the rebuilt identity
 * and attestation as it would the full ones: a tampered field fails with the
 * same error in either form.
 *
 *   compact     = u8((changes − 1) << 4 | attestation's signing change index)
 *                 change × changes ‖ attestation
 *   change      = u8(flags: bit 0 P-256 key, bit 1 revokeAll; other bits 0)
 *                 public key (Ed25519 32 B | P-256 33 B compressed)
 *                 varint(created) ‖ varint(expires − created)
 *                 signature (64 B) ‖ [previous key's signature (64 B), rotations only]
 *   attestation = varint(signing key's expiry − expires) ‖ last 2 bytes of the
 *                 attested static key ‖ signature (64 B)
 *
 * Left out: a rotation's previous-change link (the hash of the previous
 * change's data, recomputed), the CBOR framing, and the attested static key,
 * which in a handshake is the Noise-authenticated remote static key: the
 * receiver puts that key in the rebuilt attestation. Its last two bytes stay,
 * so an attestation of another key is still told apart (IDENTITY_MISBINDING)
 * from a bad signature (all but 1 in 65 536 of them).
 *
 * An identity and attestation the form cannot express (an attestation
 * outliving its signing key, which createAttestation never makes) are sent
 * in the full form: encodeCompact() returns undefined.
 */
import { decodeVarint, encodeVarint, equalConstantTime } from '../bytes/index.ts'
import { defaultCryptoProvider, type CryptoProvider } from '../crypto/index.ts'
import { ErrorCode, HopsealError } from '../errors.ts'
import { decodeAttestation } from './attestation.ts'
import { encodeCanonical } from './cbor.ts'
import { CHANGE_LINK_LENGTH, MAX_CHANGES, type IdentityKeyType } from './constants.ts'
import { truncatedHash } from './identifier.ts'
import { encodeChange, encodeChangeData, type Identity } from './identity.ts'
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH } from './signing.ts'

const FLAG_P256 = 1
const FLAG_REVOKE_ALL = 2
/** Bytes of the attested static key the compact attestation keeps. */
export const STATIC_KEY_HINT_BYTES = 2

/**
 * The compact form of `identity` and `attestation` (an attestation by one of
 * its changes), or undefined when the form cannot express them.
 * @throws HopsealError IDENTITY_ATTESTATION_MALFORMED for an attestation that does not decode.
 */
export function encodeCompact(identity: Identity, attestation: Uint8Array): Uint8Array | undefined {
  const a = decodeAttestation(attestation)
  const changes = identity.changes
  const signer = changes[a.changeIndex]
  if (!signer || changes.length > MAX_CHANGES || a.expires > signer.expires) return undefined
  const parts: Uint8Array[] = [Uint8Array.of(((changes.length - 1) << 4) | a.changeIndex)]
  for (const c of changes) {
    parts.push(Uint8Array.of((c.keyType === 'p256' ? FLAG_P256 : 0) | (c.revokeAll ? FLAG_REVOKE_ALL : 0)), c.publicKey, encodeVarint(c.created), encodeVarint(c.expires - c.created), c.signature)
    if (c.previousSignature) parts.push(c.previousSignature)
  }
  parts.push(encodeVarint(signer.expires - a.expires), a.staticKey.subarray(a.staticKey.length - STATIC_KEY_HINT_BYTES), a.signature)
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

export interface ExpandedCompact {
  /** The identity's full form (canonical CBOR, as identity.encoded would be). */
  identity: Uint8Array
  /** The attestation's full form, attesting `remoteStatic`. */
  attestation: Uint8Array
  /** The attested key's last bytes are not `remoteStatic`'s: the attestation is of another key. */
  misbound: boolean
  /** Offset just past the compact form in the input. */
  end: number
}

/**
 * Rebuilds the full identity and attestation from the compact form at
 * `offset`, with `remoteStatic` (X25519 32 B, or P-256 33/65 B) as the
 * attested key. Structure only: the caller verifies what it returns
 * (verifyIdentity, then verifyAttestation unless `misbound`).
 * @throws HopsealError DECODE_ERROR (truncated, bad flags, times out of range), IDENTITY_ATTESTATION_MALFORMED (an expiry after the signing key's).
 */
export function expandCompact(b: Uint8Array, offset: number, remoteStatic: Uint8Array, crypto: CryptoProvider = defaultCryptoProvider()): ExpandedCompact {
  const r = new CompactReader(b, offset)
  const head = r.take(1, 'header')[0]!
  const { changes, expiries } = readChanges(r, (head >> 4) + 1, crypto)
  const attestation = readAttestation(r, head & 15, expiries, remoteStatic, crypto)
  return { identity: encodeCanonical(changes), ...attestation, end: r.offset }
}

/** A cursor over the compact form: a field past the end is DECODE_ERROR naming the field. */
class CompactReader {
  constructor(
    private readonly b: Uint8Array,
    public offset: number,
  ) {}

  take(n: number, what: string): Uint8Array {
    if (this.offset + n > this.b.length) throw new HopsealError(ErrorCode.DECODE_ERROR, `compact identity: ${what} truncated`)
    this.offset += n
    return this.b.slice(this.offset - n, this.offset)
  }

  varint(): number {
    const v = decodeVarint(this.b, this.offset)
    this.offset += v.length
    return v.value
  }
}

/** The identity's `count` changes, each rebuilt in its full form (linked to the previous one by hash), and their expiries. */
function readChanges(r: CompactReader, count: number, crypto: CryptoProvider): { changes: Map<number, Uint8Array>[]; expiries: number[] } {
  const changes: Map<number, Uint8Array>[] = []
  const expiries: number[] = []
  let previous: Uint8Array | undefined
  for (let i = 0; i < count; i++) {
    const flags = r.take(1, 'change flags')[0]!
    if (flags & ~(FLAG_P256 | FLAG_REVOKE_ALL)) throw new HopsealError(ErrorCode.DECODE_ERROR, `compact identity: change ${i} has unknown flags ${flags}`)
    const keyType: IdentityKeyType = flags & FLAG_P256 ? 'p256' : 'ed25519'
    const publicKey = r.take(PUBLIC_KEY_LENGTH[keyType], 'public key')
    const created = r.varint()
    const expires = created + r.varint()
    if (!Number.isSafeInteger(expires)) throw new HopsealError(ErrorCode.DECODE_ERROR, `compact identity: change ${i} expiry out of range`)
    const signature = r.take(SIGNATURE_LENGTH, 'signature')
    const previousSignature = i > 0 ? r.take(SIGNATURE_LENGTH, 'previous signature') : undefined
    // Encoded as the full form would hold it; decodeIdentity checks every field and signature.
    const data = encodeChangeData({ ...(previous ? { previous } : {}), keyType, publicKey, created, expires, revokeAll: (flags & FLAG_REVOKE_ALL) !== 0 })
    previous = truncatedHash(crypto, data, CHANGE_LINK_LENGTH)
    changes.push(encodeChange(data, signature, previousSignature))
    expiries.push(expires)
  }
  return { changes, expiries }
}

/** The attestation by change `index` of `remoteStatic`, in its full form, and whether the key hint matches it. */
function readAttestation(r: CompactReader, index: number, expiries: readonly number[], remoteStatic: Uint8Array, crypto: CryptoProvider): { attestation: Uint8Array; misbound: boolean } {
  const before = r.varint()
  const hint = r.take(STATIC_KEY_HINT_BYTES, 'static key')
  const signature = r.take(SIGNATURE_LENGTH, 'attestation signature')
  const staticKey = attestedKey(crypto, remoteStatic)
  // An attestation by a change this history lacks fails as IDENTITY_UNKNOWN_CHANGE in verifyAttestation, before its expiry matters.
  const signerExpires = expiries[index] ?? before
  const expires = signerExpires - before
  if (expires < 0) throw new HopsealError(ErrorCode.IDENTITY_ATTESTATION_MALFORMED, 'compact attestation: expiry before 0')
  const data = encodeCanonical(
    new Map<number, unknown>([
      [1, index],
      [2, staticKey],
      [3, expires],
    ]),
  )
  return {
    attestation: encodeCanonical(
      new Map<number, Uint8Array>([
        [1, data],
        [2, signature],
      ]),
    ),
    misbound: !equalConstantTime(hint, staticKey.subarray(staticKey.length - STATIC_KEY_HINT_BYTES)),
  }
}

/** The attested form of a Noise static key: X25519 as is, P-256 compressed. */
function attestedKey(crypto: CryptoProvider, k: Uint8Array): Uint8Array {
  if (k.length === 32 || k.length === 33) return k.slice()
  if (k.length === 65) return crypto.p256Point(k, true)
  throw new HopsealError(ErrorCode.INVALID_LENGTH, `static public key expected 32 (X25519), 33 or 65 (P-256) bytes, got ${k.length}`)
}
