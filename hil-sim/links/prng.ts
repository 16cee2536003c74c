/**
 * Seeded randomness for the link models: sfc32 (Chris Doty-Humphrey's Small
 * Fast Counting generator, 128-bit state, passes PractRand to 2^60+ bytes),
 * keyed from SHA-256 of the seed.
 *
 * Why not the simulator's SHA-256 counter stream (hil-sim/atecc608/rng.ts):
 * a link model draws several numbers per frame and a 10 000-frame scenario
 * would spend most of its time hashing; sfc32 costs a few nanoseconds per draw.
 * Why not Math.random: it cannot be seeded, and a failing scenario must replay
 * bit for bit from its seed. Not for keys or nonces.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { ErrorCode, HopsealError } from '../../src/errors.ts'

/** A seeded stream of numbers; `fork` derives an independent named stream. */
export interface Random {
  /** A uniform number in [0, 1), 32 bits of precision. */
  next(): number
  /** A uniform integer in [0, n), without modulo bias; `n` an integer in 1..2^32. */
  int(n: number): number
  /** True with probability `p` (one draw whatever `p` is, so streams stay aligned). */
  chance(p: number): boolean
  /**
   * An independent stream derived from this stream's seed and `label`, not from
   * its position: forking before or after drawing gives the same child, so one
   * feature's draws never shift another's (the loss pattern does not change
   * when jitter is switched on).
   */
  fork(label: string): Random
}

const DOMAIN = 'hopseal/hil-sim/prng/v1:'
const TWO_32 = 2 ** 32
const enc = new TextEncoder()

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

function fromKey(key: Uint8Array): Random {
  const v = new DataView(key.buffer, key.byteOffset, key.byteLength)
  let a = v.getUint32(0, true) | 0
  let b = v.getUint32(4, true) | 0
  let c = v.getUint32(8, true) | 0
  let d = v.getUint32(12, true) | 0
  const u32 = (): number => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return t >>> 0
  }
  return {
    next: () => u32() / TWO_32,
    int(n: number): number {
      if (!Number.isInteger(n) || n < 1 || n > TWO_32) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `int(n): n expected an integer in 1..2^32, got ${n}`)
      // Rejection sampling: accept only below the largest multiple of n.
      const limit = TWO_32 - (TWO_32 % n)
      for (;;) {
        const x = u32()
        if (x < limit) return x % n
      }
    },
    chance: (p: number) => u32() / TWO_32 < p,
    fork: (label: string) => fromKey(sha256(concat(key, enc.encode(`fork:${label}`)))),
  }
}

/**
 * A seeded generator. Numbers are hashed as their decimal string, so `7` and
 * `'7'` are the same seed (a scenario file and a test can name it either way).
 *
 * @throws HopsealError INVALID_ARGUMENT for a non-finite number or a non-string seed
 * @example
 *   const r = seededRandom('lora-run-1')
 *   if (r.chance(0.2)) dropFrame()
 */
export function seededRandom(seed: string | number): Random {
  if (typeof seed === 'number' ? !Number.isFinite(seed) : typeof seed !== 'string') {
    throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `seed expected a string or a finite number, got ${String(seed)}`)
  }
  return fromKey(sha256(enc.encode(DOMAIN + String(seed))))
}
