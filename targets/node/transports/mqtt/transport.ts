/**
 * The MQTT transport (architecture.md §3, §6): carries encoded routing
 * messages between nodes through an MQTT broker, on the topic scheme of
 * ./topics.ts, over mqtt.js.
 *
 * - QoS 1 by default: send() resolves on PUBACK (MQTT 5 §4.3.2). A QoS 1
 *   message can arrive twice and out of order after a reconnect (the client
 *   re-sends unacknowledged publishes with DUP set, §4.4), so the transport
 *   declares `ordered: false`; the channel layer's replay window and reliable
 *   mode deal with both.
 * - A persistent session (Clean Start 0 and a stable client id, §3.1.2.4) so
 *   the broker queues ciphertext for an endpoint that is away.
 * - Reconnects with exponential backoff and jitter (./backoff.ts); the
 *   subscription is renewed on every connect, which also covers a broker that
 *   lost its sessions (a restart without persistence).
 * - Nagle is off on every connection (platform-notes item 2): with it on,
 *   each QoS 1 round trip waits for the peer's delayed ACK (~40–90 ms).
 * - Nothing a peer or the broker sends can throw here: oversize payloads,
 *   unparseable topics and handler errors are dropped and counted.
 */
import mqtt from 'mqtt'
import type { IConnackPacket, MqttClient, Packet } from 'mqtt'
import { ErrorCode, HopsealError } from '../../../../src/errors.ts'
import { address, TransportType, type Address } from '../../../../src/routing/address.ts'
import type { Transport, TransportProperties } from '../../../../src/routing/transport.ts'
import { Backoff } from './backoff.ts'
import { EARLY_RECEIVE_LIMIT, FALLBACK_RETRY_MS, SESSION_TAKEN_OVER, TAKEOVER_SUSPECT_COUNT, TAKEOVER_SUSPECT_MS, TLS_FATAL_CODES, TRANSIENT_CONNACK_CODES, UNSUPPORTED_VERSION_CODES } from './constants.ts'
import { resolveMqttOptions, type MqttTransportOptions, type ResolvedMqttOptions } from './options.ts'
import { inboxFilter, isValidName, messageTopic, parseMessageTopic, sharedInboxFilter } from './topics.ts'

type ReceiveHandler = (bytes: Uint8Array, from: Address) => void

interface Pending {
  reject(e: Error): void
}

const decoder = new TextDecoder('utf-8', { fatal: true })
/** Peer names whose topic and address a transport keeps (topicFor, addressOf). */
const PEER_CACHE_LIMIT = 1024

/**
 * Connects an MQTT transport and waits (up to `connectTimeoutMs`) until it is
 * connected and subscribed, so messages addressed to it from then on reach it.
 *
 * @throws HopsealError INVALID_ARGUMENT for a bad option; TRANSPORT_UNAVAILABLE
 *   when the broker stays unreachable for `connectTimeoutMs`, or at once when
 *   it refuses the connection or subscription (bad credentials, not
 *   authorized) or its TLS certificate does not verify; ABORTED
 *   when `signal` fires first. The client is cleaned up in every case.
 * @example
 * const t = await connectMqttTransport({ url: 'mqtt://127.0.0.1:1883', name: 'gw-1' })
 * node.registerTransport(t)
 * await node.send([address(TransportType.MQTT, 'sensor-7'), local('echo')], payload)
 */
export async function connectMqttTransport(opts: MqttTransportOptions): Promise<MqttTransport> {
  const o = resolveMqttOptions(opts)
  if (o.signal?.aborted) throw new HopsealError(ErrorCode.ABORTED, `MQTT connect to ${o.safeUrl} aborted`, { cause: o.signal.reason })
  const t = new MqttTransport(o)
  if (o.connectTimeoutMs === 0) return t
  try {
    await t.ready(o.connectTimeoutMs)
  } catch (e) {
    await t.close()
    throw e
  }
  return t
}

