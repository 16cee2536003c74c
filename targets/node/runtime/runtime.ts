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
import { defaultCryptoProvider } from '../crypto/index.ts'
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
  const rt = new Runtime(config, opts)
  const onAbort = (): void => void rt.close().catch(() => undefined)
  try {
    await rt.start()
  } catch (e) {
    opts.log.error('start failed', { err: errorText(e) })
    await rt.close().catch(() => undefined)
    throw e
  }
  rt.state = 'running'
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  rt.logReady()
  return {
    node: rt.node,
    get metricsUrl() {
      return rt.http?.url
    },
    get vault() {
      return rt.vault
    },
    status: () => rt.status(),
    metrics: () => renderMetrics(rt.snapshot()),
    close: () => {
      opts.signal?.removeEventListener('abort', onAbort)
      return rt.close()
    },
  }
}

type RuntimeState = 'starting' | 'running' | 'stopping' | 'stopped'

/**
 * One node's parts and the phases that start and stop them. start() runs the
 * phases in order (see the file header); each phase pushes a closer, and
 * shutdown() runs the closers in reverse.
 */
class Runtime {
  readonly node: Node
  state: RuntimeState = 'starting'
  vault: Vault | undefined
  http: HttpEndpoint | undefined
  private readonly log: Logger
  private readonly clock: Clock
  private readonly started = Date.now()
  private readonly closers: { what: string; close: () => Promise<void> | void }[] = []
  private mqtt: MqttTransport | undefined
  private serial: OpenedSerial | undefined
  private gateway: Gateway | undefined
  private readonly listeners: RunningListener[] = []
  private closing: Promise<void> | undefined

  constructor(
    private readonly config: NodeConfig,
    private readonly opts: RuntimeOptions,
  ) {
    this.log = opts.log
    this.clock = opts.clock ?? systemClock
    this.node = new Node({ name: config.name })
  }

  snapshot(): MetricsSnapshot {
    return collect(this.config, this.node, { mqtt: this.mqtt, serial: this.serial, gateway: this.gateway, listeners: this.listeners }, (Date.now() - this.started) / 1000)
  }

  status(): NodeStatus {
    return buildStatus(this.config, this.state, this.snapshot(), this.http?.url)
  }

  /** Graceful shutdown, once: later calls get the same promise. */
  close(): Promise<void> {
    return (this.closing ??= this.shutdown())
  }

  /** The start phases in order; an abort is checked between them. */
  async start(): Promise<void> {
    const { signal } = this.opts
    this.log.info('starting', { config: this.config.file, version: VERSION, pid: process.pid })
    throwIfAborted(signal)
    await this.openVault()
    throwIfAborted(signal)
    await this.openTransports()
    throwIfAborted(signal)
    this.connectTransports()
    this.startRelay()
    await this.startListeners()
    await this.startMetrics()
    throwIfAborted(signal)
  }

  logReady(): void {
    const { http, mqtt, serial } = this
    this.log.info('ready', { ...(http ? { metrics: http.url } : {}), mqtt: mqtt ? mqtt.url : 'none', serial: [...(serial?.links.keys() ?? [])].join(',') || 'none', listeners: this.listeners.length })
  }

  private async openVault(): Promise<void> {
    const { config, opts } = this
    if (!config.vault) return
    const ctx = opts.vaultContext ?? { env: process.env, home: process.env.HOPSEAL_HOME ?? join(homedir(), '.hopseal') }
    const v = await openVaultSpec(config.vault, ctx)
    this.vault = v
    this.closers.push({ what: 'vault', close: () => v.close() })
    this.log.info('vault opened', { vault: v.name, kind: config.vault.split(':')[0] })
  }

  /** MQTT and serial links open in the background: a broker or radio that is away is not a failure. */
  private async openTransports(): Promise<void> {
    const { transports } = this.config
    const stopping = (): boolean => this.state === 'stopping'
    if (transports.mqtt) {
      const t = await openMqtt(transports.mqtt, this.log, stopping)
      this.mqtt = t
      this.closers.push({ what: 'mqtt', close: () => t.close() })
    }
    if (transports.serial.length > 0) {
      const s = await openSerial(transports.serial, this.clock, this.log, stopping)
      this.serial = s
      this.closers.push({ what: 'serial', close: () => s.transport.close() })
    }
  }

