/**
 * Threat model I7 (formerly gap G3), timing of comparisons, where it can be
 * measured without a clock: the work a comparison does, counted as byte reads
 * through a Proxy, must not depend on where the inputs first differ.
 * - hopseal's `equalConstantTime` (keys, identifiers, encodings, relay key
 *   bindings, cookies) reads every byte of both inputs, whatever the position
 *   of the first difference, for tag, key and point lengths;
 * - the noble provider's tag check is `equalBytes` from @noble/ciphers (its
 *   AES-GCM and ChaCha20-Poly1305 decrypt call it): same property;
 * - a naive early-exit comparison measured the same way shows the leak, so
 *   the measurement can fail.
 * The node provider's tags are checked inside OpenSSL (CRYPTO_memcmp), out of
 * reach of a count; `npm run bench` times both providers' tag rejection and
 * equalConstantTime, first-byte vs last-byte difference (bench/threat.ts): a
 * statistical check that belongs in a benchmark, not in a test.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { equalBytes } from '@noble/ciphers/utils.js'
import { equalConstantTime } from '../../src/bytes/index.ts'

/** A view of `bytes` that counts indexed reads. */
function counted(bytes: Uint8Array): { view: Uint8Array; reads: () => number } {
  let n = 0
  const view = new Proxy(bytes, {
    get(target, prop) {
      if (typeof prop === 'string' && /^\d+$/.test(prop)) n++
      const v = Reflect.get(target, prop, target) as unknown
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
    },
  })
  return { view, reads: () => n }
}

/** The comparison a careless implementation would write: it stops at the first difference. */
function naiveEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

type Compare = (a: Uint8Array, b: Uint8Array) => boolean

/** Byte reads of `cmp` on equal inputs and on inputs first differing at each position. */
function readsByDifference(cmp: Compare, len: number): { equal: boolean; at: number | undefined; reads: number }[] {
  const base = Uint8Array.from({ length: len }, (_, i) => (i * 37 + 11) & 0xff)
  const out: { equal: boolean; at: number | undefined; reads: number }[] = []
  for (const at of [undefined, 0, 1, Math.floor(len / 2), len - 1]) {
    const other = base.slice()
    if (at !== undefined) other[at]! ^= 0x80
    const a = counted(base), b = counted(other)
    const equal = cmp(a.view, b.view)
    out.push({ equal, at, reads: a.reads() + b.reads() })
  }
  return out
}

describe('G3: comparisons of secrets do the same work wherever the inputs differ', () => {
  const lengths = [16, 32, 33, 64] // AEAD tag, key / MAC, compressed P-256 point, identifiers and signatures
  for (const [name, cmp] of [['equalConstantTime (src/bytes)', equalConstantTime], ["noble's equalBytes (the noble provider's tag check)", equalBytes]] as const) {
    it(`${name}: reads every byte of both inputs for a match and for a difference at any position`, () => {
      let cases = 0
      for (const len of lengths) {
        for (const r of readsByDifference(cmp, len)) {
          assert.equal(r.equal, r.at === undefined, `${len} bytes, difference at ${String(r.at)}: wrong answer`)
          assert.equal(r.reads, 2 * len, `${len} bytes, difference at ${String(r.at)}: ${r.reads} reads, not ${2 * len}`)
          cases++
        }
      }
      assert.equal(cases, lengths.length * 5)
      console.log(`${name}: ${cases} cases, ${lengths.map((l) => `${l} B → ${2 * l} reads`).join(', ')}`)
    })
  }

  it('the measurement sees an early-exit comparison leak the position (so the checks above can fail)', () => {
    const r = readsByDifference(naiveEqual, 32)
    const reads = r.filter((x) => x.at !== undefined).map((x) => x.reads)
    assert.deepEqual(reads, [2, 4, 34, 64])
    assert.ok(new Set(reads).size > 1)
  })
})
