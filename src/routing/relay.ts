/**
 * Relays (forwarders): a node behind NAT or on another broker registers an
 * alias at a relay node; messages routed to the alias (`fwd.<alias>`) follow
 * the route the registration came by (its return route) to that node.
 *
 * Registrations are signed (docs/protocol.md "Relays", threat-model row D12):
 * - a request carries the alias, the relay's name, a sequence number, an
 *   expiry and the registrant's public key (Ed25519 or P-256), signed by that
 *   key under its own domain (`relayRegistrationSigner`, src/identity/signing.ts);
 *   no secure channel to the relay is needed, and the relay holds no key;
 * - the first accepted registration of an alias binds its key (trust on first
 *   use), or the relay's allow-list fixes alias → key; a request under another
 *   key is refused (RELAY_ALIAS_TAKEN) and counted: nobody else can move the alias;
 * - a sequence number not above the last accepted one for the alias is a
 *   replay (RELAY_REPLAYED), so a captured registration cannot move the alias
 *   back; a request signed for another relay is refused (RELAY_WRONG_RELAY);
 * - the route expires at the request's expiry (then messages to the alias are
 *   dropped); a signed removal withdraws it at once; the binding is kept
 *   until every request the relay accepted for the alias has expired plus a
 *   grace period, so a replay of an old request can never be accepted;
 * - the table is bounded (`maxAliases`): when full, only bindings past that
 *   point are evicted, oldest first; otherwise a new alias gets LIMIT_EXCEEDED.
 *
 * The route itself is not signed (every hop rewrites return routes), so an
 * on-path node that rewrites a fresh registration's return route can steer
 * that alias, as it could drop its traffic anyway; it still reads nothing
 * (the channels inside are end to end). Off-path senders cannot move it.
 *
 * The routing layer imports no crypto: the relay checks signatures through an
 * injected {@link RelayVerifier}, the registrant signs through a {@link RelaySigner}
 * (both from src/identity/signing.ts).
 */
import { ErrorCode, HopsealError } from '../errors.ts'
import { concat, decodeVarint, encodeVarint, equalConstantTime, fromUtf8, utf8 } from '../bytes/index.ts'
import { systemClock, type Clock } from '../time/clock.ts'
import { local, type Address, type Route } from './address.ts'
import type { Node, WorkerContext } from './node.ts'
import type { RoutingMessage } from './codec.ts'

export const RELAY_SERVICE = 'relay'
/** Aliases one relay serves at most (bound on its table and workers). */
export const DEFAULT_MAX_ALIASES = 1024
/** Longest lifetime a relay accepts for one registration (ms): 7 days, so a forgotten device's route does not linger. */
export const DEFAULT_MAX_LIFETIME_MS = 7 * 24 * 3_600_000
/** Lifetime `registerRelay` asks for by default (ms): 1 h; holders re-register at half of it. */
export const DEFAULT_REGISTRATION_LIFETIME_MS = 3_600_000
/**
 * How long a relay keeps an alias's key binding after the last request it
 * accepted for it has expired (ms): 30 days, so a device that was offline for
 * a while gets its alias back and nobody else can claim it meanwhile.
 */
export const DEFAULT_BINDING_GRACE_MS = 30 * 24 * 3_600_000
/** Clock difference tolerated between registrant and relay on the expiry (ms), as identity objects allow (5 min). */
export const RELAY_CLOCK_SKEW_MS = 5 * 60_000
/** Aliases: 1-64 of A-Z a-z 0-9 . _ - (they become worker names `fwd.<alias>`). */
export const RELAY_ALIAS_PATTERN = /^[A-Za-z0-9._-]{1,64}$/
/** Longest relay name in a request, UTF-8 bytes. */
export const MAX_RELAY_NAME_BYTES = 64
/** Latest expiry a request may carry (seconds since the Unix epoch): as identity times, 2^40. */
const MAX_EXPIRY_SECONDS = 2 ** 40

