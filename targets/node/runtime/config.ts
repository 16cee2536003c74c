/**
 * Node config files: YAML (`.yaml`/`.yml`) or JSON (`.json`), validated by
 * hand into a {@link NodeConfig}. Every error is CONFIG_INVALID and names the
 * file, the key path and a fix; unknown keys are errors with a "did you mean"
 * hint; YAML syntax errors name the line and column. docs/operations.md is the
 * reference for every key.
 *
 * @example
 * const config = loadConfig('/etc/hopseal/gateway.yaml', process.env)
 * const rt = await startNodeRuntime(config, { log })
 */
import { readFileSync, statSync } from 'node:fs'
import { basename, dirname, extname, isAbsolute, resolve } from 'node:path'
import { parseDocument } from 'yaml'
import { toHex } from '../../../src/bytes/index.ts'
import { ErrorCode, HopsealError } from '../../../src/errors.ts'
import { routeToString } from '../../../src/routing/address.ts'
import { ConfigReader, child, type KeyPath } from './config-reader.ts'
import { readGateway, readListeners } from './config-services.ts'
import { readMqtt, readSerialLinks } from './config-transports.ts'
import { LOG_LEVELS, type NodeConfig } from './config-types.ts'
import {
  DEFAULT_MAX_CHANNELS_PER_PEER,
  DEFAULT_MAX_PENDING,
  DEFAULT_METRICS_HOST,
  DEFAULT_METRICS_PORT,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  MAX_CONFIG_BYTES,
  NODE_NAME_PATTERN,
} from './constants.ts'

export * from './config-types.ts'

const TOP_KEYS = ['name', 'log', 'metrics', 'vault', 'transports', 'gateway', 'relay', 'listeners', 'limits'] as const

/**
 * Reads, parses and validates a config file.
 * @param file the path as the operator gave it (messages show it as given).
 * @throws HopsealError CONFIG_INVALID naming the file, key path and fix.
 */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): NodeConfig {
  const abs = resolve(file)
  let text: string
  try {
    const st = statSync(abs)
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' })
    if (st.size > MAX_CONFIG_BYTES) throw new HopsealError(ErrorCode.CONFIG_INVALID, `${file}: is ${st.size} bytes, more than ${MAX_CONFIG_BYTES} (fix: a node config is a short hand-written file; check the path)`)
    text = readFileSync(abs, 'utf8')
  } catch (e) {
    if (e instanceof HopsealError) throw e
    const code = (e as NodeJS.ErrnoException).code
    throw new HopsealError(ErrorCode.CONFIG_INVALID, `${file}: cannot read the config file (${code ?? (e as Error).message}) (fix: check the path given to --config and its permissions)`)
  }
  return validateConfig(parseConfigText(text, file), { file, dir: dirname(abs), env, abs })
}

/** Parses YAML or JSON text by the file extension; syntax errors carry line and column. */
export function parseConfigText(text: string, file: string): unknown {
  const ext = extname(file).toLowerCase()
  if (ext === '.json') {
    try {
      return JSON.parse(text) as unknown
    } catch (e) {
      // V8's message may quote the text around the error (a password?): keep only its first clause.
      const msg = (e as Error).message
      const what = msg.split(/, "|, \.\.\."| in JSON at position/)[0]!
      const m = /position (\d+)/.exec(msg)
      let where = ''
      if (m) {
        const pos = Number(m[1])
        where = `:${text.slice(0, pos).split('\n').length}:${pos - text.lastIndexOf('\n', pos - 1)}`
      } else {
        // V8 gave no position: the YAML parser in JSON mode locates most JSON errors.
        const p = parseDocument(text, { schema: 'json' }).errors[0]?.linePos?.[0]
        if (p) where = `:${p.line}:${p.col}`
      }
      throw new HopsealError(ErrorCode.CONFIG_INVALID, `${file}${where}: JSON syntax error: ${what} (fix: check quotes, commas and brackets${where ? ' near that position' : ''})`)
    }
  }
  if (ext !== '.yaml' && ext !== '.yml') {
    throw new HopsealError(ErrorCode.CONFIG_INVALID, `${file}: unknown config file type ${JSON.stringify(ext || basename(file))} (fix: name it .yaml, .yml or .json)`)
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true })
  const err = doc.errors[0]
  if (err) {
    const pos = err.linePos?.[0]
    const where = pos ? `:${pos.line}:${pos.col}` : ''
    const what = err.message.split(/:\n/)[0]!.replace(/ at line \d+, column \d+$/, '')
    const fix = err.code === 'DUPLICATE_KEY' ? 'remove or merge the repeated key' : `check the indentation, quotes and brackets${pos ? ` near line ${pos.line}` : ''}`
    throw new HopsealError(ErrorCode.CONFIG_INVALID, `${file}${where}: YAML syntax error: ${what} (fix: ${fix})`)
  }
  try {
    // A small alias budget: a config never needs many, and it bounds "billion laughs" expansion.
    return doc.toJS({ maxAliasCount: 64 }) as unknown
  } catch (e) {
    throw new HopsealError(ErrorCode.CONFIG_INVALID, `${file}: YAML error: ${(e as Error).message} (fix: define each &anchor before its *alias, and use few aliases)`)
  }
}

