/**
 * Timing checks of the threat model (docs/threat-model.md I7, formerly G3):
 * the statistical half of test/threat/g3-constant-time.test.ts, which counts
 * work without a clock. Each figure is the ratio of the median time of a
 * comparison whose inputs differ in their FIRST byte to one whose inputs
 * differ in their LAST byte, measured in interleaved slices: about 1 for a
 * constant-time comparison, far below 1 for an early-exit one (the baseline,
 * measured the same way in the same run, shows the method sees a leak).
 * No targets: on a shared machine the noise (±10 %) is larger than what a
 * target could promise; read the figure beside its baseline.
 */
import { equalConstantTime } from '../src/bytes/index.ts'
import { cryptoProvider, type CryptoProvider } from '../targets/node/crypto/index.ts'
import type { BenchModule, Figure } from './figure.ts'

/** Median ns per call of each of `fns`, over `rounds` interleaved slices of `sliceMs`. */
function interleavedNs(fns: (() => void)[], sliceMs: number, rounds: number): number[] {
  for (const fn of fns) for (let i = 0; i < 2000; i++) fn()
  const samples: number[][] = fns.map(() => [])
  for (let r = 0; r < rounds; r++) {
    for (const [i, fn] of fns.entries()) {
      let n = 0
      const t0 = process.hrtime.bigint()
      const end = Date.now() + sliceMs
      while (Date.now() < end) {
        for (let k = 0; k < 64; k++) fn()
        n += 64
      }
      samples[i]!.push(Number(process.hrtime.bigint() - t0) / n)
    }
  }
  return samples.map((xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!)
}

function naiveEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Inputs of `len` bytes: the base, and copies differing in the first and in the last byte. */
function pairs(len: number): [Uint8Array, Uint8Array, Uint8Array] {
  const a = Uint8Array.from({ length: len }, (_, i) => (i * 37 + 11) & 0xff)
  const first = a.slice()
  first[0]! ^= 1
  const last = a.slice()
  last[len - 1]! ^= 1
  return [a, first, last]
}

/** An AES-GCM message with its tag corrupted in the first and in the last tag byte. */
function badTags(crypto: CryptoProvider): () => [() => void, () => void] {
  return () => {
    const key = crypto.randomBytes(32), nonce = new Uint8Array(12), aad = new Uint8Array(0)
    const ct = crypto.aeadEncrypt('aes-gcm', key, nonce, aad, new Uint8Array(64))
    const first = ct.slice()
    first[ct.length - 16]! ^= 1
    const last = ct.slice()
    last[ct.length - 1]! ^= 1
    const reject = (c: Uint8Array) => () => {
      try {
        crypto.aeadDecrypt('aes-gcm', key, nonce, aad, c)
      } catch {
        return
      }
      throw new Error('a corrupted tag was accepted')
    }
    return [reject(first), reject(last)]
  }
}

const bench: BenchModule = async (ctx) => {
  const sliceMs = ctx.quick ? 20 : 100
  const rounds = ctx.quick ? 5 : 15
  const figures: Figure[] = []
  const [a, first, last] = pairs(1024)
  const [ctFirst, ctLast, naiveFirst, naiveLast] = interleavedNs(
    [() => equalConstantTime(a, first), () => equalConstantTime(a, last), () => naiveEqual(a, first), () => naiveEqual(a, last)],
    sliceMs,
    rounds,
  )
  figures.push({
    name: 'threat.equal_ct.first_vs_last_diff',
    value: ctFirst! / ctLast!,
    unit: 'ratio',
    baseline: { name: 'early-exit compare, same inputs', value: naiveFirst! / naiveLast! },
    note: `1 KiB inputs: ${ctFirst!.toFixed(0)} vs ${ctLast!.toFixed(0)} ns (early exit ${naiveFirst!.toFixed(0)} vs ${naiveLast!.toFixed(0)} ns)`,
  })
  for (const name of ['node', 'noble'] as const) {
    const [f, l] = badTags(cryptoProvider(name))()
    const [tf, tl] = interleavedNs([f, l], sliceMs, rounds)
    figures.push({ name: `threat.aead_tag_reject.${name}.first_vs_last_byte`, value: tf! / tl!, unit: 'ratio', note: `AES-256-GCM, 64 B: ${tf!.toFixed(0)} vs ${tl!.toFixed(0)} ns per rejected message` })
  }
  for (const f of figures) ctx.log(`${f.name} = ${f.value.toFixed(3)}${f.baseline ? ` (baseline ${f.baseline.value.toFixed(3)})` : ''}: ${f.note ?? ''}`)
  return figures
}

export default bench
