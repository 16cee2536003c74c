/**
 * First-contact authentication (XX) with hopseal identities
 * (architecture.md §4): each side's identity-bearing handshake payload carries
 * its identity (change history), a purpose-key attestation over its Noise
 * static key, and optional credentials. The receiver verifies the identity,
 * checks that the attested key equals the Noise-authenticated remote static
 * key (IDENTITY_MISBINDING otherwise), verifies credentials against its trust
 * anchors, then applies its trust policy. The payload travels encrypted
 * (XX messages 2 and 3), so identities stay hidden from passive observers.
 *
 * Payload layout (bytes, docs/protocol.md "Handshake payloads"):
 *   full:    varint(len) identity | varint(len) attestation | varint(n) { varint(len) credential }*n
 *   compact: 00 | compact identity and attestation (identity/compact.ts) | varint(n) { varint(len) credential }*n
 * A full payload never starts with 00 (an identity is never empty). Senders
 * use the compact form (61 bytes less per side for a one-change Ed25519
 * identity) unless told otherwise; receivers take both. The compact form
 * leaves out the attested static key: the receiver rebuilds the attestation
 * with the Noise-authenticated remote static key, then verifies both forms
 * the same way.
 */
import { ErrorCode, HopsealError, isHopsealError } from '../errors.ts'
import { concat, decodeVarint, encodeVarint } from '../bytes/index.ts'
import type { CryptoProvider } from '../crypto/index.ts'
import { encodeCompact, expandCompact } from '../identity/compact.ts'
import {
  attributeText,
  authorize,
  subjectAttributes,
  verifyAttestation,
  verifyCredential,
  verifyIdentity,
  type AttributeSource,
  type Identity,
  type RevocationRegistry,
  type TrustPolicy,
  type VerifiedAttestation,
  type VerifiedCredential,
  type VerifyAttestationOptions,
} from '../identity/index.ts'
import type { ChannelAuthenticator, PeerInfo } from './secure-channel.ts'

/** Bounds on a received identity payload. */
export const MAX_IDENTITY_PAYLOAD = 4096
export const MAX_CREDENTIALS = 8

export interface IdentityAuthOptions {
  /** This side's identity and its attestation of this side's Noise static key. */
  identity: Identity
  attestation: Uint8Array
  credentials?: Uint8Array[]
  /** Who we accept. */
  policy: TrustPolicy
  /** Trusted credential issuers. */
  anchors?: readonly Identity[]
  revocations?: RevocationRegistry
  /** `resource.*` attributes for the policy (what the channel gives access to). */
  resource?: AttributeSource
  /** Seconds since the epoch (injected clock). */
  now?: () => number
  /** Refuse attestations made by a rotated-away key. */
  requireCurrentKey?: boolean
  crypto?: CryptoProvider
  /** Send the full form instead of the compact one (peers that predate it; both forms are always accepted). */
  fullPayload?: boolean
}

/** First byte of a compact identity payload. */
const COMPACT_MARK = 0x00

export function encodeIdentityPayload(identity: Uint8Array, attestation: Uint8Array, credentials: Uint8Array[] = []): Uint8Array {
  const parts: Uint8Array[] = [encodeVarint(identity.length), identity, encodeVarint(attestation.length), attestation, encodeVarint(credentials.length)]
  for (const c of credentials) parts.push(encodeVarint(c.length), c)
  return concat(...parts)
}

/**
 * The compact payload of `identity` and its attestation (docs/identity.md
 * §4.1), or the full one when the compact form cannot express them.
 */
export function encodeCompactIdentityPayload(identity: Identity, attestation: Uint8Array, credentials: Uint8Array[] = []): Uint8Array {
  const compact = encodeCompact(identity, attestation)
  if (!compact) return encodeIdentityPayload(identity.encoded, attestation, credentials)
  const parts: Uint8Array[] = [Uint8Array.of(COMPACT_MARK), compact, encodeVarint(credentials.length)]
  for (const c of credentials) parts.push(encodeVarint(c.length), c)
  return concat(...parts)
}

/**
 * Total decoder of both forms: the identity and the attestation in their full
 * form, the credentials, and `misbound` (compact form: the attestation names
 * another static key than `remoteStatic`). A compact payload needs
 * `remoteStatic`, the Noise-authenticated key the attestation is of.
 * @throws HopsealError DECODE_ERROR, LIMIT_EXCEEDED, IDENTITY_ATTESTATION_MALFORMED (compact form).
 */
