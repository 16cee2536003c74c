/**
 * The long-lived node runtime: what `hopseal node start` runs on a gateway
 * (a Raspberry Pi with a LoRa modem) or a server.
 *
 * Start order: vault → MQTT (background connect) → serial links (background
 * open) → gateway or plain transport registration → relay → listeners →
 * metrics endpoint → `ready`. A failure during start closes what was opened,
 * in reverse order, and rethrows. A broker or a radio that is away is not a
 * failure: the node starts, logs, retries, and reports it in its metrics.
 *
 * Shutdown (`close()`, or the AbortSignal): listeners close their channels
 * (an encrypted close each, bounded to CHANNEL_CLOSE_BUDGET_MS), then the
 * relay, gateway and transports (MQTT waits for its PUBACKs), the vault; the
 * metrics endpoint goes last so `/healthz` answers 503 while stopping. The
 * whole sequence is bounded by `limits.shutdownTimeoutMs`; past it `close()`
 * rejects TIMEOUT and the caller exits anyway.
 *
 * @example
 * const log = createLogger({ name: config.name, level: config.log.level })
 * const rt = await startNodeRuntime(config, { log })
 * process.once('SIGTERM', () => void rt.close())
 */
import { VERSION } from '../cli/version.ts'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { ErrorCode, HopsealError, throwIfAborted } from '../../../src/errors.ts'
import { openVaultSpec, type VaultFactoryContext } from '../cli/vault-registry.ts'
import { Node } from '../../../src/routing/node.ts'
import { startRelayService } from '../../../src/routing/relay.ts'
import { defaultCryptoProvider } from '../../../src/crypto/index.ts'
import { relayRegistrationVerifier } from '../../../src/identity/signing.ts'
import { startGateway, type Gateway } from '../../../src/transports/gateway/index.ts'
import type { MqttTransport } from '../transports/mqtt/index.ts'
import { systemClock, type Clock } from '../../../src/time/clock.ts'
import type { Vault } from '../../../src/vault/index.ts'
import type { NodeConfig } from './config-types.ts'
import { startHttpEndpoint, type HttpEndpoint } from './http.ts'
import { startListener, type RunningListener } from './listeners.ts'
import type { Logger } from './logger.ts'
import { renderMetrics, type MetricsSnapshot } from './metrics.ts'
import { errorText } from './redact.ts'
import { buildStatus, type NodeStatus } from './status.ts'
import { openMqtt, openSerial, type OpenedSerial } from './transports.ts'

/** Budget for listeners' encrypted close messages at shutdown (ms): a duty-cycled radio must not hold the exit. */
export const CHANNEL_CLOSE_BUDGET_MS = 1_000

export interface RuntimeOptions {
  log: Logger
  /** Time source for mailboxes, serial pacing and channels (default: the system clock). */
  clock?: Clock
  /** Aborting it shuts the node down (as close() does). */
  signal?: AbortSignal
  /** Vault factory context (env and HOPSEAL_HOME); default from process.env. */
  vaultContext?: VaultFactoryContext
}

export interface NodeRuntime {
  readonly node: Node
  /** `http://host:port` of the metrics endpoint, when configured. */
  readonly metricsUrl: string | undefined
  /** The config's vault while the node runs (`relay create` signs its registrations with it); closed by close(). */
  readonly vault: Vault | undefined
  status(): NodeStatus
  /** Prometheus text of the current metrics. */
  metrics(): string
  /**
   * Graceful shutdown (idempotent).
   * @throws HopsealError TIMEOUT when it took longer than limits.shutdownTimeoutMs.
   */
  close(): Promise<void>
}

/** The hopseal version from package.json (shown in /status and hopseal_info). */
export { VERSION }

/**
 * Starts a node from a validated config.
 * @throws HopsealError from the vault (VAULT_*), a listener key (VAULT_KEY_NOT_FOUND),
 *   the metrics port (TRANSPORT_UNAVAILABLE) or an early abort (ABORTED);
 *   everything started so far is closed first.
 */
