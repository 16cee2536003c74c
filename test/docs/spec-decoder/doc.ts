/**
 * Reads the worked examples of docs/protocol.md in the format its section
 * "How to read them" describes: a parameter block, a message block and, for
 * serial links, a UART block. The parser is strict: a line it does not
 * understand is an error, so a change of format cannot slip past the decoder.
 */
import { fail, unhex } from './bytes.ts'

export interface DocMessage {
  n: number
  from: string
  to: string
  length: number
  lost: boolean
  what: string
  bytes: Uint8Array
  /** The concatenated `  = …` lines (empty when there are none). */
  plaintext: Uint8Array
  /** The UART bytes of this message, when the example has a UART block. */
  uart?: Uint8Array
}

export interface DocExample {
  id: string
  params: Map<string, string>
  messages: DocMessage[]
}

const REGION = /<!-- generated example ([a-z0-9-]+): [^\n]*-->\n([\s\S]*?)\n<!-- end of generated example \1 -->/g
const HEADER = /^# (\d+)\. (\S+) → (\S+), (UART, )?(\d+) bytes(, lost)?: (.+)$/
const BYTES = /^([0-9a-f]+)(?: {2,}.*)?$/
const PLAIN = /^ {2}= ([0-9a-f]+)(?: {2,}.*)?$/
const REMARK = /^ {2}\(.*\)$/

function blocks(region: string): string[][] {
  const out: string[][] = []
  for (const m of region.matchAll(/```text\n([\s\S]*?)\n```/g)) out.push(m[1]!.split('\n'))
  return out
}

function params(lines: string[]): Map<string, string> {
  const p = new Map<string, string>()
  for (const l of lines) {
    const m = /^(\S+) +(.+?)(?: {2,}.*)?$/.exec(l) ?? fail(`parameter line: ${l}`)
    if (p.has(m[1]!)) fail(`parameter ${m[1]} twice`)
    p.set(m[1]!, m[2]!)
  }
  return p
}

interface Parsed {
  n: number
  from: string
  to: string
  uart: boolean
  length: number
  lost: boolean
  what: string
  hex: string
  plain: string
}

function messages(lines: string[]): Parsed[] {
  const out: Parsed[] = []
  let cur: Parsed | undefined
  for (const l of lines) {
    if (l === '') {
      cur = undefined
      continue
    }
    const h = HEADER.exec(l)
    if (h) {
      cur = { n: Number(h[1]), from: h[2]!, to: h[3]!, uart: !!h[4], length: Number(h[5]), lost: !!h[6], what: h[7]!, hex: '', plain: '' }
      if (cur.n !== out.length + 1) fail(`message ${cur.n} out of order`)
      out.push(cur)
      continue
    }
    if (!cur) fail(`line outside a message: ${l}`)
    const p = PLAIN.exec(l)
    if (p) {
      cur.plain += p[1]
      continue
    }
    if (REMARK.test(l)) continue
    const b = BYTES.exec(l) ?? fail(`not a byte line: ${l}`)
    cur.hex += b[1]
  }
  for (const m of out) if (m.hex.length !== 2 * m.length) fail(`message ${m.n}: ${m.hex.length / 2} bytes, the header says ${m.length}`)
  return out
}

export function parseExamples(markdown: string): DocExample[] {
  const out: DocExample[] = []
  for (const r of markdown.matchAll(REGION)) {
    const [p, m, u] = blocks(r[2]!)
    if (!p || !m) fail(`example ${r[1]}: expected a parameter block and a message block`)
    const msgs = messages(m).map((x): DocMessage => {
      if (x.uart) fail('UART lines in the message block')
      return { n: x.n, from: x.from, to: x.to, length: x.length, lost: x.lost, what: x.what, bytes: unhex(x.hex), plaintext: unhex(x.plain) }
    })
    if (u) {
      const uart = messages(u)
      if (uart.length !== msgs.length) fail(`example ${r[1]}: ${uart.length} UART messages for ${msgs.length} messages`)
      for (const x of uart) {
        const msg = msgs[x.n - 1]!
        if (!x.uart || x.from !== msg.from || x.to !== msg.to) fail(`example ${r[1]}: UART message ${x.n} does not match message ${x.n}`)
        msg.uart = unhex(x.hex)
      }
    }
    out.push({ id: r[1]!, params: params(p), messages: msgs })
  }
  return out
}
