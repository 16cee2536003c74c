/**
 * CryptoProvider on node:crypto (OpenSSL): the fast default on Node.
 *
 * Platform notes honoured here:
 * - Never `export({format:'jwk'})` a freshly generated key (Node 20 deadlock);
 *   ask for JWK at generation time instead. JWK import is cheap (≈ 6 µs), DER
 *   import is slow (≈ 76 µs) and used only when deriving a public key from a
 *   fixed private key (test vectors, stored keys).
 * - One cipher object per message is unavoidable with node:crypto (4–5 µs).
 */
import * as nc from 'node:crypto'
import { ErrorCode, HopsealError } from '../../../src/errors.ts'
import { assertBytes } from '../../../src/bytes/index.ts'
import { checkAeadArgs, checkHashArgs, checkHkdfArgs, checkP256Encoding, checkPeerPublic, checkPrivateKey, normalizeLowS, rejectZero } from '../../../src/crypto/checks.ts'
import {
  AEAD_TAG_LENGTH,
  HASH_LENGTH,
  type AeadAlgorithm,
  type CryptoProvider,
  type CurveType,
  type HashAlgorithm,
  type KeyPair,
  type SignatureType,
} from '../../../src/crypto/provider.ts'

const HASH_NAME: Record<HashAlgorithm, string> = { sha256: 'sha256', sha512: 'sha512', blake2s: 'blake2s256', blake2b: 'blake2b512' }
const PKCS8_PREFIX: Record<'x25519' | 'ed25519', Uint8Array> = {
  x25519: Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20]),
  ed25519: Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]),
}
const OKP_CRV = { x25519: 'X25519', ed25519: 'Ed25519' } as const

const b64u = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url')
const fromB64u = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64url'))
/**
 * A plain Uint8Array over a Buffer's memory, without copying. Buffer's own
 * `slice()` does not copy, so Buffers must never leave this provider.
 */
const view = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.length)
/** Copies a Buffer out of Node's shared pool into its own Uint8Array. */
const own = (b: Buffer): Uint8Array => {
  const out = new Uint8Array(b.length)
  out.set(b)
  return out
}
function pad32(b: Buffer): Uint8Array {
  const out = new Uint8Array(32)
  out.set(b, 32 - b.length)
  return out
}

function aeadName(alg: AeadAlgorithm, key: Uint8Array): nc.CipherGCMTypes | 'chacha20-poly1305' {
  if (alg === 'chacha20-poly1305') return 'chacha20-poly1305'
  return key.length === 16 ? 'aes-128-gcm' : key.length === 24 ? 'aes-192-gcm' : 'aes-256-gcm'
}

function p256Uncompressed(pub: Uint8Array): Buffer {
  checkP256Encoding('public key', pub) // OpenSSL would also take the hybrid 06/07 form
  try {
    return nc.ECDH.convertKey(pub, 'prime256v1', undefined, undefined, 'uncompressed') as Buffer
  } catch (e) {
    throw new HopsealError(ErrorCode.INVALID_POINT, 'P-256 public key is not a valid point', { cause: e })
  }
}

function p256PrivateKeyObject(kp: KeyPair): nc.KeyObject {
  const cache = kp.native as { sign?: nc.KeyObject } | undefined
  if (cache?.sign) return cache.sign
  const u = p256Uncompressed(kp.publicKey)
  const ko = nc.createPrivateKey({
    key: { kty: 'EC', crv: 'P-256', d: b64u(kp.privateKey), x: b64u(u.subarray(1, 33)), y: b64u(u.subarray(33, 65)) },
    format: 'jwk',
  })
  kp.native = { ...(cache ?? {}), sign: ko }
  return ko
}

function okpPrivateKeyObject(kp: KeyPair & { type: 'x25519' | 'ed25519' }): nc.KeyObject {
  if (kp.native instanceof nc.KeyObject) return kp.native
  const ko = nc.createPrivateKey({ key: { kty: 'OKP', crv: OKP_CRV[kp.type], d: b64u(kp.privateKey), x: b64u(kp.publicKey) }, format: 'jwk' })
  kp.native = ko
  return ko
}

const EMPTY = new Uint8Array(0)

export class NodeCryptoProvider implements CryptoProvider {
  readonly name = 'node' as const

