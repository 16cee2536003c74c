/**
 * Sliding anti-replay window (RFC 6479 style bitmap of `size` bits).
 *
 * `check(n)` says whether counter n may be accepted (new and not too old);
 * it does not change state. `commit(n)` records n and is called only after the
 * message authenticated, so a forged packet never moves the window.
 */
export class ReplayWindow {
  private readonly words: Uint32Array
  /** Highest counter accepted so far, or -1 before the first (a number: counters stay below 2^53). */
  private top = -1

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 32 || size % 32 !== 0 || size > 65536) throw new RangeError('replay window size must be a multiple of 32 in 32..65536')
    this.words = new Uint32Array(size / 32)
  }

  /** The highest accepted counter (-1n before any). */
  get highest(): bigint {
    return BigInt(this.top)
  }

  /** The highest accepted counter as a number (-1 before any). */
  get highestNumber(): number {
    return this.top
  }

  /** 'ok' when n is acceptable, 'duplicate' when already seen, 'stale' when older than the window. */
  check(counter: bigint | number): 'ok' | 'duplicate' | 'stale' {
    const n = Number(counter)
    if (n > this.top) return 'ok'
    if (this.top - n >= this.size) return 'stale'
    const bit = n % this.size
    return (this.word(bit) >>> (bit & 31)) & 1 ? 'duplicate' : 'ok'
  }

  /** Records n (after authentication). Precondition: check(n) === 'ok'. */
  commit(counter: bigint | number): void {
    const n = Number(counter)
    const size = this.size
    if (n > this.top) {
      const advance = n - this.top
      if (advance >= size) this.words.fill(0)
      else for (let i = this.top + 1; i < n; i++) this.clear(i % size)
      this.top = n
    }
    const bit = n % size
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

/** reconstructCounter() on numbers (expected < 2^53), for the per-message path. */
export function reconstructCounterNumber(expected: number, truncated: number, bits: number): number {
  const win = 2 ** bits
  const half = win / 2
  let candidate = expected - (expected % win) + truncated
  if (candidate <= expected - half) candidate += win
  else if (candidate > expected + half && candidate >= win) candidate -= win
  return candidate
}
