/**
 * The MQTT transport against the embedded aedes broker and a real Mosquitto:
 * round trips with reply addresses, routed messages between two Nodes,
 * persistent sessions, limits, malformed topics, close semantics and the
 * broker tap.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { isHopsealError } from '../../src/errors.ts'
import { address, addressToString, local, TransportType } from '../../src/routing/address.ts'
import { Node } from '../../src/routing/node.ts'
import { connectMqttTransport, startEmbeddedBroker, type MqttTransport } from '../../targets/node/transports/mqtt/index.ts'
import { BROKERS, collect, rawClient, waitFor, type TestBroker } from './mqtt-fixtures.ts'

const mqttAddr = (name: string) => address(TransportType.MQTT, name)
const code = (c: string) => (e: unknown) => isHopsealError(e, c)

for (const kind of BROKERS) {
  describe(`MQTT transport over ${kind.name}`, { skip: kind.skip }, () => {
    let broker: TestBroker
    const open: MqttTransport[] = []
    /** A transport closed in after(); names are unique per test to keep sessions apart. */
    const connect = async (name: string, extra: Partial<Parameters<typeof connectMqttTransport>[0]> = {}): Promise<MqttTransport> => {
      const t = await connectMqttTransport({ url: broker.url, name, connectTimeoutMs: 5000, ...extra })
      open.push(t)
      return t
    }

    before(async () => {
      broker = await kind.start()
    })
    after(async () => {
      await Promise.all(open.map((t) => t.close()))
      await broker.close()
    })

    it('connects with the expected protocol version and declares its properties', async () => {
      const t = await connect('props')
      assert.equal(t.connected, true)
      assert.equal(t.protocolVersion, kind.name === 'aedes' ? 4 : 5)
      assert.equal(t.counters.protocol_fallback ?? 0, kind.name === 'aedes' ? 1 : 0)
      assert.deepEqual({ ...t.properties }, { maxPayload: 64 * 1024, reliable: true, ordered: false })
      assert.equal(t.type, TransportType.MQTT)
      assert.equal(addressToString(t.address), '2#props')
    })

    it('carries bytes both ways and `from` is the address replies go to', async () => {
      const a = await connect('rt-a')
      const b = await connect('rt-b')
      const ra = collect(a)
      const rb = collect(b)
      await a.send(mqttAddr('rt-b'), Uint8Array.of(1, 2, 3))
      const [m] = await rb.take(1)
      assert.deepEqual(m!.bytes, Uint8Array.of(1, 2, 3))
      assert.equal(addressToString(m!.from), '2#rt-a')
      await b.send(m!.from, Uint8Array.of(4, 5))
      const [r] = await ra.take(1)
      assert.deepEqual(r!.bytes, Uint8Array.of(4, 5))
      assert.equal(addressToString(r!.from), '2#rt-b')
      assert.equal(a.counters.published, 1)
      assert.equal(a.counters.received, 1)
      assert.equal(b.counters.received, 1)
    })

    it('routes a message between two Nodes and back through the broker', async () => {
      const na = new Node({ name: 'a' })
      const nb = new Node({ name: 'b' })
      na.registerTransport(await connect('node-a'))
      nb.registerTransport(await connect('node-b'))
      nb.startWorker('echo', async (ctx, msg) => {
        await ctx.send(msg.returnRoute, Uint8Array.from([...msg.payload, 0xec]))
      })
      const replies: { payload: Uint8Array; from?: string }[] = []
      na.startWorker('reply', (_ctx, msg, meta) => {
        replies.push({ payload: msg.payload, ...(meta.from ? { from: addressToString(meta.from) } : {}) })
      })
      await na.send([mqttAddr('node-b'), local('echo')], Uint8Array.of(7, 7), [local('reply')])
      await waitFor(() => replies.length === 1, 5000, () => `replies ${replies.length}`)
      assert.deepEqual(replies[0]!.payload, Uint8Array.of(7, 7, 0xec))
      assert.equal(replies[0]!.from, '2#node-b')
      assert.equal(nb.counters.get('received'), 1)
    })

    it('keeps a persistent session: 20 QoS 1 messages sent while b is away arrive when b returns', async () => {
      const a = await connect('ps-a')
      const b1 = await connectMqttTransport({ url: broker.url, name: 'ps-b', connectTimeoutMs: 5000 })
      await b1.close()
      const sent: string[] = []
      for (let i = 0; i < 20; i++) {
        const m = Uint8Array.of(0x50, i)
        sent.push(Buffer.from(m).toString('hex'))
        await a.send(mqttAddr('ps-b'), m)
      }
      const b2 = await connect('ps-b')
      // No onReceive yet: the queue the broker delivers right after CONNACK is kept for the handler.
      const rb = collect(b2)
      const got = await rb.take(20)
      assert.deepEqual(got.map((m) => Buffer.from(m.bytes).toString('hex')).sort(), sent.slice().sort())
      assert.ok(got.every((m) => addressToString(m.from) === '2#ps-a'))
      assert.equal(b2.counters['drop.no_handler'] ?? 0, 0)
    })

    it('a clean-start session does not receive what was queued for the old one', async () => {
      const a = await connect('cs-a')
      const b1 = await connectMqttTransport({ url: broker.url, name: 'cs-b', connectTimeoutMs: 5000 })
      await b1.close()
      await a.send(mqttAddr('cs-b'), Uint8Array.of(1))
      const b2 = await connect('cs-b', { cleanStart: true })
      const rb = collect(b2)
      await a.send(mqttAddr('cs-b'), Uint8Array.of(2))
      const [m] = await rb.take(1)
      assert.deepEqual(m!.bytes, Uint8Array.of(2))
      assert.equal(rb.all.length, 1)
    })

    it('rejects a payload over maxPayload at the sender with FRAME_TOO_LARGE, and carries exactly maxPayload', async () => {
      const a = await connect('lim-a', { maxPayload: 1000 })
      const b = await connect('lim-b', { maxPayload: 1000 })
      const rb = collect(b)
      await assert.rejects(a.send(mqttAddr('lim-b'), new Uint8Array(1001)), code('FRAME_TOO_LARGE'))
      await a.send(mqttAddr('lim-b'), new Uint8Array(1000).fill(9))
      const [m] = await rb.take(1)
      assert.equal(m!.bytes.length, 1000)
      assert.equal(a.counters.published, 1)
    })

    it('drops and counts an incoming publish over maxPayload and keeps working', async () => {
      const b = await connect('big-b')
      const a = await connect('big-a')
      const rb = collect(b)
      const raw = await rawClient(broker.url)
      try {
        await raw.publishAsync('hopseal/v1/big-b/raw', Buffer.alloc(100 * 1024, 1), { qos: 1 })
        await waitFor(() => b.counters['drop.too_large'] === 1, 5000, () => JSON.stringify(b.counters))
        await a.send(mqttAddr('big-b'), Uint8Array.of(42))
        const [m] = await rb.take(1)
        assert.deepEqual(m!.bytes, Uint8Array.of(42))
        assert.equal(b.counters.received, 1)
        assert.equal(b.connected, true)
      } finally {
        await raw.endAsync()
      }
    })

    it('drops and counts publishes to malformed topics under its inbox; extra levels never reach it', async () => {
      const b = await connect('mal-b')
      const a = await connect('mal-a')
      const rb = collect(b)
      const raw = await rawClient(broker.url)
      // The embedded broker refuses empty levels itself (an aedes bug, see the embedded broker tests).
      const topics = ['hopseal/v1/mal-b/bad name', `hopseal/v1/mal-b/${'x'.repeat(65)}`, 'hopseal/v1/mal-b/a/extra', ...(kind.name === 'mosquitto' ? ['hopseal/v1/mal-b/'] : [])]
      const expected = topics.length - 1 // the extra level is not delivered
      try {
        for (const topic of topics) await raw.publishAsync(topic, Buffer.of(1), { qos: 1 })
        await waitFor(() => b.counters['drop.bad_topic'] === expected, 5000, () => JSON.stringify(b.counters))
        await a.send(mqttAddr('mal-b'), Uint8Array.of(5))
        const [m] = await rb.take(1)
        assert.deepEqual(m!.bytes, Uint8Array.of(5))
        assert.equal(rb.all.length, 1)
        assert.equal(b.counters['drop.bad_topic'], expected)
        assert.equal(b.counters.reconnects, 0)
      } finally {
        await raw.endAsync()
      }
    })

    it('rejects a non-MQTT or invalid address with INVALID_ARGUMENT and sends after close with TRANSPORT_UNAVAILABLE', async () => {
      const a = await connect('addr-a')
      await assert.rejects(a.send(local('echo'), Uint8Array.of(1)), code('INVALID_ARGUMENT'))
      await assert.rejects(a.send(address(TransportType.MEMORY, 'b'), Uint8Array.of(1)), code('INVALID_ARGUMENT'))
      await assert.rejects(a.send(mqttAddr('a/b'), Uint8Array.of(1)), code('INVALID_ARGUMENT'))
      await assert.rejects(a.send(mqttAddr('+'), Uint8Array.of(1)), code('INVALID_ARGUMENT'))
      await assert.rejects(a.send(address(TransportType.MQTT, Uint8Array.of(0xff, 0xfe)), Uint8Array.of(1)), code('INVALID_ARGUMENT'))
      await a.close()
      await a.close() // idempotent
      assert.equal(a.connected, false)
      await assert.rejects(a.send(mqttAddr('b'), Uint8Array.of(1)), code('TRANSPORT_UNAVAILABLE'))
    })

    it('a receive handler that throws is counted and does not stop delivery', async () => {
      const a = await connect('thr-a')
      const b = await connect('thr-b')
      let n = 0
      b.onReceive(() => {
        n++
        throw new Error('boom')
      })
      await a.send(mqttAddr('thr-b'), Uint8Array.of(1))
      await a.send(mqttAddr('thr-b'), Uint8Array.of(2))
      await waitFor(() => n === 2, 5000, () => `${n} delivered`)
      assert.equal(b.counters['drop.handler_error'], 2)
      assert.equal(b.connected, true)
    })

    it('a custom prefix separates two hopseal deployments on one broker', async () => {
      const a = await connect('pfx-a', { prefix: 'site-1/hs' })
      const b1 = await connect('pfx-b', { prefix: 'site-1/hs', clientId: 'pfx-b-1' })
      const b2 = await connect('pfx-b', { prefix: 'site-2/hs', clientId: 'pfx-b-2' })
      const r1 = collect(b1)
      const r2 = collect(b2)
      await a.send(mqttAddr('pfx-b'), Uint8Array.of(1))
      await r1.take(1)
      await a.send(mqttAddr('pfx-b'), Uint8Array.of(2))
      const [m] = await r1.take(1)
      assert.deepEqual(m!.bytes, Uint8Array.of(2))
      assert.equal(r2.all.length, 0)
    })
  })
}

