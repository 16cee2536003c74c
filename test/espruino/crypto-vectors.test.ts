/**
 * The device crypto (targets/espruino/src/crypto, module hopseal/crypto/index)
 * inside the real Espruino interpreter, on public vectors:
 * - SHA-256: FIPS 180-4 examples (empty, "abc", the 448-bit message) and
 *   1 000 bytes against node:crypto;
 * - HMAC-SHA256: RFC 4231 cases 1-7 and every Wycheproof case (tags
 *   truncated to tagSize/8; invalid cases must not match);
 * - HKDF: every Wycheproof HKDF-SHA256 case through RFC 5869 built on the
 *   device's HMAC, and the device's Noise HKDF (hkdf(ck, ikm, 3)) on every
 *   case with an empty info (the Noise HKDF is RFC 5869 with salt = ck,
 *   info empty); SizeTooLarge cases are refused;
 * - AES-256-GCM: the Wycheproof cases with a 256-bit key, a 96-bit nonce and
 *   a 128-bit tag (the Noise AESGCM shape), valid ones sealed and opened to
 *   the exact bytes, invalid ones refused by open;
 * - ChaCha20-Poly1305: every Wycheproof case; nonces other than 96 bits are
 *   refused with INVALID_LENGTH.
 * Each suite prints how many entries ran (valid / invalid) and fails on zero.
 * The vectors go into the interpreter in chunks (harness.ts runChunked), on
 * the minified build (`--minify`: the code a board runs, after the size
 * rewrites of build.mjs); crypto-noise and crypto-x25519 run the plain one.
 */
