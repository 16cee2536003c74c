/**
 * An embedded MQTT broker (architecture.md §6: the zero-install default) on
 * aedes 1.x, for tests, demos and a single-host deployment.
 *
 * What aedes gives and does not (checked against aedes 1.2):
 * - MQTT 3.1.1 only: an MQTT 5 CONNECT is refused as an unacceptable
 *   protocol version, and the transport falls back to 3.1.1 by itself.
 * - Persistent sessions and QoS 1 queues for offline clients, in memory
 *   (lost when the broker stops); 3.1.1 sessions never expire.
 * - No shared subscriptions: a `$share/...` filter is accepted as a plain
 *   filter that matches nothing. Use Mosquitto (or any MQTT 5 broker) for a
 *   fleet of gateways.
 * - No limit on a packet's size: the listener adds one (./packet-guard.ts).
 * - aedes 1.2 bug: a QoS 1 publish to a topic with an empty level (`a/b/`)
 *   that matches a persistent subscriber's `a/b/+` makes aedes fail with "no
 *   such packet" and disconnect that subscriber, so any client could knock a
 *   hopseal node off with one packet. This broker refuses publishes to topics
 *   with an empty level (hopseal never uses one); the publisher is
 *   disconnected instead.
 *
 * Listens on 127.0.0.1 by default: the broker has no authentication unless
 * `aedes.authenticate` is given.
 */
import net from 'node:net'
import { Aedes, type AedesOptions, type AedesPublishPacket, type Client } from 'aedes'
import { ErrorCode, HopsealError } from '../../../../src/errors.ts'
import { DEFAULT_BROKER_HOST, DEFAULT_BROKER_MAX_PACKET_SIZE, MQTT_MAX_PACKET_SIZE } from './constants.ts'
import { PacketSizeGuard } from './packet-guard.ts'

export interface EmbeddedBrokerOptions {
  /** Listen address (default 127.0.0.1). */
  host?: string
  /** TCP port (default 0: a free port chosen by the OS). */
  port?: number
  /** Largest MQTT packet a client may send, in bytes (default 256 KiB); a bigger one closes its connection. */
  maxPacketSize?: number
  /** Disable Nagle on accepted sockets (default true; platform-notes item 2). */
  noDelay?: boolean
  /** Passed to aedes (authenticate, authorizePublish, queueLimit, ...). */
  aedes?: AedesOptions
}

/** Observes one publish: its topic and a copy of its payload. */
export type BrokerTap = (topic: string, payload: Uint8Array) => void

export interface EmbeddedBroker {
  /** `mqtt://host:port`. */
  readonly url: string
  readonly port: number
  /** Connections closed for announcing a packet over maxPacketSize. */
  readonly oversizeRejected: number
  /** Observes every client publish (not the broker's own `$SYS` traffic). Returns a function that removes the tap. */
  tap(handler: BrokerTap): () => void
  /** Disconnects every client and stops listening (idempotent). */
  close(): Promise<void>
}

/**
 * Starts an aedes broker on a `net` server.
 * @throws HopsealError INVALID_ARGUMENT for bad options, TRANSPORT_UNAVAILABLE when the port cannot be bound.
 * @example
 * const broker = await startEmbeddedBroker()
 * const t = await connectMqttTransport({ url: broker.url, name: 'a' })
 */
export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const settings = brokerSettings(opts)
  const state: BrokerState = { taps: new Set(), sockets: new Set(), oversize: new WeakSet(), oversizeRejected: 0, maxPacketSize: settings.maxPacketSize }
  const broker = await createAedes(opts.aedes, state)
  const server = guardedServer(broker, state, settings.noDelay)
  const bound = await listen(server, broker, settings.host, settings.port)
  const urlHost = settings.host.includes(':') ? `[${settings.host}]` : settings.host
  return brokerHandle(`mqtt://${urlHost}:${bound}`, bound, server, broker, state)
}

/** What the phases of startEmbeddedBroker share. */
interface BrokerState {
  readonly taps: Set<BrokerTap>
  readonly sockets: Set<net.Socket>
  /** Sockets the guard closed: aedes may still parse the chunk that announced the oversize packet. */
  readonly oversize: WeakSet<object>
  oversizeRejected: number
  readonly maxPacketSize: number
}