export type RelayKeyType = 'ed25519' | 'p256'
const KEY_TYPES: readonly RelayKeyType[] = ['ed25519', 'p256']
const PUBLIC_KEY_LENGTH: Record<RelayKeyType, number> = { ed25519: 32, p256: 33 }
const SIGNATURE_LENGTH = 64
const OPS = { register: 1, remove: 2 } as const

/** What a registrant signs; the relay keeps the key and the sequence number per alias. */
export interface RelayRequest {
  op: 'register' | 'remove'
  keyType: RelayKeyType
  publicKey: Uint8Array
  /** Strictly increasing per alias (a clock in ms, or a persistent counter). */
  seq: number
  /** Seconds since the Unix epoch; the relay refuses the request after it. */
  expires: number
  /** The relay's name (its Node name): the request is valid at that relay only. */
  relay: string
  alias: string
}

/** Signs relay requests: `relayRegistrationSigner(vault, handle)` (src/identity/signing.ts). */
export interface RelaySigner {
  readonly keyType: RelayKeyType
  readonly publicKey: Uint8Array
  sign(body: Uint8Array, opts?: { signal?: AbortSignal }): Promise<Uint8Array>
}

/** Verifies relay requests: `relayRegistrationVerifier(crypto)` (src/identity/signing.ts). */
export interface RelayVerifier {
  verify(keyType: RelayKeyType, publicKey: Uint8Array, body: Uint8Array, signature: Uint8Array): boolean
}

/** An alias → key entry of a relay's allow-list. */
export interface RelayAllowed {
  alias: string
  keyType: RelayKeyType
  publicKey: Uint8Array
}

/*
 * Wire format (docs/protocol.md "Relays"):
 *   request = body signature(64)
 *   body    = op(1: 1 register, 2 remove) keyType(1: 0 ed25519, 1 p256) publicKey(32 | 33)
 *             varint(seq) varint(expires) u8(len) relay u8(len) alias
 *   answer  = status(1) [UTF-8 alias address, on an accepted registration]
 * The old unsigned form (the alias alone, first byte ≥ 0x2d) never parses as a request.
 */

/** The bytes a request's signature covers (the signer adds the relay domain). */
export function encodeRelayBody(r: RelayRequest): Uint8Array {
  if (r.op !== 'register' && r.op !== 'remove') throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `op expected register or remove, got ${String(r.op)}`)
  if (!KEY_TYPES.includes(r.keyType)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `keyType expected ed25519 or p256, got ${String(r.keyType)}`)
  if (!(r.publicKey instanceof Uint8Array) || r.publicKey.length !== PUBLIC_KEY_LENGTH[r.keyType]) throw new HopsealError(ErrorCode.INVALID_LENGTH, `${r.keyType} public key expected ${PUBLIC_KEY_LENGTH[r.keyType]} bytes`)
  if (!Number.isSafeInteger(r.seq) || r.seq < 0) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `seq expected a non-negative safe integer, got ${r.seq}`)
  if (!Number.isSafeInteger(r.expires) || r.expires < 0 || r.expires > MAX_EXPIRY_SECONDS) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `expires expected seconds 0..2^40, got ${r.expires}`)
  if (!RELAY_ALIAS_PATTERN.test(r.alias)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `alias expected 1-64 of A-Z a-z 0-9 . _ -, got ${JSON.stringify(r.alias)}`)
  const relay = utf8(r.relay)
  if (relay.length < 1 || relay.length > MAX_RELAY_NAME_BYTES) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `relay name expected 1..${MAX_RELAY_NAME_BYTES} bytes, got ${relay.length}`)
  const alias = utf8(r.alias)
  return concat(Uint8Array.of(OPS[r.op], KEY_TYPES.indexOf(r.keyType)), r.publicKey, encodeVarint(r.seq), encodeVarint(r.expires), Uint8Array.of(relay.length), relay, Uint8Array.of(alias.length), alias)
}

/**
 * A signed request, ready to send to a relay's `relay` worker.
 * @throws HopsealError INVALID_ARGUMENT for a bad field; whatever the signer throws.
 */
