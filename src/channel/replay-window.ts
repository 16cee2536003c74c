/**
 * Sliding anti-replay window (RFC 6479 style bitmap of `size` bits).
 *
 * `check(n)` says whether counter n may be accepted (new and not too old);
 * it does not change state. `commit(n)` records n and is called only after the
 * message authenticated, so a forged packet never moves the window.
 */
export class ReplayWindow {
  private readonly words: Uint32Array
  /** Highest counter accepted so far, or -1n before the first. */
  private top = -1n

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 32 || size % 32 !== 0 || size > 65536) throw new RangeError('replay window size must be a multiple of 32 in 32..65536')
    this.words = new Uint32Array(size / 32)
  }

  /** The highest accepted counter (-1n before any). */
  get highest(): bigint {
    return this.top
  }

  /** 'ok' when n is acceptable, 'duplicate' when already seen, 'stale' when older than the window. */
  check(n: bigint): 'ok' | 'duplicate' | 'stale' {
    if (n > this.top) return 'ok'
    if (this.top - n >= BigInt(this.size)) return 'stale'
    const bit = Number(n % BigInt(this.size))
    return (this.word(bit) >>> (bit & 31)) & 1 ? 'duplicate' : 'ok'
  }

  /** Records n (after authentication). Precondition: check(n) === 'ok'. */
  commit(n: bigint): void {
    const size = BigInt(this.size)
    if (n > this.top) {
      const advance = n - this.top
      if (advance >= size) this.words.fill(0)
      else for (let i = this.top + 1n; i < n; i++) this.clear(Number(i % size))
      this.top = n
    }
    const bit = Number(n % size)
    this.words[bit >>> 5] = this.word(bit) | (1 << (bit & 31))
  }

  private clear(bit: number): void {
    this.words[bit >>> 5] = this.word(bit) & ~(1 << (bit & 31))
  }

  /** The bitmap word holding `bit` (bit < size, so the word exists: callers reduce counters modulo size). */
  private word(bit: number): number {
    const w = this.words[bit >>> 5]
    if (w === undefined) throw new RangeError(`replay window bit ${bit} is outside its ${this.size} bits`)
    return w
  }
}

/**
 * Reconstructs a full counter from its low `bits` bits (QUIC §A.3 style): the
 * candidate closest to `expected` (= highest + 1).
 */
export function reconstructCounter(expected: bigint, truncated: number, bits: number): bigint {
  const win = 1n << BigInt(bits)
  const half = win / 2n
  const mask = win - 1n
  let candidate = (expected & ~mask) | BigInt(truncated)
  if (candidate <= expected - half && candidate + win < 1n << 64n) candidate += win
  else if (candidate > expected + half && candidate >= win) candidate -= win
  return candidate
}
