/**
 * Project Wycheproof through the CryptoProvider interface, for both providers.
 *
 * Every case of every listed file runs (aes_gcm: the ivSize 96 / tagSize 128
 * groups only). Each file prints
 *   wycheproof <file> [<provider>]: N passed, 0 failed (A acceptable: policy …)
 * and fails when N is below the file's expected count.
 *
 * The policy for `acceptable` cases is docs/crypto.md §"Acceptable cases"; it is
 * decided by FLAGS, not by the expected result, and an acceptable case carrying a
 * flag the policy does not name fails the suite (a new upstream flag forces a
 * decision instead of passing silently).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { concat, equalConstantTime, toHex } from '../../src/bytes/index.ts'
import { cryptoProvider, type AeadAlgorithm, type CryptoProvider } from '../../targets/node/crypto/index.ts'
import { isHopsealError } from '../../src/errors.ts'
import { EXPECTED_CASES, hexField, loadWycheproof, type WycheproofCase, type WycheproofGroup } from './wycheproof-load.ts'

/** What one case did: `accepted`/`rejected` only matter for acceptable cases. */
type Outcome = { ok: true; acceptable?: 'accepted' | 'rejected' } | { ok: false; why: string }

interface Suite {
  file: string
  /** Which groups run (default: all). */
  groups?: (g: WycheproofGroup) => boolean
  /** Describes the acceptable-case policy in the printed line. */
  policy: string
  run(p: CryptoProvider, g: WycheproofGroup, t: WycheproofCase): Outcome
}

const pass: Outcome = { ok: true }
const fail = (why: string): Outcome => ({ ok: false, why })

/** Runs `f`, expecting a HopsealError whose code is one of `codes`. */
function expectCode(f: () => unknown, ...codes: string[]): Outcome {
  try {
    f()
  } catch (e) {
    if (isHopsealError(e) && codes.includes(e.code)) return pass
    return fail(`expected ${codes.join('|')}, got ${isHopsealError(e) ? e.code : String(e)}`)
  }
  return fail(`expected ${codes.join('|')}, but the call succeeded`)
}

function hasFlag(t: WycheproofCase, ...flags: string[]): boolean {
  return t.flags.some((f) => flags.includes(f))
}

/** Wycheproof writes P-256 scalars as ASN.1-style integers (a leading 00 when the top bit is set). */
function scalar32(hex: Uint8Array): Uint8Array {
  let i = 0
  while (i < hex.length - 32 && hex[i] === 0) i++
  const s = hex.subarray(i)
  if (s.length > 32) throw new Error(`scalar of ${s.length} bytes`)
  const out = new Uint8Array(32)
  out.set(s, 32 - s.length)
  return out
}

// ---- policies (docs/crypto.md) -------------------------------------------------

/** X25519 acceptable flags we REJECT: Noise forbids an all-zero DH output (architecture.md §4). */
const X25519_REJECT = ['LowOrderPublic', 'ZeroSharedSecret']
/** X25519 acceptable flags we ACCEPT with the exact RFC 7748 result (no public-key validation in X25519). */
const X25519_ACCEPT = ['Twist', 'NonCanonicalPublic', 'SmallPublicKey', 'SpecialPublicKey', 'EdgeCaseMultiplication', 'EdgeCaseShared', 'Ktv', 'EdgeCasePrivateKey', 'Normal']
/** P-256 acceptable flags we ACCEPT: compressed SEC1 points are our wire format. */
const P256_ACCEPT = ['CompressedPoint', 'CompressedPublic']

