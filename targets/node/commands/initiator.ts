/**
 * The initiator side shared by `hopseal secure-channel create` and
 * `hopseal message send`: their options, the checks that turn bad options
 * into usage errors (exit 2) before anything connects, and the channel itself
 * from a one-shot node (one-shot-node.ts).
 */
import { toHex } from '../../../src/bytes/index.ts'
import { parsePublicKeyOption, parseRouteOption } from '../cli/args.ts'
import type { CliIO } from '../cli/command.ts'
import { createSecureChannel, knownPeers, type Delivery, type SecureChannel } from '../../../src/channel/secure-channel.ts'
import { ErrorCode, HopsealError, isHopsealError } from '../../../src/errors.ts'
import { parseProtocolName, type NoiseProtocol, type StaticKey } from '../../../src/noise/index.ts'
import { routeToString, type Route } from '../../../src/routing/address.ts'
import { loadConfig, type LogLevel, type NodeConfig } from '../runtime/config.ts'
import { DEFAULT_CLI_PROTOCOL, DEFAULT_CLI_TIMEOUT_MS } from './constants.ts'
import { cliStaticKey, oneShotOptions, startOneShotNode, timeoutAs, type Deadline, type OneShotNode } from './one-shot-node.ts'

/** parseArgs options of the initiator commands. */
export const INITIATOR_OPTIONS = {
  from: { type: 'string' },
  to: { type: 'string' },
  peer: { type: 'string' },
  key: { type: 'string' },
  protocol: { type: 'string' },
  reliable: { type: 'boolean', default: false },
  timeout: { type: 'string' },
  'log-level': { type: 'string' },
  json: { type: 'boolean', default: false },
} as const

/** Their help lines, in the order above. */
export const INITIATOR_HELP_OPTIONS: readonly (readonly [string, string])[] = [
  ['--from FILE', "a node config (what hopseal node start takes): this side's vault and transports (required)"],
  ['--to ROUTE', 'route to the listener, e.g. "2#gateway;0#hr" (2 = MQTT name, 3 = serial link, 0 = worker) (required)'],
  ['--peer HEX', "the listener's Noise static public key (hopseal vault public-key on its side) (required)"],
  ['--key LABEL', "this side's static key in the config's vault (default: the key of the config's first listener)"],
  ['--protocol NAME', `Noise protocol (default: the config's first listener's, else ${DEFAULT_CLI_PROTOCOL})`],
  ['--reliable', 'reliable mode (acks, retransmission); the listener needs reliable: true'],
  ['--timeout DUR', `budget for links, handshake and reply: 500ms, 10s, 2m (default ${DEFAULT_CLI_TIMEOUT_MS / 1000}s)`],
  ['--log-level L', 'runtime log lines on stderr: error, warn (default), info or debug'],
  ['--json', 'print one JSON object for scripts'],
]

/** Lines every initiator help carries. */
export const INITIATOR_DETAILS: readonly string[] = [
  'It runs as a node of its own, built from --from (vault, transports; MQTT name <name>.cli-<hex>,',
  'clean session; no metrics, gateway or relay), so a running node with the same file is not disturbed.',
  'Handshake failures are silent on the wire: a wrong --peer or a listener that does not know this',
  "side's key shows as CHANNEL_HANDSHAKE_TIMEOUT (KK, IK) or CHANNEL_PEER_REFUSED (XX). Errors exit 1, usage errors 2.",
]

