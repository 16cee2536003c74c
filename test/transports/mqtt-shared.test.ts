/**
 * Shared subscriptions (MQTT 5 §4.8.2): a fleet of gateway processes, each
 * with its own name for replies, shares the inbound load for one name.
 * Mosquitto only: aedes 1.2 has no shared subscriptions (a `$share/...`
 * filter is taken literally and matches nothing), see embedded-broker.ts.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { address, addressToString, TransportType } from '../../src/routing/address.ts'
import { connectMqttTransport, type MqttTransport } from '../../src/transports/mqtt/index.ts'
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