function x25519Case(p: CryptoProvider, _g: WycheproofGroup, t: WycheproofCase): Outcome {
  const kp = p.keyPairFromPrivate('x25519', hexField(t, 'private'))
  const pub = hexField(t, 'public')
  const shared = hexField(t, 'shared')
  const zero = shared.every((b) => b === 0)
  if (t.result === 'acceptable') {
    const unknown = t.flags.filter((f) => !X25519_REJECT.includes(f) && !X25519_ACCEPT.includes(f))
    if (unknown.length > 0) return fail(`no policy for acceptable flag(s) ${unknown.join(',')}`)
  }
  if (hasFlag(t, ...X25519_REJECT) || zero) {
    if (t.result === 'valid') return fail('a valid case carries a reject-policy flag')
    const r = expectCode(() => p.dh(kp, pub), 'WEAK_SHARED_SECRET')
    return r.ok && t.result === 'acceptable' ? { ok: true, acceptable: 'rejected' } : r
  }
  if (t.result === 'invalid') return expectCode(() => p.dh(kp, pub), 'INVALID_POINT', 'WEAK_SHARED_SECRET')
  let out: Uint8Array
  try {
    out = p.dh(kp, pub)
  } catch (e) {
    return fail(`dh threw ${String(e)}`)
  }
  if (!equalConstantTime(out, shared)) return fail(`shared ${toHex(out)} != ${toHex(shared)}`)
  return t.result === 'acceptable' ? { ok: true, acceptable: 'accepted' } : pass
}

function p256EcdhCase(p: CryptoProvider, _g: WycheproofGroup, t: WycheproofCase): Outcome {
  const kp = p.keyPairFromPrivate('p256', scalar32(hexField(t, 'private')))
  const pub = hexField(t, 'public')
  if (t.result === 'invalid') return expectCode(() => p.dh(kp, pub), 'INVALID_POINT')
  if (t.result === 'acceptable') {
    const unknown = t.flags.filter((f) => !P256_ACCEPT.includes(f))
    if (unknown.length > 0) return fail(`no policy for acceptable flag(s) ${unknown.join(',')}`)
  }
  let out: Uint8Array
  try {
    out = p.dh(kp, pub)
  } catch (e) {
    return fail(`dh threw ${String(e)}`)
  }
  const shared = hexField(t, 'shared')
  if (!equalConstantTime(out, shared)) return fail(`shared ${toHex(out)} != ${toHex(shared)}`)
  // The same key through the other SEC1 form (33 <-> 65 bytes) gives the same secret.
  const other = p.p256Point(pub, pub.length === 65)
  if (!equalConstantTime(p.dh(kp, other), shared)) return fail('the other point encoding gave another secret')
  return t.result === 'acceptable' ? { ok: true, acceptable: 'accepted' } : pass
}

function ecdsaCase(p: CryptoProvider, g: WycheproofGroup, t: WycheproofCase): Outcome {
  const pub = hexField(g.publicKey as Record<string, unknown>, 'uncompressed')
  const msg = hexField(t, 'msg')
  const sig = hexField(t, 'sig')
  const want = t.result === 'valid'
  const got = p.verify('p256', pub, msg, sig)
  if (got !== want) return fail(`verify returned ${got}`)
  // Our wire format is the compressed point: it must verify identically.
  const got33 = p.verify('p256', p.p256Point(pub, true), msg, sig)
  if (got33 !== want) return fail(`verify with the compressed key returned ${got33}`)
  return pass
}

function ed25519Case(p: CryptoProvider, g: WycheproofGroup, t: WycheproofCase): Outcome {
  const pub = hexField(g.publicKey as Record<string, unknown>, 'pk')
  const got = p.verify('ed25519', pub, hexField(t, 'msg'), hexField(t, 'sig'))
  return got === (t.result === 'valid') ? pass : fail(`verify returned ${got}`)
}

