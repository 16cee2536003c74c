/**
 * Every identity-layer constant in one place, with its unit and the reason for
 * its value (style.md). Formats are specified byte by byte in docs/identity.md.
 */

/** Identifier length in bytes: SHA-256 of the first change's signed bytes, truncated (docs/identity.md §2). */
export const IDENTIFIER_LENGTH = 20
/** Text form prefix: `I` + 40 lowercase hex digits. */
export const IDENTIFIER_PREFIX = 'I'
/** Previous-change link in a rotation: truncated SHA-256 of the previous change's signed bytes (same length and argument as the identifier). */
export const CHANGE_LINK_LENGTH = 20
/** Credential id: truncated SHA-256 of the credential's signed bytes; the issuer chooses all of them, so 16 bytes (2^64 collision work) is ample. */
export const CREDENTIAL_ID_LENGTH = 16

/** Upper bound on changes in one history: rotations are rare; this bounds verification work (2 signatures per change). */
export const MAX_CHANGES = 16
/** Max encoded identity, bytes (16 P-256 changes ≈ 3 KiB). */
export const MAX_IDENTITY_BYTES = 4096
/** Max encoded attestation, bytes (a P-256 attestation is ~120). */
export const MAX_ATTESTATION_BYTES = 256
/** Max encoded credential, bytes. */
export const MAX_CREDENTIAL_BYTES = 4096
/** Max attributes in one credential. */
export const MAX_ATTRIBUTES = 32
/** Max attribute-name length, UTF-8 bytes. */
export const MAX_ATTRIBUTE_NAME_BYTES = 64
/** Max attribute value length (string UTF-8 bytes or byte-string length). */
export const MAX_ATTRIBUTE_VALUE_BYTES = 512
/** Max entries in one revocation list (credential ids plus subjects). */
export const MAX_REVOKED = 4096
/** Max encoded revocation list, bytes (4096 × 17 + headers). */
export const MAX_REVOCATION_BYTES = 80 * 1024
/** Times are unsigned seconds since the Unix epoch, at most 2^40 (year 36812): fits a safe integer and at most 6 CBOR bytes. */
export const MAX_TIME = 2 ** 40
/**
 * Clock skew tolerated when checking that a change or credential is not from
 * the future, seconds. Devices without a good RTC drift; 5 minutes is the usual
 * Kerberos/X.509 allowance.
 */
export const CLOCK_SKEW_SECONDS = 300

/** Max trust-policy text length, characters. */
export const MAX_POLICY_LENGTH = 4096
/** Max nesting depth of a trust-policy expression (recursion bound). */
export const MAX_POLICY_DEPTH = 32
/** Max items in one policy list literal. */
export const MAX_POLICY_LIST = 256

/**
 * Domain-separation prefixes: every signature covers `prefix || 0x00 || ...`,
 * so a signature made for one kind of object can never verify as another even
 * though the same identity key signs all of them. They never travel.
 */
export const DOMAIN = {
  change: 'hopseal identity change v1',
  attestation: 'hopseal purpose-key attestation v1',
  credential: 'hopseal credential v1',
  revocation: 'hopseal revocation list v1',
  /** A relay registration or removal (src/routing/relay.ts, docs/protocol.md "Relays"); any signing key of the registrant may make one. */
  relay: 'hopseal relay registration v1',
} as const

/** Key-type codes in encodings. */
export const KEY_TYPE_CODE = { ed25519: 0, p256: 1 } as const
export type IdentityKeyType = keyof typeof KEY_TYPE_CODE
