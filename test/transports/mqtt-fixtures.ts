/**
 * Shared pieces of the MQTT tests: the two brokers every case runs against
 * (embedded aedes, real Mosquitto), message collectors and polling waits.
 */
import net from 'node:net'
import mqtt, { type MqttClient } from 'mqtt'
import { startEmbeddedBroker, type EmbeddedBroker } from '../../targets/node/transports/mqtt/index.ts'
import type { MqttTransport } from '../../targets/node/transports/mqtt/index.ts'
import type { Address } from '../../src/routing/address.ts'
import { needMosquitto, startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts'

export interface TestBroker {
  readonly url: string
  readonly port: number
  close(): Promise<void>
}

export interface BrokerKind {
  readonly name: 'aedes' | 'mosquitto'
  /** `false` to run, or a skip reason. */
  readonly skip: false | string
  start(): Promise<TestBroker>
}

export const AEDES: BrokerKind = {
  name: 'aedes',
  skip: false,
  async start() {
    const b: EmbeddedBroker = await startEmbeddedBroker()
    return { url: b.url, port: b.port, close: () => b.close() }
  },
}

export const MOSQUITTO: BrokerKind = {
  name: 'mosquitto',
  skip: needMosquitto(),
  async start() {
    const m: Mosquitto = await startMosquitto()
    return { url: m.url, port: m.port, close: () => m.stop() }
  },
}

export const BROKERS: readonly BrokerKind[] = [AEDES, MOSQUITTO]

export interface Received {
  bytes: Uint8Array
  from: Address
}

/** Collects what a transport receives; `take(n)` waits for n more messages. */
export function collect(t: MqttTransport): { all: Received[]; take(n: number, timeoutMs?: number): Promise<Received[]> } {
  const all: Received[] = []
  let taken = 0
  let wake: (() => void) | undefined
  t.onReceive((bytes, from) => {
    all.push({ bytes, from })
    wake?.()
  })
  return {
    all,
    async take(n, timeoutMs = 5000) {
      await waitFor(() => all.length - taken >= n, timeoutMs, () => `${all.length - taken} of ${n} messages received`, (w) => (wake = w))
      const out = all.slice(taken, taken + n)
      taken += n
      return out
    },
  }
}

/**
 * Polls `cond` until it holds; rejects after `timeoutMs` with `what()`.
 * `hook` receives a function that re-checks at once (event-driven waits).
 */
export async function waitFor(cond: () => boolean, timeoutMs = 5000, what: () => string = () => 'condition', hook?: (wake: () => void) => void): Promise<void> {
  if (cond()) return
  await new Promise<void>((resolve, reject) => {
    let done = false
    const finish = (e?: Error): void => {
      if (done) return
      done = true
      clearInterval(poll)
      clearTimeout(timer)
      hook?.(() => {})
      if (e) reject(e)
      else resolve()
    }
    const check = (): void => {
      if (cond()) finish()
    }
    const poll = setInterval(check, 10)
    const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for: ${what()}`)), timeoutMs)
    hook?.(check)
  })
}

/** A raw mqtt.js client (to publish what a hopseal transport never would). */
export async function rawClient(url: string, protocolVersion: 4 | 5 = 4): Promise<MqttClient> {
  return mqtt.connectAsync(url, { protocolVersion, reconnectPeriod: 0, clientId: `raw-${Math.random().toString(16).slice(2, 10)}` })
}

/** A TCP port nothing listens on (just released by the OS). */
export async function closedPort(): Promise<number> {
  const srv = net.createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as net.AddressInfo).port
  await new Promise<void>((r) => srv.close(() => r()))
  return port
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
