/**
 * A Node hosts workers at local addresses and routes messages between them and
 * its transports (Ockam-style routing):
 *
 * - The head of the onward route says where a message goes next. A LOCAL
 *   address is a worker on this node; any other type is handed to the
 *   transport registered for that type.
 * - Each hop pops itself from the onward route and pushes itself onto the
 *   return route: the node pops the worker's address before delivery, and
 *   `ctx.forward()` pushes the worker's address; a transport pops the peer's
 *   address on send, and the receiving node pushes the address it can reply to.
 * - Every drop is counted by reason (`node.counters`); nothing throws into a
 *   transport's receive path.
 */
import { ErrorCode, HopsealError, isHopsealError } from '../errors.ts'
import { addressToString, local, TransportType, type Address, type Route } from './address.ts'
import { decodeRoutingMessage, DEFAULT_ROUTING_LIMITS, encodeRoutingMessage, type RoutingLimits, type RoutingMessage } from './codec.ts'
import type { Transport } from './transport.ts'

/** Metadata about how a message reached a worker. */
export interface IncomingMeta {
  /** The transport address the message arrived from, or undefined when local. */
  from?: Address
  /** Set by a secure channel's decryptor: the authenticated peer. */
  peer?: { identifier?: string; attributes?: Readonly<Record<string, string>>; channel: string }
}

/** What a worker's handler is called with. `send` and `forward` are methods: call them on the context (`ctx.send(...)`). */
export interface WorkerContext {
  readonly node: Node
  readonly address: Address
  /** Sends a new message; the return route defaults to this worker. */
  send(onward: Route, payload: Uint8Array, returnRoute?: Route): Promise<void>
  /** Forwards a message onwards, pushing this worker onto its return route. */
  forward(msg: RoutingMessage, meta?: IncomingMeta): Promise<void>
}

export interface Worker {
  handleMessage(ctx: WorkerContext, msg: RoutingMessage, meta: IncomingMeta): void | Promise<void>
}

export type WorkerHandler = Worker['handleMessage']

/** Incoming access control: return false to drop (counted as `access_denied`). */
export type AccessControl = (msg: RoutingMessage, meta: IncomingMeta) => boolean

export interface NodeOptions {
  name?: string
  limits?: Partial<RoutingLimits>
  /** Hops a message may make inside this node before it is dropped (loop guard). */
  maxLocalHops?: number
}

/**
 * One started worker: its handler, its access control, and the context it is
 * called with, in one object with prototype methods (a gateway holds two
 * workers per channel, and per-worker closures and wrapper objects cost
 * ~700 bytes each under tsx, whose keepNames gives every named closure its
 * own property array).
 */
class Registered implements WorkerContext {
  constructor(
    readonly node: Node,
    readonly address: Address,
    private readonly handler: Worker | WorkerHandler,
    readonly accessControl: AccessControl | undefined,
  ) {}

  send(onward: Route, payload: Uint8Array, returnRoute?: Route): Promise<void> {
    return this.node.route({ onward, returnRoute: returnRoute ?? [this.address], payload }, {})
  }

  forward(msg: RoutingMessage, meta?: IncomingMeta): Promise<void> {
    return this.node.route({ onward: msg.onward, returnRoute: [this.address, ...msg.returnRoute], payload: msg.payload }, meta ?? {})
  }

  handle(msg: RoutingMessage, meta: IncomingMeta): void | Promise<void> {
    const h = this.handler
    return typeof h === 'function' ? h(this, msg, meta) : h.handleMessage(this, msg, meta)
  }
}

/**
 * A node's map key for an address: its type and value bytes as one flat
 * one-byte string, made without a hex conversion on every local hop
 * (addressKey()'s text is a concatenation that maps keep as a rope of
 * string objects, more of them the longer the value).
 */
function keyOf(a: Address): string {
  const v = a.value
  // One- and two-byte values (every endpoint address on a constrained link) without an argument spread.
  if (v.length === 1) return String.fromCharCode(a.type, v[0]!)
  if (v.length === 2) return String.fromCharCode(a.type, v[0]!, v[1]!)
  return String.fromCharCode(a.type, ...v)
}

/** Distinct transport addresses a node shares between the return routes it hands out (routing a message never depends on it). */
const MAX_REMEMBERED_SENDERS = 4096

