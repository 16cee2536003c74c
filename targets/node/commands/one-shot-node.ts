/**
 * One-shot nodes: what `hopseal secure-channel create`, `message send` and
 * `relay create` run. Each is a short-lived node built from the same node
 * config file as `hopseal node start`, through the same loader (loadConfig)
 * and the same runtime (startNodeRuntime: vault, MQTT and serial links with
 * their logging and background retries), so there is one config format and
 * no control surface on a running node: the command is a node of its own.
 *
 * What it takes from the file and what it leaves:
 * - the vault and the transports (MQTT, serial) as written;
 * - its MQTT name becomes `<name>.cli-<6 hex>` with a clean, non-persistent
 *   session and no shared subscription, so running it with the config of a
 *   node that is up neither takes over that node's session and inbox nor
 *   leaves sessions behind at the broker (replies find it by return route);
 * - no metrics endpoint (the file's port belongs to the long-lived node), no
 *   gateway (it is an endpoint) and no relay service;
 * - listeners only when asked (`relay create` serves them behind its alias).
 *
 * Rejected: an admin API on `hopseal node start` that commands would call. It
 * would be a new privileged surface (its own authentication, its own port)
 * for what a node of our own does with the keys the operator already holds.
 */
import { randomBytes } from 'node:crypto'
import { ErrorCode, HopsealError } from '../../../src/errors.ts'
import { parseDurationOption } from '../cli/args.ts'
import type { CliIO } from '../cli/command.ts'
import { openVaultSpec } from '../cli/vault-registry.ts'
import { vaultStaticKey, type NoiseProtocol, type StaticKey } from '../../../src/noise/index.ts'
import type { Node } from '../../../src/routing/node.ts'
import { MAX_NAME_LENGTH } from '../transports/mqtt/constants.ts'
import type { Vault } from '../../../src/vault/index.ts'
import { LOG_LEVELS, type LogLevel, type NodeConfig } from '../runtime/config.ts'
import { createLogger, type Logger } from '../runtime/logger.ts'
import { safeString } from '../runtime/redact.ts'
import { startNodeRuntime, type NodeRuntime } from '../runtime/runtime.ts'
import { CLI_MQTT_SUFFIX, DEFAULT_CLI_TIMEOUT_MS, LINK_POLL_MS } from './constants.ts'

/**
 * One budget for a whole command (links up, handshake, reply), and the
 * caller's abort (io.signal, or SIGINT/SIGTERM through `interrupt()`).
 */
/**
 * `--timeout` and `--log-level` of every one-shot command.
 * @returns their values (defaults: DEFAULT_CLI_TIMEOUT_MS, warn), or the reason for a usage error.
 */
export function oneShotOptions(values: { timeout?: string; 'log-level'?: string }): { timeoutMs: number; logLevel: LogLevel } | string {
  const timeoutMs = values.timeout === undefined ? DEFAULT_CLI_TIMEOUT_MS : parseDurationOption('--timeout', values.timeout)
  if (typeof timeoutMs === 'string') return timeoutMs
  const logLevel = (values['log-level'] ?? 'warn') as LogLevel
  if (!LOG_LEVELS.includes(logLevel)) return `--log-level expected ${LOG_LEVELS.join('|')}, got ${values['log-level']}`
  return { timeoutMs, logLevel }
}

export class Deadline {
  readonly #ctl = new AbortController()
  readonly #timer: ReturnType<typeof setTimeout>
  readonly #end: number
  #expired = false
  readonly #outer: AbortSignal | undefined
  readonly #onOuter = (): void => this.#ctl.abort(new HopsealError(ErrorCode.ABORTED, 'interrupted'))

