/**
 * Prometheus text exposition 0.0.4, checked line by line: HELP and TYPE once
 * per family before its samples, label escaping, no duplicate series, the
 * node-counter mapping; and the HTTP endpoint's routes and methods.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { escapeLabelValue, Exposition, formatValue } from '../../targets/node/runtime/exposition.ts'
import { startHttpEndpoint } from '../../targets/node/runtime/http.ts'
import { renderMetrics, type MetricsSnapshot } from '../../targets/node/runtime/metrics.ts'

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*")*)\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/

/** Parses exposition text strictly; fails on anything the 0.0.4 format does not allow. */
function parse(text: string): { types: Map<string, string>; series: Map<string, number> } {
  assert.ok(text.endsWith('\n'), 'the text ends with a newline')
  const types = new Map<string, string>()
  const helps = new Set<string>()
  const series = new Map<string, number>()
  const seenFamilies: string[] = []
  for (const line of text.slice(0, -1).split('\n')) {
    let m
    if ((m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line))) {
      assert.ok(!helps.has(m[1]!), `HELP ${m[1]} twice`)
      assert.ok(!/\n/.test(m[2]!))
      helps.add(m[1]!)
    } else if ((m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line))) {
      assert.ok(helps.has(m[1]!), `TYPE ${m[1]} after its HELP`)
      assert.ok(!types.has(m[1]!), `TYPE ${m[1]} twice`)
      types.set(m[1]!, m[2]!)
      seenFamilies.push(m[1]!)
    } else if ((m = SAMPLE.exec(line))) {
      const name = m[1]!
      assert.equal(seenFamilies.at(-1), name, `sample ${line} outside its family block`)
      assert.ok(!series.has(name + (m[2] ?? '')), `duplicate series ${line}`)
      if (types.get(name) === 'counter') assert.match(name, /_total$/, `counter ${name} ends in _total`)
      series.set(name + (m[2] ?? ''), Number(m[4]))
    } else assert.fail(`not a 0.0.4 line: ${JSON.stringify(line)}`)
  }
  return { types, series }
}

const snapshot = (over: Partial<MetricsSnapshot> = {}): MetricsSnapshot => ({
  name: 'gw "1"\\\nx',
  version: '0.1.0',
  uptimeSeconds: 12.5,
  counters: new Map([
    ['received', 7],
    ['sent', 5],
    ['drop.no_route', 2],
    ['drop.over_mtu', 1],
    ['mailbox.drop.full', 3],
    ['handshake.completed', 4],
    ['handshake.failed.noise_decrypt_failed', 6],
    ['gateway.alias_created', 1],
    ['mailbox.queued', 9],
  ]),
  channels: 2,
  mailboxBytes: 512,
  mailboxMessages: { lora0: 3 },
  transports: [
    { transport: 'mqtt', link: 'gateway', up: true },
    { transport: 'serial', link: 'lora0', up: false },
  ],
  serialAirtimeMs: [{ link: 'lora0', ms: 123.4567 }],
  transportEvents: [{ transport: 'mqtt', link: 'gateway', event: 'reconnects', value: 1 }],
  ...over,
})

