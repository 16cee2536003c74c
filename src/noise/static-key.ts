/**
 * Noise DH through key handles (architecture.md §3): a static key is a public
 * key plus a DH function, so the private half can live in any vault.
 */
import type { CryptoProvider, KeyPair } from '../crypto/index.ts'
import type { KeyHandle, Vault } from '../vault/index.ts'

export interface StaticKey {
  readonly type: 'x25519' | 'p256'
  /** Wire form: 32 bytes (25519) or 33-byte compressed SEC1 (P256). */
  readonly publicKey: Uint8Array
  /** DH(this private key, peerPublic). May be async (hardware). */
  dh(peerPublic: Uint8Array): Uint8Array | Promise<Uint8Array>
}

/** A static key held in software (a KeyPair from a crypto provider). */
export function softwareStaticKey(crypto: CryptoProvider, keyPair: KeyPair): StaticKey {
  if (keyPair.type !== 'x25519' && keyPair.type !== 'p256') throw new TypeError('Noise static keys are x25519 or p256')
  return { type: keyPair.type, publicKey: keyPair.publicKey, dh: (peer) => crypto.dh(keyPair, peer) }
}

/** A static key living in a vault; reads the public key once. */
export async function vaultStaticKey(vault: Vault, handle: KeyHandle): Promise<StaticKey> {
  if (handle.type !== 'x25519' && handle.type !== 'p256') throw new TypeError('Noise static keys are x25519 or p256')
  const publicKey = await vault.publicKey(handle)
  return { type: handle.type, publicKey, dh: (peer) => vault.ecdh(handle, peer) }
}