type Values = { [K in keyof typeof INITIATOR_OPTIONS]?: (typeof INITIATOR_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string }

export interface InitiatorArgs {
  config: NodeConfig
  route: Route
  peer: Uint8Array
  keyLabel: string
  protocol: NoiseProtocol
  reliable: boolean
  timeoutMs: number
  logLevel: LogLevel
  json: boolean
}

/** Both statics authenticated: the initiator proves its key and learns (or knows) the responder's. */
function mutual(p: NoiseProtocol): boolean {
  const pat = p.pattern
  const sends = (initiator: boolean): boolean => pat.messages.some((m, i) => m.includes('s') && (i % 2 === 0) === initiator)
  return !pat.oneWay && (pat.preInitiator.includes('s') || sends(true)) && (pat.preResponder.includes('s') || sends(false))
}

/**
 * Checks the options and reads the config. Returns the arguments, or the exit
 * code of a usage error already printed (through the command's `usage`).
 * @throws HopsealError CONFIG_INVALID (the file), NOISE_BAD_PROTOCOL_NAME.
 */
export function initiatorArgs(values: Values, io: CliIO, sub: string, usage: (why: string) => number): InitiatorArgs | number {
  if (!values.from) return usage(`${sub} needs --from FILE (a node config: its vault holds this side's key)`)
  if (!values.to) return usage(`${sub} needs --to ROUTE (the route to the listener, e.g. "2#gateway;0#hr")`)
  if (!values.peer) return usage(`${sub} needs --peer HEX (the listener's static public key: hopseal vault public-key --label L on its side)`)
  const route = parseRouteOption('--to', values.to)
  if (typeof route === 'string') return usage(route)
  const run = oneShotOptions(values)
  if (typeof run === 'string') return usage(run)
  const { timeoutMs, logLevel } = run
  const config = loadConfig(values.from, io.env)
  const first = config.listeners[0]
  const keyLabel = values.key ?? first?.key
  if (keyLabel === undefined) return usage(`${values.from} has no listener to take this side's key from: give --key LABEL (a key in its vault of the type --protocol needs, x25519 by default)`)
  let protocol: NoiseProtocol
  try {
    protocol = parseProtocolName(values.protocol ?? first?.protocol ?? DEFAULT_CLI_PROTOCOL)
  } catch (e) {
    if (!isHopsealError(e)) throw e
    return usage(`--protocol: ${e.message.replace(/^[A-Z_]+: /, '')}`)
  }
  if (!mutual(protocol)) return usage(`--protocol ${protocol.name}: pattern ${protocol.pattern.name} does not authenticate both sides (use KK, IK, XX, XK or IX)`)
  const peer = parsePublicKeyOption('--peer', values.peer, protocol.publicKeyLength, `a ${protocol.keyType} public key for ${protocol.name}`)
  if (typeof peer === 'string') return usage(peer)
  return { config, route, peer, keyLabel, protocol, reliable: values.reliable === true, timeoutMs, logLevel, json: values.json === true }
}

export interface OpenedChannel {
  one: OneShotNode
  channel: SecureChannel
  /** This side's static key (public part and a DH function; the private key stays in the vault). */
  s: StaticKey
  /** Wall time from message 1 to established (ms), rounded to 0.1. */
  handshakeMs: number
}

/**
 * Starts the one-shot node and creates the channel.
 * @throws HopsealError TRANSPORT_UNAVAILABLE (links), VAULT_* (the key),
 *   CHANNEL_HANDSHAKE_TIMEOUT (no valid answer by the deadline),
 *   CHANNEL_PEER_REFUSED (the responder proved another key), ABORTED.
 */
export async function openChannel(a: InitiatorArgs, io: CliIO, deadline: Deadline, deliverTo?: Delivery): Promise<OpenedChannel> {
  const one = await startOneShotNode({ config: a.config, io, logLevel: a.logLevel, listeners: false, deadline })
  let s: StaticKey | undefined
  try {
    s = await cliStaticKey(one.vault, a.keyLabel, a.protocol, a.config.file)
    const t0 = performance.now()
    const channel = await createSecureChannel(one.node, a.route, {
      protocol: a.protocol,
      s,
      ...(a.protocol.pattern.preResponder.includes('s') ? { rs: a.peer } : {}),
      auth: knownPeers([{ staticKey: a.peer }]),
      reliable: a.reliable,
      signal: deadline.signal,
      ...(deliverTo ? { deliverTo } : {}),
    })
    return { one, channel, s, handshakeMs: Math.round((performance.now() - t0) * 10) / 10 }
  } catch (e) {
    await one.close().catch(() => undefined)
    if (isHopsealError(e, ErrorCode.CHANNEL_PEER_REFUSED)) {
      throw new HopsealError(ErrorCode.CHANNEL_PEER_REFUSED, `the listener at ${routeToString(a.route)} proved a static key other than --peer ${toHex(a.peer)} (fix: check --peer against hopseal vault public-key on its side)`, { cause: e })
    }
    throw timeoutAs(
      e,
      deadline,
      ErrorCode.CHANNEL_HANDSHAKE_TIMEOUT,
      `no valid handshake answer from ${routeToString(a.route)}`,
      `check the route, that --peer is the listener's key, and that the listener lists this side's key ${s ? toHex(s.publicKey) : `(${a.keyLabel})`} in trust.knownPeers; failures are silent on the wire`,
    )
  }
}

/** What the commands print about an established channel (public data only). */
export function describeChannel(a: InitiatorArgs, o: OpenedChannel): Record<string, unknown> {
  return {
    from: a.config.file,
    node: o.one.mqttName ?? a.config.name,
    to: routeToString(a.route),
    protocol: a.protocol.name,
    handshake: a.protocol.pattern.name,
    reliable: a.reliable,
    peer: { staticKey: toHex(o.channel.peer.staticKey), ...(o.channel.peer.identifier ? { identifier: o.channel.peer.identifier } : {}), authenticated: true },
    local: { key: a.keyLabel, staticKey: toHex(o.s.publicKey) },
    remoteRoute: routeToString(o.channel.remoteRoute),
    handshakeMs: o.handshakeMs,
  }
}

/** Closes the channel (an encrypted close to the peer), then the node. */
export async function closeChannel(o: OpenedChannel): Promise<void> {
  try {
    await o.channel.close()
  } finally {
    await o.one.close()
  }
}
