/**
 * The device channel (targets/espruino) in the real Espruino interpreter,
 * byte for byte against the Node implementation: the worked examples of
 * docs/protocol.md (generated from live Node runs by
 * scripts/protocol-example.ts) are replayed by the device, as initiator
 * (KK 25519, KK P-256 with a renewal marked on the point prefix, a key
 * phase, a renewal through the listener, the long counter form, reliable
 * mode with a selective acknowledgement) and as KK responder. Every byte the
 * device puts on its link must equal what Node put on the wire, and the
 * device must open what Node sealed (the gateway's data, ACKs, keep-alive
 * reports, RENEW, renewal flights). See channel-golden.ts for how each
 * example is driven.
 *
 * Skips with a printed reason without the interpreter; fails then when
 * HOPSEAL_REQUIRE_SYSTEM=1 (or CI).
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, describe, it } from 'node:test'
import { parseExamples, type DocExample } from '../docs/spec-decoder/doc.ts'
import { skipUnlessEspruino, startEspruino, type EspruinoChild } from './harness.ts'
import { deviceScript, PLANS, RESPONDER_PLANS, responderScript } from './channel-golden.ts'

const examples = parseExamples(readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8'))

const skip = skipUnlessEspruino()

interface Result {
  out: string[]
  data: string[]
  counters: Record<string, number>
}

const children: EspruinoChild[] = []
after(async () => {
  for (const c of children) await c.stop()
})

async function run(script: string): Promise<Result> {
  // the minified bundle: the code a board gets
  const child = startEspruino(script, { minify: true })
  children.push(child)
  try {
    const line = await child.waitFor((l) => l.startsWith('RESULT '), 120_000)
    return JSON.parse(line.slice('RESULT '.length)) as Result
  } finally {
    await child.stop()
  }
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1')

/** What the gateway's DATA carried, in order (the device must deliver exactly these). */
function gatewayData(ex: DocExample): string[] {
  if (ex.params.get('reliable') === 'yes') return []
  return ex.messages.filter((m) => m.from === 'gateway' && /^DATA /.test(m.what)).map((m) => text(m.plaintext))
}

let ran = 0

describe('device channel in the interpreter, byte for byte against docs/protocol.md', { skip }, () => {
  for (const id of Object.keys(PLANS)) {
    it(`${id}: the device as initiator puts the example's bytes on its link and opens the gateway's`, async () => {
      const ex = examples.find((e) => e.id === id)
      assert.ok(ex, `docs/protocol.md has no example ${id}`)
      // kk-25519 with the device's own X25519 (software path); the others with DH results computed by Node
      const r = await run(deviceScript(ex, { realX25519: id === 'kk-25519' }))
      const want = ex.messages.filter((m) => m.from === 'device').map((m) => hex(m.bytes))
      assert.deepEqual(r.out, want)
      assert.deepEqual(r.data, gatewayData(ex))
      ran++
    })
  }

  it('kk-25519: a forged message 2 first is dropped and changes nothing; the genuine one opens the channel', async () => {
    const ex = examples.find((e) => e.id === 'kk-25519')!
    const r = await run(deviceScript(ex, { tamper: true }))
    assert.deepEqual(r.out, ex.messages.filter((m) => m.from === 'device').map((m) => hex(m.bytes)))
    assert.equal(r.counters['handshake.failed'], 1)
    ran++
  })

  for (const id of Object.keys(RESPONDER_PLANS)) {
    it(`${id}: the device as KK responder answers with the gateway's bytes and delivers the device's data`, async () => {
      const ex = examples.find((e) => e.id === id)
      assert.ok(ex)
      const r = await run(responderScript(ex))
      assert.deepEqual(r.out, ex.messages.filter((m) => m.from === 'gateway').map((m) => hex(m.bytes)))
      const sent = ex.messages.filter((m) => m.from === 'device' && !m.lost && /^DATA /.test(m.what)).map((m) => text(m.plaintext))
      assert.deepEqual(r.data.filter((d) => !d.startsWith('routed ') && d !== 'closed'), sent)
      ran++
    })
  }

  it('ran every example (counted)', () => {
    console.log(`# ${ran} examples replayed by the device in the interpreter`)
    assert.equal(ran, Object.keys(PLANS).length + 1 + Object.keys(RESPONDER_PLANS).length)
  })
})
