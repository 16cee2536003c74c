/**
 * Byte helpers of the spec decoder. The decoder is a second implementation
 * written from docs/protocol.md, docs/transports.md and docs/identity.md
 * only: it imports nothing from src/, vaults/ or hil-sim/
 * (test/docs/protocol-examples.test.ts checks), only @noble primitives.
 */

export class SpecError extends Error {}

export function fail(msg: string): never {
  throw new SpecError(msg)
}

export function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
}

export function unhex(s: string): Uint8Array {
  if (s.length % 2 !== 0 || !/^[0-9a-f]*$/.test(s)) fail(`not hex: ${s}`)
  const out = new Uint8Array(s.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16)
  return out
}

export function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

export function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

export const ascii = (s: string): Uint8Array => new TextEncoder().encode(s)

/** protocol.md "Conventions": unsigned LEB128, minimal, at most 8 bytes, ≤ 2^53 − 1. */
export function readVarint(b: Uint8Array, at: number): { value: number; next: number } {
  let value = 0
  let scale = 1
  for (let i = 0; i < 8; i++) {
    const x = b[at + i]
    if (x === undefined) fail('varint truncated')
    value += (x & 0x7f) * scale
    if ((x & 0x80) === 0) {
      if (i > 0 && x === 0) fail('varint not minimal')
      if (value > Number.MAX_SAFE_INTEGER) fail('varint over 2^53 - 1')
      return { value, next: at + i + 1 }
    }
    scale *= 128
  }
  return fail('varint longer than 8 bytes')
}

export function u32be(n: number): Uint8Array {
  return Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff)
}
