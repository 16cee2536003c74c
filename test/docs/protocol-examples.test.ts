/**
 * docs/protocol.md's worked examples are the bytes the implementation puts
 * on the wire: scripts/protocol-example.ts runs real endpoints with fixed keys
 * and renders each example; this test compares every generated region with
 * the document byte for byte, and proves the comparison catches a change of
 * any single character inside a region.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { before, describe, it } from 'node:test'
import { compareDoc, docRegions, DOC_PATH, generateExamples, type GeneratedExample } from '../../scripts/protocol-example.ts'

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
