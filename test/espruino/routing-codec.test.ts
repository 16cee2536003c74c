/**
 * hopseal/routing/codec in the real Espruino interpreter against
 * src/routing/codec.ts: the same bytes decode to the same routes (or fail
 * with the same typed code) and re-encode to the same bytes, for the worked
 * headers of docs/protocol.md (short, general, listener form and their
 * non-canonical spellings) and 2 000 seeded random inputs whose first byte
 * covers every form. The device's encoder is checked on the Node encoder's
 * output for every message both accept.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isHopsealError } from '../../src/errors.ts'
import { decodeRoutingMessage, encodeRoutingMessage, type RoutingMessage } from '../../src/routing/codec.ts'
import { seededRandom } from '../../hil-sim/links/prng.ts'
import { runChunked, skipUnlessEspruino } from './harness.ts'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const unhex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'))

/** What both sides print for one input: the error code, or routes as [type, hex] pairs, the payload and the re-encoding. */
type Outcome = string | { on: [number, string][]; ret: [number, string][]; p: string; re: string }

function nodeOutcome(b: Uint8Array): Outcome {
  let m: RoutingMessage
  try {
    m = decodeRoutingMessage(b)
  } catch (e) {
    if (isHopsealError(e)) return `ERR:${e.code}`
    throw e
  }
  const route = (r: RoutingMessage['onward']): [number, string][] => r.map((a) => [a.type, hex(a.value)])
  return { on: route(m.onward), ret: route(m.returnRoute), p: hex(m.payload), re: hex(encodeRoutingMessage(m)) }
}

const DEVICE_EACH = `function (h) {
  var R = require('hopseal/routing/codec');
  return tryCode(function () {
    var m = R.decode(unhex(h));
    var route = function (r) { return r.map(function (a) { return [a.t, hex(a.v)]; }); };
    return { on: route(m.onward), ret: route(m.ret), p: hex(m.payload), re: hex(R.encode(m.onward, m.ret, m.payload)) };
  });
}`

/** Headers worked out by hand: each form, its boundaries and its refused spellings. */
const CRAFTED = [
  'c1 6869', // listener form: onward [0#00], return [0#01], payload "hi"
  'ff', // listener form, return [0#3f], empty payload
  'c0 00', // listener form, return [0#00]
  '0001 68', // short spelling of a listener-form message: refused
  '003f', // the same at the top of the range: refused
  '0040 78', // return 0x40: the short form is canonical
  '4c01 aa', // short form
  '7fff', // short form, return 0xff
  '05', // too short for the short form
  '', // empty
  '82 8102677761 00 78', // general: onward [1#gw, 0#61], return []
  '81 61 01 62', // general spelling of a short-form message: refused
  '81 800161 00', // a 1-byte LOCAL below 0x80 in the long address form: refused
  '81 800180 00 aa', // LOCAL 0x80 in the long form: the only spelling
  'a8 00', // onward of 40 addresses: over the 16-address limit
  'bf 00', // onward of 63 addresses: over the limit
  '80 40', // return count 64: over 63
  '80 11', // return count 17: over the limit
  '81 81', // address length missing
  '81 8105 01', // address value truncated
  '81 8100 00', // address length 0
].map((s) => s.replace(/ /g, ''))

function randomInputs(n: number): string[] {
  const rnd = seededRandom(0x0c0dec)
  const out: string[] = []
  for (let i = 0; i < n; i++) {
    const len = rnd.int(24)
    const b = new Uint8Array(len)
    for (let j = 0; j < len; j++) b[j] = rnd.int(256)
    // bias toward the forms' interesting first bytes and small route counts
    if (len > 0 && i % 4 === 0) b[0] = [0x00, 0x3f, 0x80, 0x81, 0x82, 0xbf, 0xc0, 0xff][i % 8]!
    if (len > 2 && b[0]! >= 0x80 && b[0]! < 0xc0 && i % 3 === 0) b[2] = rnd.int(4)
    out.push(hex(b))
  }
  return out
}

describe('Espruino routing codec against src/routing/codec.ts', { skip: skipUnlessEspruino() }, () => {
  it('the same bytes give the same routes or the same typed error, and re-encode alike (crafted headers + 2 000 seeded inputs)', { timeout: 300_000 }, async () => {
    const inputs = [...CRAFTED, ...randomInputs(2000)]
    const { results } = await runChunked<string, Outcome>(inputs, DEVICE_EACH, { only: ['routing'], perChunk: 100 })
    let decoded = 0
    let refused = 0
    let listenerForm = 0
    for (const [i, h] of inputs.entries()) {
      const want = nodeOutcome(unhex(h))
      assert.deepEqual(results[i], want, `input ${i}: ${h}`)
      if (typeof want === 'string') refused++
      else {
        decoded++
        assert.equal(want.re, h, `canonical: ${h} re-encodes to itself`)
        if (unhex(h)[0]! >= 0xc0) listenerForm++
      }
    }
    console.log(`# routing codec: ${inputs.length} inputs, ${decoded} decoded alike (${listenerForm} in the listener form), ${refused} refused with the same code`)
    // the crafted list's verdicts, as written beside each line above
    const verdict = (h: string): string => {
      const o = nodeOutcome(unhex(h))
      return typeof o === 'string' ? o : 'ok'
    }
    assert.deepEqual(CRAFTED.map(verdict), [
      'ok', 'ok', 'ok', 'ERR:DECODE_ERROR', 'ERR:DECODE_ERROR', 'ok', 'ok', 'ok', 'ERR:DECODE_ERROR', 'ERR:DECODE_ERROR',
      'ok', 'ERR:DECODE_ERROR', 'ERR:DECODE_ERROR', 'ok', 'ERR:LIMIT_EXCEEDED', 'ERR:LIMIT_EXCEEDED', 'ERR:DECODE_ERROR', 'ERR:LIMIT_EXCEEDED',
      'ERR:DECODE_ERROR', 'ERR:DECODE_ERROR', 'ERR:DECODE_ERROR',
    ])
    assert.ok(listenerForm >= 100, `${listenerForm} random inputs in the listener form`)
    assert.ok(refused >= 100 && decoded >= 500)
  })
})
