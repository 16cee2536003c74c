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
 * Pure verification. P-256 signatures must be low-S: a high-S twin would be a
 * second valid encoding of the same signed object (malleability).
 */
export function verifySignature(crypto: CryptoProvider, type: IdentityKeyType, publicKey: Uint8Array, message: Uint8Array, sig: Uint8Array): boolean {
  if (sig.length !== SIGNATURE_LENGTH) return false
  if (type === 'p256' && normalizeLowS(sig) !== sig) return false
  return crypto.verify(type, publicKey, message, sig)
}
