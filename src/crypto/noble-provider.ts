/**
 * CryptoProvider on @noble/curves, @noble/ciphers and @noble/hashes: audited,
 * pure TypeScript, portable to engines without OpenSSL. ~10× slower than node.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { p256 } from '@noble/curves/nist.js'
import { gcm } from '@noble/ciphers/aes.js'
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { sha256, sha512 } from '@noble/hashes/sha2.js'
import { blake2b, blake2s } from '@noble/hashes/blake2.js'
import { hmac } from '@noble/hashes/hmac.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { randomBytes } from '@noble/hashes/utils.js'
import { ErrorCode, HopsealError } from '../errors.ts'
import { assertBytes } from '../bytes/index.ts'
import { checkAeadArgs, checkHashArgs, checkHkdfArgs, checkP256Encoding, checkPeerPublic, checkPrivateKey, normalizeLowS, rejectZero } from './checks.ts'
import { AEAD_TAG_LENGTH, HASH_LENGTH, type AeadAlgorithm, type CryptoProvider, type CurveType, type HashAlgorithm, type KeyPair, type SignatureType } from './provider.ts'

const HASH = { sha256, sha512, blake2s, blake2b } as const

const EMPTY = new Uint8Array(0)

export class NobleCryptoProvider implements CryptoProvider {
  readonly name = 'noble' as const

  randomBytes(n: number): Uint8Array {
    if (!Number.isSafeInteger(n) || n < 0 || n > 1 << 20) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `randomBytes n expected 0..1048576, got ${n}`)
    return randomBytes(n)
  }

  hash(alg: HashAlgorithm, data: Uint8Array): Uint8Array {
    checkHashArgs(alg, data)
    return HASH[alg](data)
  }

  hashLength(alg: HashAlgorithm): number {
    checkHashArgs(alg, EMPTY)
    return HASH_LENGTH[alg]
  }

  hmac(alg: HashAlgorithm, key: Uint8Array, data: Uint8Array): Uint8Array {
    checkHashArgs(alg, data)
    assertBytes('HMAC key', key)
    return hmac(HASH[alg], key, data)
  }

  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
    checkHkdfArgs(ikm, salt, info, length)
    if (length === 0) return new Uint8Array(0)
    return hkdf(sha256, ikm, salt, info, length)
  }

  aeadEncrypt(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, prefix?: Uint8Array): Uint8Array {
    checkAeadArgs(alg, key, nonce, aad, plaintext)
    const ct = alg === 'aes-gcm' ? gcm(key, nonce, aad).encrypt(plaintext) : chacha20poly1305(key, nonce, aad).encrypt(plaintext)
    if (!prefix?.length) return ct
    const out = new Uint8Array(prefix.length + ct.length)
    out.set(prefix)
    out.set(ct, prefix.length)
    return out
  }

  aeadDecrypt(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    checkAeadArgs(alg, key, nonce, aad, ciphertext)
    if (ciphertext.length < AEAD_TAG_LENGTH) throw new HopsealError(ErrorCode.AEAD_AUTH_FAILED, 'ciphertext shorter than the tag')
    try {
      return alg === 'aes-gcm' ? gcm(key, nonce, aad).decrypt(ciphertext) : chacha20poly1305(key, nonce, aad).decrypt(ciphertext)
    } catch {
      throw new HopsealError(ErrorCode.AEAD_AUTH_FAILED, 'authentication tag mismatch')
    }
  }

  generateKeyPair(type: CurveType): KeyPair {
    if (type === 'p256') return this.keyPairFromPrivate(type, p256.utils.randomSecretKey())
    if (type === 'x25519') return this.keyPairFromPrivate(type, x25519.utils.randomSecretKey())
    if (type === 'ed25519') return this.keyPairFromPrivate(type, ed25519.utils.randomSecretKey())
    throw new HopsealError(ErrorCode.UNSUPPORTED_ALGORITHM, `key type ${String(type)} not supported`)
  }

  keyPairFromPrivate(type: CurveType, privateKey: Uint8Array): KeyPair {
    checkPrivateKey(type, privateKey)
    try {
      const publicKey = type === 'p256' ? p256.getPublicKey(privateKey, true) : type === 'x25519' ? x25519.getPublicKey(privateKey) : ed25519.getPublicKey(privateKey)
      return { type, privateKey: privateKey.slice(), publicKey }
    } catch (e) {
      throw new HopsealError(ErrorCode.INVALID_KEY, `${type} private key rejected`, { cause: e })
    }
  }

  dh(kp: KeyPair, peerPublic: Uint8Array): Uint8Array {
    checkPeerPublic(kp.type, peerPublic)
    if (kp.type === 'p256') {
      try {
        return p256.getSharedSecret(kp.privateKey, peerPublic, true).slice(1)
      } catch (e) {
        throw new HopsealError(ErrorCode.INVALID_POINT, 'P-256 peer public key is not a valid point', { cause: e })
      }
    }
    let out: Uint8Array
    try {
      out = x25519.getSharedSecret(kp.privateKey, peerPublic)
    } catch (e) {
      throw new HopsealError(ErrorCode.WEAK_SHARED_SECRET, 'X25519 shared secret is all zero (low-order peer public key)', { cause: e })
    }
    return rejectZero(out)
  }

  sign(kp: KeyPair, message: Uint8Array): Uint8Array {
    assertBytes('message', message)
    if (kp.type === 'ed25519') return ed25519.sign(message, kp.privateKey)
    if (kp.type === 'p256') return normalizeLowS(p256.sign(message, kp.privateKey, { prehash: true, lowS: true }))
    throw new HopsealError(ErrorCode.UNSUPPORTED_ALGORITHM, `${kp.type} keys cannot sign`)
  }

  verify(type: SignatureType, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    if (!(publicKey instanceof Uint8Array) || !(signature instanceof Uint8Array) || signature.length !== 64) return false
    try {
      if (type === 'ed25519') return publicKey.length === 32 && ed25519.verify(signature, message, publicKey, { zip215: false })
      if (type === 'p256') return (publicKey.length === 33 || publicKey.length === 65) && p256.verify(signature, message, publicKey, { prehash: true, lowS: false })
    } catch {
      return false
    }
    return false
  }

  p256Point(publicKey: Uint8Array, compressed: boolean): Uint8Array {
    if (!(publicKey instanceof Uint8Array)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'P-256 public key expected Uint8Array')
    checkP256Encoding('public key', publicKey)
    try {
      return p256.Point.fromBytes(publicKey).toBytes(compressed)
    } catch (e) {
      throw new HopsealError(ErrorCode.INVALID_POINT, 'P-256 public key is not a valid point', { cause: e })
    }
  }
}
