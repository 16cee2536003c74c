/**
 * `hopseal node`: run a long-lived node (gateway, relay, listeners) from a
 * config file, check a config, or ask a running node how it is.
 *
 *   hopseal node start --config FILE [--log-level L] [--log-json]
 *   hopseal node validate --config FILE [--json]
 *   hopseal node status [--url URL | --config FILE] [--json]
 *
 * `start` runs until SIGINT or SIGTERM, shuts down gracefully and exits 0; a
 * second signal during shutdown exits 1 at once. A bad config exits 1 with
 * the CONFIG_INVALID message (file, key, fix). docs/operations.md is the guide.
 */
import { existsSync } from 'node:fs'
import { stringify } from 'yaml'
import { ErrorCode, HopsealError, isHopsealError } from '../../../src/errors.ts'
import { defineCommand, type CliIO } from '../cli/command.ts'
import type { CommandHelp } from '../cli/help.ts'
import { configToDisplay, loadConfig, LOG_LEVELS, type LogLevel, type NodeConfig } from '../runtime/config.ts'
import { DEFAULT_METRICS_PORT } from '../runtime/constants.ts'
import { createLogger } from '../runtime/logger.ts'
import { startNodeRuntime } from '../runtime/runtime.ts'
import { fetchStatus, formatStatus } from '../runtime/status-client.ts'
import { softwareStorePath } from '../vault-software.ts'

const CONFIG_OPTION = ['-c, --config FILE', 'the node config, YAML or JSON (examples/gateway.yaml; reference docs/operations.md)'] as const

const HELP: CommandHelp = {
  help: {
    usage: ['node start|validate|status [options]'],
    summary: 'Run a gateway / relay / listener node from a config file, check a config, or ask a running node how it is.',
    options: [CONFIG_OPTION],
    examples: ['hopseal node validate --config examples/gateway.yaml', 'hopseal node start --config examples/gateway.yaml'],
  },
  subcommands: {
    start: {
      usage: ['node start --config FILE [--log-level error|warn|info|debug] [--log-json]'],
      summary: 'Run the node until SIGINT/SIGTERM, then shut down gracefully and exit 0 (a second signal exits 1 at once).',
      details: ['Logs go to stderr. A bad config exits 1 with CONFIG_INVALID naming the file, the key and the fix.'],
      options: [CONFIG_OPTION, ['--log-level L', 'error, warn, info or debug (overrides log.level)'], ['--log-json', 'one JSON object per log line (overrides log.json)']],
      examples: ['hopseal node start --config examples/gateway.yaml --log-level debug'],
    },
    validate: {
      usage: ['node validate --config FILE [--json]'],
      summary: 'Check a config and print its normalised form (defaults filled in, paths absolute, secrets redacted).',
      options: [CONFIG_OPTION, ['--json', 'print {ok, file, warnings, config} as JSON']],
      examples: ['hopseal node validate --config examples/gateway.yaml --json'],
    },
    status: {
      usage: [`node status [--url http://127.0.0.1:${DEFAULT_METRICS_PORT} | --config FILE] [--json]`],
      summary: "Show a running node's state, transports, channels and counters (its /status endpoint).",
      options: [['--url URL', `the node's metrics endpoint (default http://127.0.0.1:${DEFAULT_METRICS_PORT})`], ['-c, --config FILE', "take the endpoint from the config's metrics: section"], ['--json', 'print the /status document as is']],
      examples: ['hopseal node status --config examples/gateway.yaml'],
    },
  },
}

