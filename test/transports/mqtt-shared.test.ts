/**
 * Shared subscriptions (MQTT 5 §4.8.2): a fleet of gateway processes, each
 * with its own name for replies, shares the inbound load for one name.
 * Mosquitto only: aedes 1.2 has no shared subscriptions (a `$share/...`
 * filter is taken literally and matches nothing), see embedded-broker.ts.
 */
import assert from 'node:assert/strict'
import { createServer, type AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import mqttPacket from 'mqtt-packet'
import { isHopsealError } from '../../src/errors.ts'
import { address, addressToString, TransportType } from '../../src/routing/address.ts'
import { connectMqttTransport, startEmbeddedBroker, type MqttTransport } from '../../targets/node/transports/mqtt/index.ts'
import { needMosquitto, startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts'
import { collect, waitFor } from './mqtt-fixtures.ts'

const mqttAddr = (name: string) => address(TransportType.MQTT, name)

for (const protocolVersion of [5, 4] as const) {
  describe(`MQTT shared subscription over Mosquitto (MQTT ${protocolVersion === 5 ? '5' : '3.1.1'})`, { skip: needMosquitto() }, () => {
    let m: Mosquitto
    const open: MqttTransport[] = []
    before(async () => {
      m = await startMosquitto()
    })
    after(async () => {
      await Promise.all(open.map((t) => t.close()))
      await m.stop()
    })

    it('40 messages to `ingest` are each received exactly once across two gateways, both get some, replies reach the sender', async () => {
      const shared = { name: 'ingest', group: 'g' }
      const gw1 = await connectMqttTransport({ url: m.url, name: 'gw-1', shared, protocolVersion })
      const gw2 = await connectMqttTransport({ url: m.url, name: 'gw-2', shared, protocolVersion })
      const dev = await connectMqttTransport({ url: m.url, name: 'dev', protocolVersion })
      open.push(gw1, gw2, dev)
      const r1 = collect(gw1)
      const r2 = collect(gw2)
      const replies = collect(dev)
      for (let i = 0; i < 40; i++) await dev.send(mqttAddr('ingest'), Uint8Array.of(0x5e, i))
      await waitFor(() => r1.all.length + r2.all.length >= 40, 5000, () => `${r1.all.length} + ${r2.all.length} of 40`)
      const ids = [...r1.all, ...r2.all].map((r) => r.bytes[1]!)
      assert.equal(ids.length, 40, 'no duplicates')
      assert.deepEqual(
        ids.sort((a, b) => a - b),
        Array.from({ length: 40 }, (_, i) => i),
      )
      assert.ok(r1.all.length > 0 && r2.all.length > 0, `split ${r1.all.length}/${r2.all.length}`)
      assert.ok([...r1.all, ...r2.all].every((r) => addressToString(r.from) === '2#dev'))

      // Each gateway replies from its own name: the device learns which one served it.
      await gw1.send(r1.all[0]!.from, Uint8Array.of(1))
      await gw2.send(r2.all[0]!.from, Uint8Array.of(2))
      const back = await replies.take(2)
      assert.deepEqual(back.map((r) => addressToString(r.from)).sort(), ['2#gw-1', '2#gw-2'])

      // Each gateway still receives what is addressed to its own name, alone.
      await dev.send(mqttAddr('gw-2'), Uint8Array.of(0x77))
      await waitFor(() => r2.all.some((r) => r.bytes[0] === 0x77), 5000, () => 'direct message to gw-2')
      assert.equal(r1.all.some((r) => r.bytes[0] === 0x77), false)
      const split = [r1, r2].map((r) => r.all.filter((x) => x.bytes[0] === 0x5e).length)
      console.log(`# shared subscription (MQTT ${protocolVersion}): 40 messages split ${split.join('/')}`)
    })
  })
}

describe('shared subscriptions on brokers that cannot serve them are refused loudly', () => {
  it('a broker that speaks only MQTT 3.1.1 (aedes; NATS\'s MQTT gateway): connect fails with TRANSPORT_UNAVAILABLE and the fix', async () => {
    const broker = await startEmbeddedBroker()
    try {
      await assert.rejects(connectMqttTransport({ url: broker.url, name: 'gw-1', shared: { name: 'ingest', group: 'g' }, connectTimeoutMs: 5000 }), (e: unknown) => {
        assert.ok(isHopsealError(e, 'TRANSPORT_UNAVAILABLE'), String(e))
        assert.match((e as Error).message, /speaks only MQTT 3\.1\.1, which has no shared subscriptions: shared: \{ name: ingest, group: g \} would receive nothing \(fix: /)
        return true
      })
      // without shared, the same broker is fine
      const t = await connectMqttTransport({ url: broker.url, name: 'gw-1', connectTimeoutMs: 5000 })
      await t.close()
    } finally {
      await broker.close()
    }
  })

  it('an MQTT 5 broker whose CONNACK says Shared Subscription Available = 0: refused the same way', async () => {
    // A minimal MQTT 5 broker: answers CONNECT with a CONNACK that clears the flag (MQTT 5 §3.2.2.3.13), then nothing.
    const server = createServer((socket) => {
      const parser = mqttPacket.parser({ protocolVersion: 5 })
      parser.on('packet', (p: { cmd: string }) => {
        if (p.cmd === 'connect') socket.write(mqttPacket.generate({ cmd: 'connack', sessionPresent: false, reasonCode: 0, properties: { sharedSubscriptionAvailable: false } }, { protocolVersion: 5 }))
      })
      socket.on('data', (d) => parser.parse(d))
      socket.on('error', () => undefined)
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as AddressInfo).port
    try {
      await assert.rejects(connectMqttTransport({ url: `mqtt://127.0.0.1:${port}`, name: 'gw-1', shared: { name: 'ingest', group: 'g' }, connectTimeoutMs: 5000 }), (e: unknown) => {
        assert.ok(isHopsealError(e, 'TRANSPORT_UNAVAILABLE'), String(e))
        assert.match((e as Error).message, /says in CONNACK that it has no shared subscriptions/)
        return true
      })
    } finally {
      server.close()
    }
  })
})