  /** A gateway over the serial links (MQTT upstream), or the transports registered on the node as they are. */
  private connectTransports(): void {
    const { node, mqtt, serial } = this
    const g = this.config.gateway
    if (!g || !serial) {
      if (mqtt) node.registerTransport(mqtt)
      if (serial) node.registerTransport(serial.transport)
      return
    }
    const gw = startGateway({
      node,
      link: serial.transport,
      upstream: mqtt ? [mqtt] : [],
      devices: g.devices,
      routes: Object.fromEntries(g.routes.map((r) => [r.alias, r.route])),
      mailbox: g.mailbox,
      clock: this.clock,
    })
    this.gateway = gw
    // The gateway closes its link and upstream transports itself (their own closers are then no-ops).
    this.closers.push({ what: 'gateway', close: () => gw.close() })
    this.log.info('gateway started', { links: serial.links.size, routes: g.routes.map((r) => `${r.alias}=${r.text}`).join(','), upstream: mqtt ? 'mqtt' : 'none' })
  }

  private startRelay(): void {
    const { config } = this
    if (!config.relay) return
    // Registrations are signed for the relay's name: its node name or its MQTT name (what `--at 2#NAME` says).
    const names = [...new Set([config.name, ...(config.transports.mqtt ? [config.transports.mqtt.name] : [])])]
    const relay = startRelayService(this.node, { verifier: relayRegistrationVerifier(defaultCryptoProvider()), maxAliases: config.relay.maxAliases, names, clock: this.clock })
    this.closers.push({ what: 'relay', close: () => relay.stop() })
    this.log.info('relay started', { maxAliases: config.relay.maxAliases, names: names.join(',') })
  }

  /** Each listener's closer sends an encrypted close on its channels, bounded to CHANNEL_CLOSE_BUDGET_MS. */
  private async startListeners(): Promise<void> {
    const { config } = this
    for (const [i, l] of config.listeners.entries()) {
      const running = await startListener(this.node, this.vault!, l, i, config, this.log, this.clock)
      this.listeners.push(running)
      this.closers.push({
        what: `listener ${l.address}`,
        close: async () => {
          const all = [...running.listener.channels].map((c) => c.close().catch(() => undefined))
          await Promise.race([Promise.all(all), new Promise((r) => setTimeout(r, CHANNEL_CLOSE_BUDGET_MS).unref())])
          running.listener.stop()
        },
      })
    }
  }

  /** The metrics endpoint has no closer: shutdown() closes it last, so /healthz answers 503 while stopping. */
  private async startMetrics(): Promise<void> {
    const { metrics } = this.config
    if (!metrics) return
    this.http = await startHttpEndpoint({
      host: metrics.host,
      port: metrics.port,
      metrics: () => renderMetrics(this.snapshot()),
      status: () => this.status(),
      healthy: () => this.state === 'running',
    })
    if (!/^(127\.|::1$|localhost$)/.test(metrics.host)) this.log.warn('metrics endpoint is reachable from the network; it has no authentication', { host: metrics.host })
  }

  /** Runs the closers in reverse within limits.shutdownTimeoutMs, then closes the metrics endpoint. */
  private async shutdown(): Promise<void> {
    const { log } = this
    const timeoutMs = this.config.limits.shutdownTimeoutMs
    this.state = 'stopping'
    log.info('stopping', { timeoutMs })
    let timer: ReturnType<typeof setTimeout> | undefined
    const timedOut = await Promise.race([
      this.runClosers().then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
    ])
    clearTimeout(timer)
    await this.http?.close()
    this.state = 'stopped'
    if (timedOut) {
      log.error('shutdown timed out; exiting with work left', { timeoutMs })
      throw new HopsealError(ErrorCode.TIMEOUT, `shutdown took longer than limits.shutdownTimeoutMs (${timeoutMs} ms)`)
    }
    log.info('stopped')
  }

  /** Every closer, last started first; a failing one is logged and the rest still run. */
  private async runClosers(): Promise<void> {
    for (const c of [...this.closers].reverse()) {
      try {
        await c.close()
        this.log.debug('closed', { what: c.what })
      } catch (e) {
        this.log.warn('close failed', { what: c.what, err: errorText(e) })
      }
    }
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
