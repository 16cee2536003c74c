/**
 * Measures (prints, never asserts) QoS 1 latency over the embedded aedes
 * broker with Nagle off on every socket (the default) and on (noDelay false on
 * the broker and both clients), the trap of platform-notes item 2. The tests
 * assert only that every message and echo arrived intact.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { connectMqttTransport, startEmbeddedBroker, type MqttTransport } from '../../targets/node/transports/mqtt/index.ts'

interface Figures {
  /** Median ms from send() to PUBACK. */
  puback: number
  /** Median ms from send() to the echo arriving back (two publishes, two deliveries). */
  echo: number
}

const median = (xs: number[]): number => {
  const s = xs.slice().sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

async function measure(noDelay: boolean, rounds: number): Promise<Figures> {
  const broker = await startEmbeddedBroker({ noDelay })
  const a: MqttTransport = await connectMqttTransport({ url: broker.url, name: `lat-a-${noDelay}`, noDelay })
  const b: MqttTransport = await connectMqttTransport({ url: broker.url, name: `lat-b-${noDelay}`, noDelay })
  try {
    b.onReceive((bytes, from) => void b.send(from, bytes).catch(() => {}))
    let waiting: ((bytes: Uint8Array) => void) | undefined
    a.onReceive((bytes) => waiting?.(bytes))
    const puback: number[] = []
    const echo: number[] = []
    for (let i = 0; i < rounds; i++) {
      const msg = Uint8Array.of(i & 0xff, 0xee, ...new Uint8Array(62))
      const back = new Promise<Uint8Array>((r) => (waiting = r))
      const t0 = performance.now()
      await a.send(b.address, msg)
      puback.push(performance.now() - t0)
      const got = await back
      echo.push(performance.now() - t0)
      assert.deepEqual(got, msg)
    }
    assert.equal(a.counters.received, rounds)
    assert.equal(b.counters.received, rounds)
    return { puback: median(puback), echo: median(echo) }
  } finally {
    await a.close()
    await b.close()
    await broker.close()
  }
}

describe('MQTT QoS 1 latency over aedes (printed)', () => {
  it('Nagle off (default) versus on', async () => {
    const off = await measure(true, 300)
    const on = await measure(false, 12)
    const f = (x: number): string => x.toFixed(2)
    console.log(`# MQTT QoS 1 over aedes, 64-byte messages, median ms: Nagle off: PUBACK ${f(off.puback)}, echo ${f(off.echo)}; Nagle on: PUBACK ${f(on.puback)}, echo ${f(on.echo)}`)
    assert.ok(Number.isFinite(off.echo) && Number.isFinite(on.echo))
  })
})
