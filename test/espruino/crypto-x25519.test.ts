/**
 * The device's software X25519 (targets/espruino/src/crypto/x25519.js) in the
 * real Espruino interpreter. A scalar multiplication takes seconds there, so
 * the default run is a chosen subset:
 * - RFC 7748 §5.2 (two vectors) and §6.1 (Alice's and Bob's public keys and
 *   their shared secret, both ways);
 * - from Wycheproof x25519_test.json, the first case of every distinct flag
 *   set that does not end in a zero shared secret (edge-case multiplications,
 *   twist points, non-canonical u, small and special public keys, edge-case
 *   private keys, KTV), and one low-order case, which must throw
 *   WEAK_SHARED_SECRET as the Node providers do (docs/crypto.md policy).
 * HOPSEAL_ESPRUINO_X25519_ALL=1 runs all 518 Wycheproof cases (about 25 min).
 * Prints the counts and fails on zero.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { runChunked, skipUnlessEspruino } from './harness.ts'

const skip = skipUnlessEspruino()

interface XTest {
  tcId: number
  comment: string
  flags: string[]
  public: string
  private: string
  shared: string
  result: 'valid' | 'acceptable' | 'invalid'
}
const all = (JSON.parse(readFileSync(new URL('../vectors/wycheproof/x25519_test.json', import.meta.url), 'utf8')) as { testGroups: { tests: XTest[] }[] }).testGroups.flatMap((g) => g.tests)
const ZERO = '00'.repeat(32)

function pick(): XTest[] {
  if (process.env.HOPSEAL_ESPRUINO_X25519_ALL === '1') return all
  const seen = new Set<string>()
  const out: XTest[] = []
  let lowOrder = 0
  for (const t of all) {
    const key = t.flags.slice().sort().join('+')
    if (seen.has(key)) continue
    if (t.shared === ZERO) {
      if (lowOrder >= 1) continue
      lowOrder++
    }
    seen.add(key)
    out.push(t)
  }
  return out
}

const ALICE = '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'
const ALICE_PUB = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a'
const BOB = '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb'
const BOB_PUB = 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f'
const SHARED = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742'

interface Item {
  id: string
  scalar: string
  /** null: the base point (x25519Base). */
  u: string | null
  want: string
}

const RFC: Item[] = [
  { id: 'RFC 7748 §5.2 #1', scalar: 'a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4', u: 'e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c', want: 'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552' },
  { id: 'RFC 7748 §5.2 #2', scalar: '4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d', u: 'e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493', want: '95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957' },
  { id: 'RFC 7748 §6.1 Alice public', scalar: ALICE, u: null, want: ALICE_PUB },
  { id: 'RFC 7748 §6.1 Bob public', scalar: BOB, u: null, want: BOB_PUB },
  { id: 'RFC 7748 §6.1 Alice shared', scalar: ALICE, u: BOB_PUB, want: SHARED },
  { id: 'RFC 7748 §6.1 Bob shared', scalar: BOB, u: ALICE_PUB, want: SHARED },
]

const EACH = `function (t) {
  var C = require('hopseal/crypto/index'), k = unhex(t.scalar), t0 = getTime();
  var r = tryCode(function () { return hex(t.u === null ? C.x25519Base(k) : C.x25519(k, unhex(t.u))); });
  return [r, Math.round((getTime() - t0) * 1000)];
}`

describe('Espruino crypto: X25519 in the interpreter', { skip }, () => {
  it('RFC 7748 vectors and one Wycheproof case per flag set', async () => {
    const wp = pick()
    const items: Item[] = [...RFC, ...wp.map((t) => ({ id: `Wycheproof tcId ${t.tcId} [${t.flags.join(',')}]`, scalar: t.private, u: t.public, want: t.shared }))]
    const r = await runChunked<Item, [string, number]>(items, EACH, { only: ['crypto'], perChunk: 1, timeoutMs: 40 * 60_000 })
    const n = { rfc: 0, valid: 0, acceptable: 0, weak: 0 }
    const times: number[] = []
    r.results.forEach(([out, ms], i) => {
      const it = items[i]!
      times.push(ms)
      if (it.want === ZERO) {
        assert.equal(out, 'ERR:WEAK_SHARED_SECRET', `${it.id}: a zero shared secret must be refused`)
        n.weak++
        return
      }
      assert.equal(out, it.want, it.id)
      if (i < RFC.length) n.rfc++
      else n[wp[i - RFC.length]!.result === 'valid' ? 'valid' : 'acceptable']++
    })
    times.sort((a, b) => a - b)
    console.log(`# X25519: ${items.length} scalar multiplications (RFC 7748 ${n.rfc}; Wycheproof ${n.valid} valid, ${n.acceptable} acceptable accepted, ${n.weak} low-order refused) in ${Math.round(r.ms)} ms; median ${times[times.length >> 1]} ms each; peak ${r.peakVars} variables`)
    assert.ok(n.rfc === RFC.length && n.valid > 0 && n.acceptable > 0 && n.weak > 0, 'every kind of case must have run')
  })
})