/** An MQTT endpoint of one node (see {@link connectMqttTransport}). */
export class MqttTransport implements Transport {
  readonly type = TransportType.MQTT
  readonly properties: TransportProperties
  /** This node's broker name. */
  readonly name: string
  /** The broker URL without credentials. */
  readonly url: string

  private readonly o: ResolvedMqttOptions
  private readonly client: MqttClient
  private readonly backoff: Backoff
  private readonly recipients: readonly string[]
  private readonly filters: readonly string[]
  private readonly counts = new Map<string, number>()
  private readonly pending = new Set<Pending>()
  private readonly stateHandlers = new Set<(up: boolean) => void>()
  private readonly reconnectHandlers = new Set<(attempt: number, delayMs: number) => void>()
  private handler: ReceiveHandler | undefined
  private early: { bytes: Uint8Array; from: Address }[] = []
  /**
   * Per peer name: the topic messages to it go to, and the address messages
   * from it come from, made once instead of for every message (a decode, a
   * name check and a topic string per send; an encoded, frozen address per
   * receive, which a channel then keeps in its return route). Bounded: cleared when full.
   */
  private readonly topicTo = new Map<string, string>()
  private readonly addressOf = new Map<string, Address>()
  private up = false
  private everUp = false
  private closed = false
  private closing: Promise<void> | undefined
  private generation = 0
  private failedAttempts = 0
  /** When the current connection came up (Date.now()), and how many in a row the broker closed soon after. */
  private upSince = 0
  private shortLived = 0
  private takeoverReported = false
  /** CONNACK's Shared Subscription Available (MQTT 5; undefined: not said, which means available). */
  private sharedAvailable: boolean | undefined
  private refusal: number | undefined
  private lastError: Error | undefined
  private readyWaiter: { resolve(): void; reject(e: Error): void } | undefined
  private readonly onAbort = (): void => {
    this.fail(new HopsealError(ErrorCode.ABORTED, `MQTT connect to ${this.url} aborted`, { cause: this.o.signal?.reason }))
    void this.close()
  }

  /** @internal Use {@link connectMqttTransport}. */
  constructor(opts: ResolvedMqttOptions | MqttTransportOptions) {
    const o = 'safeUrl' in opts ? (opts as ResolvedMqttOptions) : resolveMqttOptions(opts)
    this.o = o
    this.name = o.name
    this.url = o.safeUrl
    this.properties = Object.freeze({ maxPayload: o.maxPayload, reliable: o.qos > 0, ordered: false })
    this.recipients = o.shared ? [o.name, o.shared.name] : [o.name]
    this.filters = o.shared ? [inboxFilter(o.prefix, o.name), sharedInboxFilter(o.prefix, o.shared.group, o.shared.name)] : [inboxFilter(o.prefix, o.name)]
    for (const k of ['published', 'received', 'reconnects']) this.counts.set(k, 0)
    this.backoff = new Backoff(o.reconnectInitialMs, o.reconnectMaxMs)
    // A copy: mqtt.js writes into its options (defaults, protocol switches).
    this.client = mqtt.connect(o.url, { ...o.client, ...(o.client.properties ? { properties: { ...o.client.properties } } : {}) })
    this.wire()
    this.armBackoff()
    o.signal?.addEventListener('abort', this.onAbort, { once: true })
    this.client.connect()
  }

  /** This node's own address (what peers put in routes to reach it). */
  get address(): Address {
    return address(TransportType.MQTT, this.name)
  }

  /** True while connected to the broker and subscribed. */
  get connected(): boolean {
    return this.up
  }

  /** The MQTT version in use: 5, or 4 after a fallback to 3.1.1. */
  get protocolVersion(): number {
    return this.client.options.protocolVersion ?? this.o.protocolVersion
  }

  /**
   * A snapshot of the counters: `published` (acknowledged publishes),
   * `received`, `reconnects` (connections regained), `connects`,
   * `connect_errors`, `protocol_fallback`, `subscribe_failed`, and `drop.*`
   * by reason (`too_large`, `bad_topic`, `no_handler`, `handler_error`).
   */
  get counters(): Readonly<Record<string, number>> {
    return Object.freeze(Object.fromEntries(this.counts))
  }

