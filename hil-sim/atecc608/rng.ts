/**
 * Randomness for the simulator: the crypto provider's CSPRNG by default, or a
 * deterministic SHA-256 counter stream from a seed (reproducible test runs).
 *
 * A seeded device must still never repeat its Random output across restarts,
 * because silicon does not: the chip's DRBG keeps its seed state in EEPROM and
 * moves it on at every power-up (NIST SP 800-90A reseeding). So a seed names a
 * device's factory RNG state, and `stream` is the power-up number, which the
 * state file keeps and bumps at every start (sim.ts): two fresh devices made
 * from the same seed behave identically, but one device restarted from its
 * state file continues with new numbers. Not for real keys.
 */
import { sha256 } from '@noble/hashes/sha2.js'

export type Rng = (n: number) => Uint8Array

/** A deterministic byte stream: block i = SHA-256(seed ‖ uint32be(stream) ‖ uint32be(i)); stream 0 is the classic `SHA-256(seed ‖ uint32be(i))`. */
export function deterministicRng(seed: string | Uint8Array, stream = 0): Rng {
  const s = typeof seed === 'string' ? new TextEncoder().encode(seed) : seed.slice()
  const prefix = stream === 0 ? s : concatStream(s, stream)
  let counter = 0
  let pool = new Uint8Array(0)
  return (n: number) => {
    const out = new Uint8Array(n)
    let o = 0
    while (o < n) {
      if (pool.length === 0) {
        const input = new Uint8Array(prefix.length + 4)
        input.set(prefix)
        new DataView(input.buffer).setUint32(prefix.length, counter++)
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

function concatStream(seed: Uint8Array, stream: number): Uint8Array {
  const out = new Uint8Array(seed.length + 5)
  out.set(seed)
  out[seed.length] = 0x2f // '/': keeps stream n ≠ any seed suffix
  new DataView(out.buffer).setUint32(seed.length + 1, stream)
  return out
}
