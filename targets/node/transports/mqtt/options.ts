/**
 * Options of the MQTT transport: the public shape, defaults and checks, and
 * their translation into mqtt.js client options.
 */
import type { IClientOptions } from 'mqtt'
import { ErrorCode, HopsealError } from '../../../../src/errors.ts'
import { utf8 } from '../../../../src/bytes/index.ts'
import {
  ATTEMPT_TIMEOUT_MS,
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_KEEPALIVE_SEC,
  DEFAULT_MAX_INFLIGHT,
  DEFAULT_MAX_PAYLOAD,
  DEFAULT_PREFIX,
  DEFAULT_QOS,
  DEFAULT_RECONNECT_INITIAL_MS,
  DEFAULT_RECONNECT_MAX_MS,
  DEFAULT_SESSION_EXPIRY_SEC,
  MAX_INFLIGHT_LIMIT,
  MAX_NAME_LENGTH,
  MAX_SESSION_EXPIRY_SEC,
  MQTT_MAX_PACKET_SIZE,
  RECEIVE_PACKET_FACTOR,
} from './constants.ts'
import { validateName, validatePrefix } from './topics.ts'

/** TLS material for `mqtts://` and `wss://`, passed to Node's `tls.connect()` as is. */
export interface MqttTlsOptions {
  ca?: string | string[] | Buffer | Buffer[]
  cert?: string | string[] | Buffer | Buffer[]
  key?: string | string[] | Buffer | Buffer[]
  /** Defaults to true (Node's default); set false only for a test broker. */
  rejectUnauthorized?: boolean
}

/** Reconnect backoff: exponential from `initialMs` doubling up to `maxMs`, with jitter. */
export interface MqttReconnectOptions {
  /** First delay after a lost connection or a failed attempt (ms, default 250). */
  initialMs?: number
  /** Largest delay (ms, default 10 000). */
  maxMs?: number
}

/** A shared subscription (MQTT 5 §4.8.2): processes in `group` share the inbound load for `name`. */
export interface MqttSharedSubscription {
  /** The node name the fleet serves (what senders address). */
  name: string
  /** The share group (same rules as names). */
  group: string
}

export interface MqttTransportOptions {
  /** Broker URL: `mqtt://`, `mqtts://`, `ws://` or `wss://`. Credentials in the URL are never echoed in errors. */
  url: string
  /** This node's broker name (its MQTT address): 1–64 characters of `[A-Za-z0-9._-]`. Unique per process. */
  name: string
  /** Topic prefix (default `hopseal/v1`). */
  prefix?: string
  /** QoS of publishes and subscriptions (default 1; 0 makes the transport unreliable). */
  qos?: 0 | 1 | 2
  /** Default `hopseal-${name}`: stable, so the persistent session survives restarts. */
  clientId?: string
  /** Default false: a persistent session, so the broker queues QoS ≥ 1 messages while this node is away. */
  cleanStart?: boolean
  /** MQTT 5 Session Expiry Interval (s, default 3600). Ignored by MQTT 3.1.1, whose sessions never expire. */
  sessionExpirySec?: number
  /** 5 (default) or 4 (MQTT 3.1.1). */
  protocolVersion?: 4 | 5
  /**
   * When the broker refuses MQTT 5 as an unsupported version (aedes, older
   * brokers), retry at once with MQTT 3.1.1 (default true; counted as
   * `protocol_fallback`).
   */
  protocolFallback?: boolean
  /** Keep Alive (s, default 30). */
  keepaliveSec?: number
  username?: string
  password?: string | Uint8Array
  tls?: MqttTlsOptions
  /** Anything else for mqtt.js; the options this transport manages (client id, session, reconnects, timeouts, version) win. */
  mqttOptions?: Partial<IClientOptions>
  reconnect?: MqttReconnectOptions
  /**
   * How long connectMqttTransport() waits for the broker (ms, default 10 000);
   * it then rejects TRANSPORT_UNAVAILABLE. 0 returns at once and connects in
   * the background; sends wait for the connection.
   */
  connectTimeoutMs?: number
  /** How long close() waits for in-flight publishes to be acknowledged (ms, default 2000). */
  closeTimeoutMs?: number
  /** Largest message per send (FRAME_TOO_LARGE above) and per receive (dropped and counted above). Default 64 KiB. */
  maxPayload?: number
  /**
   * Largest MQTT packet this client accepts, advertised to MQTT 5 brokers
   * (Maximum Packet Size, §3.1.2.11.4), which then discard bigger packets for
   * us. Default 4 × maxPayload.
   */
  maxPacketSize?: number
  /** Unacknowledged publishes held at once (default 1024); beyond, send() rejects LIMIT_EXCEEDED. */
  maxInflight?: number
  shared?: MqttSharedSubscription
  /** Disable Nagle's algorithm on every connection (default true; false costs ~40–90 ms per QoS 1 round trip). */
  noDelay?: boolean
  /** Aborting rejects a pending connect with ABORTED and closes the transport. */
  signal?: AbortSignal
}