export async function startNodeRuntime(config: NodeConfig, opts: RuntimeOptions): Promise<NodeRuntime> {
  const { log } = opts
  const clock = opts.clock ?? systemClock
  const started = Date.now()
  const node = new Node({ name: config.name })
  const closers: { what: string; close: () => Promise<void> | void }[] = []
  let state: 'starting' | 'running' | 'stopping' | 'stopped' = 'starting'
  let vault: Vault | undefined
  let mqtt: MqttTransport | undefined
  let serial: OpenedSerial | undefined
  let gateway: Gateway | undefined
  const listeners: RunningListener[] = []
  let http: HttpEndpoint | undefined

  const snapshot = (): MetricsSnapshot => collect(config, node, { mqtt, serial, gateway, listeners }, (Date.now() - started) / 1000)
  let closing: Promise<void> | undefined
  const close = (): Promise<void> => (closing ??= shutdown())

  async function shutdown(): Promise<void> {
    state = 'stopping'
    log.info('stopping', { timeoutMs: config.limits.shutdownTimeoutMs })
    let timer: ReturnType<typeof setTimeout> | undefined
    const steps = (async () => {
      for (const c of [...closers].reverse()) {
        try {
          await c.close()
          log.debug('closed', { what: c.what })
        } catch (e) {
          log.warn('close failed', { what: c.what, err: errorText(e) })
        }
      }
    })()
    const timedOut = await Promise.race([
      steps.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), config.limits.shutdownTimeoutMs))),
    ])
    clearTimeout(timer)
    await http?.close()
    state = 'stopped'
    if (timedOut) {
      log.error('shutdown timed out; exiting with work left', { timeoutMs: config.limits.shutdownTimeoutMs })
      throw new HopsealError(ErrorCode.TIMEOUT, `shutdown took longer than limits.shutdownTimeoutMs (${config.limits.shutdownTimeoutMs} ms)`)
    }
    log.info('stopped')
  }

  const onAbort = (): void => void close().catch(() => undefined)
  try {
    log.info('starting', { config: config.file, version: VERSION, pid: process.pid })
    throwIfAborted(opts.signal)
    if (config.vault) {
      const ctx = opts.vaultContext ?? { env: process.env, home: process.env.HOPSEAL_HOME ?? join(homedir(), '.hopseal') }
      const v = await openVaultSpec(config.vault, ctx)
      vault = v
      closers.push({ what: 'vault', close: () => v.close() })
      log.info('vault opened', { vault: v.name, kind: config.vault.split(':')[0] })
    }
    throwIfAborted(opts.signal)
    if (config.transports.mqtt) {
      const t = await openMqtt(config.transports.mqtt, log, () => state === 'stopping')
      mqtt = t
      closers.push({ what: 'mqtt', close: () => t.close() })
    }
    if (config.transports.serial.length > 0) {
      const s = await openSerial(config.transports.serial, clock, log, () => state === 'stopping')
      serial = s
      closers.push({ what: 'serial', close: () => s.transport.close() })
    }
    throwIfAborted(opts.signal)
    if (config.gateway && serial) {
      const g = config.gateway
      const gw = startGateway({
        node,
        link: serial.transport,
        upstream: mqtt ? [mqtt] : [],
        devices: g.devices,
        routes: Object.fromEntries(g.routes.map((r) => [r.alias, r.route])),
        mailbox: g.mailbox,
        clock,
      })
      gateway = gw
      // The gateway closes its link and upstream transports itself (their own closers are then no-ops).
      closers.push({ what: 'gateway', close: () => gw.close() })
      log.info('gateway started', { links: serial.links.size, routes: g.routes.map((r) => `${r.alias}=${r.text}`).join(','), upstream: mqtt ? 'mqtt' : 'none' })
    } else {
      if (mqtt) node.registerTransport(mqtt)
      if (serial) node.registerTransport(serial.transport)
    }
    if (config.relay) {
      // Registrations are signed for the relay's name: its node name or its MQTT name (what `--at 2#NAME` says).
      const names = [...new Set([config.name, ...(config.transports.mqtt ? [config.transports.mqtt.name] : [])])]
      const relay = startRelayService(node, { verifier: relayRegistrationVerifier(defaultCryptoProvider()), maxAliases: config.relay.maxAliases, names, clock })
      closers.push({ what: 'relay', close: () => relay.stop() })
      log.info('relay started', { maxAliases: config.relay.maxAliases, names: names.join(',') })
    }
    for (const [i, l] of config.listeners.entries()) {
      const running = await startListener(node, vault!, l, i, config, log, clock)
      listeners.push(running)
      closers.push({
        what: `listener ${l.address}`,
        close: async () => {
          const all = [...running.listener.channels].map((c) => c.close().catch(() => undefined))
          await Promise.race([Promise.all(all), new Promise((r) => setTimeout(r, CHANNEL_CLOSE_BUDGET_MS).unref())])
          running.listener.stop()
        },
      })
    }
    if (config.metrics) {
      http = await startHttpEndpoint({
        host: config.metrics.host,
        port: config.metrics.port,
        metrics: () => renderMetrics(snapshot()),
        status: () => buildStatus(config, state, snapshot(), http?.url),
        healthy: () => state === 'running',
      })
      if (!/^(127\.|::1$|localhost$)/.test(config.metrics.host)) log.warn('metrics endpoint is reachable from the network; it has no authentication', { host: config.metrics.host })
    }
    throwIfAborted(opts.signal)
  } catch (e) {
    log.error('start failed', { err: errorText(e) })
    await close().catch(() => undefined)
    throw e
  }
  state = 'running'
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  log.info('ready', { ...(http ? { metrics: http.url } : {}), mqtt: mqtt ? mqtt.url : 'none', serial: [...(serial?.links.keys() ?? [])].join(',') || 'none', listeners: listeners.length })
  return {
    node,
    get metricsUrl() {
      return http?.url
    },
    get vault() {
      return vault
    },
    status: () => buildStatus(config, state, snapshot(), http?.url),
    metrics: () => renderMetrics(snapshot()),
    close: () => {
      opts.signal?.removeEventListener('abort', onAbort)
      return close()
    },
  }
}

