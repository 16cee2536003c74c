/**
 * docs/protocol.md's worked examples are the bytes the implementation puts
 * on the wire: scripts/protocol-example.ts runs real endpoints with fixed keys
 * and renders each example; this test compares every generated region with
 * the document byte for byte, and proves the comparison catches a change of
 * any single character inside a region.
 *
 * Then the independent decoder of test/docs/spec-decoder/ (written from the
 * documents, sharing no code with src/) decodes every example as the
 * document prints it and decrypts every message with the keys the example
 * gives; what it finds must be what the live run sealed.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { before, describe, it } from 'node:test'
import { compareDoc, docRegions, DOC_PATH, generateExamples, type GeneratedExample } from '../../scripts/protocol-example.ts'
import { reconstructCounter } from '../../src/channel/replay-window.ts'
import { parseExamples, type DocExample } from './spec-decoder/doc.ts'
import { decodeExample } from './spec-decoder/decode.ts'
import { reconstruct } from './spec-decoder/channel.ts'
import { hex } from './spec-decoder/bytes.ts'

const doc = readFileSync(DOC_PATH, 'utf8')
let live: GeneratedExample[] = []

before(async () => {
  live = await generateExamples()
})

/** A different character at `i` (hex digits stay hex digits, so the change is a one-byte change of the bytes shown). */
function flip(s: string, i: number): string {
  const c = s[i]!
  const hexDigits = '0123456789abcdef'
  const k = hexDigits.indexOf(c)
  const to = k >= 0 ? hexDigits[(k + 1) % 16]! : c === 'x' ? 'y' : 'x'
  return s.slice(0, i) + to + s.slice(i + 1)
}

describe('docs/protocol.md worked examples', () => {
  it('the document has exactly the seven generated examples, each equal to a fresh run, byte for byte', () => {
    assert.deepEqual(live.map((e) => e.id), ['kk-25519', 'kk-p256-lora', 'xx-first-contact', 'key-phase', 'renewal', 'long-gap', 'sack'])
    assert.deepEqual([...docRegions(doc).keys()], live.map((e) => e.id))
    assert.deepEqual(compareDoc(doc, live), [])
  })

  it('the examples are deterministic: a second run gives the same text', async () => {
    const again = await generateExamples()
    assert.deepEqual(again.map((e) => e.text), live.map((e) => e.text))
  })

  it('changing one character on any line of any example in the document fails the comparison, naming that example', () => {
    let tried = 0
    for (const [id, text] of docRegions(doc)) {
      const start = doc.indexOf(text)
      assert.ok(start > 0)
      let at = 0
      for (const [n, l] of text.split('\n').entries()) {
        // On every line: its first character and one hex digit (a different column on each line).
        const digits = [...l].map((c, k) => (/[0-9a-f]/.test(c) ? k : -1)).filter((k) => k >= 0)
        const picks = new Set([0, ...(digits.length ? [digits[(n * 7) % digits.length]!] : [])])
        for (const k of picks) {
          if (l.length === 0) continue
          const i = at + k
          const problems = compareDoc(flip(doc, start + i), live)
          assert.equal(problems.length, 1, `changing character ${k} of line ${n + 1} of ${id} (${JSON.stringify(l)}) was not caught`)
          assert.match(problems[0]!, new RegExp(`example ${id} differs from the live bytes at its line ${n + 1}:`))
          tried++
        }
        at += l.length + 1
      }
    }
    console.log(`# ${tried} single-character changes, each caught`)
    assert.ok(tried > 1_000)
  })

  it('an example removed from the document, or one the script does not make, is caught', () => {
    const [first] = docRegions(doc).values()
    const without = doc.replace(first!, '').replace(/<!-- generated example kk-25519[^\n]*\n/, '').replace('<!-- end of generated example kk-25519 -->', '')
    assert.match(compareDoc(without, live).join('\n'), /example kk-25519 is missing/)
    const extra = `${doc}\n<!-- generated example bogus: npx tsx scripts/protocol-example.ts --write -->\nx\n<!-- end of generated example bogus -->\n`
    assert.match(compareDoc(extra, live).join('\n'), /example bogus that the script does not generate/)
  })

  it('every message of an example was sent by a real endpoint and every sealed message was recorded with its plaintext', () => {
    for (const e of live) {
      assert.ok(e.messages.length >= 5, `${e.id}: ${e.messages.length} messages`)
      assert.ok(e.messages.some((m) => m.kind === 'sealed' && m.type === 0), `${e.id} has DATA`)
    }
  })
})

