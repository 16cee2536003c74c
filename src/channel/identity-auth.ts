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
 * Payload layout (bytes):
 *   varint(len) identity | varint(len) attestation | varint(n) { varint(len) credential }*n
 */
import { ErrorCode, HopsealError } from '../errors.ts'
import { concat, decodeVarint, encodeVarint } from '../bytes/index.ts'
import type { CryptoProvider } from '../crypto/index.ts'
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
  type VerifiedCredential,
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
}

export function encodeIdentityPayload(identity: Uint8Array, attestation: Uint8Array, credentials: Uint8Array[] = []): Uint8Array {
  const parts: Uint8Array[] = [encodeVarint(identity.length), identity, encodeVarint(attestation.length), attestation, encodeVarint(credentials.length)]
  for (const c of credentials) parts.push(encodeVarint(c.length), c)
  return concat(...parts)
}

/** Total decoder: the three fields, or DECODE_ERROR / LIMIT_EXCEEDED. */
export function decodeIdentityPayload(b: Uint8Array): { identity: Uint8Array; attestation: Uint8Array; credentials: Uint8Array[] } {
  if (b.length > MAX_IDENTITY_PAYLOAD) throw new HopsealError(ErrorCode.LIMIT_EXCEEDED, `identity payload of ${b.length} bytes exceeds ${MAX_IDENTITY_PAYLOAD}`)
  let o = 0
  const field = (what: string): Uint8Array => {
    const { value: n, length } = decodeVarint(b, o)
    o += length
    if (o + n > b.length) throw new HopsealError(ErrorCode.DECODE_ERROR, `identity payload: ${what} truncated`)
    const v = b.slice(o, o + n)
    o += n
    return v
  }
  const identity = field('identity')
  const attestation = field('attestation')
  const { value: count, length } = decodeVarint(b, o)
  o += length
  if (count > MAX_CREDENTIALS) throw new HopsealError(ErrorCode.LIMIT_EXCEEDED, `more than ${MAX_CREDENTIALS} credentials`)
  const credentials: Uint8Array[] = []
  for (let i = 0; i < count; i++) credentials.push(field('credential'))
  if (o !== b.length) throw new HopsealError(ErrorCode.DECODE_ERROR, 'identity payload has trailing bytes')
  return { identity, attestation, credentials }
}

/** A ChannelAuthenticator for XX first contact with hopseal identities. */
export function identityAuthenticator(opts: IdentityAuthOptions): ChannelAuthenticator {
  const now = opts.now ?? (() => Math.floor(Date.now() / 1000))
  const payload = encodeIdentityPayload(opts.identity.encoded, opts.attestation, opts.credentials)
  return {
    payload: () => payload,
    verify(remoteStatic: Uint8Array, bytes: Uint8Array): PeerInfo {
      const t = now()
      const p = decodeIdentityPayload(bytes)
      const peer = verifyIdentity(p.identity, { now: t, ...(opts.crypto ? { crypto: opts.crypto } : {}) })
      const att = verifyAttestation(peer, p.attestation, { now: t, expectedStaticKey: remoteStatic, ...(opts.requireCurrentKey ? { requireCurrentKey: true } : {}), ...(opts.crypto ? { crypto: opts.crypto } : {}) })
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
