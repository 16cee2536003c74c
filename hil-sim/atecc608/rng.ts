/**
 * Randomness for the simulator: the crypto provider's CSPRNG by default, or a
 * deterministic SHA-256 counter stream from a seed (reproducible test runs).
 */
import { sha256 } from '@noble/hashes/sha2.js'

export type Rng = (n: number) => Uint8Array

/** A deterministic byte stream: block i = SHA-256(seed ‖ uint32be(i)). Not for real keys. */
export function deterministicRng(seed: string | Uint8Array): Rng {
  const s = typeof seed === 'string' ? new TextEncoder().encode(seed) : seed.slice()
  let counter = 0
  let pool = new Uint8Array(0)
  return (n: number) => {
    const out = new Uint8Array(n)
    let o = 0
    while (o < n) {
      if (pool.length === 0) {
        const input = new Uint8Array(s.length + 4)
        input.set(s)
        new DataView(input.buffer).setUint32(s.length, counter++)
        pool = sha256(input)
      }
      const take = Math.min(pool.length, n - o)
      out.set(pool.subarray(0, take), o)
      pool = pool.subarray(take)
      o += take
    }
    return out
  }
}
