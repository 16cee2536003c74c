/**
 * `hopseal relay create --from FILE --at ROUTE --name ALIAS`: a one-shot node
 * built from a node config serves the config's listeners and registers ALIAS
 * at the relay service of the node at ROUTE (a node whose config has
 * `relay:`), so peers that cannot reach this node directly (behind NAT, on
 * another broker) reach its listeners at `ROUTE;0#fwd.ALIAS;0#<listener>`.
 * It holds the registration until SIGINT/SIGTERM (or io.signal), or for
 * `--duration`, re-registering at half the registration's lifetime, then
 * withdraws it with a signed removal and exits 0.
 *
 * Registrations are signed by `--key` (an ed25519 or p256 key of the config's
 * vault) for the relay's name; the relay binds the alias to that key on first
 * use, so only it can move or remove the alias later (src/routing/relay.ts).
 * The relay stores the route the registration came by; channels through it
 * stay end to end (the relay sees ciphertext and routes only).
 */
import { parseDurationOption, parseRouteOption } from '../cli/args.ts'
import { defineCommand, type CliIO, type CommandCall } from '../cli/command.ts'
import { oneSubcommandHelp } from '../cli/help.ts'
import { ErrorCode, HopsealError, isHopsealError } from '../../../src/errors.ts'
import { relayRegistrationSigner } from '../../../src/identity/signing.ts'
import { addressEquals, local, routeToString, TransportType, type Route } from '../../../src/routing/address.ts'
import { DEFAULT_REGISTRATION_LIFETIME_MS, MAX_RELAY_NAME_BYTES, registerRelay, RELAY_SERVICE, removeRelay, type RelayRequestOptions } from '../../../src/routing/relay.ts'
import type { Vault } from '../../../src/vault/index.ts'
import { loadConfig, type LogLevel } from '../runtime/config.ts'
import { DEFAULT_CLI_TIMEOUT_MS, RELAY_ALIAS_PATTERN, RELAY_REMOVE_BUDGET_MS } from './constants.ts'
import { Deadline, oneShotOptions, startOneShotNode, type OneShotNode } from './one-shot-node.ts'

const OPTIONS = [
  ['--from FILE', 'a node config: its vault, transports and the listeners to serve behind the alias (required)'],
  ['--at ROUTE', `route to the relay node, e.g. "2#cloud" (its ${RELAY_SERVICE} service is appended unless the route names it) (required)`],
  ['--name ALIAS', 'the alias: 1-64 of A-Z a-z 0-9 . _ - ; the relay serves it as fwd.ALIAS (required)'],
  ['--key LABEL', "an ed25519 or p256 key in the config's vault that signs the registration; the relay binds the alias to it (required)"],
  ['--relay-name NAME', 'the relay node\'s name, signed into the registration (default: the last transport address of --at, e.g. cloud for 2#cloud)'],
  ['--duration DUR', 'hold for this long, then exit 0 (default: until Ctrl-C / SIGTERM)'],
  ['--timeout DUR', `budget for links and the registration (default ${DEFAULT_CLI_TIMEOUT_MS / 1000}s)`],
  ['--log-level L', 'runtime log lines on stderr: error, warn (default), info or debug'],
  ['--json', 'print JSON lines: {"event":"registered",…} at once, {"event":"stopped",…} at the end'],
] as const

const EXAMPLE = 'hopseal relay create --from monitor.yaml --at 2#cloud --name monitor-7 --key monitor-relay'

const HELP = oneSubcommandHelp(
  'relay create --from FILE --at ROUTE --name ALIAS --key LABEL [options]',
  "Register relays (aliases) at a relay node, so others reach this node's listeners through it.",
  'create',
  {
    usage: ['relay create --from FILE --at ROUTE --name ALIAS --key LABEL [--relay-name NAME] [--duration DUR] [--timeout DUR] [--json]'],
    summary: "Serve the config's listeners and register ALIAS at the relay at ROUTE; hold until Ctrl-C/SIGTERM or --duration, exit 0.",
    details: [
      "Peers then reach a listener L at ROUTE;0#fwd.ALIAS;0#L (printed). The one-shot node's MQTT name is <name>.cli-<hex>",
      'with a clean session. The registration is signed by --key and re-sent every 30 min; at exit a signed removal withdraws it.',
      'The relay binds the alias to that key: another key gets RELAY_ALIAS_TAKEN, even after exit (until the binding lapses).',
      'No answer from the relay within --timeout exits 1 with TIMEOUT; a refusal exits 1 with its RELAY_* code.',
    ],
    options: OPTIONS,
    examples: [EXAMPLE, 'hopseal relay create --from monitor.yaml --at "2#cloud;0#relay" --name monitor-7 --key monitor-relay --duration 1h --json'],
  },
)

