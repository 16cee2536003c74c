/**
 * Opens the transports a node config names, never blocking start-up on an
 * absent peer: the MQTT transport connects in the background
 * (`connectTimeoutMs: 0`, it retries with backoff), serial links that cannot
 * open yet retry in the background (late-link.ts). Both log their state
 * changes; a node whose broker or radio is away still starts and reports it
 * through `hopseal_transport_up`.
 */
import { readFileSync } from 'node:fs'
import { connectMqttTransport, type MqttTransport, type MqttTransportOptions } from '../transports/mqtt/index.ts'
import { SerialTransport } from '../transports/serial/index.ts'
import type { Clock } from '../../../src/time/clock.ts'
import { buildProfile } from './config-transports.ts'
import type { MqttConfig, SerialLinkConfig } from './config-types.ts'
import { LateSerialLink } from './late-link.ts'
import type { Logger } from './logger.ts'
import { errorText } from './redact.ts'

/** The mqtt.js options for a validated MQTT config (TLS files are read here, at start). */
export function mqttOptions(c: MqttConfig): MqttTransportOptions {
  const o: MqttTransportOptions = { url: c.url, name: c.name, connectTimeoutMs: 0 }
  if (c.prefix !== undefined) o.prefix = c.prefix
  if (c.qos !== undefined) o.qos = c.qos
  if (c.clientId !== undefined) o.clientId = c.clientId
  if (c.cleanStart !== undefined) o.cleanStart = c.cleanStart
  if (c.sessionExpirySec !== undefined) o.sessionExpirySec = c.sessionExpirySec
  if (c.protocolVersion !== undefined) o.protocolVersion = c.protocolVersion
  if (c.keepaliveSec !== undefined) o.keepaliveSec = c.keepaliveSec
  if (c.username !== undefined) o.username = c.username
  if (c.password !== undefined) o.password = c.password.reveal()
  if (c.shared) o.shared = { ...c.shared }
  if (c.reconnect) o.reconnect = { ...c.reconnect }
  if (c.maxPayload !== undefined) o.maxPayload = c.maxPayload
  if (c.maxInflight !== undefined) o.maxInflight = c.maxInflight
  if (c.tls) {
    o.tls = {}
    if (c.tls.caFile) o.tls.ca = readFileSync(c.tls.caFile)
    if (c.tls.certFile) o.tls.cert = readFileSync(c.tls.certFile)
    if (c.tls.keyFile) o.tls.key = readFileSync(c.tls.keyFile)
    if (c.tls.rejectUnauthorized !== undefined) o.tls.rejectUnauthorized = c.tls.rejectUnauthorized
  }
  return o
}

/**
 * Connects (in the background) and logs connection changes. `stopping()` true
 * means the node is shutting down: a disconnect is then expected, not a warning.
 */
export async function openMqtt(c: MqttConfig, log: Logger, stopping: () => boolean): Promise<MqttTransport> {
  const t = await connectMqttTransport(mqttOptions(c))
  log.info('mqtt connecting', { url: t.url, name: t.name, prefix: c.prefix ?? 'hopseal/v1', ...(c.shared ? { shared: `${c.shared.group}/${c.shared.name}` } : {}) })
  let refused = 0
  let fallbacks = 0
  t.onStateChange((up) => {
    if (up) log.info('mqtt connected', { url: t.url, protocol: t.protocolVersion === 5 ? 'mqtt5' : 'mqtt3.1.1' })
    else if (stopping()) log.debug('mqtt disconnected', { url: t.url })
    else log.warn('mqtt disconnected', { url: t.url })
  })
  let takeoverLogged = false
  t.onReconnecting((attempt, delayMs) => {
    if (stopping()) return
    if (t.sessionTakenOver && !takeoverLogged) {
      takeoverLogged = true
      log.error('another MQTT client uses this node\'s client id and keeps taking its session over', { url: t.url, clientId: t.clientId, hint: 'is the same config running twice? every node needs its own name (or transports.mqtt.clientId)' })
    }
    const nowFallbacks = t.counters.protocol_fallback ?? 0
    if (nowFallbacks > fallbacks) {
      // Not a failure: an MQTT 3.1.1 broker (aedes, older Mosquitto) answered; the retry uses 3.1.1 at once.
      fallbacks = nowFallbacks
      log.info('mqtt broker does not speak MQTT 5, using 3.1.1', { url: t.url })
      return
    }
    const nowRefused = t.counters.connect_refused ?? 0
    if (nowRefused > refused) {
      refused = nowRefused
      log.error('mqtt broker refused the connection', { url: t.url, attempt, hint: 'check transports.mqtt.username/passwordFile and the broker ACL' })
    }
    // Attempt 1, 2, 4, 8…: a broker that is away for an hour costs a dozen lines, not thousands.
    if ((attempt & (attempt - 1)) === 0) log.warn('mqtt broker unreachable, retrying', { url: t.url, attempt, delayMs: Math.round(delayMs) })
    else log.debug('mqtt retrying', { url: t.url, attempt, delayMs: Math.round(delayMs) })
  })
  return t
}

export interface OpenedSerial {
  transport: SerialTransport
  links: Map<string, { config: SerialLinkConfig; link: LateSerialLink }>
}

/** Adds every configured link to one SerialTransport; links that cannot open yet retry in the background. */
export async function openSerial(configs: readonly SerialLinkConfig[], clock: Clock, log: Logger, stopping: () => boolean): Promise<OpenedSerial> {
  const transport = new SerialTransport({ clock })
  const links = new Map<string, { config: SerialLinkConfig; link: LateSerialLink }>()
  transport.onLinkEvent((name, event) => {
    const l = links.get(name)
    if (event === 'up') log.info('serial link up', { link: name, path: l?.config.path })
    else if (event === 'down') (stopping() ? log.debug : log.warn)('serial link down', { link: name, path: l?.config.path })
  })
  for (const c of configs) {
    const profile = buildProfile(c.profile, c.profileOptions)
    const link = new LateSerialLink(c.path, {
      clock,
      mtu: Math.max(profile.mtu, 1024),
      ...(c.baudRate !== undefined ? { baudRate: c.baudRate } : {}),
      onOpenError: (attempt, e) => {
        const fields = { link: c.name, path: c.path, attempt, err: errorText(e) }
        if ((attempt & (attempt - 1)) === 0) log.warn('serial link cannot open, retrying', fields)
        else log.debug('serial link cannot open, retrying', fields)
      },
    })
    links.set(c.name, { config: c, link })
    transport.addLink(c.name, link, profile)
    log.info('serial link added', { link: c.name, path: c.path, profile: profile.name, mtu: profile.mtu })
  }
  await Promise.all([...links.values()].map((l) => l.link.start()))
  return { transport, links }
}