export function decodeIdentityPayload(b: Uint8Array, remoteStatic?: Uint8Array, crypto?: CryptoProvider): { identity: Uint8Array; attestation: Uint8Array; credentials: Uint8Array[]; misbound: boolean } {
  if (b.length > MAX_IDENTITY_PAYLOAD) throw new HopsealError(ErrorCode.LIMIT_EXCEEDED, `identity payload of ${b.length} bytes exceeds ${MAX_IDENTITY_PAYLOAD}`)
  let o = 0
  let head: { identity: Uint8Array; attestation: Uint8Array; misbound: boolean } | undefined
  if (b.length > 0 && b[0] === COMPACT_MARK) {
    if (!remoteStatic) throw new HopsealError(ErrorCode.DECODE_ERROR, 'a compact identity payload is decoded with the remote static key it attests')
    const x = expandCompact(b, 1, remoteStatic, crypto)
    head = x
    o = x.end
  }
  const field = (what: string): Uint8Array => {
    const { value: n, length } = decodeVarint(b, o)
    o += length
    if (o + n > b.length) throw new HopsealError(ErrorCode.DECODE_ERROR, `identity payload: ${what} truncated`)
    const v = b.slice(o, o + n)
    o += n
    return v
  }
  const identity = head ? head.identity : field('identity')
  const attestation = head ? head.attestation : field('attestation')
  const { value: count, length } = decodeVarint(b, o)
  o += length
  if (count > MAX_CREDENTIALS) throw new HopsealError(ErrorCode.LIMIT_EXCEEDED, `more than ${MAX_CREDENTIALS} credentials`)
  const credentials: Uint8Array[] = []
  for (let i = 0; i < count; i++) credentials.push(field('credential'))
  if (o !== b.length) throw new HopsealError(ErrorCode.DECODE_ERROR, 'identity payload has trailing bytes')
  return { identity, attestation, credentials, misbound: head?.misbound ?? false }
}

/** A ChannelAuthenticator for XX first contact with hopseal identities. */
export function identityAuthenticator(opts: IdentityAuthOptions): ChannelAuthenticator {
  const now = opts.now ?? (() => Math.floor(Date.now() / 1000))
  const payload = opts.fullPayload ? encodeIdentityPayload(opts.identity.encoded, opts.attestation, opts.credentials) : encodeCompactIdentityPayload(opts.identity, opts.attestation, opts.credentials)
  return {
    payload: () => payload,
    verify(remoteStatic: Uint8Array, bytes: Uint8Array): PeerInfo {
      const t = now()
      const p = decodeIdentityPayload(bytes, remoteStatic, opts.crypto)
      const peer = verifyIdentity(p.identity, { now: t, ...(opts.crypto ? { crypto: opts.crypto } : {}) })
      const att = verifyBound(peer, p.attestation, p.misbound, { now: t, expectedStaticKey: remoteStatic, ...(opts.requireCurrentKey ? { requireCurrentKey: true } : {}), ...(opts.crypto ? { crypto: opts.crypto } : {}) })
      const creds: VerifiedCredential[] = p.credentials.map((c) =>
        verifyCredential(c, { subject: att.identifier, anchors: opts.anchors ?? [], now: t, ...(opts.revocations ? { revocations: opts.revocations } : {}), ...(opts.crypto ? { crypto: opts.crypto } : {}) }),
      )
      const subject = subjectAttributes(att.identifier, creds)
      authorize(opts.policy, { subject, ...(opts.resource ? { resource: opts.resource } : {}) })
      const attributes: Record<string, string> = {}
      for (const [k, v] of subject) attributes[k] = attributeText(v)
      return { staticKey: remoteStatic.slice(), identifier: att.identifier, attributes }
    },
  }
}

/**
 * verifyAttestation, for an attestation rebuilt from the compact form whose
 * kept static-key bytes are not the remote static key's (`misbound`): the
 * errors the full form would give. An attestation of another key (its
 * signature does not verify over the remote key) is IDENTITY_MISBINDING; one
 * that does verify over the remote key had its key bytes altered on the way,
 * which in the full form breaks the signature: IDENTITY_ATTESTATION_BAD_SIGNATURE.
 */
function verifyBound(peer: Identity, attestation: Uint8Array, misbound: boolean, o: VerifyAttestationOptions): VerifiedAttestation {
  if (!misbound) return verifyAttestation(peer, attestation, o)
  try {
    verifyAttestation(peer, attestation, o)
  } catch (e) {
    if (isHopsealError(e, ErrorCode.IDENTITY_ATTESTATION_BAD_SIGNATURE)) throw new HopsealError(ErrorCode.IDENTITY_MISBINDING, `the attested static key of ${peer.identifier} is not the Noise remote static key`)
    throw e
  }
  throw new HopsealError(ErrorCode.IDENTITY_ATTESTATION_BAD_SIGNATURE, `attestation of ${peer.identifier}: its static key bytes do not match its signature`)
}