export async function encodeRelayRequest(r: Omit<RelayRequest, 'keyType' | 'publicKey'>, signer: RelaySigner, opts: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
  const body = encodeRelayBody({ ...r, keyType: signer.keyType, publicKey: signer.publicKey })
  const signature = await signer.sign(body, opts)
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_LENGTH) throw new HopsealError(ErrorCode.INVALID_LENGTH, `relay request signature expected ${SIGNATURE_LENGTH} bytes`)
  return concat(body, signature)
}

/**
 * Decodes a request (total: a value or RELAY_MALFORMED). Does not verify the signature.
 * @throws HopsealError RELAY_MALFORMED
 */
export function decodeRelayRequest(bytes: Uint8Array): { request: RelayRequest; body: Uint8Array; signature: Uint8Array } {
  const bad = (why: string): never => {
    throw new HopsealError(ErrorCode.RELAY_MALFORMED, `relay request ${why}`)
  }
  if (!(bytes instanceof Uint8Array)) return bad('is not bytes')
  let off = 0
  const take = (n: number, what: string): Uint8Array => {
    if (bytes.length - off < n) bad(`truncated in ${what}`)
    const b = bytes.subarray(off, off + n)
    off += n
    return b
  }
  const varint = (what: string): number => {
    try {
      const { value, length } = decodeVarint(bytes, off)
      off += length
      return value
    } catch {
      return bad(`has a bad ${what}`)
    }
  }
  const text = (what: string, max: number): string => {
    const len = take(1, what)[0]!
    if (len < 1 || len > max) bad(`${what} length ${len} outside 1..${max}`)
    try {
      return fromUtf8(take(len, what))
    } catch {
      return bad(`${what} is not UTF-8`)
    }
  }
  const [opCode, typeCode] = take(2, 'header')
  const op = opCode === OPS.register ? 'register' : opCode === OPS.remove ? 'remove' : bad(`op ${opCode} unknown`)
  const keyType = KEY_TYPES[typeCode!] ?? bad(`key type ${typeCode} unknown`)
  const publicKey = take(PUBLIC_KEY_LENGTH[keyType], 'public key').slice()
  const seq = varint('sequence number')
  const expires = varint('expiry')
  if (expires > MAX_EXPIRY_SECONDS) bad('expiry beyond 2^40 s')
  const relay = text('relay name', MAX_RELAY_NAME_BYTES)
  const alias = text('alias', 64)
  if (!RELAY_ALIAS_PATTERN.test(alias)) bad('alias has characters outside A-Z a-z 0-9 . _ -')
  const body = bytes.slice(0, off)
  const signature = take(SIGNATURE_LENGTH, 'signature').slice()
  if (off !== bytes.length) bad(`has ${bytes.length - off} trailing bytes`)
  return { request: { op, keyType, publicKey, seq, expires, relay, alias }, body, signature }
}

/** Answer status codes, in wire order (0 = accepted). */
const STATUS: readonly (ErrorCode | undefined)[] = [
  undefined,
  ErrorCode.RELAY_BAD_SIGNATURE,
  ErrorCode.RELAY_ALIAS_TAKEN,
  ErrorCode.RELAY_NOT_ALLOWED,
  ErrorCode.RELAY_REPLAYED,
  ErrorCode.RELAY_EXPIRED,
  ErrorCode.RELAY_WRONG_RELAY,
  ErrorCode.LIMIT_EXCEEDED,
]
/** Drop counter of each refusal (`drop.relay_<reason>`). */
const REASON: Partial<Record<ErrorCode, string>> = {
  [ErrorCode.RELAY_BAD_SIGNATURE]: 'bad_signature',
  [ErrorCode.RELAY_ALIAS_TAKEN]: 'alias_taken',
  [ErrorCode.RELAY_NOT_ALLOWED]: 'not_allowed',
  [ErrorCode.RELAY_REPLAYED]: 'replayed',
  [ErrorCode.RELAY_EXPIRED]: 'expired',
  [ErrorCode.RELAY_WRONG_RELAY]: 'wrong_relay',
  [ErrorCode.LIMIT_EXCEEDED]: 'full',
}