  randomBytes(n: number): Uint8Array {
    if (!Number.isSafeInteger(n) || n < 0 || n > 1 << 20) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `randomBytes n expected 0..1048576, got ${n}`)
    return nc.randomFillSync(new Uint8Array(n))
  }

  hash(alg: HashAlgorithm, data: Uint8Array): Uint8Array {
    checkHashArgs(alg, data)
    return own(nc.createHash(HASH_NAME[alg]).update(data).digest())
  }

  hashLength(alg: HashAlgorithm): number {
    checkHashArgs(alg, EMPTY)
    return HASH_LENGTH[alg]
  }

  hmac(alg: HashAlgorithm, key: Uint8Array, data: Uint8Array): Uint8Array {
    checkHashArgs(alg, data)
    assertBytes('HMAC key', key)
    return own(nc.createHmac(HASH_NAME[alg], key).update(data).digest())
  }

  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
    checkHkdfArgs(ikm, salt, info, length)
    if (length === 0) return new Uint8Array(0)
    return new Uint8Array(nc.hkdfSync('sha256', ikm, salt, info, length))
  }

  aeadEncrypt(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, prefix?: Uint8Array): Uint8Array {
    checkAeadArgs(alg, key, nonce, aad, plaintext)
    const c = nc.createCipheriv(aeadName(alg, key) as nc.CipherGCMTypes, key, nonce, { authTagLength: AEAD_TAG_LENGTH })
    if (aad.length > 0) c.setAAD(aad, { plaintextLength: plaintext.length })
    const p = prefix?.length ?? 0
    // allocUnsafe skips zero-filling: every byte is written just below.
    const out = view(Buffer.allocUnsafe(p + plaintext.length + AEAD_TAG_LENGTH))
    if (prefix) out.set(prefix)
    out.set(c.update(plaintext), p)
    c.final()
    out.set(c.getAuthTag(), p + plaintext.length)
    return out
  }

  aeadDecrypt(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    checkAeadArgs(alg, key, nonce, aad, ciphertext)
    if (ciphertext.length < AEAD_TAG_LENGTH) throw new HopsealError(ErrorCode.AEAD_AUTH_FAILED, 'ciphertext shorter than the tag')
    const n = ciphertext.length - AEAD_TAG_LENGTH
    const d = nc.createDecipheriv(aeadName(alg, key) as nc.CipherGCMTypes, key, nonce, { authTagLength: AEAD_TAG_LENGTH })
    d.setAuthTag(ciphertext.subarray(n))
    if (aad.length > 0) d.setAAD(aad, { plaintextLength: n })
    let out: Buffer | undefined
    try {
      out = d.update(ciphertext.subarray(0, n))
      d.final()
    } catch {
      out?.fill(0) // never release unauthenticated plaintext
      throw new HopsealError(ErrorCode.AEAD_AUTH_FAILED, 'authentication tag mismatch')
    }
    // Large outputs own their memory; small ones come from Node's pool and are copied out.
    return out.length >= 4096 ? view(out) : own(out)
  }

  generateKeyPair(type: CurveType): KeyPair {
    if (type === 'p256') {
      const e = nc.createECDH('prime256v1')
      e.generateKeys()
      return { type, privateKey: pad32(e.getPrivateKey()), publicKey: own(e.getPublicKey(null, 'compressed')), native: { ecdh: e } }
    }
    if (type !== 'x25519' && type !== 'ed25519') throw new HopsealError(ErrorCode.UNSUPPORTED_ALGORITHM, `key type ${String(type)} not supported`)
    // JWK encoding requested at generation: the safe and fast way (platform-notes trap 1).
    const { privateKey } = nc.generateKeyPairSync(type as 'x25519', {
      publicKeyEncoding: { format: 'jwk' },
      privateKeyEncoding: { format: 'jwk' },
    } as unknown as nc.X25519KeyPairOptions<'pem', 'pem'>) as unknown as { privateKey: nc.JsonWebKey }
    return { type, privateKey: fromB64u(privateKey.d!), publicKey: fromB64u(privateKey.x!) }
  }

  keyPairFromPrivate(type: CurveType, privateKey: Uint8Array): KeyPair {
    checkPrivateKey(type, privateKey)
    if (type === 'p256') {
      const e = nc.createECDH('prime256v1')
      try {
        e.setPrivateKey(privateKey)
      } catch (err) {
        throw new HopsealError(ErrorCode.INVALID_KEY, 'P-256 private key out of range', { cause: err })
      }
      return { type, privateKey: privateKey.slice(), publicKey: own(e.getPublicKey(null, 'compressed')), native: { ecdh: e } }
    }
    const der = new Uint8Array(48)
    der.set(PKCS8_PREFIX[type])
    der.set(privateKey, 16)
    const ko = nc.createPrivateKey({ key: Buffer.from(der.buffer), format: 'der', type: 'pkcs8' })
    der.fill(0)
    const spki = nc.createPublicKey(ko).export({ format: 'der', type: 'spki' })
    return { type, privateKey: privateKey.slice(), publicKey: own(spki.subarray(spki.length - 32)), native: ko }
  }

  dh(kp: KeyPair, peerPublic: Uint8Array): Uint8Array {
    checkPeerPublic(kp.type, peerPublic)
    if (kp.type === 'p256') {
      const cache = (kp.native ?? {}) as { ecdh?: nc.ECDH }
      let e = cache.ecdh
      if (!e) {
        e = nc.createECDH('prime256v1')
        e.setPrivateKey(kp.privateKey)
        kp.native = { ...cache, ecdh: e }
      }
      try {
        return own(e.computeSecret(peerPublic))
      } catch (err) {
        throw new HopsealError(ErrorCode.INVALID_POINT, 'P-256 peer public key is not a valid point', { cause: err })
      }
    }
    const priv = okpPrivateKeyObject(kp as KeyPair & { type: 'x25519' })
    let pub: nc.KeyObject
    try {
      pub = nc.createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64u(peerPublic) }, format: 'jwk' })
    } catch (err) {
      throw new HopsealError(ErrorCode.INVALID_POINT, 'X25519 peer public key rejected', { cause: err })
    }
    let out: Buffer
    try {
      out = nc.diffieHellman({ privateKey: priv, publicKey: pub })
    } catch (err) {
      // OpenSSL's X25519 derive fails only when the result is all zero (low-order point).
      throw new HopsealError(ErrorCode.WEAK_SHARED_SECRET, 'X25519 shared secret is all zero (low-order peer public key)', { cause: err })
    }
    return rejectZero(own(out))
  }

  sign(kp: KeyPair, message: Uint8Array): Uint8Array {
    assertBytes('message', message)
    if (kp.type === 'ed25519') return own(nc.sign(null, message, okpPrivateKeyObject(kp as KeyPair & { type: 'ed25519' })))
    if (kp.type === 'p256') {
      const sig = nc.sign('sha256', message, { key: p256PrivateKeyObject(kp), dsaEncoding: 'ieee-p1363' })
      return normalizeLowS(own(sig))
    }
    throw new HopsealError(ErrorCode.UNSUPPORTED_ALGORITHM, `${kp.type} keys cannot sign`)
  }

  verify(type: SignatureType, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    if (!(publicKey instanceof Uint8Array) || !(signature instanceof Uint8Array) || signature.length !== 64) return false
    try {
      if (type === 'ed25519') {
        if (publicKey.length !== 32) return false
        const ko = nc.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64u(publicKey) }, format: 'jwk' })
        return nc.verify(null, message, ko, signature)
      }
      if (type === 'p256') {
        if (!((publicKey.length === 33 && (publicKey[0] === 2 || publicKey[0] === 3)) || (publicKey.length === 65 && publicKey[0] === 4))) return false
        const u = p256Uncompressed(publicKey)
        const ko = nc.createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: b64u(u.subarray(1, 33)), y: b64u(u.subarray(33, 65)) }, format: 'jwk' })
        return nc.verify('sha256', message, { key: ko, dsaEncoding: 'ieee-p1363' }, signature)
      }
    } catch {
      return false
    }
    return false
  }

  p256Point(publicKey: Uint8Array, compressed: boolean): Uint8Array {
    if (!(publicKey instanceof Uint8Array)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'P-256 public key expected Uint8Array')
    checkP256Encoding('public key', publicKey)
    try {
      return own(nc.ECDH.convertKey(publicKey, 'prime256v1', undefined, undefined, compressed ? 'compressed' : 'uncompressed') as Buffer)
    } catch (e) {
      throw new HopsealError(ErrorCode.INVALID_POINT, 'P-256 public key is not a valid point', { cause: e })
    }
  }
}