/** Phase 1: the options with their defaults, checked. */
function brokerSettings(opts: EmbeddedBrokerOptions): { host: string; port: number; maxPacketSize: number; noDelay: boolean } {
  const host = opts.host ?? DEFAULT_BROKER_HOST
  const port = opts.port ?? 0
  const maxPacketSize = opts.maxPacketSize ?? DEFAULT_BROKER_MAX_PACKET_SIZE
  const noDelay = opts.noDelay ?? true
  if (typeof host !== 'string' || host.length === 0) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'embedded broker host expected a non-empty string')
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `embedded broker port expected 0..65535, got ${port}`)
  if (!Number.isInteger(maxPacketSize) || maxPacketSize < 64 || maxPacketSize > MQTT_MAX_PACKET_SIZE) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `embedded broker maxPacketSize expected 64..${MQTT_MAX_PACKET_SIZE}, got ${maxPacketSize}`)
  return { host, port, maxPacketSize, noDelay }
}

/** Phase 2: the aedes broker, its publish check (oversize, empty levels, $SYS, then the user's) and the taps. */
async function createAedes(aedesOpts: AedesOptions | undefined, state: BrokerState): Promise<Aedes> {
  const userAuthorize = aedesOpts?.authorizePublish
  const authorizePublish: NonNullable<AedesOptions['authorizePublish']> = (client, packet, callback) => {
    if (client && state.oversize.has(client.conn)) return callback(new Error(`packet over maxPacketSize ${state.maxPacketSize}`))
    if (hasEmptyLevel(packet.topic)) return callback(new Error('topics with an empty level are refused (aedes 1.2 persistent-session bug)'))
    if (userAuthorize) return userAuthorize(client, packet, callback)
    // aedes's default check (its issue #597): $SYS is the broker's.
    if (packet.topic.startsWith('$SYS/')) return callback(new Error('$SYS/ topic is reserved'))
    callback(null)
  }
  const broker = await Aedes.createBroker({ ...aedesOpts, authorizePublish })

  broker.on('publish', (packet: AedesPublishPacket, client: Client | null) => {
    if (!client || state.taps.size === 0) return
    const payload = typeof packet.payload === 'string' ? new TextEncoder().encode(packet.payload) : packet.payload
    for (const t of state.taps) {
      try {
        t(packet.topic, new Uint8Array(payload))
      } catch {
        // a tap must not break the broker
      }
    }
  })
  // aedes emits these per client; without listeners an EventEmitter 'error' would throw.
  broker.on('clientError', () => {})
  broker.on('connectionError', () => {})
  return broker
}

/** Phase 3: the TCP server that hands each socket to aedes behind a packet-size guard. */
function guardedServer(broker: Aedes, state: BrokerState, noDelay: boolean): net.Server {
  return net.createServer((socket) => {
    if (noDelay) socket.setNoDelay(true)
    state.sockets.add(socket)
    socket.once('close', () => state.sockets.delete(socket))
    socket.on('error', () => {})
    // Sees exactly the chunks aedes reads (aedes reads in paused mode, and
    // read() emits 'data'), before aedes parses them.
    const guard = new PacketSizeGuard(state.maxPacketSize)
    socket.on('data', (chunk: Buffer) => {
      if (!state.oversize.has(socket) && guard.push(chunk) !== undefined) {
        state.oversize.add(socket)
        state.oversizeRejected++
        socket.destroy()
      }
    })
    broker.handle(socket)
  })
}

/** Phase 4: listens and returns the bound port; on failure closes the broker and throws TRANSPORT_UNAVAILABLE. */
async function listen(server: net.Server, broker: Aedes, host: string, port: number): Promise<number> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (e) {
    await new Promise<void>((r) => broker.close(() => r()))
    throw new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, `embedded broker cannot listen on ${host}:${port}: ${(e as Error).message}`, { cause: e })
  }
  return (server.address() as net.AddressInfo).port
}

/** Phase 5: the handle the caller gets: url, counters, taps and an idempotent close. */
function brokerHandle(url: string, port: number, server: net.Server, broker: Aedes, state: BrokerState): EmbeddedBroker {
  let closing: Promise<void> | undefined
  return {
    url,
    port,
    get oversizeRejected() {
      return state.oversizeRejected
    },
    tap(handler) {
      state.taps.add(handler)
      return () => {
        state.taps.delete(handler)
      }
    },
    close() {
      closing ??= (async () => {
        state.taps.clear()
        const stopped = new Promise<void>((r) => server.close(() => r()))
        await new Promise<void>((r) => broker.close(() => r()))
        for (const s of state.sockets) s.destroy()
        await stopped
      })()
      return closing
    },
  }
}

function hasEmptyLevel(topic: string): boolean {
  return topic.startsWith('/') || topic.endsWith('/') || topic.includes('//')
}