describe('embedded broker', () => {
  it('the tap sees every publish (topic and payload) and can be removed', async () => {
    const broker = await startEmbeddedBroker()
    const seen: { topic: string; payload: Uint8Array }[] = []
    const untap = broker.tap((topic, payload) => seen.push({ topic, payload }))
    const a = await connectMqttTransport({ url: broker.url, name: 'tap-a' })
    const b = await connectMqttTransport({ url: broker.url, name: 'tap-b' })
    try {
      const rb = collect(b)
      for (let i = 0; i < 10; i++) await a.send(address(TransportType.MQTT, 'tap-b'), Uint8Array.of(i, 0xaa))
      await b.send(address(TransportType.MQTT, 'tap-a'), Uint8Array.of(0xbb))
      await rb.take(10)
      await waitFor(() => seen.length === 11, 5000, () => `${seen.length} tapped`)
      assert.deepEqual(
        seen.slice(0, 10).map((s) => [s.topic, Buffer.from(s.payload).toString('hex')]),
        Array.from({ length: 10 }, (_, i) => ['hopseal/v1/tap-b/tap-a', Buffer.of(i, 0xaa).toString('hex')]),
      )
      assert.equal(seen[10]!.topic, 'hopseal/v1/tap-a/tap-b')
      untap()
      await a.send(address(TransportType.MQTT, 'tap-b'), Uint8Array.of(1))
      await rb.take(1)
      assert.equal(seen.length, 11)
    } finally {
      await a.close()
      await b.close()
      await broker.close()
    }
  })

  it('closes the connection of a client that announces a packet over maxPacketSize, others keep working', async () => {
    const broker = await startEmbeddedBroker({ maxPacketSize: 4096 })
    const a = await connectMqttTransport({ url: broker.url, name: 'g-a', maxPayload: 1024 })
    const b = await connectMqttTransport({ url: broker.url, name: 'g-b', maxPayload: 1024 })
    const raw = await rawClient(broker.url)
    try {
      const rb = collect(b)
      let closed = false
      raw.once('close', () => (closed = true))
      raw.publish('hopseal/v1/g-b/raw', Buffer.alloc(8192), { qos: 0 })
      await waitFor(() => closed, 3000, () => 'the broker closes the oversize publisher')
      assert.equal(broker.oversizeRejected, 1)
      await a.send(address(TransportType.MQTT, 'g-b'), Uint8Array.of(3))
      const [m] = await rb.take(1)
      assert.deepEqual(m!.bytes, Uint8Array.of(3))
      assert.equal(b.counters['drop.too_large'] ?? 0, 0)
    } finally {
      raw.end(true)
      await a.close()
      await b.close()
      await broker.close()
    }
  })

  it('refuses a publish to a topic with an empty level, so a persistent subscriber is not knocked off (aedes 1.2 bug)', async () => {
    const broker = await startEmbeddedBroker()
    const a = await connectMqttTransport({ url: broker.url, name: 'e-a' })
    const b = await connectMqttTransport({ url: broker.url, name: 'e-b' })
    const raw = await rawClient(broker.url)
    try {
      const rb = collect(b)
      let closed = false
      raw.once('close', () => (closed = true))
      raw.publish('hopseal/v1/e-b/', Buffer.of(1), { qos: 1 })
      await waitFor(() => closed, 3000, () => 'the broker closes the empty-level publisher')
      await a.send(address(TransportType.MQTT, 'e-b'), Uint8Array.of(6))
      const [m] = await rb.take(1)
      assert.deepEqual(m!.bytes, Uint8Array.of(6))
      assert.equal(b.counters.reconnects, 0)
      assert.equal(b.counters['drop.bad_topic'] ?? 0, 0)
    } finally {
      raw.end(true)
      await a.close()
      await b.close()
      await broker.close()
    }
  })

  it('refuses a port in use with TRANSPORT_UNAVAILABLE and bad options with INVALID_ARGUMENT', async () => {
    const first = await startEmbeddedBroker()
    try {
      await assert.rejects(startEmbeddedBroker({ port: first.port }), code('TRANSPORT_UNAVAILABLE'))
      await assert.rejects(startEmbeddedBroker({ port: 70_000 }), code('INVALID_ARGUMENT'))
      await assert.rejects(startEmbeddedBroker({ maxPacketSize: 10 }), code('INVALID_ARGUMENT'))
    } finally {
      await first.close()
    }
  })
})


