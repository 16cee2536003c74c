/**
 * Two nodes with one config share an MQTT client id and take each other's
 * session over (issue 19 item 10). The transport notices: an MQTT 5 broker may
 * say so (DISCONNECT 0x8E); otherwise (aedes on 3.1.1; Mosquitto 2.0 closes
 * the older connection here without a DISCONNECT) the transport recognises
 * connections closed soon after they were accepted, several in a row. The node runtime then logs
 * an error naming the client id instead of "broker unreachable".
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { connectMqttTransport, startEmbeddedBroker, type MqttTransport } from '../../targets/node/transports/mqtt/index.ts'
import { createLogger } from '../../targets/node/runtime/logger.ts'
import { openMqtt } from '../../targets/node/runtime/transports.ts'
import { needMosquitto, startMosquitto } from '../helpers/mosquitto.ts'
import { waitFor } from './mqtt-fixtures.ts'

const FAST = { initialMs: 50, maxMs: 200 }

async function twins(url: string): Promise<[MqttTransport, MqttTransport]> {
  const a = await connectMqttTransport({ url, name: 'twin', reconnect: FAST, connectTimeoutMs: 5000 })
  const b = await connectMqttTransport({ url, name: 'twin', reconnect: FAST, connectTimeoutMs: 5000 })
  return [a, b]
}

describe('MQTT session taken over by a second client with the same id', () => {
  it('aedes (MQTT 3.1.1, silent takeover): repeated short-lived connections are reported', async () => {
    const broker = await startEmbeddedBroker()
    const [a, b] = await twins(broker.url)
    try {
      await waitFor(() => a.sessionTakenOver || b.sessionTakenOver, 30_000, () => 'a takeover to be noticed')
      const c = a.sessionTakenOver ? a.counters : b.counters
      assert.ok((c.short_connections ?? 0) >= 1, JSON.stringify(c))
    } finally {
      await a.close()
      await b.close()
      await broker.close()
    }
  })

  it('Mosquitto (MQTT 5): reported too (DISCONNECT 0x8E where the broker sends one, else by the short-lived connections)', { skip: needMosquitto() }, async () => {
    const m = await startMosquitto()
    const [a, b] = await twins(m.url)
    try {
      assert.equal(a.protocolVersion, 5)
      await waitFor(() => a.sessionTakenOver || b.sessionTakenOver, 30_000, () => 'a takeover to be noticed')
      const c = a.sessionTakenOver ? a.counters : b.counters
      assert.ok((c.session_taken_over ?? 0) + (c.short_connections ?? 0) >= 1, JSON.stringify(c))
    } finally {
      await a.close()
      await b.close()
      await m.stop()
    }
  })

  it('the node runtime logs an error naming the client id and the likely cause', async () => {
    const broker = await startEmbeddedBroker()
    const lines: string[] = []
    const log = createLogger({ name: 'gw', level: 'info', write: (l) => lines.push(l) })
    const cfg = { url: broker.url, name: 'gw', reconnect: FAST } as unknown as Parameters<typeof openMqtt>[0]
    const a = await openMqtt(cfg, log, () => false)
    const b = await openMqtt(cfg, log, () => false)
    try {
      await waitFor(() => lines.some((l) => /client id/.test(l)), 30_000, () => lines.join('\n'))
      const line = lines.find((l) => /client id/.test(l)) ?? ''
      assert.match(line, /ERROR|error/)
      assert.match(line, /clientId=hopseal-gw/)
      assert.match(line, /same config running twice/)
    } finally {
      await a.close()
      await b.close()
      await broker.close()
    }
  })
})