function aeadCase(alg: AeadAlgorithm) {
  return (p: CryptoProvider, g: WycheproofGroup, t: WycheproofCase): Outcome => {
    const [key, iv, aad, msg, ct, tag] = ['key', 'iv', 'aad', 'msg', 'ct', 'tag'].map((f) => hexField(t, f)) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array]
    const sealed = concat(ct, tag)
    if (g.ivSize !== 96) {
      // Our interface takes 12-byte nonces only (Noise §5.1); other sizes are refused up front.
      if (t.result !== 'invalid') return fail(`ivSize ${String(g.ivSize)} case is ${t.result}`)
      const a = expectCode(() => p.aeadEncrypt(alg, key, iv, aad, msg), 'INVALID_LENGTH')
      return a.ok ? expectCode(() => p.aeadDecrypt(alg, key, iv, aad, sealed), 'INVALID_LENGTH') : a
    }
    if (t.result === 'valid') {
      const enc = p.aeadEncrypt(alg, key, iv, aad, msg)
      if (!equalConstantTime(enc, sealed)) return fail('encrypt output differs')
      let dec: Uint8Array
      try {
        dec = p.aeadDecrypt(alg, key, iv, aad, sealed)
      } catch (e) {
        return fail(`decrypt threw ${String(e)}`)
      }
      return equalConstantTime(dec, msg) ? pass : fail('decrypt output differs')
    }
    if (t.result === 'acceptable') return fail('no policy for acceptable AEAD cases')
    // invalid: a modified tag or ciphertext must not authenticate, and encryption must not produce it.
    if (equalConstantTime(p.aeadEncrypt(alg, key, iv, aad, msg), sealed)) return fail('encrypt produced the invalid ciphertext')
    return expectCode(() => p.aeadDecrypt(alg, key, iv, aad, sealed), 'AEAD_AUTH_FAILED')
  }
}

function hkdfCase(p: CryptoProvider, _g: WycheproofGroup, t: WycheproofCase): Outcome {
  const [ikm, salt, info] = ['ikm', 'salt', 'info'].map((f) => hexField(t, f)) as [Uint8Array, Uint8Array, Uint8Array]
  const size = t.size as number
  if (t.result === 'invalid') {
    // Upstream's only invalid HKDF cases ask for more than 255 × HashLen bytes (RFC 5869 §2.3).
    if (!hasFlag(t, 'SizeTooLarge')) return fail(`unexpected invalid HKDF case flags ${t.flags.join(',')}`)
    return expectCode(() => p.hkdfSha256(ikm, salt, info, size), 'INVALID_ARGUMENT')
  }
  const okm = p.hkdfSha256(ikm, salt, info, size)
  return equalConstantTime(okm, hexField(t, 'okm')) ? pass : fail('okm differs')
}

function hmacCase(p: CryptoProvider, g: WycheproofGroup, t: WycheproofCase): Outcome {
  const tagBytes = (g.tagSize as number) / 8
  const full = p.hmac('sha256', hexField(t, 'key'), hexField(t, 'msg'))
  // Truncated tags compare the leading tagSize/8 bytes, in constant time (RFC 2104 §5).
  const ok = equalConstantTime(full.subarray(0, tagBytes), hexField(t, 'tag'))
  return ok === (t.result === 'valid') ? pass : fail(`tag comparison returned ${ok}`)
}

const SUITES: Suite[] = [
  { file: 'x25519', policy: `reject ${X25519_REJECT.join('/')} with WEAK_SHARED_SECRET, accept the rest with the RFC 7748 result`, run: x25519Case },
  { file: 'ecdh_secp256r1_ecpoint', policy: 'accept compressed points', run: p256EcdhCase },
  { file: 'ecdsa_secp256r1_sha256_p1363', policy: 'none in file', run: ecdsaCase },
  { file: 'ed25519', policy: 'none in file', run: ed25519Case },
  { file: 'aes_gcm', groups: (g) => g.ivSize === 96 && g.tagSize === 128, policy: 'none in file', run: aeadCase('aes-gcm') },
  { file: 'chacha20_poly1305', policy: 'none in file; non-96-bit nonces refused with INVALID_LENGTH', run: aeadCase('chacha20-poly1305') },
  { file: 'hkdf_sha256', policy: 'none in file', run: hkdfCase },
  { file: 'hmac_sha256', policy: 'none in file; truncated tags compared on tagSize/8 bytes', run: hmacCase },
]