export interface ValidateOptions {
  /** The file name shown in messages. */
  file: string
  /** Directory relative paths resolve against. */
  dir: string
  env?: NodeJS.ProcessEnv
  /** Absolute path recorded in the config (defaults to dir/basename(file)). */
  abs?: string
}

/**
 * Validates a parsed document into a NodeConfig with defaults applied.
 * @throws HopsealError CONFIG_INVALID naming the file, key path and fix.
 */
export function validateConfig(doc: unknown, opts: ValidateOptions): NodeConfig {
  const r = new ConfigReader({ file: opts.file, dir: opts.dir, env: opts.env ?? process.env })
  if (doc === null || doc === undefined) r.fail('', 'the file is empty', 'start from examples/gateway.yaml')
  const top = r.mapping(doc, '', TOP_KEYS)
  if (top.name === undefined) r.fail('name', 'is required', 'write name: gateway-1 (it labels logs and metrics)')
  const name = r.str(top.name, 'name', { pattern: NODE_NAME_PATTERN, what: '1-64 characters of A-Z a-z 0-9 . _ -' })
  const config: NodeConfig = {
    file: opts.abs ?? resolve(opts.dir, basename(opts.file)),
    name,
    log: { level: 'info', json: false },
    transports: { serial: [] },
    listeners: [],
    limits: { maxChannelsPerPeer: DEFAULT_MAX_CHANNELS_PER_PEER, maxPending: DEFAULT_MAX_PENDING, shutdownTimeoutMs: DEFAULT_SHUTDOWN_TIMEOUT_MS },
  }
  if (top.log !== undefined) {
    const l = r.mapping(top.log, 'log', ['level', 'json'])
    if (l.level !== undefined) config.log.level = r.oneOf(l.level, 'log.level', LOG_LEVELS)
    if (l.json !== undefined) config.log.json = r.bool(l.json, 'log.json')
  }
  if (top.metrics !== undefined) {
    // `metrics:` with no value enables the endpoint with its defaults.
    const m = r.mapping(top.metrics ?? {}, 'metrics', ['host', 'port'])
    config.metrics = {
      host: m.host === undefined ? DEFAULT_METRICS_HOST : r.str(m.host, 'metrics.host', { pattern: /^[A-Za-z0-9.:-]{1,253}$/, what: 'a host name or IP address' }),
      port: m.port === undefined ? DEFAULT_METRICS_PORT : r.num(m.port, 'metrics.port', 0, 65_535),
    }
  }
  if (top.vault !== undefined) config.vault = resolveVaultSpec(r.str(top.vault, 'vault', { pattern: /^[a-z0-9]+(:.*)?$/, what: 'a vault spec such as software:./gateway.hsv' }), opts.dir)
  readTransportsInto(r, top.transports, config)
  if (top.gateway !== undefined) config.gateway = readGateway(r, top.gateway, 'gateway', config.transports.serial)
  if (top.relay !== undefined) {
    const m = r.mapping(top.relay ?? {}, 'relay', ['maxAliases'])
    config.relay = { maxAliases: m.maxAliases === undefined ? 1024 : r.num(m.maxAliases, 'relay.maxAliases', 1, 1_000_000) }
  }
  if (top.listeners !== undefined) {
    const reserved = new Set<string>(config.relay ? ['relay'] : [])
    config.listeners = readListeners(r, top.listeners, 'listeners', reserved)
    if (config.listeners.length > 0 && config.vault === undefined) r.fail('vault', 'listeners need a vault holding their static keys', 'add vault: software:./node.hsv (or a pkcs11:/atecc608: spec)')
  }
  if (top.limits !== undefined) {
    const m = r.mapping(top.limits, 'limits', ['maxChannelsPerPeer', 'maxPending', 'shutdownTimeoutMs'])
    if (m.maxChannelsPerPeer !== undefined) config.limits.maxChannelsPerPeer = r.num(m.maxChannelsPerPeer, 'limits.maxChannelsPerPeer', 1, 1024)
    if (m.maxPending !== undefined) config.limits.maxPending = r.num(m.maxPending, 'limits.maxPending', 1, 65_536)
    if (m.shutdownTimeoutMs !== undefined) config.limits.shutdownTimeoutMs = r.num(m.shutdownTimeoutMs, 'limits.shutdownTimeoutMs', 100, 600_000, { unit: 'ms' })
  }
  return config
}

