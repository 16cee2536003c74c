/**
 * Signing through vault handles and pure verification, shared by changes,
 * attestations, credentials and revocation lists. Every signature covers
 * `DOMAIN[kind] || 0x00 || context || exact encoded bytes` (constants.ts).
 */
import { assertBytes, concat, utf8 } from '../bytes/index.ts'
import { normalizeLowS, type CryptoProvider } from '../crypto/index.ts'
import { ErrorCode, HopsealError } from '../errors.ts'
import type { CallOptions, KeyHandle, Vault } from '../vault/index.ts'
import { DOMAIN, type IdentityKeyType } from './constants.ts'

/** The message a signature of `kind` covers. */
export function signedMessage(kind: keyof typeof DOMAIN, ...parts: Uint8Array[]): Uint8Array {
  return concat(utf8(DOMAIN[kind]), new Uint8Array([0]), ...parts)
}

/** Public key lengths per identity key type (P-256 compressed SEC1). */
export const PUBLIC_KEY_LENGTH: Record<IdentityKeyType, number> = { ed25519: 32, p256: 33 }
export const SIGNATURE_LENGTH = 64

/** Checks that `h` is a signing key an identity can use, and returns its public key. */
export async function identityKeyOf(vault: Vault, h: KeyHandle, opts: CallOptions = {}): Promise<{ type: IdentityKeyType; publicKey: Uint8Array }> {
  if (h === null || typeof h !== 'object') throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'key handle expected')
  if (h.type !== 'ed25519' && h.type !== 'p256') throw new HopsealError(ErrorCode.VAULT_KEY_TYPE_UNSUPPORTED, `identity keys are ed25519 or p256, got ${String(h.type)}`)
  const publicKey = await vault.publicKey(h, opts)
  assertBytes(`${h.type} public key from vault ${vault.name}`, publicKey, PUBLIC_KEY_LENGTH[h.type])
  return { type: h.type, publicKey }
}

/** Signs through the vault; P-256 signatures are normalised to low-S so every signature has one encoding. */
export async function vaultSign(vault: Vault, h: KeyHandle, message: Uint8Array, opts: CallOptions = {}): Promise<Uint8Array> {
  const sig = await vault.sign(h, message, opts)
  assertBytes(`signature from vault ${vault.name}`, sig, SIGNATURE_LENGTH)
  return h.type === 'p256' ? normalizeLowS(sig) : sig
}

/**
 * A signer for relay registrations (`registerRelay`, src/routing/relay.ts):
 * it signs `DOMAIN.relay || 0x00 || body`, so a registration can never pass
 * for an identity change, attestation, credential or revocation list made by
 * the same key, nor they for a registration. The routing layer sees only this
 * shape (it imports no crypto).
 * @throws HopsealError VAULT_KEY_TYPE_UNSUPPORTED when `h` is not an ed25519 or p256 key.
 * @example const signer = await relayRegistrationSigner(vault, await vault.findKey('relay'))
 */
export async function relayRegistrationSigner(vault: Vault, h: KeyHandle, opts: CallOptions = {}): Promise<{ keyType: IdentityKeyType; publicKey: Uint8Array; sign(body: Uint8Array, opts?: CallOptions): Promise<Uint8Array> }> {
  const { type, publicKey } = await identityKeyOf(vault, h, opts)
  return { keyType: type, publicKey, sign: (body, o = {}) => vaultSign(vault, h, signedMessage('relay', body), o) }
}

/**
 * The relay side of {@link relayRegistrationSigner}: pure verification of a
 * registration body under the relay domain (low-S P-256 only, as every
 * signature here).
 * @example startRelayService(node, { verifier: relayRegistrationVerifier(defaultCryptoProvider()) })
 */
export function relayRegistrationVerifier(crypto: CryptoProvider): { verify(keyType: IdentityKeyType, publicKey: Uint8Array, body: Uint8Array, signature: Uint8Array): boolean } {
  return {
    verify: (keyType, publicKey, body, signature) => publicKey.length === PUBLIC_KEY_LENGTH[keyType] && verifySignature(crypto, keyType, publicKey, signedMessage('relay', body), signature),
  }
}

/**
 * Pure verification. P-256 signatures must be low-S: a high-S twin would be a
 * second valid encoding of the same signed object (malleability).
 */
export function verifySignature(crypto: CryptoProvider, type: IdentityKeyType, publicKey: Uint8Array, message: Uint8Array, sig: Uint8Array): boolean {
  if (sig.length !== SIGNATURE_LENGTH) return false
  if (type === 'p256' && normalizeLowS(sig) !== sig) return false
  return crypto.verify(type, publicKey, message, sig)
}
