/**
 * `hopseal relay create --from FILE --at ROUTE --name ALIAS`: a one-shot node
 * built from a node config serves the config's listeners and registers ALIAS
 * at the relay service of the node at ROUTE (a node whose config has
 * `relay:`), so peers that cannot reach this node directly (behind NAT, on
 * another broker) reach its listeners at `ROUTE;0#fwd.ALIAS;0#<listener>`.
 * It holds the registration until SIGINT/SIGTERM (or io.signal), or for
 * `--duration`, then exits 0.
 *
 * The relay stores the route the registration came by; channels through it
 * stay end to end (the relay sees ciphertext and routes only).
 */
import { parseArgs } from 'node:util'
import { parseDurationOption, parseRouteOption } from '../../../src/cli/args.ts'
import type { Command } from '../../../src/cli/command.ts'
import { answerHelp, usageError, type CommandHelp } from '../../../src/cli/help.ts'
import { ErrorCode, HopsealError, isHopsealError } from '../../../src/errors.ts'
import { addressEquals, local, routeToString } from '../../../src/routing/address.ts'
import { registerRelay, RELAY_SERVICE } from '../../../src/routing/relay.ts'
import { loadConfig, LOG_LEVELS, type LogLevel } from '../runtime/config.ts'
import { DEFAULT_CLI_TIMEOUT_MS, RELAY_ALIAS_PATTERN } from './constants.ts'
import { Deadline, startOneShotNode } from './one-shot-node.ts'

const OPTIONS = [
  ['--from FILE', 'a node config: its vault, transports and the listeners to serve behind the alias (required)'],
  ['--at ROUTE', `route to the relay node, e.g. "2#cloud" (its ${RELAY_SERVICE} service is appended unless the route names it) (required)`],
  ['--name ALIAS', 'the alias: 1-64 of A-Z a-z 0-9 . _ - ; the relay serves it as fwd.ALIAS (required)'],
  ['--duration DUR', 'hold for this long, then exit 0 (default: until Ctrl-C / SIGTERM)'],
  ['--timeout DUR', `budget for links and the registration (default ${DEFAULT_CLI_TIMEOUT_MS / 1000}s)`],
  ['--log-level L', 'runtime log lines on stderr: error, warn (default), info or debug'],
  ['--json', 'print JSON lines: {"event":"registered",…} at once, {"event":"stopped",…} at the end'],
] as const

const EXAMPLE = 'hopseal relay create --from monitor.yaml --at 2#cloud --name monitor-7'

const HELP: CommandHelp = {
  help: {
    usage: ['relay create --from FILE --at ROUTE --name ALIAS [options]'],
    summary: "Register relays (aliases) at a relay node, so others reach this node's listeners through it.",
    options: OPTIONS,
    examples: [EXAMPLE],
  },
  subcommands: {
    create: {
      usage: ['relay create --from FILE --at ROUTE --name ALIAS [--duration DUR] [--timeout DUR] [--json]'],
      summary: "Serve the config's listeners and register ALIAS at the relay at ROUTE; hold until Ctrl-C/SIGTERM or --duration, exit 0.",
      details: [
        "Peers then reach a listener L at ROUTE;0#fwd.ALIAS;0#L (printed). The one-shot node's MQTT name is <name>.cli-<hex>",
        'with a clean session; the alias stays at the relay after exit (it points nowhere until registered again).',
        'No answer from the relay within --timeout exits 1 with TIMEOUT.',
      ],
      options: OPTIONS,
      examples: [EXAMPLE, 'hopseal relay create --from monitor.yaml --at "2#cloud;0#relay" --name monitor-7 --duration 1h --json'],
    },
  },
}

