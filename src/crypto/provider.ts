/**
 * The CryptoProvider interface: every primitive hopseal uses, behind one small
 * interface so the implementation is injected (node:crypto on Node, noble for
 * portable builds). Both implementations run the same Wycheproof suites.
 *
 * Conventions (all byte strings are Uint8Array):
 * - X25519 and Ed25519 keys: 32-byte private, 32-byte public.
 * - P-256 keys: 32-byte private scalar, public keys as SEC1 points; we emit
 *   33-byte compressed points and accept compressed (33) or uncompressed (65).
 * - P-256 ECDH returns the 32-byte x-coordinate (the Noise P256 DH output).
 * - ECDSA is P-256 with SHA-256 over the message, signatures raw r||s (64 bytes);
 *   we produce low-S signatures and accept both on verify (as Wycheproof does).
 * - AEAD output is ciphertext || 16-byte tag.
 */
export type HashAlgorithm = 'sha256' | 'sha512' | 'blake2s' | 'blake2b'
export type AeadAlgorithm = 'aes-gcm' | 'chacha20-poly1305'
export type CurveType = 'x25519' | 'ed25519' | 'p256'
export type SignatureType = 'ed25519' | 'p256'

/** A software key pair. Only software code (providers, the software vault, ephemeral Noise keys) holds one. */
export interface KeyPair {
  readonly type: CurveType
  readonly privateKey: Uint8Array
  readonly publicKey: Uint8Array
  /** Provider-private cache (for example a node KeyObject); never serialised. */
  native?: unknown
}

export interface CryptoProvider {
  readonly name: 'node' | 'noble'
  randomBytes(n: number): Uint8Array
  hash(alg: HashAlgorithm, data: Uint8Array): Uint8Array
  hashLength(alg: HashAlgorithm): number
  hmac(alg: HashAlgorithm, key: Uint8Array, data: Uint8Array): Uint8Array
  /** RFC 5869 HKDF with SHA-256; `length` ≤ 255 × 32. */
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array
  /**
   * Encrypts; returns ciphertext || 16-byte tag (after `prefix`, when given, so
   * framing code avoids a copy). AES-GCM takes 16/24/32-byte keys,
   * ChaCha20-Poly1305 32. Nonce 12 bytes.
   */
  aeadEncrypt(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, prefix?: Uint8Array): Uint8Array
  /** Decrypts and authenticates; throws AEAD_AUTH_FAILED on any mismatch. */
  aeadDecrypt(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array
  generateKeyPair(type: CurveType): KeyPair
  /** Throws INVALID_KEY for a private key of the wrong length or out of range. */
  keyPairFromPrivate(type: CurveType, privateKey: Uint8Array): KeyPair
  /** X25519 or P-256 ECDH. Throws INVALID_POINT / WEAK_SHARED_SECRET for bad peer keys. */
  dh(keyPair: KeyPair, peerPublic: Uint8Array): Uint8Array
  sign(keyPair: KeyPair, message: Uint8Array): Uint8Array
  /** Returns false for any invalid signature or public key; never throws for bad data. */
  verify(type: SignatureType, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean
  /** Converts a P-256 SEC1 point to compressed (33) or uncompressed (65) form; throws INVALID_POINT. */
  p256Point(publicKey: Uint8Array, compressed: boolean): Uint8Array
}

export const HASH_LENGTH: Record<HashAlgorithm, number> = { sha256: 32, sha512: 64, blake2s: 32, blake2b: 64 }
export const HASH_BLOCK_LENGTH: Record<HashAlgorithm, number> = { sha256: 64, sha512: 128, blake2s: 64, blake2b: 128 }
export const AEAD_TAG_LENGTH = 16
export const AEAD_NONCE_LENGTH = 12
