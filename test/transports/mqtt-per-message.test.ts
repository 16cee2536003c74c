/**
 * What the MQTT transport does per message: it keeps, per peer name, the
 * topic it publishes to and the address messages from it arrive with (one
 * address object per sender, valid names only, a full cache cleared without
 * changing what is delivered), and a reply sent after an await leaves in the
 * same socket write as the received message's PUBACK.
 */
import assert from 'node:assert/strict'
import { Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { isHopsealError } from '../../src/errors.ts'
import { address, TransportType, type Address } from '../../src/routing/address.ts'
import { connectMqttTransport, startEmbeddedBroker, type MqttTransport } from '../../targets/node/transports/mqtt/index.ts'

const mqttAddr = (name: string): Address => address(TransportType.MQTT, name)

describe('MQTT transport: per-peer topic and address', () => {
  let broker: Awaited<ReturnType<typeof startEmbeddedBroker>>
  const open: MqttTransport[] = []
  before(async () => {
    broker = await startEmbeddedBroker()
  })
  after(async () => {
    await Promise.all(open.map((t) => t.close()))
    await broker.close()
  })
  const connect = async (name: string): Promise<MqttTransport> => {
    const t = await connectMqttTransport({ url: broker.url, name, connectTimeoutMs: 5000 })
    open.push(t)
    return t
  }

  it('messages from one peer arrive with one address object; sends to many names reach each, past the cache bound', async () => {
    const a = await connect('cache-a')
    const b = await connect('cache-b')
    const got: { from: Address; bytes: Uint8Array }[] = []
    b.onReceive((bytes, from) => void got.push({ bytes, from }))
    for (let i = 0; i < 3; i++) await a.send(mqttAddr('cache-b'), Uint8Array.of(i))
    for (let i = 0; i < 100 && got.length < 3; i++) await new Promise((r) => setTimeout(r, 10))
    assert.deepEqual(got.map((g) => g.bytes[0]), [0, 1, 2])
    assert.deepEqual(got[0]!.from, mqttAddr('cache-a'))
    assert.equal(got[1]!.from, got[0]!.from)
    assert.equal(got[2]!.from, got[0]!.from)
    // More distinct names than the cache holds (1024): every publish still goes to its own topic.
    for (let i = 0; i < 1100; i++) await a.send(mqttAddr(`nobody-${i}`), Uint8Array.of(1))
    await a.send(mqttAddr('cache-b'), Uint8Array.of(9))
    for (let i = 0; i < 100 && got.length < 4; i++) await new Promise((r) => setTimeout(r, 10))
    assert.equal(got.length, 4, 'only the message to cache-b reached it')
    assert.equal(got[3]!.bytes[0], 9)
  })

  it('an invalid name is refused every time, also after valid sends', async () => {
    const a = await connect('cache-c')
    await a.send(mqttAddr('cache-d'), Uint8Array.of(1))
    for (const bad of ['a/b', 'a+b', '#', '', 'x'.repeat(65)]) {
      const to = bad === '' ? { type: TransportType.MQTT, value: new Uint8Array(0) } : mqttAddr(bad)
      for (let k = 0; k < 2; k++) await assert.rejects(a.send(to, Uint8Array.of(1)), (e: unknown) => isHopsealError(e, 'INVALID_ARGUMENT'), `${JSON.stringify(bad)} try ${k}`)
    }
    await assert.rejects(a.send({ type: TransportType.MQTT, value: Uint8Array.of(0xff, 0xfe) }, Uint8Array.of(1)), (e: unknown) => isHopsealError(e, 'INVALID_ARGUMENT'), 'not UTF-8')
  })

  it('a reply sent after awaits goes out in one socket write with the PUBACK of the message it answers', async () => {
    const a = await connect('cork-a')
    const b = await connect('cork-b')
    const bStream = (b as unknown as { client: { stream: Socket } }).client.stream
    let writes = 0
    const proto = Socket.prototype as unknown as { _writev: (...x: unknown[]) => unknown; _write: (...x: unknown[]) => unknown }
    const writev = proto._writev
    const write = proto._write
    proto._writev = function (this: Socket, ...x: unknown[]) {
      if (this === bStream) writes++
      return writev.apply(this, x)
    }
    proto._write = function (this: Socket, ...x: unknown[]) {
      if (this === bStream) writes++
      return write.apply(this, x)
    }
    try {
      const replies: Uint8Array[] = []
      a.onReceive((bytes) => void replies.push(bytes))
      b.onReceive((bytes, from) => {
        void (async () => {
          for (let i = 0; i < 5; i++) await Promise.resolve() // a channel's answer comes after several awaits
          await b.send(from, bytes)
        })()
      })
      await new Promise((r) => setTimeout(r, 20))
      writes = 0
      await a.send(mqttAddr('cork-b'), Uint8Array.of(42))
      for (let i = 0; i < 100 && replies.length < 1; i++) await new Promise((r) => setTimeout(r, 5))
      await new Promise((r) => setTimeout(r, 20))
      assert.deepEqual(replies, [Uint8Array.of(42)])
      // b wrote the PUBACK of 42 and its reply's PUBLISH (and later received the broker's PUBACK for it).
      assert.equal(writes, 1, `b's socket writes: ${writes}`)
    } finally {
      proto._writev = writev
      proto._write = write
    }
  })
})
