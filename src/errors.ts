/**
 * The one error type hopseal throws across its public surface.
 *
 * Every failure that bad input, a peer or a device can cause is a `HopsealError`
 * with a stable `code` from {@link ErrorCode}. Codes are part of the public API:
 * operators count them and tests match on them, so never rename one.
 *
 * Messages may name lengths, labels and states but never key material.
 */
export const ErrorCode = {
  // argument checks at a public boundary
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  INVALID_LENGTH: 'INVALID_LENGTH',
  // crypto
  INVALID_KEY: 'INVALID_KEY', // wrong length, not on the curve, non-canonical
  INVALID_POINT: 'INVALID_POINT', // peer public key rejected (identity, off-curve, low order)
  WEAK_SHARED_SECRET: 'WEAK_SHARED_SECRET', // X25519 all-zero result (low-order peer key)
  AEAD_AUTH_FAILED: 'AEAD_AUTH_FAILED',
  BAD_SIGNATURE: 'BAD_SIGNATURE',
  UNSUPPORTED_ALGORITHM: 'UNSUPPORTED_ALGORITHM',
  // noise
  NOISE_BAD_PROTOCOL_NAME: 'NOISE_BAD_PROTOCOL_NAME',
  NOISE_WRONG_STATE: 'NOISE_WRONG_STATE',
  NOISE_MISSING_KEY: 'NOISE_MISSING_KEY',
  NOISE_MESSAGE_TOO_SHORT: 'NOISE_MESSAGE_TOO_SHORT',
  NOISE_MESSAGE_TOO_LONG: 'NOISE_MESSAGE_TOO_LONG',
  NOISE_DECRYPT_FAILED: 'NOISE_DECRYPT_FAILED',
  NOISE_NONCE_EXHAUSTED: 'NOISE_NONCE_EXHAUSTED',
  NOISE_BUSY: 'NOISE_BUSY',
  // vault
  VAULT_KEY_NOT_FOUND: 'VAULT_KEY_NOT_FOUND',
  VAULT_KEY_TYPE_UNSUPPORTED: 'VAULT_KEY_TYPE_UNSUPPORTED',
  VAULT_OPERATION_UNSUPPORTED: 'VAULT_OPERATION_UNSUPPORTED',
  VAULT_CLOSED: 'VAULT_CLOSED',
  VAULT_WRONG_PASSPHRASE: 'VAULT_WRONG_PASSPHRASE',
  VAULT_STORE_CORRUPT: 'VAULT_STORE_CORRUPT',
  VAULT_STORE_IO: 'VAULT_STORE_IO',
  VAULT_DUPLICATE_LABEL: 'VAULT_DUPLICATE_LABEL',
  VAULT_WRONG_PIN: 'VAULT_WRONG_PIN',
  VAULT_TOKEN_ABSENT: 'VAULT_TOKEN_ABSENT',
  VAULT_SESSION_LOST: 'VAULT_SESSION_LOST',
  VAULT_DEVICE_ERROR: 'VAULT_DEVICE_ERROR',
  VAULT_DEVICE_TIMEOUT: 'VAULT_DEVICE_TIMEOUT',
  // channel
  CHANNEL_CLOSED: 'CHANNEL_CLOSED',
  CHANNEL_EXPIRED: 'CHANNEL_EXPIRED',
  CHANNEL_HANDSHAKE_TIMEOUT: 'CHANNEL_HANDSHAKE_TIMEOUT',
  CHANNEL_PEER_REFUSED: 'CHANNEL_PEER_REFUSED',
  CHANNEL_DELIVERY_FAILED: 'CHANNEL_DELIVERY_FAILED',
  CHANNEL_REPLAYED: 'CHANNEL_REPLAYED', // a KK/IK message 1 whose handshake counter is not above the last one accepted from that peer
  // generic
  ABORTED: 'ABORTED',
  TIMEOUT: 'TIMEOUT',
  DECODE_ERROR: 'DECODE_ERROR',
  LIMIT_EXCEEDED: 'LIMIT_EXCEEDED',
  // transports and links
  TRANSPORT_UNAVAILABLE: 'TRANSPORT_UNAVAILABLE', // broker unreachable, serial link unplugged, transport closed
  FRAME_TOO_LARGE: 'FRAME_TOO_LARGE', // a frame or message over a link's MTU / maximum frame size (sender side)
  NO_ROUTE: 'NO_ROUTE', // no link or peer for an address on this transport
  CONFIG_INVALID: 'CONFIG_INVALID', // a config or scenario file: names the file, the key and the fix
  IDENTITY_MALFORMED: 'IDENTITY_MALFORMED', // identity encoding truncated, non-canonical, unknown fields or over a limit
  IDENTITY_BAD_SIGNATURE: 'IDENTITY_BAD_SIGNATURE', // a change not signed by its own key, or a rotation not signed by both keys
  IDENTITY_BAD_CHANGE: 'IDENTITY_BAD_CHANGE', // broken history: wrong previous-change link, times out of order, same key re-used
  IDENTITY_EXPIRED: 'IDENTITY_EXPIRED',
  IDENTITY_MISMATCH: 'IDENTITY_MISMATCH', // an identity whose identifier is not the one expected
  IDENTITY_UNKNOWN_CHANGE: 'IDENTITY_UNKNOWN_CHANGE', // signed by a change the verifier's copy of the history does not have yet
  IDENTITY_MISBINDING: 'IDENTITY_MISBINDING', // attested purpose key != the Noise-authenticated remote static key
  IDENTITY_ATTESTATION_MALFORMED: 'IDENTITY_ATTESTATION_MALFORMED',
  IDENTITY_ATTESTATION_BAD_SIGNATURE: 'IDENTITY_ATTESTATION_BAD_SIGNATURE',
  IDENTITY_ATTESTATION_EXPIRED: 'IDENTITY_ATTESTATION_EXPIRED',
  IDENTITY_ATTESTATION_REVOKED: 'IDENTITY_ATTESTATION_REVOKED', // signed by a key a later revoke-all rotation retired
  IDENTITY_NOT_FOUND: 'IDENTITY_NOT_FOUND', // no such identity in the identity store
  IDENTITY_EXISTS: 'IDENTITY_EXISTS', // identity store already has that name
  IDENTITY_STORE_CORRUPT: 'IDENTITY_STORE_CORRUPT',
  CREDENTIAL_MALFORMED: 'CREDENTIAL_MALFORMED',
  CREDENTIAL_BAD_SIGNATURE: 'CREDENTIAL_BAD_SIGNATURE',
  CREDENTIAL_UNTRUSTED_ISSUER: 'CREDENTIAL_UNTRUSTED_ISSUER',
  CREDENTIAL_WRONG_SUBJECT: 'CREDENTIAL_WRONG_SUBJECT',
  CREDENTIAL_NOT_YET_VALID: 'CREDENTIAL_NOT_YET_VALID',
  CREDENTIAL_EXPIRED: 'CREDENTIAL_EXPIRED',
  CREDENTIAL_REVOKED: 'CREDENTIAL_REVOKED', // on the issuer's revocation list, or signed by a key a revoke-all rotation retired
  CREDENTIAL_REVOCATION_MALFORMED: 'CREDENTIAL_REVOCATION_MALFORMED',
  CREDENTIAL_REVOCATION_BAD_SIGNATURE: 'CREDENTIAL_REVOCATION_BAD_SIGNATURE',
  CREDENTIAL_REVOCATION_STALE: 'CREDENTIAL_REVOCATION_STALE', // an older (or conflicting same-number) revocation list replayed
  POLICY_PARSE: 'POLICY_PARSE', // trust-policy text does not parse (message carries the position)
  POLICY_DENIED: 'POLICY_DENIED',
  // relay registrations (docs/protocol.md "Relays")
  RELAY_MALFORMED: 'RELAY_MALFORMED', // a registration, removal or relay answer that does not decode
  RELAY_BAD_SIGNATURE: 'RELAY_BAD_SIGNATURE', // not signed by the key it carries
  RELAY_ALIAS_TAKEN: 'RELAY_ALIAS_TAKEN', // the alias is bound to another key (first registration, or the allow-list)
  RELAY_NOT_ALLOWED: 'RELAY_NOT_ALLOWED', // the relay has an allow-list and the alias is not on it
  RELAY_REPLAYED: 'RELAY_REPLAYED', // sequence number not above the last one accepted for the alias
  RELAY_EXPIRED: 'RELAY_EXPIRED', // expiry passed, or further ahead than the relay's maximum lifetime
  RELAY_WRONG_RELAY: 'RELAY_WRONG_RELAY', // signed for a relay of another name
} as const

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

export class HopsealError extends Error {
  override readonly name = 'HopsealError'
  readonly code: string
  constructor(code: ErrorCode | string, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options)
    this.code = code
  }
}

/** True when `e` is a HopsealError, optionally with the given code. */
export function isHopsealError(e: unknown, code?: string): e is HopsealError {
  return e instanceof HopsealError && (code === undefined || e.code === code)
}

/** Throws ABORTED if the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new HopsealError(ErrorCode.ABORTED, 'operation aborted', { cause: signal.reason })
}