describe('Prometheus exposition 0.0.4', () => {
  it('label values escape backslash, double quote and newline; HELP escapes backslash and newline', () => {
    assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd')
    const t = new Exposition().family('x_total', 'counter', 'line1\nline2 \\ end').add('x_total', { l: 'a"b' }, 1).text()
    assert.equal(t, '# HELP x_total line1\\nline2 \\\\ end\n# TYPE x_total counter\nx_total{l="a\\"b"} 1\n')
    assert.deepEqual([formatValue(NaN), formatValue(Infinity), formatValue(-Infinity), formatValue(1.5)], ['NaN', '+Inf', '-Inf', '1.5'])
  })

  it('the same series added twice is summed, never printed twice; label order does not make a new series', () => {
    const t = new Exposition().family('y_total', 'counter', 'h').add('y_total', { a: '1', b: '2' }, 1).add('y_total', { b: '2', a: '1' }, 2).text()
    assert.deepEqual(t.split('\n').filter((l) => l.startsWith('y_total')), ['y_total{a="1",b="2"} 3'])
  })

  it('rejects invalid metric and label names (a bug, not data)', () => {
    assert.throws(() => new Exposition().family('bad-name', 'gauge', 'h'), TypeError)
    assert.throws(() => new Exposition().family('ok', 'gauge', 'h').set('ok', { 'bad-label': 'x' }, 1), TypeError)
    assert.throws(() => new Exposition().family('ok', 'gauge', 'h').set('ok', { __reserved: 'x' }, 1), TypeError)
  })

  it('the node snapshot renders every documented family, each with HELP and TYPE, parseable line by line', () => {
    const { types, series } = parse(renderMetrics(snapshot()))
    assert.deepEqual([...types.keys()].sort(), [
      'hopseal_channels', 'hopseal_drops_total', 'hopseal_events_total', 'hopseal_handshakes_total', 'hopseal_info', 'hopseal_mailbox_bytes',
      'hopseal_mailbox_messages', 'hopseal_messages_total', 'hopseal_process_uptime_seconds', 'hopseal_serial_airtime_ms_total',
      'hopseal_transport_events_total', 'hopseal_transport_up',
    ])
    assert.equal(types.get('hopseal_channels'), 'gauge')
    assert.equal(types.get('hopseal_messages_total'), 'counter')
    const expect: Record<string, number> = {
      'hopseal_info{name="gw \\"1\\"\\\\\\nx",version="0.1.0"}': 1,
      'hopseal_process_uptime_seconds': 12.5,
      'hopseal_messages_total{direction="received"}': 7,
      'hopseal_messages_total{direction="sent"}': 5,
      'hopseal_drops_total{reason="no_route"}': 2,
      'hopseal_drops_total{reason="over_mtu"}': 1,
      'hopseal_drops_total{reason="mailbox_full"}': 3,
      'hopseal_handshakes_total{code="",result="ok"}': 4,
      'hopseal_handshakes_total{code="noise_decrypt_failed",result="failed"}': 6,
      'hopseal_events_total{event="gateway.alias_created"}': 1,
      'hopseal_events_total{event="mailbox.queued"}': 9,
      'hopseal_channels': 2,
      'hopseal_mailbox_bytes': 512,
      'hopseal_mailbox_messages{device="lora0"}': 3,
      'hopseal_transport_up{link="gateway",transport="mqtt"}': 1,
      'hopseal_transport_up{link="lora0",transport="serial"}': 0,
      'hopseal_serial_airtime_ms_total{link="lora0"}': 123.457,
      'hopseal_transport_events_total{event="reconnects",link="gateway",transport="mqtt"}': 1,
    }
    assert.deepEqual(Object.fromEntries(series), expect)
  })

  it('a fresh node shows zeroed message and handshake series (rate() needs a starting point)', () => {
    const { series } = parse(renderMetrics(snapshot({ counters: new Map(), mailboxBytes: undefined, mailboxMessages: undefined })))
    assert.equal(series.get('hopseal_messages_total{direction="received"}'), 0)
    assert.equal(series.get('hopseal_messages_total{direction="sent"}'), 0)
    assert.equal(series.get('hopseal_handshakes_total{code="",result="ok"}'), 0)
    assert.equal(series.has('hopseal_mailbox_bytes'), false, 'not a gateway: no mailbox gauge')
  })
})

describe('metrics HTTP endpoint', () => {
  let healthy = true
  const ep = startHttpEndpoint({ host: '127.0.0.1', port: 0, metrics: () => renderMetrics(snapshot()), status: () => ({ name: 'gw' }), healthy: () => healthy })
  after(async () => (await ep).close())

  it('serves /metrics as text 0.0.4, /status as JSON, /healthz as ok then 503', async () => {
    const { url } = await ep
    const m = await fetch(`${url}/metrics`)
    assert.equal(m.status, 200)
    assert.equal(m.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
    parse(await m.text())
    const s = await fetch(`${url}/status`)
    assert.equal(s.headers.get('content-type'), 'application/json')
    assert.deepEqual(await s.json(), { name: 'gw' })
    assert.equal((await fetch(`${url}/healthz`)).status, 200)
    healthy = false
    const h = await fetch(`${url}/healthz`)
    assert.equal(h.status, 503)
    assert.equal(await h.text(), 'shutting down\n')
  })

  it('refuses other methods and paths', async () => {
    const { url } = await ep
    const p = await fetch(`${url}/metrics`, { method: 'POST', body: 'x' })
    assert.equal(p.status, 405)
    assert.equal(p.headers.get('allow'), 'GET, HEAD')
    await p.text()
    const n = await fetch(`${url}/nope`)
    assert.equal(n.status, 404)
    await n.text()
  })

  it('a port in use is TRANSPORT_UNAVAILABLE naming the address and the fix', async () => {
    const { port } = await ep
    await assert.rejects(startHttpEndpoint({ host: '127.0.0.1', port, metrics: () => '', status: () => ({}), healthy: () => true }), /TRANSPORT_UNAVAILABLE: metrics endpoint: cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\); change metrics\.port/)
  })
})