import assert from 'node:assert/strict'
import { createHash, createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { runChunked, runEspruino, skipUnlessEspruino, END_MARKER, DEVICE_HELPERS, type RunResult } from './harness.ts'

const skip = skipUnlessEspruino()

interface WTest {
  tcId: number
  comment: string
  flags: string[]
  result: 'valid' | 'invalid' | 'acceptable'
  [k: string]: unknown
}
interface WGroup {
  tests: WTest[]
  [k: string]: unknown
}
function wycheproof(name: string): WGroup[] {
  return (JSON.parse(readFileSync(new URL(`../vectors/wycheproof/${name}`, import.meta.url), 'utf8')) as { testGroups: WGroup[] }).testGroups
}
const hexOf = (s: string): string => Buffer.from(s, 'latin1').toString('hex')

type Item =
  | { k: 'sha'; m: string }
  | { k: 'hmac'; key: string; m: string }
  | { k: 'hkdf'; ikm: string; salt: string; info: string; size: number }
  | { k: 'gcm' | 'cc'; key: string; iv: string; ad: string; m: string; ct: string }

/** Device side: one item in, its result out (hex strings, null for a refused open, 'ERR:<code>' for a typed error). */
const EACH = `function (t) {
  var C = require('hopseal/crypto/index');
  if (t.k === 'sha') return hex(C.sha256(unhex(t.m)));
  if (t.k === 'hmac') return hex(C.hmacSha256(unhex(t.key), unhex(t.m)));
  if (t.k === 'hkdf') {
    var ikm = unhex(t.ikm), salt = unhex(t.salt), info = unhex(t.info), L = t.size;
    var noise = info.length === 0 ? C.hkdf(salt, ikm, 3).map(hex).join('') : null;
    if (L > 255 * 32) return ['ERR:SIZE', noise];
    var prk = C.hmacSha256(salt, ikm), okm = new Uint8Array(L), prev = new Uint8Array(0), o = 0, i, m;
    for (i = 1; o < L; i++) {
      m = new Uint8Array(prev.length + info.length + 1);
      m.set(prev, 0); m.set(info, prev.length); m[m.length - 1] = i;
      prev = C.hmacSha256(prk, m);
      okm.set(L - o < 32 ? prev.subarray(0, L - o) : prev, o);
      o += 32;
    }
    return [hex(okm), noise];
  }
  var gcm = t.k === 'gcm', key = unhex(t.key), iv = unhex(t.iv), ad = unhex(t.ad);
  return [
    tryCode(function () { return hex((gcm ? C.aesGcmSeal : C.chachaPolySeal)(key, iv, ad, unhex(t.m))); }),
    tryCode(function () { var r = (gcm ? C.aesGcmOpen : C.chachaPolyOpen)(key, iv, ad, unhex(t.ct)); return r === null ? null : hex(r); })
  ];
}`

/** RFC 4231 §4.2-4.8 inputs; expected values from node:crypto (the RFC's own values for cases 1 and 2 are asserted literally below). */
const RFC4231: { key: string; data: string; trunc?: number }[] = [
  { key: '0b'.repeat(20), data: hexOf('Hi There') },
  { key: hexOf('Jefe'), data: hexOf('what do ya want for nothing?') },
  { key: 'aa'.repeat(20), data: 'dd'.repeat(50) },
  { key: '0102030405060708090a0b0c0d0e0f10111213141516171819', data: 'cd'.repeat(50) },
  { key: '0c'.repeat(20), data: hexOf('Test With Truncation'), trunc: 16 },
  { key: 'aa'.repeat(131), data: hexOf('Test Using Larger Than Block-Size Key - Hash Key First') },
  { key: 'aa'.repeat(131), data: hexOf('This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.') },
]

interface Suite {
  name: string
  items: Item[]
  check: (result: unknown, i: number) => 'valid' | 'invalid'
}

function suites(): Suite[] {
  const out: Suite[] = []

  const sha = ['', hexOf('abc'), hexOf('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'), Buffer.alloc(1000, 0x61).toString('hex'), Buffer.from(Array.from({ length: 200 }, (_, i) => i)).toString('hex')]
  out.push({
    name: 'SHA-256 (FIPS 180-4 examples, 1 000 bytes)',
    items: sha.map((m) => ({ k: 'sha', m })),
    check(r, i) {
      assert.equal(r, createHash('sha256').update(Buffer.from(sha[i]!, 'hex')).digest('hex'), `sha256 #${i}`)
      return 'valid'
    },
  })

  out.push({
    name: 'HMAC-SHA256 (RFC 4231 cases 1-7)',
    items: RFC4231.map((c) => ({ k: 'hmac', key: c.key, m: c.data })),
    check(r, i) {
      const c = RFC4231[i]!
      const want = createHmac('sha256', Buffer.from(c.key, 'hex')).update(Buffer.from(c.data, 'hex')).digest('hex')
      if (i === 0) assert.equal(want, 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7')
      if (i === 1) assert.equal(want, '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843')
      const n = (c.trunc ?? 32) * 2
      assert.equal((r as string).slice(0, n), want.slice(0, n), `RFC 4231 case ${i + 1}`)
      return 'valid'
    },
  })

  const hmac = wycheproof('hmac_sha256_test.json').flatMap((g) => g.tests.map((t) => ({ t, n: (g.tagSize as number) / 4 })))
  out.push({
    name: 'HMAC-SHA256 (Wycheproof)',
    items: hmac.map(({ t }) => ({ k: 'hmac', key: t.key as string, m: t.msg as string })),
    check(r, i) {
      const { t, n } = hmac[i]!
      const match = (r as string).slice(0, n) === t.tag
      assert.equal(match, t.result === 'valid', `hmac tcId ${t.tcId} (${t.comment})`)
      return t.result === 'valid' ? 'valid' : 'invalid'
    },
  })

  const hkdf = wycheproof('hkdf_sha256_test.json').flatMap((g) => g.tests)
  out.push({
    name: 'HKDF-SHA256 (Wycheproof; Noise HKDF on the empty-info cases)',
    items: hkdf.map((t) => ({ k: 'hkdf', ikm: t.ikm as string, salt: t.salt as string, info: t.info as string, size: t.size as number })),
    check(r, i) {
      const t = hkdf[i]!
      const [okm, noise] = r as [string, string | null]
      if (t.result === 'valid') assert.equal(okm, t.okm, `hkdf tcId ${t.tcId}`)
      else {
        assert.deepEqual(t.flags, ['SizeTooLarge'], `hkdf tcId ${t.tcId}: an invalid case this test does not know`)
        assert.equal(okm, 'ERR:SIZE')
      }
      if (t.info === '') {
        assert.notEqual(noise, null)
        const n = Math.min(t.size as number, 96) * 2
        assert.equal(noise!.slice(0, n), (t.okm as string).slice(0, n), `Noise hkdf on tcId ${t.tcId}`)
      }
      return t.result === 'valid' ? 'valid' : 'invalid'
    },
  })

  const aead = (file: string, k: 'gcm' | 'cc', keep: (g: WGroup) => boolean): Suite => {
    const tests = wycheproof(file).flatMap((g) => (keep(g) ? g.tests.map((t) => ({ t, ivBits: g.ivSize as number })) : []))
    return {
      name: `${k === 'gcm' ? 'AES-256-GCM' : 'ChaCha20-Poly1305'} (Wycheproof)`,
      items: tests.map(({ t }) => ({ k, key: t.key as string, iv: t.iv as string, ad: t.aad as string, m: t.msg as string, ct: (t.ct as string) + (t.tag as string) })),
      check(r, i) {
        const { t, ivBits } = tests[i]!
        const [sealed, opened] = r as [string, string | null]
        const id = `${k} tcId ${t.tcId} (${t.comment})`
        if (ivBits !== 96) {
          assert.equal(t.result, 'invalid', id)
          assert.equal(sealed, 'ERR:INVALID_LENGTH', id)
          assert.equal(opened, 'ERR:INVALID_LENGTH', id)
          return 'invalid'
        }
        if (t.result === 'valid') {
          assert.equal(sealed, (t.ct as string) + (t.tag as string), `${id}: seal`)
          assert.equal(opened, t.msg, `${id}: open`)
          return 'valid'
        }
        assert.equal(t.result, 'invalid', id)
        assert.equal(opened, null, `${id}: open must refuse`)
        return 'invalid'
      },
    }
  }
  out.push(aead('aes_gcm_test.json', 'gcm', (g) => g.keySize === 256 && g.ivSize === 96 && g.tagSize === 128))
  out.push(aead('chacha20_poly1305_test.json', 'cc', () => true))
  return out
}

describe('Espruino crypto: vectors in the interpreter', { skip }, () => {
  const all = suites()
  let results: unknown[] = []
  let ms = 0
  let peak = 0

  it('runs every vector in the interpreter (chunked)', async () => {
    const items = all.flatMap((s) => s.items)
    const r = await runChunked<Item, unknown>(items, EACH, { only: ['crypto'], minify: true, perChunk: 25, timeoutMs: 180_000 })
    results = r.results
    ms = r.ms
    peak = r.peakVars
    console.log(`# ${items.length} vector entries in ${Math.round(ms)} ms (spawn and bundle load included); peak ${peak} variables after a chunk`)
    assert.ok(items.length > 0)
  })

  let offset = 0
  for (const s of all) {
    const start = offset
    const end = (offset += s.items.length)
    it(s.name, () => {
      assert.ok(results.length >= end, 'the interpreter run (first step) did not complete')
      const n = { valid: 0, invalid: 0 }
      for (let i = 0; i < s.items.length; i++) n[s.check(results[start + i], i)]++
      console.log(`# ${s.name}: ${n.valid + n.invalid} entries (${n.valid} valid, ${n.invalid} invalid)`)
      assert.ok(n.valid + n.invalid > 0, 'no entries ran')
      assert.ok(n.valid > 0, 'no valid entries ran')
    })
  }

  it('refuses bad key and nonce lengths with INVALID_LENGTH, a hkdf count other than 2 or 3; equal, wipe, random bytes (fresh in every process)', async () => {
    const run = (): Promise<RunResult> => runEspruino(
      `${DEVICE_HELPERS}
var C = require('hopseal/crypto/index'), U = require('hopseal/crypto/util'), k = new Uint8Array(32), n = new Uint8Array(12), e = new Uint8Array(0);
print('OUT ' + JSON.stringify([
  tryCode(function () { return C.aesGcmSeal(new Uint8Array(16), n, e, e); }),
  tryCode(function () { return C.aesGcmOpen(k, new Uint8Array(8), e, new Uint8Array(16)); }),
  tryCode(function () { return C.chachaPolySeal(new Uint8Array(31), n, e, e); }),
  tryCode(function () { return C.x25519(new Uint8Array(31), k); }),
  tryCode(function () { return C.hkdf(k, e, 4); }),
  C.aesGcmOpen(k, n, e, new Uint8Array(15)), C.chachaPolyOpen(k, n, e, new Uint8Array(15)),
  C.equal(new Uint8Array([1, 2]), new Uint8Array([1, 2])), C.equal(new Uint8Array([1, 2]), new Uint8Array([1, 3])), C.equal(new Uint8Array(1), new Uint8Array(2)),
  (function () { var b = new Uint8Array([1, 2, 3]); C.wipe(b); return hex(b); })(),
  C.randomBytes(45).length, hex(C.randomBytes(16)) !== hex(C.randomBytes(16)), C.randomBytes(0).length,
  U.hwRandomBytes(45).length, hex(U.hwRandomBytes(16)) !== hex(U.hwRandomBytes(16))
]));
print('RND ' + hex(C.randomBytes(32)));
print('${END_MARKER}');`,
      { only: ['crypto'] },
    )
    const r = await run()
    const out = JSON.parse(r.lines.find((l) => l.startsWith('OUT '))!.slice(4)) as unknown[]
    assert.deepEqual(out, ['ERR:INVALID_LENGTH', 'ERR:INVALID_LENGTH', 'ERR:INVALID_LENGTH', 'ERR:INVALID_LENGTH', 'ERR:INVALID_ARGUMENT', null, null, true, false, false, '000000', 45, true, 0, 45, true])
    // the Linux interpreter's E.hwRand() and Math.random() repeat in every process: randomBytes must not
    const rnd = (x: RunResult): string => x.lines.find((l) => l.startsWith('RND '))!.slice(4)
    assert.notEqual(rnd(r), rnd(await run()))
  })
})
