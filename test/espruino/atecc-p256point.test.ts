/**
 * hopseal/crypto/p256point in the real Espruino interpreter against
 * @noble/curves: 200 seeded P-256 points decompressed (33-byte SEC1 ->
 * X || Y) and compressed back, every invalid encoding refused (x >= p, x with
 * no square root, bad prefixes and lengths, X || Y off the curve or with a
 * coordinate >= p). Prints the measured time per decompression.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { p256 } from '@noble/curves/nist.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { spawnEspruino } from '../../hil-sim/scenario/espruino.ts'
import { skipUnlessEspruino, wrapModules } from './harness.ts'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const P = (1n << 256n) - (1n << 224n) + (1n << 192n) + (1n << 96n) - 1n

/** The device modules, each as the bundle wraps it (Modules.addCached). */
function be32(n: bigint): Uint8Array {
  return Uint8Array.from(Buffer.from(n.toString(16).padStart(64, '0'), 'hex'))
}

/** 200 seeded points (scalars from SHA-256 of a label), compressed by noble. */
function seededPoints(): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let i = 0; out.length < 200; i++) {
    const sk = sha256(new TextEncoder().encode(`hopseal p256point ${i}`))
    try {
      out.push(p256.getPublicKey(sk, true))
    } catch {
      // a scalar >= n (probability 2^-32): take the next one
    }
  }
  return out
}

function isPoint(c: Uint8Array): boolean {
  try {
    p256.Point.fromBytes(c)
    return true
  } catch {
    return false
  }
}

/** Encodings noble refuses: x >= p, x with no square root, bad prefixes and lengths. */
function invalidEncodings(): { label: string; bytes: Uint8Array }[] {
  const bad: { label: string; bytes: Uint8Array }[] = []
  const withPrefix = (p: number, x: Uint8Array): Uint8Array => Uint8Array.from([p, ...x])
  bad.push({ label: 'x = p', bytes: withPrefix(2, be32(P)) })
  bad.push({ label: 'x = p + 1', bytes: withPrefix(3, be32(P + 1n)) })
  bad.push({ label: 'x = 2^256 - 1', bytes: withPrefix(2, be32((1n << 256n) - 1n)) })
  for (let x = 0n, n = 0; n < 20; x++) {
    const c = withPrefix(2 + Number(x & 1n), be32(x + 5n))
    if (!isPoint(c)) {
      bad.push({ label: `x = ${x + 5n} (no square root)`, bytes: c })
      n++
    }
  }
  const good = p256.getPublicKey(sha256(new TextEncoder().encode('prefix')), true)
  for (const p of [0x00, 0x01, 0x04, 0x05, 0x06, 0x07, 0xff]) bad.push({ label: `prefix ${p}`, bytes: withPrefix(p, good.subarray(1)) })
  bad.push({ label: '32 bytes', bytes: good.subarray(0, 32) })
  bad.push({ label: '34 bytes', bytes: Uint8Array.from([...good, 0]) })
  for (const b of bad) if (b.bytes.length === 33 && (b.bytes[0] === 2 || b.bytes[0] === 3)) assert.equal(isPoint(b.bytes), false, b.label)
  return bad
}