function readTransportsInto(r: ConfigReader, v: unknown, config: NodeConfig): void {
  const path: KeyPath = 'transports'
  if (v === undefined) r.fail(path, 'is required', 'add transports: with mqtt: and/or serial:')
  const t = r.mapping(v, path, ['mqtt', 'serial'])
  if (t.mqtt !== undefined) config.transports.mqtt = readMqtt(r, t.mqtt, child(path, 'mqtt'), config.name)
  if (t.serial !== undefined) config.transports.serial = readSerialLinks(r, t.serial, child(path, 'serial'))
  if (!config.transports.mqtt && config.transports.serial.length === 0) r.fail(path, 'no transport is configured', 'add transports.mqtt and/or transports.serial')
}

/** Path-valued options of the vault specs (targets/node/vault-*.ts). */
const PATH_OPTIONS = new Set(['path', 'passphrase-file', 'pin-file', 'module', 'sim'])

/**
 * Resolves relative paths inside a vault spec against the config file's
 * directory, so a config means the same thing whatever the working directory
 * (systemd starts services in /). Path-valued options (`path=`,
 * `passphrase-file=`, `pin-file=`, `module=`, `sim=`) and the bare path of
 * `software:PATH` are resolved; everything else is kept as written.
 */
export function resolveVaultSpec(spec: string, dir: string): string {
  const i = spec.indexOf(':')
  if (i < 0) return spec
  const kind = spec.slice(0, i)
  const parts = spec.slice(i + 1).split(',').map((part) => {
    const eq = part.indexOf('=')
    if (eq < 0) return kind === 'software' && part !== '' && part !== 'memory' && !isAbsolute(part) ? resolve(dir, part) : part
    const k = part.slice(0, eq)
    const v = part.slice(eq + 1)
    return PATH_OPTIONS.has(k) && v !== '' && !isAbsolute(v) && (k !== 'module' || v.startsWith('.')) ? `${k}=${resolve(dir, v)}` : part
  })
  return `${kind}:${parts.join(',')}`
}

/**
 * The normalised config as plain JSON, for `hopseal node validate` and
 * `/status`: defaults filled in, paths absolute, routes as text, keys as hex,
 * and no secret (passwords print as `[redacted]`).
 */
export function configToDisplay(c: NodeConfig): Record<string, unknown> {
  const mqtt = c.transports.mqtt
  return {
    name: c.name,
    log: c.log,
    ...(c.metrics ? { metrics: c.metrics } : {}),
    ...(c.vault ? { vault: c.vault } : {}),
    transports: {
      ...(mqtt ? { mqtt: { ...mqtt, ...(mqtt.password ? { password: '[redacted]' } : {}) } } : {}),
      serial: c.transports.serial.map((l) => ({ name: l.name, path: l.path, ...(l.baudRate ? { baudRate: l.baudRate } : {}), profile: l.profile, ...l.profileOptions })),
    },
    ...(c.gateway
      ? { gateway: { routes: Object.fromEntries(c.gateway.routes.map((x) => [x.alias, routeToString(x.route)])), devices: c.gateway.devices, mailbox: c.gateway.mailbox } }
      : {}),
    ...(c.relay ? { relay: c.relay } : {}),
    listeners: c.listeners.map((l) => ({
      address: l.address,
      protocol: l.protocol,
      key: l.key,
      service: l.service,
      reliable: l.reliable,
      medium: l.medium,
      trust: { knownPeers: l.knownPeers.map((p) => (p.name ? { key: toHex(p.staticKey), name: p.name } : toHex(p.staticKey))) },
    })),
    limits: c.limits,
  }
}
