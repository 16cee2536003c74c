/**
 * The MQTT transport when the broker is not there: unreachable at start,
 * refused, aborted, connecting in the background, the reconnect backoff, and
 * brokers that die mid-stream (Mosquitto SIGKILL, aedes restart) and return
 * on the same port.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isHopsealError } from '../../src/errors.ts'
import { address, TransportType } from '../../src/routing/address.ts'
import { connectMqttTransport, startEmbeddedBroker } from '../../targets/node/transports/mqtt/index.ts'
import { needMosquitto, startMosquitto } from '../helpers/mosquitto.ts'
import { closedPort, collect, sleep, waitFor } from './mqtt-fixtures.ts'

const mqttAddr = (name: string) => address(TransportType.MQTT, name)
const code = (c: string) => (e: unknown) => isHopsealError(e, c)
const FAST = { initialMs: 40, maxMs: 160 }

describe('MQTT transport without a broker', () => {
  it('rejects TRANSPORT_UNAVAILABLE naming the url when the broker stays unreachable for connectTimeoutMs', async () => {
    const port = await closedPort()
    await assert.rejects(
      connectMqttTransport({ url: `mqtt://u:pw@127.0.0.1:${port}`, name: 'lonely', connectTimeoutMs: 500, reconnect: FAST }),
      (e: unknown) => {
        assert.ok(isHopsealError(e, 'TRANSPORT_UNAVAILABLE'), String(e))
        const msg = (e as Error).message
        assert.ok(msg.includes(`127.0.0.1:${port}`) && msg.includes('500 ms'), msg)
        assert.ok(!msg.includes('pw'), 'credentials are not echoed')
        return true
      },
    )
  })

  it('fails at once with TRANSPORT_UNAVAILABLE when the broker refuses the credentials', async () => {
    const broker = await startEmbeddedBroker({
      aedes: { authenticate: (_c, username, _p, done) => done(null, username === 'ok') },
    })
    try {
      await assert.rejects(connectMqttTransport({ url: broker.url, name: 'intruder', username: 'nope', connectTimeoutMs: 10_000 }), (e: unknown) => {
        assert.ok(isHopsealError(e, 'TRANSPORT_UNAVAILABLE'), String(e))
        assert.match((e as Error).message, /refused the connection/)
        return true
      })
      const t = await connectMqttTransport({ url: broker.url, name: 'member', username: 'ok', connectTimeoutMs: 5000 })
      assert.equal(t.connected, true)
      await t.close()
    } finally {
      await broker.close()
    }
  })

  it('an AbortSignal rejects ABORTED, before or during the connect', async () => {
    const port = await closedPort()
    await assert.rejects(connectMqttTransport({ url: `mqtt://127.0.0.1:${port}`, name: 'x', signal: AbortSignal.abort() }), code('ABORTED'))
    const ac = new AbortController()
    const p = connectMqttTransport({ url: `mqtt://127.0.0.1:${port}`, name: 'x', signal: ac.signal, reconnect: FAST })
    setTimeout(() => ac.abort(), 100)
    await assert.rejects(p, code('ABORTED'))
  })

  it('connectTimeoutMs 0: sends issued before the broker exists complete once it starts on that port; maxInflight bounds them', async () => {
    const port = await closedPort()
    const t = await connectMqttTransport({ url: `mqtt://127.0.0.1:${port}`, name: 'early', connectTimeoutMs: 0, maxInflight: 3, reconnect: FAST })
    const states: boolean[] = []
    t.onStateChange((up) => states.push(up))
    assert.equal(t.connected, false)
    const sends = [1, 2, 3].map((i) => t.send(mqttAddr('later'), Uint8Array.of(i)))
    await assert.rejects(t.send(mqttAddr('later'), Uint8Array.of(4)), code('LIMIT_EXCEEDED'))
    await sleep(150) // a few refused attempts first
    const broker = await startEmbeddedBroker({ port })
    const seen: string[] = []
    broker.tap((topic, payload) => seen.push(`${topic}:${payload[0]}`))
    try {
      await Promise.all(sends)
      assert.deepEqual(seen.sort(), ['hopseal/v1/later/early:1', 'hopseal/v1/later/early:2', 'hopseal/v1/later/early:3'])
      // `connected` means subscribed too: the SUBACK may come after the PUBACKs of the queued sends.
      await waitFor(() => t.connected, 5000, () => 'subscribed')
      assert.deepEqual(states, [true])
      assert.equal(t.counters.published, 3)
      assert.ok((t.counters.connect_attempts ?? 0) >= 1, JSON.stringify(t.counters))
      assert.equal(t.counters.reconnects, 0, 'the first connection is not a reconnect')
    } finally {
      await t.close()
      await broker.close()
    }
  })

  it('close() while the broker is away rejects the pending sends with TRANSPORT_UNAVAILABLE', async () => {
    const port = await closedPort()
    const t = await connectMqttTransport({ url: `mqtt://127.0.0.1:${port}`, name: 'gone', connectTimeoutMs: 0, reconnect: FAST })
    const p = t.send(mqttAddr('x'), Uint8Array.of(1))
    await t.close()
    await assert.rejects(p, code('TRANSPORT_UNAVAILABLE'))
    await assert.rejects(t.send(mqttAddr('x'), Uint8Array.of(1)), code('TRANSPORT_UNAVAILABLE'))
  })

  it('backs off exponentially with jitter between reconnect attempts, up to maxMs', async () => {
    const port = await closedPort()
    const t = await connectMqttTransport({ url: `mqtt://127.0.0.1:${port}`, name: 'retry', connectTimeoutMs: 0, reconnect: FAST })
    const seen: { attempt: number; delay: number; at: number }[] = []
    t.onReconnecting((attempt, delay) => seen.push({ attempt, delay, at: performance.now() }))
    try {
      await waitFor(() => seen.length >= 6, 5000, () => `${seen.length} attempts`)
    } finally {
      await t.close()
    }
    for (const [i, s] of seen.slice(0, 6).entries()) {
      assert.equal(s.attempt, i + 1)
      const base = Math.min(FAST.maxMs, FAST.initialMs * 2 ** i)
      assert.ok(s.delay >= base / 2 && s.delay <= base, `attempt ${s.attempt}: delay ${s.delay} outside [${base / 2}, ${base}]`)
    }
    assert.ok((t.counters.connect_attempts ?? 0) >= 5, JSON.stringify(t.counters))
    const gaps = seen.slice(1, 6).map((s, i) => `${seen[i]!.delay}→${Math.round(s.at - seen[i]!.at)}`)
    console.log(`# MQTT backoff: scheduled delay → observed gap (ms): ${gaps.join(', ')}`)
  })
})

describe('MQTT transport across broker restarts', () => {
  it('aedes: an embedded broker closed and started again on the same port: the transports reconnect and carry messages', async () => {
    let broker = await startEmbeddedBroker()
    const port = broker.port
    const a = await connectMqttTransport({ url: broker.url, name: 'ar-a', reconnect: FAST })
    const b = await connectMqttTransport({ url: broker.url, name: 'ar-b', reconnect: FAST })
    try {
      const rb = collect(b)
      const states: boolean[] = []
      a.onStateChange((up) => states.push(up))
      await a.send(mqttAddr('ar-b'), Uint8Array.of(1))
      await rb.take(1)
      await broker.close()
      await waitFor(() => !a.connected && !b.connected, 5000, () => 'both see the broker go')
      broker = await startEmbeddedBroker({ port })
      await waitFor(() => a.connected && b.connected, 5000, () => 'both reconnect')
      await a.send(mqttAddr('ar-b'), Uint8Array.of(2))
      const [m] = await rb.take(1)
      assert.deepEqual(m!.bytes, Uint8Array.of(2))
      assert.deepEqual(states, [false, true])
      assert.equal(a.counters.reconnects, 1)
      assert.equal(b.counters.reconnects, 1)
    } finally {
      await a.close()
      await b.close()
      await broker.close()
    }
  })

  it('Mosquitto killed (SIGKILL) mid-stream and restarted on the same port: reconnects, every send completes, later sends arrive', { skip: needMosquitto() }, async () => {
    const m = await startMosquitto()
    const a = await connectMqttTransport({ url: m.url, name: 'rs-a', reconnect: FAST })
    const b = await connectMqttTransport({ url: m.url, name: 'rs-b', reconnect: FAST })
    const statesA: boolean[] = []
    const statesB: boolean[] = []
    a.onStateChange((up) => statesA.push(up))
    b.onStateChange((up) => statesB.push(up))
    const rb = collect(b)
    const sends: Promise<void>[] = []
    let streaming = true
    const stream = (async () => {
      for (let i = 0; streaming; i++) {
        sends.push(a.send(mqttAddr('rs-b'), Uint8Array.of(0x51, i & 0xff, i >> 8)))
        await sleep(5)
      }
    })()
    try {
      await waitFor(() => rb.all.length >= 10, 5000, () => `${rb.all.length} streamed before the kill`)
      const pid = m.pid
      await m.kill()
      await waitFor(() => !a.connected && !b.connected, 5000, () => 'both see the broker die')
      const duringOutage = sends.length
      await sleep(150) // the stream keeps sending into the outage
      await m.restart()
      assert.notEqual(m.pid, pid)
      await waitFor(() => a.connected && b.connected, 10_000, () => `reconnect: a ${a.connected}, b ${b.connected}`)
      streaming = false
      await stream
      assert.ok(sends.length > duringOutage, 'sends were issued during the outage')
      const results = await Promise.allSettled(sends)
      const failed = results.filter((r) => r.status === 'rejected')
      assert.equal(failed.length, 0, `${failed.length} of ${sends.length} sends failed: ${failed.map((f) => String((f as PromiseRejectedResult).reason)).slice(0, 3).join('; ')}`)
      assert.deepEqual(statesA, [false, true])
      assert.deepEqual(statesB, [false, true])
      assert.equal(a.counters.reconnects, 1)
      assert.equal(b.counters.reconnects, 1)
      for (let i = 0; i < 10; i++) await a.send(mqttAddr('rs-b'), Uint8Array.of(0x52, i))
      await waitFor(() => rb.all.filter((r) => r.bytes[0] === 0x52).length === 10, 5000, () => 'the 10 sends after the restart')
      assert.deepEqual(
        rb.all.filter((r) => r.bytes[0] === 0x52).map((r) => r.bytes[1]).sort((x, y) => x! - y!),
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      )
      console.log(`# Mosquitto SIGKILL mid-stream: ${sends.length} sends, all acknowledged; b received ${rb.all.filter((r) => r.bytes[0] === 0x51).length} of the stream (messages the broker held when killed are lost without persistence)`)
    } finally {
      streaming = false
      await stream
      await a.close()
      await b.close()
      await m.stop()
    }
  })

  it('Mosquitto with persistence restarted gracefully: an offline session keeps its queued messages', { skip: needMosquitto() }, async () => {
    const m = await startMosquitto({ persistence: true })
    const a = await connectMqttTransport({ url: m.url, name: 'pr-a', reconnect: FAST })
    try {
      const b1 = await connectMqttTransport({ url: m.url, name: 'pr-b' })
      await b1.close()
      for (let i = 0; i < 5; i++) await a.send(mqttAddr('pr-b'), Uint8Array.of(0x70, i))
      await m.restart()
      await waitFor(() => a.connected, 10_000, () => 'a reconnects')
      const b2 = await connectMqttTransport({ url: m.url, name: 'pr-b' })
      try {
        const got = await collect(b2).take(5)
        assert.deepEqual(got.map((r) => r.bytes[1]).sort(), [0, 1, 2, 3, 4])
      } finally {
        await b2.close()
      }
    } finally {
      await a.close()
      await m.stop()
    }
  })
})