/** The 1-byte local addresses newAddress() hands out, made once per process (addresses are frozen). */
const SHORT_LOCAL: Address[] = []
function shortLocal(v: number): Address {
  return (SHORT_LOCAL[v] ??= local(Uint8Array.of(v)))
}

export class Node {
  readonly name: string
  readonly limits: RoutingLimits
  /** Drop and event counters, by reason. */
  readonly counters = new Map<string, number>()
  private readonly workers = new Map<string, Registered>()
  private readonly transports = new Map<number, Transport>()
  private readonly maxLocalHops: number
  /**
   * Local hops of the message whose worker is running right now, while its
   * handler runs synchronously (0 outside): a message the handler sends or
   * forwards before its first await inherits it, which is what the loop guard
   * counts. (route() never incremented its `hops` argument, so the guard
   * never fired: a loop between two workers ran until the stack overflowed.)
   */
  private depth = 0
  private seq = 0
  private short = 0
  /** Every 1-byte address was in use when newAddress() last looked (reset when one is stopped). */
  private shortTaken = false
  private readonly reserved = new Set<string>()
  /** Workers that accept only messages that came out of a secure channel. */
  private readonly channelOnly = new Set<string>()
  /**
   * The transport addresses messages arrived from, one object per address:
   * the return routes a channel keeps (one per device on a gateway) share the
   * sender's address instead of holding a copy each. Bounded: cleared when full.
   */
  private readonly senders = new Map<string, Address>()

  constructor(opts: NodeOptions = {}) {
    this.name = opts.name ?? 'node'
    this.limits = { ...DEFAULT_ROUTING_LIMITS, ...opts.limits }
    this.maxLocalHops = opts.maxLocalHops ?? 32
  }

  count(reason: string, n = 1): void {
    this.counters.set(reason, (this.counters.get(reason) ?? 0) + n)
  }

