/**
 * The shared Transport compliance suite on the MQTT transport, over the
 * embedded aedes broker and over a real Mosquitto.
 */
import { after } from 'node:test'
import { address, TransportType } from '../../src/routing/address.ts'
import { connectMqttTransport } from '../../targets/node/transports/mqtt/index.ts'
import { BROKERS, type TestBroker } from './mqtt-fixtures.ts'
import { runTransportCompliance } from './transport-compliance.ts'

for (const kind of BROKERS) {
  if (kind.skip) continue
  const brokers: TestBroker[] = []
  after(async () => {
    await Promise.all(brokers.map((b) => b.close()))
  })
  runTransportCompliance(`MQTT over ${kind.name}`, async () => {
    const broker = await kind.start()
    brokers.push(broker)
    const a = await connectMqttTransport({ url: broker.url, name: `c-${kind.name}-a` })
    const b = await connectMqttTransport({ url: broker.url, name: `c-${kind.name}-b` })
    return {
      a,
      b,
      aToB: address(TransportType.MQTT, b.name),
      bToA: address(TransportType.MQTT, a.name),
      async close() {
        await a.close()
        await b.close()
      },
    }
  })
}