const RELAY_OPTIONS = {
  from: { type: 'string' },
  at: { type: 'string' },
  name: { type: 'string' },
  key: { type: 'string' },
  'relay-name': { type: 'string' },
  duration: { type: 'string' },
  timeout: { type: 'string' },
  'log-level': { type: 'string' },
  json: { type: 'boolean', default: false },
} as const

/** The parsed options of `hopseal relay`. */
type RelayValues = CommandCall<typeof RELAY_OPTIONS>['values']

export const command = defineCommand({
  name: 'relay',
  summary: "register an alias at a relay node so others reach this node's listeners through it (from a node config)",
  help: HELP,
  options: RELAY_OPTIONS,
  maxArgs: 0,
  async run({ values, usage }, io) {
    const plan = relayPlan(values)
    if (typeof plan === 'string') return usage(plan)
    const config = loadConfig(plan.from, io.env)
    if (config.listeners.length === 0) io.err(`warning: ${plan.from} has no listeners: nothing answers behind the alias`)
    const deadline = new Deadline(plan.timeoutMs, io.signal)
    const one = await startOneShotNode({ config, io, logLevel: plan.logLevel, listeners: true, deadline }).catch((e: unknown) => {
      deadline.dispose()
      throw e
    })
    let stopReason: 'signal' | 'duration'
    try {
      const { alias, request } = await register(one, plan, deadline)
      announce(io, plan, one, alias)
      stopReason = await holdRegistration(io, plan, one, request, alias)
    } finally {
      await one.close()
    }
    if (plan.json) io.out(JSON.stringify({ event: 'stopped', reason: stopReason }))
    else io.out(`stopped (${stopReason === 'duration' ? '--duration elapsed' : 'interrupted'})`)
    return 0
  },
})

/** What `relay create` does, from its checked options. */
interface RelayPlan {
  from: string
  name: string
  key: string
  relayName: string
  /** The route to the relay's service (the --at route, with the service appended unless it names it). */
  relayRoute: Route
  /** The route to the relay node (relayRoute without the service). */
  relayNode: Route
  timeoutMs: number
  logLevel: LogLevel
  durationMs: number | undefined
  json: boolean
}

/** Checks the options: a plan, or the usage error to print. */
function relayPlan(values: RelayValues): RelayPlan | string {
  const { from, at: atText, name, key } = values
  if (!from) return 'create needs --from FILE (a node config)'
  if (!atText) return 'create needs --at ROUTE (the route to the relay node, e.g. "2#cloud")'
  if (!name) return 'create needs --name ALIAS'
  if (!RELAY_ALIAS_PATTERN.test(name)) return `--name expected 1-64 of A-Z a-z 0-9 . _ -, got ${JSON.stringify(name)}`
  if (!key) return "create needs --key LABEL (an ed25519 or p256 key in the config's vault: it signs the registration)"
  const at = parseRouteOption('--at', atText)
  if (typeof at === 'string') return at
  const named = [...at].reverse().find((a) => a.type !== TransportType.LOCAL)
  const relayName = values['relay-name'] ?? (named ? new TextDecoder().decode(named.value) : undefined)
  if (relayName === undefined) return '--at has no transport address to take the relay name from: add --relay-name NAME'
  const nameBytes = new TextEncoder().encode(relayName).length
  if (nameBytes < 1 || nameBytes > MAX_RELAY_NAME_BYTES) return `--relay-name expected 1-${MAX_RELAY_NAME_BYTES} bytes, got ${nameBytes}`
  const run = oneShotOptions(values)
  if (typeof run === 'string') return run
  const durationMs = values.duration === undefined ? undefined : parseDurationOption('--duration', values.duration)
  if (typeof durationMs === 'string') return durationMs
  const service = local(RELAY_SERVICE)
  const last = at[at.length - 1]
  const relayRoute = last !== undefined && addressEquals(last, service) ? at : [...at, service]
  return { from, name, key, relayName, relayRoute, relayNode: relayRoute.slice(0, -1), ...run, durationMs, json: values.json === true }
}

/** Registers the alias within the deadline; a timeout or refusal becomes an error that says what to fix. */
async function register(one: OneShotNode, plan: RelayPlan, deadline: Deadline): Promise<{ alias: string; request: RelayRequestOptions }> {
  const where = routeToString(plan.relayRoute)
  try {
    const request: RelayRequestOptions = { signer: await signerOf(one.vault, plan.key, plan.from), relayName: plan.relayName, lifetimeMs: DEFAULT_REGISTRATION_LIFETIME_MS }
    const { alias } = await registerRelay(one.node, plan.relayRoute, plan.name, { ...request, timeoutMs: deadline.remaining(), signal: deadline.signal })
    return { alias, request }
  } catch (e) {
    if (isHopsealError(e, ErrorCode.TIMEOUT) || (deadline.expired && isHopsealError(e, ErrorCode.ABORTED))) {
      throw new HopsealError(ErrorCode.TIMEOUT, `no answer from a relay at ${where} within ${plan.timeoutMs} ms (fix: check the route, and that the node there has relay: in its config)`, { cause: e })
    }
    const fix = isHopsealError(e) ? REFUSAL_FIX[e.code] : undefined
    if (isHopsealError(e) && fix !== undefined) throw new HopsealError(e.code, `the relay at ${where} refused ${plan.name} (fix: ${fix})`, { cause: e })
    throw e
  } finally {
    deadline.dispose()
  }
}