export interface RelayServiceOptions {
  /** Checks request signatures: `relayRegistrationVerifier(crypto)`. */
  verifier: RelayVerifier
  /** Names requests may be signed for (default: the node's name). A relay reached under several names (its MQTT name) lists them all. */
  names?: readonly string[]
  /** Bound on the alias table (default 1024). */
  maxAliases?: number
  /** Aliases are served under this prefix (default `fwd.`). */
  prefix?: string
  /** When set, only these aliases may register, each under its key (no trust on first use). */
  allow?: readonly RelayAllowed[]
  /** Longest accepted registration lifetime, ms (default 7 days). */
  maxLifetimeMs?: number
  /** How long a binding outlives its last request's expiry, ms (default 30 days). */
  bindingGraceMs?: number
  clock?: Clock
}

/** What a relay knows about one alias. */
export interface RelayEntryInfo {
  keyType: RelayKeyType
  publicKey: Uint8Array
  /** Last accepted sequence number. */
  seq: number
  /** The stored route, while registered and unexpired. */
  route: Route | undefined
  /** When the route expires, ms (clock time). */
  expiresAt: number
}

export interface RelayService {
  /** The service worker's address (`relay`). */
  readonly address: Address
  /** Aliases in the table (registered, expired or removed but still bound). */
  readonly size: number
  /** The table entry of `alias` (without the prefix), if any. */
  entry(alias: string): RelayEntryInfo | undefined
  /** Stops the service and every alias worker. */
  stop(): void
}

interface Entry {
  keyType: RelayKeyType
  publicKey: Uint8Array
  seq: number
  route: Route | undefined
  expiresAt: number
  /** Latest expiry of any request accepted for this alias (ms): until then an old request could still be replayed. */
  horizon: number
  worker: Address
}

/**
 * Starts the relay service on a node.
 * @throws HopsealError INVALID_ARGUMENT for bad options (no verifier, an allow-list entry with a bad alias or key).
 * @example
 * const relay = startRelayService(node, { verifier: relayRegistrationVerifier(defaultCryptoProvider()) })
 */
export function startRelayService(node: Node, opts: RelayServiceOptions): RelayService {
  const relay = new RelayTable(node, relayConfig(node, opts))
  const address = node.startWorker(RELAY_SERVICE, (ctx, msg) => relay.handle(ctx, msg))
  return {
    address,
    get size() {
      return relay.size
    },
    entry: (alias) => relay.info(alias),
    stop() {
      node.stopWorker(address)
      relay.stop()
    },
  }
}

/** The checked options of one relay service, defaults filled in. */
interface RelayConfig {
  verifier: RelayVerifier
  max: number
  prefix: string
  names: Set<string>
  clock: Clock
  maxLifetime: number
  grace: number
  /** The allow-list by alias, when the relay has one (no trust on first use). */
  allow: Map<string, RelayAllowed> | undefined
}

/** Phase 1: checks the options and fills in the defaults. */
function relayConfig(node: Node, opts: RelayServiceOptions): RelayConfig {
  if (!opts || typeof opts.verifier?.verify !== 'function') throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'startRelayService needs opts.verifier (relayRegistrationVerifier(crypto))')
  const max = opts.maxAliases ?? DEFAULT_MAX_ALIASES
  if (!Number.isSafeInteger(max) || max < 1) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `maxAliases expected a positive integer, got ${max}`)
  return {
    verifier: opts.verifier,
    max,
    prefix: opts.prefix ?? 'fwd.',
    names: new Set(opts.names ?? [node.name]),
    clock: opts.clock ?? systemClock,
    maxLifetime: opts.maxLifetimeMs ?? DEFAULT_MAX_LIFETIME_MS,
    grace: opts.bindingGraceMs ?? DEFAULT_BINDING_GRACE_MS,
    allow: opts.allow ? allowList(opts.allow) : undefined,
  }
}

