/**
 * protocol.md "Sealed messages" and "Receiving a sealed message": the header,
 * counter reconstruction, the replay window and the key-phase trials, for one
 * direction of one session.
 */
import { fail } from './bytes.ts'
import { decrypt, rekey, type Suite } from './noise.ts'

export interface Header {
  type: number
  phase: number
  long: boolean
  /** The truncated counter from the header and counter bytes. */
  truncated: number
  /** Header ‖ counter: the associated data. */
  length: number
}

export function parseHeader(m: Uint8Array): Header {
  const h = m[0] ?? fail('empty sealed message')
  const type = h >> 6
  if (type === 3) fail('type 11 is a renewal flight, not a sealed message')
  const long = (h & 0x10) !== 0
  const length = long ? 3 : 2
  if (m.length < length + 16) fail('sealed message shorter than header, counter and tag')
  const truncated = long ? ((h & 0x0f) << 16) | (m[1]! << 8) | m[2]! : ((h & 0x0f) << 8) | m[1]!
  return { type, phase: (h >> 5) & 1, long, truncated, length }
}

/** Step 1: the counter in (expected − w/2, expected + w/2] with these low bits (near 0: the one in [0, w)). */
export function reconstruct(expected: bigint, truncated: number, bits: number): bigint {
  const w = 1n << BigInt(bits)
  let c = (expected & ~(w - 1n)) | BigInt(truncated)
  if (c <= expected - w / 2n && c + w < 1n << 64n) c += w
  else if (c > expected + w / 2n && c >= w) c -= w
  return c
}

export interface Opened {
  header: Header
  counter: bigint
  plaintext: Uint8Array
  /** Ratchets applied to reach the key that opened it (0: current, -1: previous). */
  step: number
}

const WINDOW = 1024n

/** What a receiver keeps for one direction of one session. */
export class Receiver {
  private phase = 0
  private previous: Uint8Array | undefined
  private top = -1n
  private readonly accepted = new Set<bigint>()

  constructor(
    private readonly suite: Suite,
    private key: Uint8Array,
  ) {}

  /** Opens a message as the receiver would (steps 1–4); commits only when `commit` (a message the link lost is never committed). */
  open(m: Uint8Array, commit: boolean): Opened | undefined {
    const header = parseHeader(m)
    const counter = reconstruct(this.top + 1n, header.truncated, header.long ? 20 : 12)
    if (this.top - counter >= WINDOW || this.accepted.has(counter)) return undefined
    const ad = m.subarray(0, header.length)
    const body = m.subarray(header.length)
    const trials: { key: Uint8Array; step: number }[] = []
    if (header.phase === this.phase) trials.push({ key: this.key, step: 0 })
    else if (this.previous) trials.push({ key: this.previous, step: -1 })
    if (counter > this.top) {
      let k = this.key
      for (let step = 1; step <= 3; step++) {
        k = rekey(this.suite.cipher, k)
        if ((header.phase !== this.phase && step % 2 === 1) || (header.phase === this.phase && step === 2)) trials.push({ key: k, step })
      }
    }
    for (const t of trials) {
      let plaintext: Uint8Array
      try {
        plaintext = decrypt(this.suite.cipher, t.key, counter, ad, body)
      } catch {
        continue
      }
      if (commit) {
        this.accepted.add(counter)
        if (counter > this.top) this.top = counter
        for (const c of this.accepted) if (this.top - c >= WINDOW) this.accepted.delete(c)
        if (t.step > 0) {
          this.previous = this.key
          this.key = t.key
          this.phase = header.phase
        }
      }
      return { header, counter, plaintext, step: t.step }
    }
    return undefined
  }
}