export const command: Command = {
  name: 'relay',
  summary: "register an alias at a relay node so others reach this node's listeners through it (from a node config)",
  subcommands: Object.keys(HELP.subcommands),
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        from: { type: 'string' },
        at: { type: 'string' },
        name: { type: 'string' },
        duration: { type: 'string' },
        timeout: { type: 'string' },
        'log-level': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    })
    const [sub, ...extra] = positionals
    if (values.help) return answerHelp(io, 'relay', HELP, sub)
    const usage = (why: string): number => usageError(io, 'relay', why, sub)
    if (sub !== 'create') return usageError(io, 'relay', sub ? `unknown subcommand "${sub}" (known: create)` : 'missing subcommand (create)')
    if (extra.length > 0) return usage(`unexpected argument ${extra[0]}`)
    if (!values.from) return usage('create needs --from FILE (a node config)')
    if (!values.at) return usage('create needs --at ROUTE (the route to the relay node, e.g. "2#cloud")')
    if (!values.name) return usage('create needs --name ALIAS')
    if (!RELAY_ALIAS_PATTERN.test(values.name)) return usage(`--name expected 1-64 of A-Z a-z 0-9 . _ -, got ${JSON.stringify(values.name)}`)
    const at = parseRouteOption('--at', values.at)
    if (typeof at === 'string') return usage(at)
    const timeoutMs = values.timeout === undefined ? DEFAULT_CLI_TIMEOUT_MS : parseDurationOption('--timeout', values.timeout)
    if (typeof timeoutMs === 'string') return usage(timeoutMs)
    const durationMs = values.duration === undefined ? undefined : parseDurationOption('--duration', values.duration)
    if (typeof durationMs === 'string') return usage(durationMs)
    const logLevel = (values['log-level'] ?? 'warn') as LogLevel
    if (!LOG_LEVELS.includes(logLevel)) return usage(`--log-level expected ${LOG_LEVELS.join('|')}, got ${values['log-level']}`)
    const config = loadConfig(values.from, io.env)
    if (config.listeners.length === 0) io.err(`warning: ${values.from} has no listeners: nothing answers behind the alias`)

    const service = local(RELAY_SERVICE)
    const relayRoute = at.length > 0 && addressEquals(at[at.length - 1]!, service) ? at : [...at, service]
    const relayNode = relayRoute.slice(0, -1)
    const deadline = new Deadline(timeoutMs, io.signal)
    let stopReason: 'signal' | 'duration' = 'signal'
    const one = await startOneShotNode({ config, io, logLevel, listeners: true, deadline }).catch((e: unknown) => {
      deadline.dispose()
      throw e
    })
    try {
      let alias: string
      try {
        alias = await Promise.race([
          registerRelay(one.node, relayRoute, values.name, deadline.remaining()),
          new Promise<never>((_, reject) => {
            const fail = (): void => reject(deadline.expired ? new HopsealError(ErrorCode.TIMEOUT, 'deadline passed') : new HopsealError(ErrorCode.ABORTED, 'interrupted while registering'))
            if (deadline.signal.aborted) fail()
            deadline.signal.addEventListener('abort', fail, { once: true })
          }),
        ])
      } catch (e) {
        if (!isHopsealError(e, ErrorCode.TIMEOUT)) throw e
        throw new HopsealError(ErrorCode.TIMEOUT, `no answer from a relay at ${routeToString(relayRoute)} within ${timeoutMs} ms (fix: check the route, and that the node there has relay: in its config)`, { cause: e })
      } finally {
        deadline.dispose()
      }
      const aliasRoute = routeToString([...relayNode, local(alias)])
      const routes = Object.fromEntries(config.listeners.map((l) => [l.address, `${aliasRoute};0#${l.address}`]))
      if (values.json) io.out(JSON.stringify({ event: 'registered', alias, at: routeToString(relayRoute), route: aliasRoute, node: one.mqttName ?? config.name, listeners: routes }))
      else {
        io.out(`relay ${alias} registered at ${routeToString(relayRoute)}`)
        for (const [l, r] of Object.entries(routes)) io.out(`  listener ${l}: peers reach it at ${r}`)
        io.out(`holding ${durationMs === undefined ? 'until Ctrl-C' : `for ${durationMs / 1000} s (or until Ctrl-C)`}`)
      }
      stopReason = await hold(io.signal, durationMs)
    } finally {
      await one.close()
    }
    if (values.json) io.out(JSON.stringify({ event: 'stopped', reason: stopReason }))
    else io.out(`stopped (${stopReason === 'duration' ? '--duration elapsed' : 'interrupted'})`)
    return 0
  },
}

/** Resolves when the duration elapses, the signal aborts, or SIGINT/SIGTERM arrives. */
function hold(signal: AbortSignal | undefined, durationMs: number | undefined): Promise<'signal' | 'duration'> {
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined
    const done = (why: 'signal' | 'duration'): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onSignal)
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      resolve(why)
    }
    const onSignal = (): void => done('signal')
    if (signal?.aborted) return done('signal')
    signal?.addEventListener('abort', onSignal, { once: true })
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    if (durationMs !== undefined) timer = setTimeout(() => done('duration'), durationMs)
  })
}