interface Parts {
  mqtt: MqttTransport | undefined
  serial: OpenedSerial | undefined
  gateway: Gateway | undefined
  listeners: RunningListener[]
}

/** Reads everything a scrape shows; never throws (a closed link just reads as down). */
function collect(config: NodeConfig, node: Node, p: Parts, uptimeSeconds: number): MetricsSnapshot {
  const s: MetricsSnapshot = {
    name: config.name,
    version: VERSION,
    uptimeSeconds,
    counters: node.counters,
    channels: p.listeners.reduce((n, l) => n + l.listener.channels.size, 0),
    transports: [],
    serialAirtimeMs: [],
    transportEvents: [],
  }
  if (p.mqtt) {
    s.transports.push({ transport: 'mqtt', link: p.mqtt.name, up: p.mqtt.connected })
    for (const [event, value] of Object.entries(p.mqtt.counters)) s.transportEvents.push({ transport: 'mqtt', link: p.mqtt.name, event, value })
  }
  for (const [name, { link }] of p.serial?.links ?? []) {
    s.transports.push({ transport: 'serial', link: name, up: link.up })
    for (const [event, value] of Object.entries(link.counters)) s.transportEvents.push({ transport: 'serial', link: name, event, value })
    try {
      const st = p.serial!.transport.stats(name)
      s.serialAirtimeMs.push({ link: name, ms: st.airtimeMs })
      for (const [reason, value] of Object.entries(st.drops)) s.transportEvents.push({ transport: 'serial', link: name, event: `drop.${reason}`, value })
      // The link reports its own frame counts when it is open; adding the transport's as well counted every frame twice.
      for (const k of ['framesSent', 'framesReceived'] as const) if (!(k in link.counters)) s.transportEvents.push({ transport: 'serial', link: name, event: k, value: st[k] })
    } catch {
      // the transport is closed: no stats
    }
  }
  if (p.gateway) {
    s.mailboxBytes = p.gateway.mailboxBytes
    s.mailboxMessages = Object.fromEntries([...(p.serial?.links.keys() ?? [])].map((d) => [d, p.gateway!.mailboxSize(d)]))
  }
  return s
}
