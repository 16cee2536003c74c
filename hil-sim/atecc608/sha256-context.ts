/**
 * A SHA-256 (FIPS 180-4) whose running state can be read out and written back,
 * for the SHA command's context save/restore modes (06/07) and for updates
 * shorter than a block: the chip keeps an unprocessed tail, so must we.
 *
 * The context bytes are the simulator's own layout (the chip's is not public;
 * cryptoauthlib treats it as opaque bytes, and so must a host):
 *   H0..H7 (32 bytes, big-endian words) ‖ bytes hashed so far (uint32 LE) ‖ tail (0..63 bytes).
 */

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
])
const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]

/** Longest context: 32 (state) + 4 (count) + 63 (tail). */
export const SHA_CONTEXT_MAX = 99

const rotr = (x: number, n: number): number => (x >>> n) | (x << (32 - n))

export class Sha256Context {
  private h = Uint32Array.from(IV)
  private count = 0
  private tail = new Uint8Array(0)
  private readonly w = new Uint32Array(64)

  update(data: Uint8Array): this {
    const buf = this.tail.length === 0 ? data : concat2(this.tail, data)
    let o = 0
    for (; o + 64 <= buf.length; o += 64) this.compress(buf, o)
    this.count += o
    this.tail = buf.slice(o)
    return this
  }

  /** Finishes with FIPS 180-4 padding; the context is unusable afterwards. */
  digest(): Uint8Array {
    const total = this.count + this.tail.length
    const padLen = (this.tail.length < 56 ? 56 : 120) - this.tail.length
    const pad = new Uint8Array(padLen + 8)
    pad[0] = 0x80
    const bits = total * 8
    const dv = new DataView(pad.buffer)
    dv.setUint32(padLen, Math.floor(bits / 2 ** 32))
    dv.setUint32(padLen + 4, bits >>> 0)
    const last = concat2(this.tail, pad)
    for (let o = 0; o < last.length; o += 64) this.compress(last, o)
    const out = new Uint8Array(32)
    const odv = new DataView(out.buffer)
    for (let i = 0; i < 8; i++) odv.setUint32(i * 4, this.h[i]!)
    this.h.fill(0)
    this.tail = new Uint8Array(0)
    return out
  }

  /** The running state as context bytes (see the file comment). */
  exportContext(): Uint8Array {
    const out = new Uint8Array(36 + this.tail.length)
    const dv = new DataView(out.buffer)
    for (let i = 0; i < 8; i++) dv.setUint32(i * 4, this.h[i]!)
    dv.setUint32(32, this.count, true)
    out.set(this.tail, 36)
    return out
  }

  /** Restores a context; undefined when the bytes are not a context (wrong length or a count that is not whole blocks). */
  static importContext(ctx: Uint8Array): Sha256Context | undefined {
    if (ctx.length < 36 || ctx.length > SHA_CONTEXT_MAX) return undefined
    const dv = new DataView(ctx.buffer, ctx.byteOffset, ctx.byteLength)
    const count = dv.getUint32(32, true)
    if (count % 64 !== 0) return undefined
    const c = new Sha256Context()
    for (let i = 0; i < 8; i++) c.h[i] = dv.getUint32(i * 4)
    c.count = count
    c.tail = ctx.slice(36)
    return c
  }

  private compress(b: Uint8Array, o: number): void {
    const w = this.w
    for (let i = 0; i < 16; i++) w[i] = (b[o + 4 * i]! << 24) | (b[o + 4 * i + 1]! << 16) | (b[o + 4 * i + 2]! << 8) | b[o + 4 * i + 3]!
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(w[i - 15]!, 7) ^ rotr(w[i - 15]!, 18) ^ (w[i - 15]! >>> 3)
      const s1 = rotr(w[i - 2]!, 17) ^ rotr(w[i - 2]!, 19) ^ (w[i - 2]! >>> 10)
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0
    }
    const H = this.h
    let a = H[0]!
    let bb = H[1]!
    let c = H[2]!
    let d = H[3]!
    let e = H[4]!
    let f = H[5]!
    let g = H[6]!
    let h = H[7]!
    for (let i = 0; i < 64; i++) {
      const t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & bb) ^ (a & c) ^ (bb & c))) | 0
      h = g
      g = f
      f = e
      e = (d + t1) | 0
      d = c
      c = bb
      bb = a
      a = (t1 + t2) | 0
    }
    H[0] = (H[0]! + a) | 0
    H[1] = (H[1]! + bb) | 0
    H[2] = (H[2]! + c) | 0
    H[3] = (H[3]! + d) | 0
    H[4] = (H[4]! + e) | 0
    H[5] = (H[5]! + f) | 0
    H[6] = (H[6]! + g) | 0
    H[7] = (H[7]! + h) | 0
  }
}

function concat2(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}