  /** Observes connection changes (true: connected and subscribed). Returns an unsubscribe function. */
  onStateChange(handler: (up: boolean) => void): () => void {
    this.stateHandlers.add(handler)
    return () => this.stateHandlers.delete(handler)
  }

  /** Observes each scheduled reconnect: the attempt number since the last good connection and its delay (ms). */
  onReconnecting(handler: (attempt: number, delayMs: number) => void): () => void {
    this.reconnectHandlers.add(handler)
    return () => this.reconnectHandlers.delete(handler)
  }

  /**
   * Publishes `bytes` to the node at `to`; resolves when the broker has
   * acknowledged it (QoS ≥ 1) or it is written (QoS 0). While disconnected
   * the message waits and goes out after the reconnect.
   * @throws HopsealError INVALID_ARGUMENT (not an MQTT address, invalid name),
   *   FRAME_TOO_LARGE (over maxPayload), LIMIT_EXCEEDED (maxInflight
   *   unacknowledged), TRANSPORT_UNAVAILABLE (closed, or closed before the
   *   broker acknowledged it: delivery unknown).
   */
  send(to: Address, bytes: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, `MQTT transport ${this.name} is closed`))
    if (!to || to.type !== TransportType.MQTT) return Promise.reject(new HopsealError(ErrorCode.INVALID_ARGUMENT, `MQTT send expected an MQTT address (type ${TransportType.MQTT}), got type ${String(to?.type)}`))
    const topic = this.topicFor(to.value)
    if (!topic) return Promise.reject(new HopsealError(ErrorCode.INVALID_ARGUMENT, 'MQTT send: the address is not a valid node name ([A-Za-z0-9._-], 1..64)'))
    const toName = topic.name
    if (!(bytes instanceof Uint8Array)) return Promise.reject(new HopsealError(ErrorCode.INVALID_ARGUMENT, 'MQTT send expected bytes (Uint8Array)'))
    if (bytes.length > this.o.maxPayload) return Promise.reject(new HopsealError(ErrorCode.FRAME_TOO_LARGE, `MQTT message of ${bytes.length} bytes exceeds maxPayload ${this.o.maxPayload}`))
    if (this.pending.size >= this.o.maxInflight) return Promise.reject(new HopsealError(ErrorCode.LIMIT_EXCEEDED, `MQTT transport ${this.name} has ${this.pending.size} unacknowledged publishes (maxInflight ${this.o.maxInflight})`))
    // A copy: the caller may reuse its buffer, and mqtt.js keeps the payload
    // until the broker acknowledges it (possibly across reconnects).
    const payload = Buffer.from(bytes)
    return new Promise<void>((resolve, reject) => {
      const p: Pending = { reject }
      this.pending.add(p)
      this.client.publish(topic.topic, payload, { qos: this.o.qos }, (err) => {
        if (!this.pending.delete(p)) return
        if (err) {
          this.count('send_errors')
          reject(new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, `MQTT publish to ${toName} failed: ${err.message}`, { cause: err }))
        } else {
          this.count('published')
          resolve()
        }
      })
    })
  }

  /** Installs the receive handler; messages that arrived before it (a persistent session's queue) are delivered now. */
  onReceive(handler: ReceiveHandler): void {
    this.handler = handler
    const early = this.early
    this.early = []
    for (const m of early) this.deliver(m.bytes, m.from)
  }

  /**
   * Ends the connection gracefully (idempotent): waits up to closeTimeoutMs
   * for unacknowledged publishes, sends DISCONNECT, and rejects what is still
   * pending with TRANSPORT_UNAVAILABLE. With a persistent session the broker
   * keeps queueing for this client id.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  /** @internal Resolves once connected and subscribed; rejects on a fatal refusal or after `timeoutMs`. */
  ready(timeoutMs: number): Promise<void> {
    if (this.up) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.readyWaiter = undefined
        const why = this.lastError ? ` (last error: ${this.lastError.message})` : ''
        reject(new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, `MQTT broker ${this.url} unreachable for ${timeoutMs} ms${why}`, { cause: this.lastError }))
      }, timeoutMs)
      this.readyWaiter = {
        resolve: () => {
          clearTimeout(timer)
          this.readyWaiter = undefined
          resolve()
        },
        reject: (e) => {
          clearTimeout(timer)
          this.readyWaiter = undefined
          reject(e)
        },
      }
    })
  }

  /**
   * True once another client with this client id seems to take this node's
   * session over (the broker said so, or closed several connections in a row
   * right after accepting them): two nodes started with one config.
   */
  get sessionTakenOver(): boolean {
    return this.takeoverReported
  }

  private suspectTakeover(why: 'session_taken_over' | 'short_connections'): void {
    this.count(why)
    this.takeoverReported = true
  }

  /** The MQTT client id this transport connects with. */
  get clientId(): string {
    return this.o.clientId
  }

  /**
   * A shared subscription the broker cannot serve: MQTT 5 brokers say so in
   * CONNACK (Shared Subscription Available = 0, §3.2.2.3.13); a broker that
   * speaks only MQTT 3.1.1 (we fell back to it) has no shared subscriptions in
   * its protocol at all (an explicit `protocolVersion: 4` is trusted: Mosquitto
   * serves $share to 3.1.1 clients).
   */
  private sharedRefusal(): HopsealError | undefined {
    const s = this.o.shared
    if (!s) return undefined
    const why =
      this.sharedAvailable === false ? 'says in CONNACK that it has no shared subscriptions'
      : (this.counts.get('protocol_fallback') ?? 0) > 0 && this.client.options.protocolVersion === 4 ? 'speaks only MQTT 3.1.1, which has no shared subscriptions'
      : undefined
    if (!why) return undefined
    return new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, `MQTT broker ${this.url} ${why}: shared: { name: ${s.name}, group: ${s.group} } would receive nothing (fix: a broker with MQTT 5 shared subscriptions such as Mosquitto or EMQX, or remove shared and run one gateway for ${s.name}; with a broker that serves $share to 3.1.1 clients, set protocolVersion: 4)`)
  }

  private fail(e: Error): void {
    this.readyWaiter?.reject(e)
  }

  private count(k: string, n = 1): void {
    this.counts.set(k, (this.counts.get(k) ?? 0) + n)
  }

  private setUp(up: boolean): void {
    if (this.up === up) return
    this.up = up
    for (const h of this.stateHandlers) {
      try {
        h(up)
      } catch {
        this.count('handler_errors')
      }
    }
  }

  /** The delay the client waits after the current connection or attempt fails. */
  private armBackoff(): void {
    this.client.options.reconnectPeriod = this.backoff.next()
  }

  private wire(): void {
    const c = this.client
    c.on('error', (e) => {
      const rc = this.refusal
      this.refusal = undefined
      if (rc !== undefined && this.fallBack(rc)) return
      this.lastError = e
      this.count('connect_errors')
      if (rc !== undefined) this.onRefused(rc, e)
      else if (!this.everUp && TLS_FATAL_CODES.has(String((e as { code?: unknown }).code))) {
        this.fail(new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, `MQTT broker ${this.url}: TLS certificate rejected: ${e.message}`, { cause: e }))
      }
    })
    c.on('packetreceive', (p: Packet) => {
      if (p.cmd !== 'connack') return
      const ack = p as IConnackPacket
      const rc = ack.reasonCode ?? ack.returnCode ?? 0
      if (rc !== 0) this.refusal = rc
      else this.sharedAvailable = ack.properties?.sharedSubscriptionAvailable
    })
    c.on('reconnect', () => {
      this.count('connect_attempts')
      this.armBackoff()
    })
    c.on('connect', () => this.onConnect())
    c.on('close', () => {
      this.generation++
      const wasUp = this.up
      this.setUp(false)
      if (this.closed) return
      // A connection the broker closes soon after accepting it, again and again, is what two clients with one id do to
      // each other on MQTT 3.1.1 brokers, which say nothing (aedes closes the older connection without a reason).
      if (wasUp) {
        this.shortLived = Date.now() - this.upSince < TAKEOVER_SUSPECT_MS ? this.shortLived + 1 : 0
        if (this.shortLived >= TAKEOVER_SUSPECT_COUNT) this.suspectTakeover('short_connections')
      }
      this.failedAttempts++
      const delay = c.options.reconnectPeriod ?? 0
      for (const h of this.reconnectHandlers) {
        try {
          h(this.failedAttempts, delay)
        } catch {
          this.count('handler_errors')
        }
      }
    })
    c.on('disconnect', (p: { reasonCode?: number }) => {
      this.count('broker_disconnects')
      // MQTT 5 §3.14.2.1: 0x8E "Session taken over": another connection with this client id.
      if (p.reasonCode === SESSION_TAKEN_OVER) this.suspectTakeover('session_taken_over')
    })
    c.on('message', (topic, payload) => this.onMessage(topic, payload))
  }

  /**
   * An MQTT 3.1.1 broker refuses an MQTT 5 CONNECT as an unacceptable
   * version: retry at once with 3.1.1 (runs inside mqtt.js's CONNACK handler,
   * before it schedules the reconnect, so the short period applies).
   */
  private fallBack(rc: number): boolean {
    const c = this.client
    if (!UNSUPPORTED_VERSION_CODES.has(rc) || c.options.protocolVersion !== 5 || !this.o.protocolFallback) return false
    c.options.protocolVersion = 4
    delete c.options.properties
    c.options.reconnectPeriod = FALLBACK_RETRY_MS
    this.count('protocol_fallback')
    return true
  }

  /** Any other CONNACK refusal: fail the first connect on a configuration error, else keep retrying. */
  private onRefused(rc: number, e: Error): void {
    this.count('connect_refused')
    if (!this.everUp && !TRANSIENT_CONNACK_CODES.has(rc)) {
      this.fail(new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, `MQTT broker ${this.url} refused the connection: ${e.message}`, { cause: e }))
    }
  }

  private onConnect(): void {
    const c = this.client
    const noShared = this.sharedRefusal()
    if (noShared) {
      // Loud, not silent: a $share filter on a broker without shared subscriptions matches nothing (0 of 40 delivered).
      this.count('shared_unavailable')
      this.lastError = noShared
      this.fail(noShared)
      c.end(true)
      return
    }
    if (this.everUp) this.count('reconnects')
    this.count('connects')
    if (this.o.noDelay) (c.stream as unknown as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true)
    const gen = this.generation
    const stream = c.stream
    const topics = Object.fromEntries(this.filters.map((f) => [f, { qos: this.o.qos }]))
    c.subscribe(topics, (err, granted) => {
      // This connection is gone (mqtt.js fails a pending SUBSCRIBE as the
      // stream closes): the next connect subscribes again.
      if (this.closed || gen !== this.generation || stream.destroyed) return
      const refused = granted?.find((g) => g.qos >= 0x80)
      if (err || refused) {
        this.count('subscribe_failed')
        const what = refused ? `refused ${refused.topic} (code ${refused.qos})` : (err?.message ?? 'failed')
        const e = new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, `MQTT broker ${this.url} subscription ${what}`)
        this.lastError = e
        if (!this.everUp) this.fail(e)
        else c.stream.destroy() // retry through the backoff: maybe an ACL is being deployed
        return
      }
      this.everUp = true
      this.upSince = Date.now()
      this.failedAttempts = 0
      this.backoff.reset()
      this.armBackoff()
      this.setUp(true)
      this.readyWaiter?.resolve()
    })
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (this.closed) return
    if (payload.length > this.o.maxPayload) return this.count('drop.too_large')
    const fromName = parseMessageTopic(this.o.prefix, this.recipients, topic)
    if (fromName === undefined) return this.count('drop.bad_topic')
    this.count('received')
    // A copy: the payload is a view into the socket chunk; keeping it would
    // pin the whole chunk for as long as the receiver holds the message.
    const bytes = new Uint8Array(payload)
    let from = this.addressOf.get(fromName)
    if (!from) {
      if (this.addressOf.size >= PEER_CACHE_LIMIT) this.addressOf.clear()
      from = address(TransportType.MQTT, fromName)
      this.addressOf.set(fromName, from)
    }
    if (this.handler) {
      // mqtt.js writes this message's PUBACK right after this handler returns and flushes it on the
      // next tick; a reply the handler sends after an await (a secure channel's answer always comes
      // after some) then needs a socket write of its own. Corked until the microtasks have run, both
      // leave in one write: ~20 µs less per channel round trip over MQTT on loopback (bench/transports.ts).
      const stream = this.client.stream as { cork?: () => void; uncork?: () => void } | undefined
      stream?.cork?.()
      setImmediate(() => stream?.uncork?.())
      return this.deliver(bytes, from)
    }
    if (this.early.length >= EARLY_RECEIVE_LIMIT) return this.count('drop.no_handler')
    this.early.push({ bytes, from })
  }

  /** The topic of messages to the node named by `value` (UTF-8), or undefined for a name that is not valid. */
  private topicFor(value: Uint8Array): { name: string; topic: string } | undefined {
    // The name's bytes as a map key: valid names are ASCII, so one char per byte.
    const key = value.length <= 64 ? String.fromCharCode(...value) : ''
    const known = this.topicTo.get(key)
    if (known !== undefined) return { name: key, topic: known }
    let name: string
    try {
      name = decoder.decode(value)
    } catch {
      return undefined
    }
    if (!isValidName(name)) return undefined
    if (this.topicTo.size >= PEER_CACHE_LIMIT) this.topicTo.clear()
    const topic = messageTopic(this.o.prefix, name, this.name)
    this.topicTo.set(key, topic)
    return { name, topic }
  }

  private deliver(bytes: Uint8Array, from: Address): void {
    try {
      this.handler?.(bytes, from)
    } catch {
      this.count('drop.handler_error')
    }
  }

  private async shutdown(): Promise<void> {
    this.closed = true
    this.o.signal?.removeEventListener('abort', this.onAbort)
    this.fail(new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, `MQTT transport ${this.name} closed while connecting to ${this.url}`))
    const c = this.client
    if (c.connected && this.pending.size > 0 && this.o.closeTimeoutMs > 0) await this.drained(this.o.closeTimeoutMs)
    const graceful = c.connected && Object.keys(c.outgoing).length === 0
    this.setUp(false)
    // mqtt.js with manualConnect clears its `disconnecting` flag once end() finishes; a socket
    // still connecting then closes afterwards and schedules a reconnect interval that nothing
    // ever clears (the process never exits). No reconnect period: nothing to schedule.
    c.options.reconnectPeriod = 0
    await new Promise<void>((resolve) => {
      // A last resort: a graceful end can wait on a broker that stopped answering.
      const timer = setTimeout(() => {
        c.stream?.destroy()
        resolve()
      }, Math.max(this.o.closeTimeoutMs, 100))
      c.end(!graceful, () => {
        clearTimeout(timer)
        resolve()
      })
    })
    const err = new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, `MQTT transport ${this.name} closed before the broker acknowledged the message (delivery unknown)`)
    for (const p of this.pending) p.reject(err)
    this.pending.clear()
    this.early = []
  }

  /** Resolves when no publish is pending, or after `ms`. */
  private drained(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const deadline = Date.now() + ms
      const tick = (): void => {
        if (this.pending.size === 0 || Date.now() >= deadline || !this.client.connected) resolve()
        else setTimeout(tick, 5)
      }
      tick()
    })
  }
}