/** The allow-list by alias, each entry checked (alias pattern, key type and length) and its key copied. */
function allowList(entries: readonly RelayAllowed[]): Map<string, RelayAllowed> {
  const allow = new Map<string, RelayAllowed>()
  for (const a of entries) {
    if (!RELAY_ALIAS_PATTERN.test(a.alias)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `allow-list alias ${JSON.stringify(a.alias)} is not 1-64 of A-Z a-z 0-9 . _ -`)
    if (!KEY_TYPES.includes(a.keyType) || !(a.publicKey instanceof Uint8Array) || a.publicKey.length !== PUBLIC_KEY_LENGTH[a.keyType]) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `allow-list key of ${a.alias} expected an ed25519 (32-byte) or p256 (33-byte) public key`)
    allow.set(a.alias, { alias: a.alias, keyType: a.keyType, publicKey: a.publicKey.slice() })
  }
  return allow
}

/** The relay's alias table and the phases of one request: decode, check, then remove or register, then answer. */
class RelayTable {
  private readonly table = new Map<string, Entry>()

  constructor(
    private readonly node: Node,
    private readonly cfg: RelayConfig,
  ) {}

  get size(): number {
    return this.table.size
  }

  /** The service worker: one request in, one status answer out (nothing for a malformed request). */
  async handle(ctx: WorkerContext, msg: RoutingMessage): Promise<void> {
    const decoded = this.decode(msg)
    if (!decoded) return
    const { request: req, body, signature } = decoded
    const now = this.cfg.clock.now()
    let refusal = this.check(req, body, signature, now)
    const e = this.lookup(req.alias, now)
    if (!refusal && !e && req.op === 'register' && !this.makeRoom(now)) refusal = ErrorCode.LIMIT_EXCEEDED
    if (refusal) {
      this.node.count(`drop.relay_${REASON[refusal]!}`)
      await this.answer(ctx, msg.returnRoute, refusal)
      return
    }
    if (req.op === 'remove') {
      if (e) this.remove(e, req)
      await this.answer(ctx, msg.returnRoute, undefined)
      return
    }
    this.register(e, req, msg.returnRoute)
    await this.answer(ctx, msg.returnRoute, undefined, this.cfg.prefix + req.alias)
  }

  /** Decodes a request; undefined (counted) when it is malformed or its return route is too short. */
  private decode(msg: RoutingMessage): ReturnType<typeof decodeRelayRequest> | undefined {
    let decoded
    try {
      decoded = decodeRelayRequest(msg.payload)
    } catch {
      this.node.count('drop.relay_malformed')
      return undefined
    }
    // A registration stores its return route minus the registering worker: at least one hop must remain.
    if (msg.returnRoute.length < (decoded.request.op === 'register' ? 2 : 1)) {
      this.node.count('drop.relay_malformed')
      return undefined
    }
    return decoded
  }

  /** Checks a decoded, not yet verified request; the refusal code or undefined. */
  private check(req: RelayRequest, body: Uint8Array, signature: Uint8Array, now: number): ErrorCode | undefined {
    const { names, maxLifetime, allow, verifier } = this.cfg
    if (!names.has(req.relay)) return ErrorCode.RELAY_WRONG_RELAY
    const expiresMs = req.expires * 1000
    if (expiresMs <= now || expiresMs > now + maxLifetime + RELAY_CLOCK_SKEW_MS) return ErrorCode.RELAY_EXPIRED
    const bound = allow ? allow.get(req.alias) : this.lookup(req.alias, now)
    if (allow && !bound) return ErrorCode.RELAY_NOT_ALLOWED
    if (bound && (bound.keyType !== req.keyType || !equalConstantTime(bound.publicKey, req.publicKey))) return ErrorCode.RELAY_ALIAS_TAKEN
    const e = this.lookup(req.alias, now)
    if (e && req.seq <= e.seq) return ErrorCode.RELAY_REPLAYED
    if (!verifier.verify(req.keyType, req.publicKey, body, signature)) return ErrorCode.RELAY_BAD_SIGNATURE
    return undefined
  }

  /** A signed removal: the route is withdrawn at once, the binding stays until the horizon. */
  private remove(e: Entry, req: RelayRequest): void {
    e.seq = req.seq
    e.route = undefined
    e.horizon = Math.max(e.horizon, req.expires * 1000)
    this.node.count('relay.removed')
  }

