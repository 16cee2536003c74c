import * as nc from 'node:crypto'
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
/** A measured figure, as printed by `npm run bench` (table) and `npm run bench -- --json`. */
export interface Figure {
  name: string
  value: number
  unit: string
  /** The same kind of figure for the reference implementation, measured in the same run. */
  baseline?: { name: string; value: number }
  /** The architecture.md §5 target, for the table (e.g. '<= 18', '>= 3x'). */
  target?: string
  note?: string
}

export interface BenchContext {
  /** --quick: fewer iterations (smoke runs). */
  quick: boolean
  log: (line: string) => void
}

export type BenchModule = (ctx: BenchContext) => Promise<Figure[]>

/** Runs `fn` repeatedly for about `ms` milliseconds (after a warm-up) and returns operations per second. */
export async function opsPerSecond(fn: () => unknown | Promise<unknown>, ms: number, batch = 1): Promise<number> {
  const warm = Date.now() + Math.min(200, ms / 5)
  while (Date.now() < warm) for (let i = 0; i < batch; i++) await fn()
  let n = 0
  const t0 = process.hrtime.bigint()
  const end = Date.now() + ms
  while (Date.now() < end) {
    for (let i = 0; i < batch; i++) await fn()
    n += batch
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9
  return n / s
}

/** MB/s of `bytesPerCall` processed by `fn`, measured for about `ms` after a 100 ms warm-up. */
export function megabytesPerSecond(fn: () => void, bytesPerCall: number, ms: number): number {
  const warm = Date.now() + 100
  while (Date.now() < warm) fn()
  let n = 0
  const t0 = process.hrtime.bigint()
  const end = Date.now() + ms
  while (Date.now() < end) {
    for (let i = 0; i < 16; i++) fn()
    n += 16
  }
  return (n * bytesPerCall) / (Number(process.hrtime.bigint() - t0) / 1e9) / 1e6
}

/**
 * MB/s of each of `fns` (each processing `bytesPerCall`), measured in
 * `rounds` alternating slices of about `ms / rounds` each after a warm-up,
 * median per function: on a shared machine, a burst of load then hits every
 * variant alike instead of whichever happened to run at that moment.
 */
export function interleavedMegabytesPerSecond(fns: (() => void)[], bytesPerCall: number, ms: number, rounds = 8): number[] {
  for (const fn of fns) {
    const warm = Date.now() + 50
    while (Date.now() < warm) fn()
  }
  const samples: number[][] = fns.map(() => [])
  const slice = Math.max(10, ms / rounds)
  for (let r = 0; r < rounds; r++) {
    for (const [i, fn] of fns.entries()) {
      let n = 0
      const t0 = process.hrtime.bigint()
      const end = Date.now() + slice
      while (Date.now() < end) {
        for (let k = 0; k < 16; k++) fn()
        n += 16
      }
      samples[i]!.push((n * bytesPerCall) / (Number(process.hrtime.bigint() - t0) / 1e9) / 1e6)
    }
  }
  return samples.map((xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!)
}

/**
 * The baseline of every throughput figure: raw node:crypto AES-256-GCM
 * encrypt + decrypt of `data`, one cipher object each, as an application would.
 */
export function rawAesGcmRoundTrip(key: Uint8Array, data: Uint8Array): () => void {
  const iv = new Uint8Array(12)
  return () => {
    const c = nc.createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 })
    const ct = c.update(data)
    c.final()
    const tag = c.getAuthTag()
    const d = nc.createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 })
    d.setAuthTag(tag)
    d.update(ct)
    d.final()
  }
}

/**
 * A JavaScript ChaCha20-Poly1305 (@noble/ciphers) encrypt + decrypt of
 * `data`: what a portable build without node:crypto would use.
 */
export function nobleChachaRoundTrip(key: Uint8Array, data: Uint8Array): () => void {
  const iv = new Uint8Array(12)
  return () => {
    const ct = chacha20poly1305(key, iv).encrypt(data)
    chacha20poly1305(key, iv).decrypt(ct)
  }
}

/**
 * Whether a figure meets its target: `<= N` / `>= N` compare the value,
 * `<= Nx` / `>= Nx` the ratio to the baseline. Undefined without a target
 * (or one this cannot read).
 */
export function targetMet(f: Figure): boolean | undefined {
  const m = f.target ? /^(<=|>=)\s*([\d.]+)\s*(x)?/.exec(f.target) : null
  if (!m) return undefined
  const limit = Number(m[2])
  let v = f.value
  if (m[3]) {
    if (!f.baseline || !f.baseline.value) return undefined
    v = f.value / f.baseline.value
  }
  return m[1] === '<=' ? v <= limit : v >= limit
}