describe('the spec decoder (written from the documents) on the worked examples', () => {
  const examples = parseExamples(doc)
  const byId = (id: string): DocExample => examples.find((e) => e.id === id)!

  it('imports nothing from src/, vaults/ or hil-sim/: only itself, @noble/* and node:*', () => {
    const dir = join(import.meta.dirname, 'spec-decoder')
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'))
    assert.ok(files.length >= 6)
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8')
      for (const m of text.matchAll(/\bfrom\s+'([^']+)'|\bimport\s*\(\s*'([^']+)'/g)) {
        const spec = m[1] ?? m[2]!
        assert.ok(spec.startsWith('./') || spec.startsWith('@noble/') || spec.startsWith('node:'), `${f} imports ${spec}`)
      }
    }
  })

  it('decodes every example and decrypts every message; sealed plaintexts, counters, sessions and payloads are what the live run sealed', () => {
    assert.deepEqual(examples.map((e) => e.id), live.map((e) => e.id))
    let data = 0
    for (const ex of examples) {
      const decoded = decodeExample(ex)
      const sent = live.find((e) => e.id === ex.id)!.messages
      assert.equal(decoded.length, sent.length, ex.id)
      for (const [k, d] of decoded.entries()) {
        const s = sent[k]!
        const at = `${ex.id} message ${d.n}`
        assert.equal(d.kind, s.kind, at)
        assert.equal(hex(d.plaintext), hex(s.plaintext), at)
        if (d.kind === 'sealed') {
          assert.equal(d.counter, s.counter, at)
          assert.equal(d.epoch, s.epoch, at)
          assert.equal(['DATA', 'ROUTED', 'CONTROL'].indexOf(d.type!), s.type, at)
          if (d.type === 'DATA') data++
        }
      }
    }
    console.log(`# ${examples.reduce((n, e) => n + e.messages.length, 0)} messages decoded, ${data} DATA messages decrypted`)
    assert.ok(data >= 20)
  })

  it('finds in the examples what the spec promises', () => {
    const texts = (id: string) => decodeExample(byId(id)).filter((d) => d.type === 'DATA').map((d) => new TextDecoder().decode(d.data))
    assert.deepEqual(texts('kk-25519'), ['bpm=72', 'ok', 'bpm=73'])
    // KK message 1 of the first handshake carries the handshake counter; XX message 1 does not.
    assert.deepEqual(decodeExample(byId('kk-25519')).map((d) => d.handshakeCounter).filter((c) => c !== undefined), [1])
    assert.ok(decodeExample(byId('xx-first-contact')).every((d) => d.handshakeCounter === undefined))
    // P-256 on LoRa: the UART bytes carry the routing messages; the renewal flights are marked c2/c3; the reading after it is in session 1.
    const lora = decodeExample(byId('kk-p256-lora'))
    assert.deepEqual(lora.filter((d) => d.kind === 'renewal').map((d) => hex(byId('kk-p256-lora').messages[d.n - 1]!.bytes.subarray(2, 3))), ['c3', 'c2'])
    assert.equal(lora.at(-1)!.epoch, 1)
    assert.ok(byId('kk-p256-lora').messages.every((m) => m.uart))
    // XX: both identities verified, the device's credential gives role = monitor.
    const xx = decodeExample(byId('xx-first-contact'))
    assert.deepEqual(xx.filter((d) => d.identity).map((d) => [d.identity!.identifier, d.identity!.credentials, d.identity!.attributes]), [
      [byId('xx-first-contact').params.get('phone.identifier'), 0, {}],
      [byId('xx-first-contact').params.get('device.identifier'), 1, { role: 'monitor' }],
    ])
    // Key phase: the second reading is under phase 1.
    assert.deepEqual(decodeExample(byId('key-phase')).filter((d) => d.kind === 'sealed').map((d) => d.phase), [0, 1, 1])
    // Renewal: RENEW, flight 1 lost, the same flight again through the listener, flight 2, the confirmation keep-alive, data in session 1.
    const ren = decodeExample(byId('renewal'))
    assert.deepEqual(ren.slice(3).map((d) => `${d.kind}${d.lost ? ' lost' : ''}${d.again ? ' again' : ''}${d.viaListener ? ' via listener' : ''}${d.control ? ` ${d.control}` : ''}${d.epoch ? ` @${d.epoch}` : ''}`), [
      'sealed RENEW',
      'renewal lost @1',
      'renewal again via listener @1',
      'renewal @1',
      'sealed KEEPALIVE 0 @1',
      'sealed @1',
      'sealed @1',
    ])
    // Long gap: counter 5000 in the long form, then short again after the keep-alive report.
    assert.deepEqual(decodeExample(byId('long-gap')).filter((d) => d.type === 'DATA').map((d) => [d.counter, d.long]), [[0n, false], [5000n, true], [5001n, false]])
    // SACK: the lost sequence number 0 goes out again with counter 4.
    const sack = decodeExample(byId('sack'))
    assert.deepEqual(sack.filter((d) => d.type === 'DATA').map((d) => [d.seq, d.counter, d.lost]), [[0, 0n, true], [1, 1n, false], [2, 2n, false], [3, 3n, false], [0, 4n, false]])
    assert.deepEqual(sack.filter((d) => d.control).map((d) => d.control), ['ACK 0 01', 'ACK 0 03', 'ACK 0 07', 'ACK 4 '])
  })

  it('fails on a wrong byte, a wrong key, the old worked example\'s return route [enc], and a short form where the long one is due', () => {
    const ex = byId('kk-25519')
    const change = (n: number, at: number, to: number): DocExample => ({
      ...ex,
      messages: ex.messages.map((m) => (m.n === n ? { ...m, bytes: Uint8Array.from(m.bytes, (b, i) => (i === at ? to : b)) } : m)),
    })
    const data = ex.messages[2]!
    assert.throws(() => decodeExample(change(3, data.bytes.length - 1, data.bytes.at(-1)! ^ 1)), /opens under no session/)
    assert.throws(() => decodeExample(change(3, 5, data.bytes[5]! ^ 0x80)), /opens under no session/)
    // Return route [0x02] (the device's enc), as the old example had it.
    assert.throws(() => decodeExample(change(3, 1, 0x02)), /return route is not \[the sender's dec\]/)
    // Flight 1 to the wrong listener.
    assert.throws(() => decodeExample(change(1, 0, 0x4d)), /onward route/)
    const params = new Map(ex.params)
    params.set('gateway.ephemeral.0.private', '05'.repeat(32))
    assert.throws(() => decodeExample({ ...ex, params }), /public key of gateway.ephemeral.0.private/)
    const keys = new Map(ex.params)
    keys.set('session.0.key.device-to-gateway', '00'.repeat(32))
    assert.throws(() => decodeExample({ ...ex, params: keys }), /session.0.key.device-to-gateway/)
    // A plaintext line that does not match what decrypts.
    assert.throws(() => decodeExample({ ...ex, messages: ex.messages.map((m) => (m.n === 3 ? { ...m, plaintext: new TextEncoder().encode('bpm=99') } : m)) }), /plaintext shown/)
    // The long-gap example's counter 5000 re-labelled short: the receiver reconstructs 904 and nothing opens.
    const gap = byId('long-gap')
    const m4 = gap.messages[3]!
    const short = Uint8Array.from([...m4.bytes.subarray(0, 2), 0x00 | (5000 >> 8 & 0x0f), 5000 & 0xff, ...m4.bytes.subarray(5)])
    assert.throws(() => decodeExample({ ...gap, messages: gap.messages.map((m) => (m.n === 4 ? { ...m, bytes: short, length: short.length } : m)) }), /opens under no session/)
  })

  it('the document\'s counter reconstruction, as the decoder implements it, is the implementation\'s, including the tie at exactly w/2', () => {
    // A truncated value exactly w/2 below `expected` resolves upwards.
    assert.equal(reconstruct(3000n, (3000 - 2048) & 0xfff, 12), 3000n + 2048n)
    assert.equal(reconstruct(3000n, (3000 - 2047) & 0xfff, 12), 3000n - 2047n)
    // Long form: counter 5 is exactly 2^19 below expected = 2^19 + 5, so the truncated 5 means 2^20 + 5.
    assert.equal(reconstruct(2n ** 19n + 5n, 5, 20), 2n ** 20n + 5n)
    assert.equal(reconstruct(2n ** 19n + 4n, 5, 20), 5n)
    let seed = 7
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed % n
    }
    for (let k = 0; k < 20_000; k++) {
      const bits = k % 2 ? 12 : 20
      const expected = BigInt(rnd(2 ** 24)) * (k % 3 === 0 ? 1n : 1n << BigInt(rnd(30)))
      const w = 2 ** bits
      // Values around the window's edges and anywhere.
      const x = k % 4 === 0 ? Number((expected + BigInt(w / 2)) % BigInt(w)) : k % 4 === 1 ? Number((expected + BigInt(w / 2) + 1n) % BigInt(w)) : rnd(w)
      assert.equal(reconstruct(expected, x, bits), reconstructCounter(expected, x, bits), `expected ${expected}, truncated ${x}, ${bits} bits`)
    }
  })
})
