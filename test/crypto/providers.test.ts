/**
 * The two CryptoProviders as twins: the same private key gives the same public
 * key, DH agrees, signatures verify across providers, symmetric primitives give
 * identical bytes; and every bad argument gives the same typed code in both.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { bytesToBigint, P256_HALF_N } from '../../src/crypto/checks.ts'
import { cryptoProvider, defaultCryptoProvider, type AeadAlgorithm, type CryptoProvider, type CurveType, type HashAlgorithm } from '../../targets/node/crypto/index.ts'
import { isHopsealError } from '../../src/errors.ts'

const node = cryptoProvider('node')
const noble = cryptoProvider('noble')
const PAIRS: [CryptoProvider, CryptoProvider][] = [
  [node, noble],
  [noble, node],
]
const ROUNDS = 8

function throwsCode(f: () => unknown, code: string, what: string): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(isHopsealError(e), `${what}: expected HopsealError, got ${String(e)}`)
    assert.equal(e.code, code, `${what}: code`)
    return true
  })
}

describe('crypto providers agree', () => {
  it('the same private key gives the same public key (x25519, ed25519, p256)', () => {
    for (const [a, b] of PAIRS) {
      for (const type of ['x25519', 'ed25519', 'p256'] as CurveType[]) {
        for (let i = 0; i < ROUNDS; i++) {
          const kp = a.generateKeyPair(type)
          assert.equal(kp.privateKey.length, 32)
          assert.equal(kp.publicKey.length, type === 'p256' ? 33 : 32)
          assert.deepEqual(b.keyPairFromPrivate(type, kp.privateKey).publicKey, kp.publicKey, `${a.name}→${b.name} ${type}`)
          assert.deepEqual(a.keyPairFromPrivate(type, kp.privateKey).publicKey, kp.publicKey, `${a.name} re-derives ${type}`)
        }
      }
    }
  })

  it('DH gives the same secret on both sides and in both providers', () => {
    for (const type of ['x25519', 'p256'] as CurveType[]) {
      for (let i = 0; i < ROUNDS; i++) {
        const x = node.generateKeyPair(type)
        const y = noble.generateKeyPair(type)
        const s1 = node.dh(x, y.publicKey)
        const s2 = noble.dh(y, x.publicKey)
        assert.equal(s1.length, 32)
        assert.deepEqual(s1, s2, type)
        assert.deepEqual(noble.dh(noble.keyPairFromPrivate(type, x.privateKey), y.publicKey), s1)
        if (type === 'p256') {
          assert.deepEqual(node.dh(x, noble.p256Point(y.publicKey, false)), s1, 'uncompressed peer point')
          assert.deepEqual(noble.dh(y, node.p256Point(x.publicKey, false)), s1)
        }
      }
    }
  })

  it('Ed25519 signatures are identical (RFC 8032 is deterministic) and verify across providers', () => {
    for (let i = 0; i < ROUNDS; i++) {
      const kp = node.generateKeyPair('ed25519')
      const msg = node.randomBytes(i * 17)
      const s1 = node.sign(kp, msg)
      const s2 = noble.sign(noble.keyPairFromPrivate('ed25519', kp.privateKey), msg)
      assert.deepEqual(s1, s2)
      assert.ok(noble.verify('ed25519', kp.publicKey, msg, s1))
      assert.ok(node.verify('ed25519', kp.publicKey, msg, s1))
      const bad = s1.slice()
      bad[5]! ^= 1
      assert.equal(node.verify('ed25519', kp.publicKey, msg, bad), false)
      assert.equal(noble.verify('ed25519', kp.publicKey, msg, bad), false)
    }
  })

  it('ECDSA P-256 signatures are low-S and verify across providers, with either point form', () => {
    for (const [a, b] of PAIRS) {
      const kp = a.generateKeyPair('p256')
      const other = b.keyPairFromPrivate('p256', kp.privateKey)
      // 32 signatures: each raw signature is high-S with probability 1/2, so normalisation is exercised.
      for (let i = 0; i < 32; i++) {
        const msg = a.randomBytes(i + 1)
        const sig = a.sign(kp, msg)
        assert.equal(sig.length, 64)
        assert.ok(bytesToBigint(sig.subarray(32)) <= P256_HALF_N, `${a.name}: low-S`)
        assert.ok(b.verify('p256', kp.publicKey, msg, sig), `${a.name} signs, ${b.name} verifies`)
        assert.ok(b.verify('p256', b.p256Point(kp.publicKey, false), msg, sig), 'uncompressed key')
        assert.equal(b.verify('p256', kp.publicKey, a.randomBytes(i + 2), sig), false)
        assert.ok(a.verify('p256', other.publicKey, msg, b.sign(other, msg)))
      }
    }
  })

  it('AEAD: what one provider seals the other opens, for both ciphers and key sizes', () => {
    const cases: [AeadAlgorithm, number][] = [
      ['aes-gcm', 16],
      ['aes-gcm', 24],
      ['aes-gcm', 32],
      ['chacha20-poly1305', 32],
    ]
    for (const [a, b] of PAIRS) {
      for (const [alg, keyLen] of cases) {
        for (const size of [0, 1, 15, 16, 17, 1000]) {
          const key = a.randomBytes(keyLen)
          const nonce = a.randomBytes(12)
          const aad = a.randomBytes(size % 7)
          const pt = a.randomBytes(size)
          const ct = a.aeadEncrypt(alg, key, nonce, aad, pt)
          assert.equal(ct.length, size + 16)
          assert.deepEqual(b.aeadEncrypt(alg, key, nonce, aad, pt), ct, `${alg}/${keyLen}: same ciphertext`)
          assert.deepEqual(b.aeadDecrypt(alg, key, nonce, aad, ct), pt)
        }
      }
    }
  })

  it('hash, HMAC and HKDF give identical bytes for every algorithm', () => {
    for (const alg of ['sha256', 'sha512', 'blake2s', 'blake2b'] as HashAlgorithm[]) {
      for (const size of [0, 3, 64, 129, 4096]) {
        const data = node.randomBytes(size)
        const key = node.randomBytes(size % 200)
        const h = node.hash(alg, data)
        assert.equal(h.length, node.hashLength(alg))
        assert.equal(noble.hashLength(alg), node.hashLength(alg))
        assert.deepEqual(noble.hash(alg, data), h, `${alg} hash`)
        assert.deepEqual(noble.hmac(alg, key, data), node.hmac(alg, key, data), `${alg} hmac`)
      }
    }
    for (const len of [0, 1, 32, 64, 8160]) {
      const [ikm, salt, info] = [node.randomBytes(32), node.randomBytes(len % 33), node.randomBytes(5)]
      const okm = node.hkdfSha256(ikm, salt, info, len)
      assert.equal(okm.length, len)
      assert.deepEqual(noble.hkdfSha256(ikm, salt, info, len), okm)
    }
  })

  it('P-256 point conversion round-trips identically', () => {
    for (let i = 0; i < ROUNDS; i++) {
      const pub = node.generateKeyPair('p256').publicKey
      const u1 = node.p256Point(pub, false)
      assert.equal(u1.length, 65)
      assert.deepEqual(noble.p256Point(pub, false), u1)
      assert.deepEqual(noble.p256Point(u1, true), pub)
      assert.deepEqual(node.p256Point(u1, true), pub)
    }
  })
})

describe('crypto providers: bad arguments give the same typed codes', () => {
  const k32 = new Uint8Array(32)
  const n12 = new Uint8Array(12)
  const none = new Uint8Array(0)
  const any = (v: unknown) => v as never

  for (const p of [node, noble]) {
    it(`${p.name}: AEAD arguments`, () => {
      throwsCode(() => p.aeadEncrypt('aes-gcm', new Uint8Array(31), n12, none, none), 'INVALID_LENGTH', 'AES key 31')
      throwsCode(() => p.aeadEncrypt('chacha20-poly1305', new Uint8Array(16), n12, none, none), 'INVALID_LENGTH', 'ChaCha key 16')
      throwsCode(() => p.aeadEncrypt('aes-gcm', k32, new Uint8Array(8), none, none), 'INVALID_LENGTH', 'nonce 8')
      throwsCode(() => p.aeadDecrypt('chacha20-poly1305', k32, new Uint8Array(24), none, new Uint8Array(16)), 'INVALID_LENGTH', 'nonce 24')
      throwsCode(() => p.aeadEncrypt(any('aes-ccm'), k32, n12, none, none), 'UNSUPPORTED_ALGORITHM', 'unknown AEAD')
      throwsCode(() => p.aeadEncrypt('aes-gcm', k32, n12, any('ad'), none), 'INVALID_ARGUMENT', 'string AD')
      throwsCode(() => p.aeadEncrypt('aes-gcm', k32, n12, none, any([1, 2])), 'INVALID_ARGUMENT', 'array plaintext')
    })

    it(`${p.name}: truncated or tampered ciphertexts fail authentication`, () => {
      for (const alg of ['aes-gcm', 'chacha20-poly1305'] as AeadAlgorithm[]) {
        const pt = p.randomBytes(40)
        const aad = p.randomBytes(5)
        const ct = p.aeadEncrypt(alg, k32, n12, aad, pt)
        for (const n of [0, 1, 15]) throwsCode(() => p.aeadDecrypt(alg, k32, n12, aad, ct.subarray(0, n)), 'AEAD_AUTH_FAILED', `${alg} truncated to ${n}`)
        throwsCode(() => p.aeadDecrypt(alg, k32, n12, aad, ct.subarray(0, ct.length - 1)), 'AEAD_AUTH_FAILED', `${alg} one byte short`)
        for (const i of [0, 39, 40, ct.length - 1]) {
          const bad = ct.slice()
          bad[i]! ^= 0x80
          throwsCode(() => p.aeadDecrypt(alg, k32, n12, aad, bad), 'AEAD_AUTH_FAILED', `${alg} bit flip at ${i}`)
        }
        throwsCode(() => p.aeadDecrypt(alg, k32, n12, new Uint8Array(5), ct), 'AEAD_AUTH_FAILED', `${alg} other AD`)
        const otherNonce = n12.slice()
        otherNonce[11] = 1
        throwsCode(() => p.aeadDecrypt(alg, k32, otherNonce, aad, ct), 'AEAD_AUTH_FAILED', `${alg} other nonce`)
        assert.deepEqual(p.aeadDecrypt(alg, k32, n12, aad, ct), pt, 'the untouched ciphertext still opens')
      }
    })

    it(`${p.name}: key and point arguments`, () => {
      const x = p.generateKeyPair('x25519')
      const e = p.generateKeyPair('ed25519')
      const q = p.generateKeyPair('p256')
      throwsCode(() => p.keyPairFromPrivate('x25519', new Uint8Array(31)), 'INVALID_KEY', 'x25519 private 31')
      throwsCode(() => p.keyPairFromPrivate('ed25519', new Uint8Array(33)), 'INVALID_KEY', 'ed25519 private 33')
      throwsCode(() => p.keyPairFromPrivate('p256', new Uint8Array(32)), 'INVALID_KEY', 'p256 private 0')
      throwsCode(() => p.keyPairFromPrivate('p256', new Uint8Array(32).fill(0xff)), 'INVALID_KEY', 'p256 private >= n')
      throwsCode(() => p.keyPairFromPrivate(any('rsa'), k32), 'UNSUPPORTED_ALGORITHM', 'rsa private')
      throwsCode(() => p.generateKeyPair(any('rsa')), 'UNSUPPORTED_ALGORITHM', 'rsa keygen')
      throwsCode(() => p.dh(x, new Uint8Array(31)), 'INVALID_POINT', 'x25519 peer 31')
      throwsCode(() => p.dh(x, new Uint8Array(33)), 'INVALID_POINT', 'x25519 peer 33')
      throwsCode(() => p.dh(x, any('peer')), 'INVALID_ARGUMENT', 'x25519 peer string')
      throwsCode(() => p.dh(x, new Uint8Array(32)), 'WEAK_SHARED_SECRET', 'x25519 peer 0 (low order)')
      const one = new Uint8Array(32)
      one[0] = 1
      throwsCode(() => p.dh(x, one), 'WEAK_SHARED_SECRET', 'x25519 peer 1 (low order)')
      throwsCode(() => p.dh(e, x.publicKey), 'UNSUPPORTED_ALGORITHM', 'ed25519 dh')
      throwsCode(() => p.sign(x, new Uint8Array(1)), 'UNSUPPORTED_ALGORITHM', 'x25519 sign')
      throwsCode(() => p.sign(e, any('message')), 'INVALID_ARGUMENT', 'string message')
      throwsCode(() => p.sign(q, any('message')), 'INVALID_ARGUMENT', 'string message p256')
      // P-256 peers: wrong length, infinity, x >= p, off-curve, and the SEC1 hybrid form (06/07)
      throwsCode(() => p.dh(q, new Uint8Array(32)), 'INVALID_POINT', 'p256 peer 32')
      throwsCode(() => p.dh(q, Uint8Array.of(0)), 'INVALID_POINT', 'p256 infinity')
      const big = new Uint8Array(33).fill(0xff)
      big[0] = 2
      throwsCode(() => p.dh(q, big), 'INVALID_POINT', 'p256 x >= p')
      const u = p.p256Point(p.generateKeyPair('p256').publicKey, false)
      const off = u.slice()
      off[64]! ^= 1
      throwsCode(() => p.dh(q, off), 'INVALID_POINT', 'p256 off curve')
      const hybrid = u.slice()
      hybrid[0] = 6 | (u[64]! & 1)
      throwsCode(() => p.dh(q, hybrid), 'INVALID_POINT', 'p256 hybrid encoding')
      throwsCode(() => p.p256Point(hybrid, true), 'INVALID_POINT', 'p256Point hybrid')
      throwsCode(() => p.p256Point(new Uint8Array(32), true), 'INVALID_POINT', 'p256Point 32')
      const wrongPrefix = p.generateKeyPair('p256').publicKey.slice()
      wrongPrefix[0] = 4
      throwsCode(() => p.dh(q, wrongPrefix), 'INVALID_POINT', 'p256 33 bytes with 04 prefix')
    })

    it(`${p.name}: verify returns false for malformed input, never throws`, () => {
      const e = p.generateKeyPair('ed25519')
      const q = p.generateKeyPair('p256')
      const msg = new Uint8Array(3)
      const esig = p.sign(e, msg)
      const qsig = p.sign(q, msg)
      assert.ok(p.verify('ed25519', e.publicKey, msg, esig))
      assert.ok(p.verify('p256', q.publicKey, msg, qsig))
      assert.equal(p.verify('ed25519', e.publicKey, msg, esig.subarray(0, 63)), false)
      assert.equal(p.verify('ed25519', e.publicKey.subarray(0, 31), msg, esig), false)
      assert.equal(p.verify('ed25519', e.publicKey, any('abc'), esig), false)
      assert.equal(p.verify('p256', q.publicKey.subarray(1), msg, qsig), false)
      const hybrid = p.p256Point(q.publicKey, false)
      hybrid[0] = 6 | (hybrid[64]! & 1)
      assert.equal(p.verify('p256', hybrid, msg, qsig), false, 'hybrid key refused')
      assert.equal(p.verify(any('x25519'), e.publicKey, msg, esig), false)
      assert.equal(p.verify('p256', any(null), msg, qsig), false)
    })

    it(`${p.name}: hash, HMAC, HKDF and random arguments`, () => {
      throwsCode(() => p.hash(any('md5'), none), 'UNSUPPORTED_ALGORITHM', 'md5')
      throwsCode(() => p.hash(any('toString'), none), 'UNSUPPORTED_ALGORITHM', 'prototype key as algorithm')
      throwsCode(() => p.hashLength(any('md5')), 'UNSUPPORTED_ALGORITHM', 'hashLength md5')
      throwsCode(() => p.hash('sha256', any('abc')), 'INVALID_ARGUMENT', 'string hash input')
      throwsCode(() => p.hmac('sha256', any('key'), none), 'INVALID_ARGUMENT', 'string HMAC key')
      for (const len of [-1, 1.5, 8161, Number.NaN]) throwsCode(() => p.hkdfSha256(k32, k32, k32, len), 'INVALID_ARGUMENT', `HKDF length ${len}`)
      throwsCode(() => p.hkdfSha256(any('ikm'), k32, k32, 32), 'INVALID_ARGUMENT', 'string ikm')
      throwsCode(() => p.randomBytes(-1), 'INVALID_ARGUMENT', 'random -1')
      throwsCode(() => p.randomBytes((1 << 20) + 1), 'INVALID_ARGUMENT', 'random > 1 MiB')
      const r = p.randomBytes(32)
      assert.equal(r.length, 32)
      assert.notDeepEqual(r, p.randomBytes(32))
    })
  }
})

describe('provider selection', () => {
  it('names the two providers and refuses others', () => {
    assert.equal(cryptoProvider('node').name, 'node')
    assert.equal(cryptoProvider('noble').name, 'noble')
    assert.equal(cryptoProvider('node'), cryptoProvider('node'), 'cached per process')
    throwsCode(() => cryptoProvider('openssl' as never), 'UNSUPPORTED_ALGORITHM', 'unknown provider')
  })

  it('HOPSEAL_CRYPTO selects the default provider', () => {
    const saved = process.env.HOPSEAL_CRYPTO
    try {
      delete process.env.HOPSEAL_CRYPTO
      assert.equal(defaultCryptoProvider().name, 'node')
      process.env.HOPSEAL_CRYPTO = 'noble'
      assert.equal(defaultCryptoProvider().name, 'noble')
      process.env.HOPSEAL_CRYPTO = 'bogus'
      throwsCode(() => defaultCryptoProvider(), 'UNSUPPORTED_ALGORITHM', 'bogus HOPSEAL_CRYPTO')
    } finally {
      if (saved === undefined) delete process.env.HOPSEAL_CRYPTO
      else process.env.HOPSEAL_CRYPTO = saved
    }
  })
})