  /** Starts a worker at a local address (string names are UTF-8). */
  startWorker(name: string | Address, worker: Worker | WorkerHandler, opts: { accessControl?: AccessControl } = {}): Address {
    const addr = typeof name === 'string' ? local(name) : name
    if (addr.type !== TransportType.LOCAL) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'workers live at LOCAL addresses')
    const key = keyOf(addr)
    if (this.workers.has(key)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `a worker already runs at ${addressToString(addr)}`)
    this.reserved.delete(key)
    this.workers.set(key, new Registered(this, addr, worker, opts.accessControl))
    return addr
  }

  /**
   * A fresh, unused local address. Without a prefix it is a 1-byte address
   * (0x01–0x7f) while one is free: such addresses cost one byte in a routing
   * header on a constrained link. With a prefix, or when the short ones are
   * used up, it is `prefix` + a counter.
   */
  newAddress(prefix = ''): Address {
    if (prefix === '') {
      // All 127 were in use at the last look: look again only after one was stopped
      // (a gateway with thousands of channels would otherwise try all 127 for every new address).
      if (!this.shortTaken) {
        for (let i = 0; i < 0x7f; i++) {
          const v = ((this.short++ % 0x7f) + 1) & 0x7f
          const a = shortLocal(v)
          if (this.isFree(a)) return this.reserve(a)
        }
        this.shortTaken = true
      }
      prefix = 'a.'
    }
    for (;;) {
      const a = local(`${prefix}${(this.seq++).toString(36)}`)
      if (this.isFree(a)) return this.reserve(a)
    }
  }

  stopWorker(addr: Address): boolean {
    const key = keyOf(addr)
    if (addr.type === TransportType.LOCAL && addr.value.length === 1 && addr.value[0]! < 0x80) this.shortTaken = false
    this.reserved.delete(key)
    return this.workers.delete(key)
  }

  private isFree(a: Address): boolean {
    const k = keyOf(a)
    return !this.workers.has(k) && !this.reserved.has(k)
  }

  /** Addresses handed out by newAddress() stay reserved until started or stopped. */
  private reserve(a: Address): Address {
    this.reserved.add(keyOf(a))
    return a
  }

  /**
   * From now on, messages to `addr` are delivered only when they came out of
   * a secure channel (`meta.peer` set); anything else (a raw publish on the
   * broker, a local send) is dropped as `drop.not_from_channel`. Channel
   * listeners and initiators do this for the workers they deliver to, so a
   * worker behind a channel is reachable only through it.
   */
  requireChannel(addr: Address): void {
    this.channelOnly.add(keyOf(addr))
  }

  hasWorker(addr: Address): boolean {
    return this.workers.has(keyOf(addr))
  }

  /** Registers a transport for its type; received bytes are decoded and routed. */
  registerTransport(t: Transport): void {
    this.transports.set(t.type, t)
    t.onReceive((bytes, from) => this.receive(bytes, from))
  }

  transport(type: number): Transport | undefined {
    return this.transports.get(type)
  }

  /**
   * Stops every worker and closes every registered transport (what a process
   * does before it exits). Channels should be closed first, so their peers
   * are told; a transport that fails to close does not stop the others.
   */
  async close(): Promise<void> {
    this.workers.clear()
    this.reserved.clear()
    this.shortTaken = false
    const ts = [...this.transports.values()]
    this.transports.clear()
    await Promise.allSettled(ts.map((t) => t.close()))
  }

  /** Sends a message from outside any worker (tests, CLI). */
  send(onward: Route, payload: Uint8Array, returnRoute: Route = []): Promise<void> {
    return this.route({ onward, returnRoute, payload }, {})
  }

  /** Bytes from a transport: decode (bounded), push the reply address, route. Never throws. */
  receive(bytes: Uint8Array, from: Address): void {
    let msg: RoutingMessage
    try {
      msg = decodeRoutingMessage(bytes, this.limits)
    } catch (e) {
      this.count(isHopsealError(e, ErrorCode.LIMIT_EXCEEDED) ? 'drop.too_large' : 'drop.decode_error')
      return
    }
    if (msg.returnRoute.length >= this.limits.maxRouteLength) {
      this.count('drop.route_too_long')
      return
    }
    this.count('received')
    from = this.sender(from)
    this.route({ onward: msg.onward, returnRoute: [from, ...msg.returnRoute], payload: msg.payload }, { from }).catch(() => this.count('drop.route_error'))
  }

  private sender(from: Address): Address {
    const key = keyOf(from)
    const known = this.senders.get(key)
    if (known) return known
    if (this.senders.size >= MAX_REMEMBERED_SENDERS) this.senders.clear()
    this.senders.set(key, from)
    return from
  }

  /**
   * Routes one message by the head of its onward route. `hops` counts local
   * deliveries in a chain (default: the depth of the worker calling, see
   * `depth`); past `maxLocalHops` the message is dropped (`drop.loop`).
   * A worker that awaits before re-sending starts a new chain.
   */
  async route(msg: RoutingMessage, meta: IncomingMeta, hops = this.depth): Promise<void> {
    const next = msg.onward[0]
    if (!next) {
      this.count('drop.no_route')
      throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'message has an empty onward route')
    }
    if (hops > this.maxLocalHops) {
      this.count('drop.loop')
      throw new HopsealError(ErrorCode.LIMIT_EXCEEDED, 'too many local hops (routing loop?)')
    }
    const rest = msg.onward.slice(1)
    if (next.type === TransportType.LOCAL) {
      const key = keyOf(next)
      const w = this.workers.get(key)
      if (!w) {
        this.count('drop.unknown_worker')
        return
      }
      if (!meta.peer && this.channelOnly.has(key)) {
        this.count('drop.not_from_channel')
        return
      }
      const delivered: RoutingMessage = { onward: rest, returnRoute: msg.returnRoute, payload: msg.payload }
      if (w.accessControl && !w.accessControl(delivered, meta)) {
        this.count('drop.access_denied')
        return
      }
      const outer = this.depth
      let done: void | Promise<void>
      this.depth = hops + 1
      try {
        done = w.handle(delivered, meta)
      } catch (e) {
        done = Promise.reject(e)
      } finally {
        this.depth = outer
      }
      try {
        await done
      } catch (e) {
        this.count(isHopsealError(e) ? `drop.${e.code.toLowerCase()}` : 'drop.worker_error')
      }
      return
    }
    const t = this.transports.get(next.type)
    if (!t) {
      this.count('drop.no_transport')
      throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `no transport for address type ${next.type} (${addressToString(next)})`)
    }
    const bytes = encodeRoutingMessage({ onward: rest, returnRoute: msg.returnRoute, payload: msg.payload }, this.limits)
    if (bytes.length > t.properties.maxPayload) {
      this.count('drop.over_mtu')
      throw new HopsealError(ErrorCode.FRAME_TOO_LARGE, `message of ${bytes.length} bytes exceeds the transport's maxPayload ${t.properties.maxPayload}`)
    }
    this.count('sent')
    await t.send(next, bytes)
  }
}