export const command = defineCommand({
  name: 'node',
  summary: 'run a gateway / relay / listener node from a config file; validate a config; show a running node',
  help: HELP,
  options: {
    config: { type: 'string', short: 'c' },
    'log-level': { type: 'string' },
    'log-json': { type: 'boolean', default: false },
    url: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
  maxArgs: 0,
  async run({ values, sub, usage }, io) {
    if (sub === 'status') {
      if (values.url && values.config) return usage('give --url or --config, not both')
      return status(io, values.url, values.config, values.json === true, usage)
    }
    if (!values.config) return usage(`${sub} needs --config FILE`)
    const level = values['log-level']
    if (level !== undefined && !LOG_LEVELS.includes(level as LogLevel)) return usage(`--log-level expected ${LOG_LEVELS.join('|')}, got ${level}`)
    if (sub === 'validate') return validate(io, values.config, values.json === true)
    const config = loadConfig(values.config, io.env)
    if (level !== undefined) config.log.level = level as LogLevel
    if (values['log-json']) config.log.json = true
    return start(io, config)
  },
})

/** Runs the node until SIGINT/SIGTERM. */
async function start(io: CliIO, config: NodeConfig): Promise<number> {
  const log = createLogger({ name: config.name, level: config.log.level, json: config.log.json, write: io.err })
  const stop = new AbortController()
  let signals = 0
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++
    if (signals === 1) {
      log.info('signal received, shutting down', { signal: sig })
      stop.abort()
    } else {
      log.error('second signal during shutdown, exiting now', { signal: sig })
      process.exit(1)
    }
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  // io.signal (tests, embedders) stops the node as a first SIGINT would (never as a second).
  const onIoAbort = (): void => {
    if (signals === 0) onSignal('SIGINT')
  }
  if (io.signal?.aborted) onIoAbort()
  else io.signal?.addEventListener('abort', onIoAbort, { once: true })
  try {
    const rt = await startNodeRuntime(config, { log, signal: stop.signal, vaultContext: io.ctx })
    if (!stop.signal.aborted) await new Promise((resolve) => stop.signal.addEventListener('abort', resolve, { once: true }))
    await rt.close()
    return 0
  } catch (e) {
    // A signal during start: what had started was closed, as asked.
    if (isHopsealError(e, 'ABORTED') && stop.signal.aborted) return 0
    throw e
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    io.signal?.removeEventListener('abort', onIoAbort)
  }
}

/** Checks a config and prints its normalised form (secrets redacted). */
function validate(io: CliIO, file: string, json: boolean): number {
  const config = loadConfig(file, io.env)
  const shown = configToDisplay(config)
  const store = config.vault ? softwareStorePath(config.vault, io.ctx.home) : undefined
  if (store && !existsSync(store)) {
    throw new HopsealError(ErrorCode.CONFIG_INVALID, `${config.file}: vault: no key store at ${store} (fix: check the path; hopseal vault keygen --vault software:${store} creates one)`)
  }
  // Not errors: a device may be plugged in later, and the runtime retries it.
  const warnings = config.transports.serial.filter((l) => !existsSync(l.path)).map((l) => `${l.name}: ${l.path} does not exist now (the node will keep retrying to open it)`)
  if (json) io.out(JSON.stringify({ ok: true, file: config.file, warnings, config: shown }))
  else {
    for (const w of warnings) io.err(`warning: ${w}`)
    io.out(`# ${config.file}: ok`)
    io.out(stringify(shown).trimEnd())
  }
  return 0
}

async function status(io: CliIO, url: string | undefined, configFile: string | undefined, json: boolean, usage: (why: string) => number): Promise<number> {
  let base = url ?? `http://127.0.0.1:${DEFAULT_METRICS_PORT}`
  if (configFile) {
    const c = loadConfig(configFile, io.env)
    if (!c.metrics) return usage(`${configFile} has no metrics: section, so its node serves no /status`)
    const host = c.metrics.host === '0.0.0.0' ? '127.0.0.1' : c.metrics.host === '::' ? '::1' : c.metrics.host
    base = `http://${host.includes(':') ? `[${host}]` : host}:${c.metrics.port}`
  }
  const s = await fetchStatus(base)
  if (json) io.out(JSON.stringify(s))
  else for (const l of formatStatus(s)) io.out(l)
  return 0
}