/** Options after defaults and checks. */
export interface ResolvedMqttOptions {
  readonly url: string
  /** The URL without credentials, for messages. */
  readonly safeUrl: string
  readonly name: string
  readonly prefix: string
  readonly qos: 0 | 1 | 2
  readonly clientId: string
  readonly cleanStart: boolean
  readonly sessionExpirySec: number
  readonly protocolVersion: 4 | 5
  readonly protocolFallback: boolean
  readonly keepaliveSec: number
  readonly reconnectInitialMs: number
  readonly reconnectMaxMs: number
  readonly connectTimeoutMs: number
  readonly closeTimeoutMs: number
  readonly maxPayload: number
  readonly maxPacketSize: number
  readonly maxInflight: number
  readonly shared: Readonly<MqttSharedSubscription> | undefined
  readonly noDelay: boolean
  readonly signal: AbortSignal | undefined
  readonly client: IClientOptions
}

const SCHEMES = new Set(['mqtt:', 'mqtts:', 'ws:', 'wss:'])
const MAX_TIMER_MS = 2 ** 31 - 1
/** Largest clientId accepted here (bytes); MQTT allows 65 535, brokers far less in practice. */
const MAX_CLIENT_ID_BYTES = 256

function invalid(msg: string): never {
  throw new HopsealError(ErrorCode.INVALID_ARGUMENT, msg)
}

function int(label: string, v: unknown, def: number, min: number, max: number): number {
  if (v === undefined) return def
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) invalid(`MQTT ${label} expected an integer ${min}..${max}, got ${String(v)}`)
  return v
}

function bool(label: string, v: unknown, def: boolean): boolean {
  if (v === undefined) return def
  if (typeof v !== 'boolean') invalid(`MQTT ${label} expected a boolean, got ${typeof v}`)
  return v
}

/** The URL with any user:password removed. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    u.username = ''
    u.password = ''
    return u.toString()
  } catch {
    return '<unparseable url>'
  }
}

/** Bytes of an MQTT PUBLISH besides the payload: fixed header, topic, packet id, properties headroom. */
export function publishOverhead(prefix: string): number {
  return 5 + 2 + utf8(prefix).length + 2 + 2 * MAX_NAME_LENGTH + 2 + 64
}

/**
 * Applies defaults and checks every option.
 * @throws HopsealError INVALID_ARGUMENT naming the option.
 */