  /** A registration: binds the alias on first use (starting its forwarder worker) and stores the route. */
  private register(existing: Entry | undefined, req: RelayRequest, returnRoute: Route): void {
    const expiresAt = req.expires * 1000
    let e = existing
    if (!e) {
      const worker = this.node.startWorker(this.cfg.prefix + req.alias, this.forwarder(req.alias))
      e = { keyType: req.keyType, publicKey: req.publicKey, seq: req.seq, route: undefined, expiresAt, horizon: expiresAt, worker }
      this.table.set(req.alias, e)
    }
    // The return route ends with the registering worker; the alias leads to its node,
    // and the sender's remaining onward route picks the worker there.
    e.route = returnRoute.slice(0, -1)
    e.seq = req.seq
    e.expiresAt = expiresAt
    e.horizon = Math.max(e.horizon, expiresAt)
    this.node.count('relay.registered')
  }

  private async answer(ctx: WorkerContext, route: Route, status: ErrorCode | undefined, text?: string): Promise<void> {
    const code = STATUS.indexOf(status)
    try {
      await ctx.send(route, text === undefined ? Uint8Array.of(code) : concat(Uint8Array.of(code), utf8(text)))
    } catch {
      this.node.count('relay.answer_failed')
    }
  }

  /** The worker behind `fwd.<alias>`: forwards along the stored route while it is registered and unexpired. */
  private forwarder(alias: string) {
    return async (ctx: WorkerContext, m: RoutingMessage): Promise<void> => {
      const { clock } = this.cfg
      const e = this.lookup(alias, clock.now())
      if (!e?.route || clock.now() >= e.expiresAt) {
        this.node.count('drop.relay_no_route')
        return
      }
      await ctx.forward({ onward: [...e.route, ...m.onward], returnRoute: m.returnRoute, payload: m.payload })
    }
  }

  /** The entry of `alias`, forgetting it first when its binding has lapsed. */
  private lookup(alias: string, now: number): Entry | undefined {
    const e = this.table.get(alias)
    if (e && now > e.horizon + this.cfg.grace) {
      this.forget(alias, e, 'relay.forgotten')
      return undefined
    }
    return e
  }

  private forget(alias: string, e: Entry, counter: string): void {
    this.table.delete(alias)
    this.node.stopWorker(e.worker)
    this.node.count(counter)
  }

  /** Makes room for one alias: evicts the binding whose requests all expired longest ago. */
  private makeRoom(now: number): boolean {
    if (this.table.size < this.cfg.max) return true
    let oldest: [string, Entry] | undefined
    for (const [a, e] of this.table) if (now > e.horizon && (!oldest || e.horizon < oldest[1].horizon)) oldest = [a, e]
    if (!oldest) return false
    this.forget(oldest[0], oldest[1], 'relay.evicted')
    return true
  }

  info(alias: string): RelayEntryInfo | undefined {
    const { clock } = this.cfg
    const e = this.lookup(alias, clock.now())
    if (!e) return undefined
    const live = e.route && clock.now() < e.expiresAt ? e.route : undefined
    return { keyType: e.keyType, publicKey: e.publicKey.slice(), seq: e.seq, route: live, expiresAt: e.expiresAt }
  }

  /** Stops every alias worker and empties the table (the service worker is the caller's). */
  stop(): void {
    for (const e of this.table.values()) this.node.stopWorker(e.worker)
    this.table.clear()
  }
}

export interface RelayRequestOptions {
  /** Signs the request: `relayRegistrationSigner(vault, handle)`. */
  signer: RelaySigner
  /** The relay's name (its Node name, or one of the names it was started with). */
  relayName: string
  /** Registration lifetime, ms (default 1 h); also the validity of a removal. */
  lifetimeMs?: number
  /**
   * Sequence number (default: the clock in ms, strictly increasing within this
   * process). A device without a clock passes a persistent counter, e.g.
   * `Atecc608Vault.nextCounter()`.
   */
  seq?: number
  /** How long to wait for the relay's answer, ms (default 5000). */
  timeoutMs?: number
  clock?: Clock
  signal?: AbortSignal
}