describe('Espruino p256point against @noble/curves', { skip: skipUnlessEspruino() }, () => {
  it('decompresses 200 seeded points and compresses them back, refuses every invalid encoding', { timeout: 600_000 }, async () => {
    const points = seededPoints()
    const bad = invalidEncodings()
    const xyGood = points.slice(0, 10).map((c) => p256.Point.fromBytes(c).toBytes(false).subarray(1))
    const xyBad: { label: string; bytes: Uint8Array }[] = []
    for (const [i, xy] of xyGood.slice(0, 4).entries()) {
      const off = xy.slice()
      off[63] = off[63]! ^ (1 << i)
      xyBad.push({ label: `y with bit ${i} flipped`, bytes: off })
    }
    const x0 = xyGood[0]!
    xyBad.push({ label: 'y = p', bytes: Uint8Array.from([...x0.subarray(0, 32), ...be32(P)]) })
    xyBad.push({ label: 'x = p', bytes: Uint8Array.from([...be32(P), ...x0.subarray(32)]) })
    xyBad.push({ label: '63 bytes', bytes: x0.subarray(0, 63) })
    const list = (a: Uint8Array[]): string => a.map((b) => `'${hex(b)}'`).join(',\n')
    const code = `${wrapModules(['routing/bytes', 'crypto/p256point'])}
var P = require('hopseal/crypto/p256point');
function fromHex(h) { var b = new Uint8Array(h.length / 2); for (var i = 0; i < b.length; i++) b[i] = parseInt(h.substr(2 * i, 2), 16); return b; }
function hex(b) { var s = ''; for (var i = 0; i < b.length; i++) s += (b[i] < 16 ? '0' : '') + b[i].toString(16); return s; }
var GOOD = [${list(points)}];
var BAD = [${list(bad.map((b) => b.bytes))}];
var XY = [${list(xyGood)}];
var XYBAD = [${list(xyBad.map((b) => b.bytes))}];
var mem0 = process.memory().usage, ms = 0;
for (var i = 0; i < GOOD.length; i++) {
  var c = fromHex(GOOD[i]), t = getTime(), xy = P.decompress(c);
  ms += (getTime() - t) * 1000;
  var back = xy ? hex(P.compress(xy)) : 'none';
  console.log('D ' + i + ' ' + (xy ? hex(xy) : 'null') + ' ' + back);
}
for (i = 0; i < BAD.length; i++) console.log('B ' + i + ' ' + (P.decompress(fromHex(BAD[i])) === null ? 'null' : 'accepted'));
for (i = 0; i < XY.length; i++) console.log('C ' + i + ' ' + hex(P.compress(fromHex(XY[i]))) + ' ' + P.onCurve(fromHex(XY[i])));
for (i = 0; i < XYBAD.length; i++) {
  var r;
  try { r = 'accepted ' + hex(P.compress(fromHex(XYBAD[i]))); } catch (e) { r = e.code; }
  console.log('X ' + i + ' ' + r + ' ' + P.onCurve(fromHex(XYBAD[i])));
}
console.log('END ' + GOOD.length + ' ' + (ms / GOOD.length).toFixed(1) + ' ' + (process.memory().usage - mem0));
`
    const dev = spawnEspruino(code, { bundle: false })
    try {
      const end = await dev.waitFor((l) => l.startsWith('END '), 540_000)
      const [, n, msPer, vars] = end.split(' ')
      console.log(`# p256point in the interpreter: ${msPer} ms per decompression (${n} points), ${vars} variables held after the run`)
      const rows = (tag: string): string[][] => dev.lines.filter((l) => l.startsWith(tag + ' ')).map((l) => l.split(' '))
      const d = rows('D')
      assert.equal(d.length, 200, 'every seeded point printed')
      let checked = 0
      for (const [, i, xy, back] of d) {
        const c = points[Number(i)]!
        assert.equal(xy, hex(p256.Point.fromBytes(c).toBytes(false).subarray(1)), `point ${i}: X || Y`)
        assert.equal(back, hex(c), `point ${i}: compressed back`)
        checked++
      }
      const parities = new Set(points.map((c) => c[0]))
      assert.deepEqual([...parities].sort(), [2, 3], 'both y parities among the seeded points')
      const b = rows('B')
      assert.equal(b.length, bad.length)
      for (const [, i, r] of b) assert.equal(r, 'null', `refused: ${bad[Number(i)]!.label}`)
      const c = rows('C')
      assert.equal(c.length, xyGood.length)
      for (const [, i, comp, on] of c) {
        assert.equal(comp, hex(points[Number(i)]!), `compress ${i}`)
        assert.equal(on, 'true')
      }
      const x = rows('X')
      assert.equal(x.length, xyBad.length)
      for (const [, i, r, on] of x) {
        assert.equal(r, 'INVALID_POINT', `compress refuses: ${xyBad[Number(i)]!.label}`)
        assert.equal(on, 'false')
      }
      console.log(`# ran ${checked} valid points, ${b.length} invalid encodings, ${c.length + x.length} X || Y inputs`)
      assert.ok(checked > 0 && b.length > 0)
    } finally {
      await dev.stop()
    }
  })
})