export function resolveMqttOptions(opts: MqttTransportOptions): ResolvedMqttOptions {
  if (opts === null || typeof opts !== 'object') invalid('MQTT transport options expected an object')
  if (typeof opts.url !== 'string') invalid('MQTT url expected a string')
  let parsed: URL
  try {
    parsed = new URL(opts.url)
  } catch {
    invalid(`MQTT url does not parse: ${JSON.stringify(redactUrl(opts.url))}`)
  }
  if (!SCHEMES.has(parsed.protocol)) invalid(`MQTT url scheme expected mqtt:, mqtts:, ws: or wss:, got ${parsed.protocol}`)
  const safeUrl = redactUrl(opts.url)
  const name = validateName(opts.name, 'name')
  const prefix = validatePrefix(opts.prefix ?? DEFAULT_PREFIX)
  const qos = int('qos', opts.qos, DEFAULT_QOS, 0, 2) as 0 | 1 | 2
  const clientId = opts.clientId ?? `hopseal-${name}`
  if (typeof clientId !== 'string' || clientId.length === 0 || utf8(clientId).length > MAX_CLIENT_ID_BYTES) invalid(`MQTT clientId expected 1..${MAX_CLIENT_ID_BYTES} bytes`)
  const protocolVersion = opts.protocolVersion ?? 5
  if (protocolVersion !== 4 && protocolVersion !== 5) invalid(`MQTT protocolVersion expected 4 or 5, got ${String(protocolVersion)}`)
  const maxPayload = int('maxPayload', opts.maxPayload, DEFAULT_MAX_PAYLOAD, 1, MQTT_MAX_PACKET_SIZE - publishOverhead(prefix))
  const minPacket = maxPayload + publishOverhead(prefix)
  const maxPacketSize = int('maxPacketSize', opts.maxPacketSize, Math.min(MQTT_MAX_PACKET_SIZE, Math.max(minPacket, RECEIVE_PACKET_FACTOR * maxPayload)), minPacket, MQTT_MAX_PACKET_SIZE)
  const reconnectInitialMs = int('reconnect.initialMs', opts.reconnect?.initialMs, DEFAULT_RECONNECT_INITIAL_MS, 1, MAX_TIMER_MS)
  const reconnectMaxMs = int('reconnect.maxMs', opts.reconnect?.maxMs, Math.max(DEFAULT_RECONNECT_MAX_MS, reconnectInitialMs), reconnectInitialMs, MAX_TIMER_MS)
  let shared: MqttSharedSubscription | undefined
  if (opts.shared !== undefined) {
    if (opts.shared === null || typeof opts.shared !== 'object') invalid('MQTT shared expected { name, group }')
    shared = Object.freeze({ name: validateName(opts.shared.name, 'shared.name'), group: validateName(opts.shared.group, 'shared.group') })
  }
  if (opts.username !== undefined && typeof opts.username !== 'string') invalid('MQTT username expected a string')
  if (opts.password !== undefined && typeof opts.password !== 'string' && !(opts.password instanceof Uint8Array)) invalid('MQTT password expected a string or bytes')
  if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal)) invalid('MQTT signal expected an AbortSignal')
  const r = {
    url: opts.url,
    safeUrl,
    name,
    prefix,
    qos,
    clientId,
    cleanStart: bool('cleanStart', opts.cleanStart, false),
    sessionExpirySec: int('sessionExpirySec', opts.sessionExpirySec, DEFAULT_SESSION_EXPIRY_SEC, 0, MAX_SESSION_EXPIRY_SEC),
    protocolVersion,
    protocolFallback: bool('protocolFallback', opts.protocolFallback, true),
    keepaliveSec: int('keepaliveSec', opts.keepaliveSec, DEFAULT_KEEPALIVE_SEC, 0, 65_535),
    reconnectInitialMs,
    reconnectMaxMs,
    connectTimeoutMs: int('connectTimeoutMs', opts.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, 0, MAX_TIMER_MS),
    closeTimeoutMs: int('closeTimeoutMs', opts.closeTimeoutMs, DEFAULT_CLOSE_TIMEOUT_MS, 0, MAX_TIMER_MS),
    maxPayload,
    maxPacketSize,
    maxInflight: int('maxInflight', opts.maxInflight, DEFAULT_MAX_INFLIGHT, 1, MAX_INFLIGHT_LIMIT),
    shared,
    noDelay: bool('noDelay', opts.noDelay, true),
    signal: opts.signal,
  }
  return Object.freeze({ ...r, client: clientOptions(r, opts) })
}

/**
 * The mqtt.js options. Managed keys override `mqttOptions`: the transport
 * owns reconnects (its own backoff), subscriptions (renewed on every
 * connect) and the connect timeout.
 */
function clientOptions(r: Omit<ResolvedMqttOptions, 'client'>, opts: MqttTransportOptions): IClientOptions {
  const extra = opts.mqttOptions ?? {}
  const c: IClientOptions = {
    ...extra,
    clientId: r.clientId,
    clean: r.cleanStart,
    protocolVersion: r.protocolVersion,
    keepalive: r.keepaliveSec,
    manualConnect: true,
    resubscribe: false,
    reconnectOnConnackError: true,
    reconnectPeriod: r.reconnectInitialMs,
    connectTimeout: r.connectTimeoutMs > 0 ? r.connectTimeoutMs : ATTEMPT_TIMEOUT_MS,
    queueQoSZero: true,
  }
  if (opts.username !== undefined) c.username = opts.username
  if (opts.password !== undefined) c.password = typeof opts.password === 'string' ? opts.password : Buffer.from(opts.password)
  const tls = opts.tls ?? {}
  if (tls.ca !== undefined) c.ca = tls.ca
  if (tls.cert !== undefined) c.cert = tls.cert
  if (tls.key !== undefined) c.key = tls.key
  if (tls.rejectUnauthorized !== undefined) c.rejectUnauthorized = tls.rejectUnauthorized
  if (r.protocolVersion === 5) c.properties = v5Properties(r, extra)
  return c
}

/** MQTT 5 CONNECT properties: session expiry and Maximum Packet Size on top of any the caller set. */
export function v5Properties(r: Pick<ResolvedMqttOptions, 'sessionExpirySec' | 'maxPacketSize'>, extra: Partial<IClientOptions>): NonNullable<IClientOptions['properties']> {
  return { ...extra.properties, sessionExpiryInterval: r.sessionExpirySec, maximumPacketSize: r.maxPacketSize }
}
