/**
 * COBS (Cheshire & Baker 1999) and CRC-16/CCITT-FALSE: known vectors, run
 * boundaries at 254/255 bytes, round trips and decoder totality.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { fromHex, toHex, utf8 } from '../../src/bytes/index.ts'
import { isHopsealError } from '../../src/errors.ts'
import { cobsDecode, cobsEncode, cobsMaxEncodedLength, crc16 } from '../../targets/node/transports/serial/index.ts'

const range = (from: number, to: number): Uint8Array => Uint8Array.from({ length: to - from + 1 }, (_, i) => from + i)
const cat = (...p: (Uint8Array | number[])[]): Uint8Array => Uint8Array.from(p.flatMap((x) => [...x]))

// The encoding examples of the COBS paper (and of its common description),
// without the trailing 0x00 delimiter, which the framer adds.
const VECTORS: [string, Uint8Array, Uint8Array][] = [
  ['empty', new Uint8Array(0), Uint8Array.of(0x01)],
  ['one zero', Uint8Array.of(0x00), Uint8Array.of(0x01, 0x01)],
  ['two zeros', Uint8Array.of(0x00, 0x00), Uint8Array.of(0x01, 0x01, 0x01)],
  ['00 11 00', Uint8Array.of(0x00, 0x11, 0x00), Uint8Array.of(0x01, 0x02, 0x11, 0x01)],
  ['11 22 00 33', Uint8Array.of(0x11, 0x22, 0x00, 0x33), Uint8Array.of(0x03, 0x11, 0x22, 0x02, 0x33)],
  ['11 22 33 44', Uint8Array.of(0x11, 0x22, 0x33, 0x44), Uint8Array.of(0x05, 0x11, 0x22, 0x33, 0x44)],
  ['11 00 00 00', Uint8Array.of(0x11, 0x00, 0x00, 0x00), Uint8Array.of(0x02, 0x11, 0x01, 0x01, 0x01)],
  // 254 non-zero bytes: one maximal run, code 0xFF, no trailing block
  ['01..FE (254 bytes)', range(0x01, 0xfe), cat([0xff], range(0x01, 0xfe))],
  // a leading zero, then the maximal run
  ['00 01..FE (255 bytes)', cat([0x00], range(0x01, 0xfe)), cat([0x01, 0xff], range(0x01, 0xfe))],
  // 255 non-zero bytes: the run is split after 254 (0xFF has no implied zero)
  ['01..FF (255 bytes)', range(0x01, 0xff), cat([0xff], range(0x01, 0xfe), [0x02, 0xff])],
  // a zero right after a maximal run needs its own empty block
  ['02..FF 00 (255 bytes)', cat(range(0x02, 0xff), [0x00]), cat([0xff], range(0x02, 0xff), [0x01, 0x01])],
  ['03..FF 00 01 (255 bytes)', cat(range(0x03, 0xff), [0x00, 0x01]), cat([0xfe], range(0x03, 0xff), [0x02, 0x01])],
]

describe('COBS', () => {
  for (const [name, data, encoded] of VECTORS) {
    it(`vector: ${name}`, () => {
      assert.equal(toHex(cobsEncode(data)), toHex(encoded))
      assert.equal(toHex(cobsDecode(encoded)), toHex(data))
      assert.ok(encoded.length <= cobsMaxEncodedLength(data.length))
      assert.ok(!encoded.includes(0))
    })
  }

  it('worst-case overhead is one byte per 254 (plus one): bound exact at 0, 1, 254, 255, 508, 509 non-zero bytes', () => {
    for (const [n, want] of [[0, 1], [1, 2], [254, 255], [255, 257], [508, 510], [509, 512]] as const) {
      const data = new Uint8Array(n).fill(0x5a)
      assert.equal(cobsEncode(data).length, want, `n=${n}`)
      assert.equal(cobsMaxEncodedLength(n), want, `bound n=${n}`)
    }
  })

  it('round-trips any bytes, and never emits 0x00 (3 000 cases, up to 1 100 bytes)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1100 }), fc.integer({ min: 0, max: 255 }), (raw, fill) => {
        // bias towards long zero-free runs and runs of zeros, where the code boundaries are
        const data = raw.length % 3 === 0 ? raw.map((b) => (b === 0 ? fill : b)) : raw
        const e = cobsEncode(data)
        assert.equal(e.indexOf(0), -1)
        assert.ok(e.length <= cobsMaxEncodedLength(data.length))
        assert.deepEqual(cobsDecode(e), data)
      }),
      { numRuns: 3000 },
    )
  })

  it('decoding is total: any bytes decode or give DECODE_ERROR', () => {
    let errors = 0
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        try {
          cobsDecode(b)
        } catch (e) {
          assert.ok(isHopsealError(e, 'DECODE_ERROR'), String(e))
          errors++
        }
      }),
      { numRuns: 3000 },
    )
    assert.ok(errors > 0)
    // a block running past the end, a zero inside, and an empty frame
    for (const bad of ['05 11 22', '03 11 00', '']) assert.throws(() => cobsDecode(fromHex(bad.replace(/ /g, ''))), (e) => isHopsealError(e, 'DECODE_ERROR'))
  })
})

describe('CRC-16/CCITT-FALSE', () => {
  it('check value of "123456789" is 0x29B1 (catalogue: CRC-16/IBM-3740)', () => {
    assert.equal(crc16(utf8('123456789')), 0x29b1)
  })
  it('empty input gives the init value 0xFFFF; a range gives the CRC of the slice', () => {
    assert.equal(crc16(new Uint8Array(0)), 0xffff)
    const b = utf8('xx123456789yy')
    assert.equal(crc16(b, 2, 11), 0x29b1)
  })
  it('matches a bit-by-bit reference (poly 0x1021, MSB first) on random inputs', () => {
    const ref = (d: Uint8Array): number => {
      let c = 0xffff
      for (const byte of d) {
        c ^= byte << 8
        for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff
      }
      return c
    }
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (d) => assert.equal(crc16(d), ref(d))), { numRuns: 500 })
  })
})