/** Prints the registration and the routes peers use to reach each listener through the alias. */
function announce(io: CliIO, plan: RelayPlan, one: OneShotNode, alias: string): void {
  const aliasRoute = routeToString([...plan.relayNode, local(alias)])
  const routes = Object.fromEntries(one.config.listeners.map((l) => [l.address, `${aliasRoute};0#${l.address}`]))
  if (plan.json) {
    io.out(JSON.stringify({ event: 'registered', alias, at: routeToString(plan.relayRoute), route: aliasRoute, node: one.mqttName ?? one.config.name, listeners: routes }))
    return
  }
  io.out(`relay ${alias} registered at ${routeToString(plan.relayRoute)}`)
  for (const [l, r] of Object.entries(routes)) io.out(`  listener ${l}: peers reach it at ${r}`)
  io.out(`holding ${plan.durationMs === undefined ? 'until Ctrl-C' : `for ${plan.durationMs / 1000} s (or until Ctrl-C)`}`)
}

/** Holds the alias (re-registering at half its lifetime) until a signal or --duration, then withdraws it. */
async function holdRegistration(io: CliIO, plan: RelayPlan, one: OneShotNode, request: RelayRequestOptions, alias: string): Promise<'signal' | 'duration'> {
  // A failed re-registration is retried at the next turn.
  const refresh = setInterval(() => {
    registerRelay(one.node, plan.relayRoute, plan.name, request).catch((e: unknown) => one.log.warn('relay re-registration failed', { err: errorMessage(e) }))
  }, DEFAULT_REGISTRATION_LIFETIME_MS / 2)
  let stopReason: 'signal' | 'duration'
  try {
    stopReason = await hold(io.signal, plan.durationMs)
  } finally {
    clearInterval(refresh)
  }
  await removeRelay(one.node, plan.relayRoute, plan.name, { ...request, timeoutMs: RELAY_REMOVE_BUDGET_MS }).catch((e: unknown) => {
    io.err(`warning: could not withdraw ${alias} at the relay (${errorMessage(e)}); it expires within ${DEFAULT_REGISTRATION_LIFETIME_MS / 60_000} min`)
  })
  return stopReason
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

/** The fix to print with each refusal of the relay. */
const REFUSAL_FIX: Partial<Record<string, string>> = {
  [ErrorCode.RELAY_ALIAS_TAKEN]: 'another key registered this alias first: sign with that key (--key), or choose another --name',
  [ErrorCode.RELAY_NOT_ALLOWED]: "the relay's allow-list does not name this alias",
  [ErrorCode.RELAY_WRONG_RELAY]: "--relay-name must be the relay node's name (or its MQTT name)",
  [ErrorCode.RELAY_EXPIRED]: "check this host's clock against the relay's",
  [ErrorCode.RELAY_REPLAYED]: "this host's clock is behind the last registration of this alias: check it",
  [ErrorCode.RELAY_BAD_SIGNATURE]: 'the vault signed with another key than it reported',
  [ErrorCode.LIMIT_EXCEEDED]: "the relay's alias table is full (its relay.maxAliases)",
}

/**
 * The registration signer: the `--key` key of the config's vault.
 * @throws HopsealError INVALID_ARGUMENT (no vault), VAULT_KEY_NOT_FOUND or VAULT_KEY_TYPE_UNSUPPORTED, each with the fix.
 */
async function signerOf(vault: Vault | undefined, label: string, file: string): Promise<RelayRequestOptions['signer']> {
  if (!vault) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `${file} has no vault: (fix: add vault: software:./node.hsv holding the --key signing key)`)
  const h = await vault.findKey(label)
  if (!h) throw new HopsealError(ErrorCode.VAULT_KEY_NOT_FOUND, `no key labelled ${JSON.stringify(label)} in vault ${vault.name} of ${file} (fix: hopseal vault keygen --type p256 --label ${label} --vault <the config's vault spec>)`)
  if (h.type !== 'ed25519' && h.type !== 'p256') throw new HopsealError(ErrorCode.VAULT_KEY_TYPE_UNSUPPORTED, `key ${JSON.stringify(label)} is ${h.type}, which cannot sign (fix: --key an ed25519 or p256 key)`)
  return relayRegistrationSigner(vault, h)
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
