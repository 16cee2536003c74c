/**
 * hopseal identities (docs/identity.md): change histories with rotation,
 * purpose-key attestations, credentials, revocation lists and trust policies.
 * The identity store (a JSON file, node:fs) is the platform subpath
 * `hopseal/identity/store` (targets/node/identity/store.ts). Signing goes through Vault handles only; verification
 * is pure (crypto provider) with an injected clock (`now`, seconds).
 *
 * @example
 * const key = await vault.generateKey('p256')
 * const me = await createIdentity(vault, key, { now, expires: now + 365 * 86400 })
 * const att = await createAttestation(vault, key, me, noiseStaticPublic, { now, expires: now + 30 * 86400 })
 * // peer side, after the XX handshake:
 * const peer = verifyIdentity(idBytes, { now })
 * const { identifier } = verifyAttestation(peer, att, { expectedStaticKey: remoteStatic, now })
 */
export { type Identifier, isIdentifier, identifierFromText, identifierToText } from './identifier.ts'
export {
  Identity,
  createIdentity,
  decodeIdentity,
  verifyIdentity,
  type IdentityChange,
  type IdentitySummary,
  type CreateIdentityOptions,
  type RotateOptions,
  type VerifyIdentityOptions,
} from './identity.ts'
export {
  createAttestation,
  decodeAttestation,
  verifyAttestation,
  type DecodedAttestation,
  type VerifiedAttestation,
  type StaticKeyType,
  type CreateAttestationOptions,
  type VerifyAttestationOptions,
} from './attestation.ts'
export {
  issueCredential,
  decodeCredential,
  verifyCredential,
  attributeText,
  RESERVED_ATTRIBUTES,
  type AttributeValue,
  type Attributes,
  type DecodedCredential,
  type VerifiedCredential,
  type IssueCredentialOptions,
  type VerifyCredentialOptions,
} from './credential.ts'
export { createRevocationList, decodeRevocationList, verifyRevocationList, RevocationRegistry, type RevocationList, type CreateRevocationListOptions } from './revocation.ts'
export { parsePolicy, allowList, authorize, subjectAttributes, PolicyParseError, type TrustPolicy, type PolicyContext, type AttributeSource } from './policy.ts'
export { systemNow } from './time.ts'
export { relayRegistrationSigner, relayRegistrationVerifier } from './signing.ts'
export * as IDENTITY_LIMITS from './constants.ts'
