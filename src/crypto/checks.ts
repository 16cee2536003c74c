/** Boundary checks shared by both providers (labelled errors, checked once). */
import { assertBytes } from '../bytes/index.ts'
import { ErrorCode, HopsealError } from '../errors.ts'
import { HASH_LENGTH, type AeadAlgorithm, type CurveType, type HashAlgorithm } from './provider.ts'

export function checkAeadArgs(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, data: Uint8Array): void {
  if (alg === 'aes-gcm') assertBytes('AES-GCM key', key, 16, 24, 32)
  else if (alg === 'chacha20-poly1305') assertBytes('ChaCha20-Poly1305 key', key, 32)
  else throw new HopsealError(ErrorCode.UNSUPPORTED_ALGORITHM, `AEAD ${String(alg)} not supported`)
  assertBytes('AEAD nonce', nonce, 12)
  assertBytes('AEAD associated data', aad)
  assertBytes('AEAD input', data)
}

export function checkPrivateKey(type: CurveType, privateKey: Uint8Array): void {
  if (type !== 'x25519' && type !== 'ed25519' && type !== 'p256') throw new HopsealError(ErrorCode.UNSUPPORTED_ALGORITHM, `key type ${String(type)} not supported`)
  if (!(privateKey instanceof Uint8Array) || privateKey.length !== 32) {
    throw new HopsealError(ErrorCode.INVALID_KEY, `${type} private key expected 32 bytes, got ${privateKey instanceof Uint8Array ? privateKey.length : typeof privateKey}`)
  }
}

export function checkPeerPublic(type: CurveType, peer: Uint8Array): void {
  if (!(peer instanceof Uint8Array)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'peerPublic expected Uint8Array')
  if (type === 'x25519' && peer.length !== 32) throw new HopsealError(ErrorCode.INVALID_POINT, `peerPublic expected 32 bytes, got ${peer.length}`)
  if (type === 'p256') checkP256Encoding('peerPublic', peer)
  if (type === 'ed25519') throw new HopsealError(ErrorCode.UNSUPPORTED_ALGORITHM, 'ed25519 keys cannot do ECDH')
}

/**
 * SEC1 §2.3.3 point encodings we accept: 33-byte compressed (02/03 prefix) or
 * 65-byte uncompressed (04). The hybrid form (06/07), which OpenSSL accepts and
 * noble refuses, and the 1-byte infinity (00) are rejected here so both
 * providers agree. One length and one byte test: no cost on the DH hot path.
 */
export function checkP256Encoding(label: string, pub: Uint8Array): void {
  const ok = (pub.length === 33 && (pub[0] === 0x02 || pub[0] === 0x03)) || (pub.length === 65 && pub[0] === 0x04)
  if (!ok) {
    throw new HopsealError(ErrorCode.INVALID_POINT, `P-256 ${label} expected a 33-byte compressed (02/03) or 65-byte uncompressed (04) SEC1 point, got ${pub.length} bytes`)
  }
}

/** Unknown hash names and non-byte inputs give typed errors, not deep TypeErrors (one lookup, one instanceof). */
export function checkHashArgs(alg: HashAlgorithm, data: Uint8Array): void {
  if (!Object.hasOwn(HASH_LENGTH, alg)) throw new HopsealError(ErrorCode.UNSUPPORTED_ALGORITHM, `hash ${String(alg)} not supported`)
  assertBytes('hash input', data)
}

/** HKDF arguments: byte strings and 0 ≤ length ≤ 255 × HashLen (RFC 5869 §2.3). */
export function checkHkdfArgs(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): void {
  assertBytes('HKDF ikm', ikm)
  assertBytes('HKDF salt', salt)
  assertBytes('HKDF info', info)
  if (!Number.isSafeInteger(length) || length < 0 || length > 255 * 32) {
    throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `HKDF length expected 0..8160, got ${length}`)
  }
}

/** X25519 all-zero output means a low-order peer point (RFC 7748 §6.1); Noise forbids using it. */
export function rejectZero(secret: Uint8Array): Uint8Array {
  let acc = 0
  for (let i = 0; i < secret.length; i++) acc |= secret[i]!
  if (acc === 0) throw new HopsealError(ErrorCode.WEAK_SHARED_SECRET, 'X25519 shared secret is all zero (low-order peer public key)')
  return secret
}

/** P-256 group order n, and n/2 for low-S normalisation. */
export const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n
export const P256_HALF_N = P256_N >> 1n

export function bytesToBigint(b: Uint8Array): bigint {
  let n = 0n
  for (const x of b) n = (n << 8n) | BigInt(x)
  return n
}
export function bigintTo32(n: bigint): Uint8Array {
  const out = new Uint8Array(32)
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(n & 0xffn)
    n >>= 8n
  }
  return out
}

/** Rewrites s to n - s when s > n/2 (ECDSA malleability; PKCS#11 and ATECC608 outputs go through it too). */
export function normalizeLowS(sig: Uint8Array): Uint8Array {
  const s = bytesToBigint(sig.subarray(32, 64))
  if (s <= P256_HALF_N) return sig
  const out = sig.slice()
  out.set(bigintTo32(P256_N - s), 32)
  return out
}