export interface RelayRegistration {
  /** The alias address at the relay (`fwd.<alias>`): reach the node at `[...relayNode, local(alias), ...]`. */
  alias: string
  /** When the registration expires, ms (clock time): register again before. */
  expiresAt: number
  seq: number
}

let lastSeq = 0
/** The default sequence number: the clock in ms, but never one already used in this process. */
function nextSeq(clock: Clock): number {
  lastSeq = Math.max(Math.floor(clock.now()), lastSeq + 1)
  return lastSeq
}

/**
 * Registers `alias` at a relay reachable by `relayRoute` (ending at its `relay` service).
 * @throws HopsealError RELAY_* or LIMIT_EXCEEDED when the relay refuses (the code says why),
 *   TIMEOUT without an answer, ABORTED, RELAY_MALFORMED for an answer that does not parse.
 * @example
 * const signer = await relayRegistrationSigner(vault, key)
 * const { alias } = await registerRelay(node, [mqtt('cloud'), local('relay')], 'monitor-7', { signer, relayName: 'cloud' })
 */
export async function registerRelay(node: Node, relayRoute: Route, alias: string, opts: RelayRequestOptions): Promise<RelayRegistration> {
  const r = await request(node, relayRoute, alias, 'register', opts)
  return { alias: fromUtf8(r.text), expiresAt: r.expires * 1000, seq: r.seq }
}

/**
 * Withdraws `alias` from a relay (signed by the key that registered it). The
 * relay keeps the binding (nobody else can take the alias) until it lapses.
 * @throws HopsealError as {@link registerRelay}.
 */
export async function removeRelay(node: Node, relayRoute: Route, alias: string, opts: RelayRequestOptions): Promise<void> {
  await request(node, relayRoute, alias, 'remove', opts)
}

async function request(node: Node, relayRoute: Route, alias: string, op: RelayRequest['op'], opts: RelayRequestOptions): Promise<{ text: Uint8Array; expires: number; seq: number }> {
  if (!opts?.signer) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `relay ${op} needs opts.signer (relayRegistrationSigner(vault, key))`)
  const clock = opts.clock ?? systemClock
  const timeoutMs = opts.timeoutMs ?? 5000
  const lifetime = opts.lifetimeMs ?? DEFAULT_REGISTRATION_LIFETIME_MS
  if (!Number.isSafeInteger(lifetime) || lifetime < 1000) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `lifetimeMs expected at least 1000, got ${lifetime}`)
  const seq = opts.seq ?? nextSeq(clock)
  const expires = Math.floor((clock.now() + lifetime) / 1000)
  const bytes = await encodeRelayRequest({ op, seq, expires, relay: opts.relayName, alias }, opts.signer, opts.signal ? { signal: opts.signal } : {})
  const reply = node.newAddress('relay-reg.')
  const answer = await new Promise<Uint8Array>((resolve, reject) => {
    const done = (): void => {
      clock.clearTimeout(timer)
      opts.signal?.removeEventListener('abort', onAbort)
      node.stopWorker(reply)
    }
    const onAbort = (): void => {
      done()
      reject(new HopsealError(ErrorCode.ABORTED, `relay ${op} of ${alias} aborted`))
    }
    const timer = clock.setTimeout(() => {
      done()
      reject(new HopsealError(ErrorCode.TIMEOUT, `relay ${op} of ${alias} not answered in ${timeoutMs} ms`))
    }, timeoutMs)
    if (opts.signal?.aborted) return onAbort()
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    node.startWorker(reply, (_ctx, msg) => {
      done()
      resolve(msg.payload)
    })
    node.send([...relayRoute], bytes, [reply]).catch((e: unknown) => {
      done()
      reject(e as Error)
    })
  })
  if (answer.length === 0 || answer[0]! >= STATUS.length) throw new HopsealError(ErrorCode.RELAY_MALFORMED, `relay answered ${op} of ${alias} with an unknown status`)
  const status = STATUS[answer[0]!]
  if (status !== undefined) throw new HopsealError(status, `relay refused ${op} of ${alias}`)
  return { text: answer.subarray(1), expires, seq }
}

export { local as relayAlias }
