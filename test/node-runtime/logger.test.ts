/**
 * The logger's line formats and its guard: byte arrays print as <N bytes>,
 * sensitive field names print [redacted], URL credentials are stripped, and a
 * value cannot break a line.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { HopsealError } from '../../src/errors.ts'
import { Secret } from '../../targets/node/runtime/config-types.ts'
import { createLogger, type Logger } from '../../targets/node/runtime/logger.ts'
import { stripUrlCredentials } from '../../targets/node/runtime/redact.ts'

const T0 = Date.parse('2026-11-24T12:00:00.000Z')

function capture(json = false, level: 'error' | 'warn' | 'info' | 'debug' = 'debug'): { log: Logger; lines: string[] } {
  const lines: string[] = []
  return { log: createLogger({ name: 'gateway-1', level, json, write: (l) => lines.push(l), now: () => T0 }), lines }
}

describe('logger format', () => {
  it('text lines: time, padded level, name, message, key=value fields (quoted when needed)', () => {
    const { log, lines } = capture()
    log.info('mqtt connected', { url: 'mqtt://127.0.0.1:1883', attempt: 2, up: true, why: 'two words', none: null })
    assert.deepEqual(lines, ['2026-11-24T12:00:00.000Z info  gateway-1 mqtt connected url=mqtt://127.0.0.1:1883 attempt=2 up=true why="two words" none=null'])
  })

  it('JSON lines carry the same fields; a field cannot overwrite time/level/name/msg', () => {
    const { log, lines } = capture(true)
    log.warn('serial link down', { link: 'lora0', level: 'spoofed' })
    assert.deepEqual(JSON.parse(lines[0]!), { time: '2026-11-24T12:00:00.000Z', level: 'warn', name: 'gateway-1', msg: 'serial link down', link: 'lora0', 'field.level': 'spoofed' })
  })

  it('levels filter: info drops debug, error keeps only errors', () => {
    const a = capture(false, 'info')
    a.log.debug('hidden')
    a.log.info('shown')
    assert.equal(a.lines.length, 1)
    assert.equal(a.log.enabled('debug'), false)
    const b = capture(false, 'error')
    b.log.warn('hidden')
    b.log.error('shown')
    assert.deepEqual(b.lines.map((l) => l.split(' ')[1]), ['error'])
  })

  it('one call is one line: newlines and control characters in messages and values are escaped', () => {
    const { log, lines } = capture()
    log.info('evil\n2026-01-01T00:00:00.000Z error  gateway-1 forged', { name: 'a\nb\u0007' })
    assert.equal(lines.length, 1)
    assert.ok(!lines[0]!.includes('\n'))
    assert.match(lines[0]!, /evil\\n2026/)
    assert.match(lines[0]!, /name="a\\nb\\u0007"/)
  })
})

describe('logger guard: never emits key material or credentials', () => {
  const keyBytes = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 + (i % 16))
  const keyHex = Buffer.from(keyBytes).toString('hex')

  for (const json of [false, true]) {
    it(`byte arrays print as <N bytes>, in any field and nested (${json ? 'json' : 'text'})`, () => {
      const { log, lines } = capture(json)
      log.info('x', { frame: keyBytes, buf: Buffer.from(keyBytes), view: new DataView(keyBytes.buffer), ab: keyBytes.buffer, nested: { deeper: [keyBytes] } })
      const out = lines.join('\n')
      assert.ok(!out.includes(keyHex) && !out.includes(keyHex.slice(0, 16)), 'no hex of the bytes')
      assert.ok(!out.includes('160,161') && !out.includes('"0":160'), 'no array or object dump of the bytes')
      assert.equal(out.split('<32 bytes>').length - 1, 5, out)
    })

    it(`fields named like keys, secrets, PINs, passphrases, passwords or tokens print [redacted] (${json ? 'json' : 'text'})`, () => {
      const { log, lines } = capture(json)
      const fields = { privateKey: 'LEAK01', staticKey: 'LEAK02', secret: 'LEAK03', pin: 'LEAK04', userPin: 'LEAK05', passphrase: 'LEAK06', password: 'LEAK07', apiToken: 'LEAK08', KEY: 'LEAK09', nested: { mqttPassword: 'LEAK10' }, ok: 'visible' }
      log.info('x', fields)
      const out = lines.join('\n')
      assert.ok(!out.includes('LEAK'), out)
      assert.equal(out.split('[redacted]').length - 1, 10)
      assert.match(out, /visible/)
    })
  }

  it('URLs lose user:password, in messages, fields, nested values and errors', () => {
    const { log, lines } = capture()
    const url = 'mqtts://gw:hunter2@broker.example:8883/x'
    log.error(`cannot reach ${url}`, { url, nested: { list: [url] }, err: new HopsealError('TRANSPORT_UNAVAILABLE', `broker ${url} refused`) })
    const out = lines.join('\n')
    assert.ok(!out.includes('hunter2') && !out.includes('gw:'), out)
    assert.equal(out.split('mqtts://broker.example:8883/x').length - 1, 4)
    assert.equal(stripUrlCredentials('ws://u@h/ and http://a:b@c:1'), 'ws://h/ and http://c:1')
  })

  it('a Secret prints [redacted] under any field name', () => {
    const { log, lines } = capture(true)
    log.info('x', { value: new Secret('s3cr3t'), list: [new Secret('s3cr3t')] })
    assert.ok(!lines[0]!.includes('s3cr3t'))
    assert.equal(lines[0]!.split('[redacted]').length - 1, 2)
  })

  it('long strings are cut, deep objects are bounded', () => {
    const { log, lines } = capture(true)
    let deep: Record<string, unknown> = { leaf: 1 }
    for (let i = 0; i < 20; i++) deep = { d: deep }
    log.info('x', { long: 'a'.repeat(100_000), deep })
    assert.ok(lines[0]!.length < 2000, `line of ${lines[0]!.length} characters`)
    assert.match(lines[0]!, /\[object\]/)
  })
})