interface SuiteResult {
  passed: number
  accepted: number
  rejected: number
  failures: string[]
}

function runSuite(p: CryptoProvider, s: Suite): SuiteResult {
  const file = loadWycheproof(s.file)
  const res: SuiteResult = { passed: 0, accepted: 0, rejected: 0, failures: [] }
  for (const g of file.testGroups) {
    if (s.groups && !s.groups(g)) continue
    for (const t of g.tests) {
      let r: Outcome
      try {
        r = s.run(p, g, t)
      } catch (e) {
        r = fail(`threw ${String(e)}`)
      }
      if (r.ok) {
        res.passed++
        if (r.acceptable === 'accepted') res.accepted++
        if (r.acceptable === 'rejected') res.rejected++
      } else {
        res.failures.push(`tcId ${t.tcId} (${t.result}, ${t.flags.join(',')}): ${r.why}`)
      }
    }
  }
  return res
}

const suite = (file: string): Suite => SUITES.find((s) => s.file === file)!

for (const providerName of ['node', 'noble'] as const) {
  describe(`wycheproof [${providerName}]`, () => {
    const p = cryptoProvider(providerName)
    for (const s of SUITES) {
      it(`${s.file}: every case passes`, () => {
        const { passed, accepted, rejected, failures } = runSuite(p, s)
        const acc = accepted + rejected
        console.log(
          `wycheproof ${s.file} [${providerName}]: ${passed} passed, ${failures.length} failed (${acc} acceptable: policy ${s.policy}${acc > 0 ? `; ${accepted} accepted, ${rejected} rejected` : ''})`,
        )
        assert.deepEqual(failures.slice(0, 20), [], `${failures.length} failures`)
        const expected = EXPECTED_CASES[s.file]!
        assert.ok(passed > 0, 'no case ran')
        assert.ok(passed >= expected, `${passed} cases ran, expected ${expected}`)
        if (s.file === 'x25519') {
          // The policy, counted by flag: the 31 low-order / zero-secret cases rejected, the other 223 acceptable ones accepted.
          assert.equal(rejected, 31)
          assert.equal(accepted, 254 - 31)
        }
        if (s.file === 'ecdh_secp256r1_ecpoint') assert.equal(accepted, 1)
      })
    }
  })
}

describe('wycheproof harness', () => {
  // Mutants of the node provider: the suites must notice each broken behaviour.
  const node = cryptoProvider('node')
  const mutant = (over: Partial<CryptoProvider>): CryptoProvider => Object.assign(Object.create(node) as CryptoProvider, over)

  it('fails a provider that returns the all-zero X25519 secret instead of rejecting it', () => {
    const lax = mutant({
      dh: (kp, pub) => {
        try {
          return node.dh(kp, pub)
        } catch {
          return new Uint8Array(32)
        }
      },
    })
    assert.equal(runSuite(lax, suite('x25519')).failures.length, 31)
  })

  it('fails a provider that accepts every signature', () => {
    const lax = mutant({ verify: () => true })
    assert.equal(runSuite(lax, suite('ecdsa_secp256r1_sha256_p1363')).failures.length, 89)
    assert.equal(runSuite(lax, suite('ed25519')).failures.length, 63)
  })

  it('fails a provider whose AEAD skips tag checks', () => {
    const lax = mutant({ aeadDecrypt: (alg, key, nonce, aad, ct) => node.aeadEncrypt(alg, key, nonce, aad, new Uint8Array(ct.length - 16)).subarray(0, ct.length - 16) })
    assert.ok(runSuite(lax, suite('chacha20_poly1305')).failures.length > 50)
  })

  it('fails an HMAC compared on the wrong number of bytes', () => {
    const lax = mutant({ hmac: (alg, key, data) => node.hmac(alg, key, data).subarray(0, 8) })
    assert.ok(runSuite(lax, suite('hmac_sha256')).failures.length >= 66)
  })
})
