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
import { defineCommand } from '../cli/command.ts'
import { oneSubcommandHelp } from '../cli/help.ts'
import { ErrorCode, HopsealError, isHopsealError } from '../../../src/errors.ts'
import { relayRegistrationSigner } from '../../../src/identity/signing.ts'
import { addressEquals, local, routeToString, TransportType } from '../../../src/routing/address.ts'
import { DEFAULT_REGISTRATION_LIFETIME_MS, MAX_RELAY_NAME_BYTES, registerRelay, RELAY_SERVICE, removeRelay, type RelayRequestOptions } from '../../../src/routing/relay.ts'
import type { Vault } from '../../../src/vault/index.ts'
import { loadConfig } from '../runtime/config.ts'
import { DEFAULT_CLI_TIMEOUT_MS, RELAY_ALIAS_PATTERN, RELAY_REMOVE_BUDGET_MS } from './constants.ts'
import { Deadline, oneShotOptions, startOneShotNode } from './one-shot-node.ts'

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

export const command = defineCommand({
  name: 'relay',
  summary: "register an alias at a relay node so others reach this node's listeners through it (from a node config)",
  help: HELP,
  options: {
    from: { type: 'string' },
    at: { type: 'string' },
    name: { type: 'string' },
    key: { type: 'string' },
    'relay-name': { type: 'string' },
    duration: { type: 'string' },
    timeout: { type: 'string' },
    'log-level': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
  maxArgs: 0,
  async run({ values, usage }, io) {
    if (!values.from) return usage('create needs --from FILE (a node config)')
    if (!values.at) return usage('create needs --at ROUTE (the route to the relay node, e.g. "2#cloud")')
    if (!values.name) return usage('create needs --name ALIAS')
    if (!RELAY_ALIAS_PATTERN.test(values.name)) return usage(`--name expected 1-64 of A-Z a-z 0-9 . _ -, got ${JSON.stringify(values.name)}`)
    if (!values.key) return usage("create needs --key LABEL (an ed25519 or p256 key in the config's vault: it signs the registration)")
    const at = parseRouteOption('--at', values.at)
    if (typeof at === 'string') return usage(at)
    const named = [...at].reverse().find((a) => a.type !== TransportType.LOCAL)
    const relayName = values['relay-name'] ?? (named ? new TextDecoder().decode(named.value) : undefined)
    if (relayName === undefined) return usage('--at has no transport address to take the relay name from: add --relay-name NAME')
    const nameBytes = new TextEncoder().encode(relayName).length
    if (nameBytes < 1 || nameBytes > MAX_RELAY_NAME_BYTES) return usage(`--relay-name expected 1-${MAX_RELAY_NAME_BYTES} bytes, got ${nameBytes}`)
    const run = oneShotOptions(values)
    if (typeof run === 'string') return usage(run)
    const { timeoutMs, logLevel } = run
    const durationMs = values.duration === undefined ? undefined : parseDurationOption('--duration', values.duration)
    if (typeof durationMs === 'string') return usage(durationMs)
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
      let request: RelayRequestOptions
      try {
        request = { signer: await signerOf(one.vault, values.key, values.from), relayName, lifetimeMs: DEFAULT_REGISTRATION_LIFETIME_MS }
        alias = (await registerRelay(one.node, relayRoute, values.name, { ...request, timeoutMs: deadline.remaining(), signal: deadline.signal })).alias
      } catch (e) {
        if (isHopsealError(e, ErrorCode.TIMEOUT) || (deadline.expired && isHopsealError(e, ErrorCode.ABORTED))) {
          throw new HopsealError(ErrorCode.TIMEOUT, `no answer from a relay at ${routeToString(relayRoute)} within ${timeoutMs} ms (fix: check the route, and that the node there has relay: in its config)`, { cause: e })
        }
        if (isHopsealError(e) && REFUSAL_FIX[e.code]) throw new HopsealError(e.code, `the relay at ${routeToString(relayRoute)} refused ${values.name} (fix: ${REFUSAL_FIX[e.code]!})`, { cause: e })
        throw e
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
      // Re-register at half the lifetime while holding; a failure is retried at the next turn.
      const refresh = setInterval(() => {
        registerRelay(one.node, relayRoute, values.name!, request).catch((e: unknown) => one.log.warn('relay re-registration failed', { err: String((e as Error).message) }))
      }, DEFAULT_REGISTRATION_LIFETIME_MS / 2)
      try {
        stopReason = await hold(io.signal, durationMs)
      } finally {
        clearInterval(refresh)
      }
      await removeRelay(one.node, relayRoute, values.name, { ...request, timeoutMs: RELAY_REMOVE_BUDGET_MS }).catch((e: unknown) => {
        io.err(`warning: could not withdraw ${alias} at the relay (${(e as Error).message}); it expires within ${DEFAULT_REGISTRATION_LIFETIME_MS / 60_000} min`)
      })
    } finally {
      await one.close()
    }
    if (values.json) io.out(JSON.stringify({ event: 'stopped', reason: stopReason }))
    else io.out(`stopped (${stopReason === 'duration' ? '--duration elapsed' : 'interrupted'})`)
    return 0
  },
})

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
