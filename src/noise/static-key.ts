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
  /**
   * Destroys the private key material this object holds, where it can (a
   * software key: see {@link wipeKeyPair}); the key is unusable afterwards.
   * `HandshakeState` calls it on its ephemeral at finish() and destroy().
   * Absent for vault keys: their private half never entered JavaScript.
   */
  destroy?(): void
}

/** The scalar 1: a valid P-256 private key that replaces a wiped one inside an OpenSSL ECDH object. */
const P256_ONE = Uint8Array.from({ length: 32 }, (_, i) => (i === 31 ? 1 : 0))

/**
 * Zero-fills a software key pair's private key and drops (or, where it can,
 * overwrites) what a provider cached from it in `native`:
 * - the bytes of `privateKey`, for every provider and curve, are zeroed;
 * - the node provider's P-256 keys cache an OpenSSL ECDH object (`native.ecdh`):
 *   setting its private key to 1 makes Node free the old EC_KEY, and OpenSSL
 *   clears a private key when it frees it (BN_clear_free);
 * - the node provider's X25519 KeyObject is dropped: OpenSSL clears it when
 *   the garbage collector frees it (no API to do so earlier);
 * - the noble provider caches nothing.
 * Copies the JavaScript engine made (a JWK string at generation) are beyond
 * reach (threat model I5).
 */
export function wipeKeyPair(keyPair: KeyPair): void {
  keyPair.privateKey.fill(0)
  const native = keyPair.native as { ecdh?: { setPrivateKey?: (k: Uint8Array) => void } } | undefined
  if (native && typeof native === 'object' && typeof native.ecdh?.setPrivateKey === 'function') {
    try {
      native.ecdh.setPrivateKey(P256_ONE)
    } catch {
      // nothing more can be done here; the reference is dropped below
    }
  }
  keyPair.native = undefined
}

/** A static key held in software (a KeyPair from a crypto provider); destroy() wipes the key pair. */
export function softwareStaticKey(crypto: CryptoProvider, keyPair: KeyPair): StaticKey {
  if (keyPair.type !== 'x25519' && keyPair.type !== 'p256') throw new TypeError('Noise static keys are x25519 or p256')
  return { type: keyPair.type, publicKey: keyPair.publicKey, dh: (peer) => crypto.dh(keyPair, peer), destroy: () => wipeKeyPair(keyPair) }
}

/** A static key living in a vault; reads the public key once. */
export async function vaultStaticKey(vault: Vault, handle: KeyHandle): Promise<StaticKey> {
  if (handle.type !== 'x25519' && handle.type !== 'p256') throw new TypeError('Noise static keys are x25519 or p256')
  const publicKey = await vault.publicKey(handle)
  return { type: handle.type, publicKey, dh: (peer) => vault.ecdh(handle, peer) }
}