  constructor(readonly ms: number, outer?: AbortSignal) {
    this.#end = Date.now() + ms
    this.#outer = outer
    this.#timer = setTimeout(() => {
      this.#expired = true
      this.#ctl.abort(new HopsealError(ErrorCode.TIMEOUT, `deadline of ${ms} ms passed`))
    }, ms)
    if (outer?.aborted) this.#onOuter()
    else outer?.addEventListener('abort', this.#onOuter, { once: true })
  }

  /** Aborts at the deadline or when the caller aborts. */
  get signal(): AbortSignal {
    return this.#ctl.signal
  }

  /** True when the deadline passed (as opposed to the caller aborting). */
  get expired(): boolean {
    return this.#expired
  }

  /** What is left of the budget (ms, at least 1 so it can be handed to a timer). */
  remaining(): number {
    return Math.max(1, this.#end - Date.now())
  }

  /** Aborts now, as the caller's abort would (SIGINT/SIGTERM). */
  interrupt(): void {
    this.#onOuter()
  }

  dispose(): void {
    clearTimeout(this.#timer)
    this.#outer?.removeEventListener('abort', this.#onOuter)
  }
}

export interface OneShotOptions {
  /** The node config (`--from`), as loadConfig() read it. */
  config: NodeConfig
  io: CliIO
  logLevel: LogLevel
  /** Serve the config's listeners (relay create) instead of opening the vault for the caller. */
  listeners: boolean
  deadline: Deadline
}

export interface OneShotNode {
  /** The config as the file says (not the one-shot's derived one). */
  readonly config: NodeConfig
  readonly node: Node
  /** Its MQTT name (what return routes carry), when the config has MQTT. */
  readonly mqttName: string | undefined
  /** The config's vault, open for the caller (when the node serves listeners, the runtime's: closed by close()). */
  readonly vault: Vault | undefined
  readonly log: Logger
  /** Closes the channels' node, links and vault (idempotent). */
  close(): Promise<void>
}

/** The config of the one-shot node (see the module comment for what it keeps). */
export function oneShotConfig(c: NodeConfig, opts: { listeners: boolean; suffix: string }): NodeConfig {
  const d: NodeConfig = { ...c, transports: { ...c.transports }, listeners: opts.listeners ? c.listeners : [] }
  delete d.metrics
  delete d.gateway
  delete d.relay
  if (!opts.listeners) delete d.vault
  const m = c.transports.mqtt
  if (m) {
    const name = m.name.slice(0, MAX_NAME_LENGTH - CLI_MQTT_SUFFIX.length - opts.suffix.length) + CLI_MQTT_SUFFIX + opts.suffix
    const mqtt = { ...m, name, cleanStart: true, sessionExpirySec: 0 }
    delete mqtt.clientId
    delete mqtt.shared
    d.transports.mqtt = mqtt
  }
  return d
}

/**
 * A logger for a one-shot command: stderr, at the command's level. The
 * runtime's own "start failed" line is demoted to debug: the command reports
 * that error itself (`error CODE: …`), once.
 */
export function oneShotLogger(config: NodeConfig, io: CliIO, level: LogLevel): Logger {
  const inner = createLogger({ name: `${config.name}.cli`, level, json: config.log.json, write: io.err })
  return { ...inner, error: (msg, fields) => (msg === 'start failed' ? inner.debug(msg, fields) : inner.error(msg, fields)) }
}

/**
 * Starts the one-shot node of a config and waits until every link is up.
 * @throws HopsealError VAULT_* (its vault),
 *   TRANSPORT_UNAVAILABLE (a link not up by the deadline), ABORTED (interrupted).
 */
export async function startOneShotNode(opts: OneShotOptions): Promise<OneShotNode> {
  const { io, deadline, config } = opts
  const derived = oneShotConfig(config, { listeners: opts.listeners, suffix: randomBytes(3).toString('hex') })
  const log = oneShotLogger(config, io, opts.logLevel)
  let vault: Vault | undefined
  let rt: NodeRuntime | undefined
  const close = async (): Promise<void> => {
    try {
      await rt?.close()
    } finally {
      await vault?.close()
    }
  }
  try {
    if (!opts.listeners && config.vault) vault = await openVaultSpec(config.vault, io.ctx)
    rt = await startNodeRuntime(derived, { log, signal: deadline.signal, vaultContext: io.ctx })
    await waitForLinks(rt, derived, deadline)
  } catch (e) {
    await close().catch(() => undefined)
    throw timeoutAs(e, deadline, ErrorCode.TRANSPORT_UNAVAILABLE, 'the node did not start (vault, links)')
  }
  const node = rt.node
  let closing: Promise<void> | undefined
  return { config, node, mqttName: derived.transports.mqtt?.name, vault: vault ?? rt.vault, log, close: () => (closing ??= close()) }
}

/** Waits until the runtime reports every link up. */
async function waitForLinks(rt: NodeRuntime, c: NodeConfig, deadline: Deadline): Promise<void> {
  for (;;) {
    const down = rt.status().transports.filter((t) => !t.up)
    if (down.length === 0) return
    if (deadline.signal.aborted) {
      if (!deadline.expired) throw new HopsealError(ErrorCode.ABORTED, 'interrupted while connecting')
      const what = down.map((t) => (t.transport === 'mqtt' ? `MQTT broker ${safeString(c.transports.mqtt?.url ?? '')}` : `serial link ${t.link} (${c.transports.serial.find((l) => l.name === t.link)?.path ?? '?'})`))
      throw new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, `${what.join(' and ')} not reachable within ${deadline.ms} ms (fix: check it is up and the config's transports section; --log-level info shows the attempts; --timeout gives more time)`)
    }
    await new Promise((r) => setTimeout(r, LINK_POLL_MS))
  }
}

/**
 * An ABORTED that came from the deadline (not from the caller) becomes `code`
 * with a message that says what ran out; anything else is returned as is.
 */
export function timeoutAs(e: unknown, deadline: Deadline, code: ErrorCode, what: string, fix?: string): unknown {
  if (deadline.expired && e instanceof HopsealError && e.code === ErrorCode.ABORTED) return new HopsealError(code, `${what} within ${deadline.ms} ms${fix ? ` (fix: ${fix})` : ''}`, { cause: e })
  return e
}

/**
 * The Noise static key labelled `label` in the vault, checked against the protocol.
 * @throws HopsealError VAULT_KEY_NOT_FOUND or VAULT_KEY_TYPE_UNSUPPORTED, each with the fix.
 */
export async function cliStaticKey(vault: Vault | undefined, label: string, protocol: NoiseProtocol, file: string): Promise<StaticKey> {
  if (!vault) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `${file} has no vault: (fix: add vault: software:./node.hsv with this node's Noise static key)`)
  const h = await vault.findKey(label)
  if (!h) throw new HopsealError(ErrorCode.VAULT_KEY_NOT_FOUND, `no key labelled ${JSON.stringify(label)} in vault ${vault.name} of ${file} (fix: hopseal vault keygen --type ${protocol.keyType} --label ${label} --vault <the config's vault spec>, or --key another label)`)
  if (h.type !== protocol.keyType) {
    throw new HopsealError(ErrorCode.VAULT_KEY_TYPE_UNSUPPORTED, `key ${JSON.stringify(label)} is ${h.type} but ${protocol.name} needs ${protocol.keyType} (fix: --key a ${protocol.keyType} key, or --protocol a ${h.type === 'p256' ? 'P256' : '25519'} protocol)`)
  }
  return vaultStaticKey(vault, h)
}
