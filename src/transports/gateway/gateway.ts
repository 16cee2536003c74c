/**
 * The gateway (bridge) node: a routing Node that joins constrained links
 * (serial: LoRa, BLE-UART) to upstream transports (MQTT). It forwards routing
 * messages and holds no channel keys: what it sees of a secure channel is the
 * route and the ciphertext.
 *
 * On the constrained side it adds what sleepy, low-bandwidth devices need:
 * - **mailboxes** (store and forward): a downlink to a device whose link is
 *   down (unplugged, out of range) or that is asleep waits in a bounded
 *   per-device mailbox with expiry, and leaves when the link comes back up or
 *   the device next speaks (LoRaWAN class A style: a `sleepy` device listens
 *   for `awakeMs` after each uplink);
 * - **return-route compression** (route-aliases.ts), so routing headers stay
 *   2 bytes on the radio in both directions;
 * - **static aliases**: 1-byte gateway addresses that lead to a configured
 *   route (e.g. alias 1 → `[2#app, 0#hr]`), so a device names a far service
 *   in one byte.
 */
import { ErrorCode, HopsealError, isHopsealError } from '../../errors.ts'
import { fromUtf8 } from '../../bytes/index.ts'
import { local, TransportType, type Address, type Route } from '../../routing/address.ts'
import { decodeRoutingMessage, encodeRoutingMessage, type RoutingMessage } from '../../routing/codec.ts'
import type { Node } from '../../routing/node.ts'
import type { Transport, TransportProperties } from '../../routing/transport.ts'
import { systemClock, type Clock } from '../../time/clock.ts'
import {
  DEFAULT_ALIAS_IDLE_MS,
  DEFAULT_DOWNLINK_CONFIGURED_PER_HOUR,
  DEFAULT_DOWNLINK_CREDIT_TTL_MS,
  DEFAULT_DOWNLINK_CREDITS_PER_UPLINK,
  DEFAULT_DOWNLINK_MAX_CREDITS,
  DEFAULT_DOWNLINK_MAX_PAIRS,
  DEFAULT_MAILBOX_BYTES,
  DEFAULT_MAILBOX_MESSAGES,
  DEFAULT_MAILBOX_TOTAL_BYTES,
  DEFAULT_MAILBOX_TTL_MS,
} from './constants.ts'
import { DownlinkGuard, type DownlinkPolicy } from './downlink-guard.ts'
import { Mailboxes, type MailboxLimits } from './mailbox.ts'
import { RouteAliases } from './route-aliases.ts'

/** What the gateway needs from a constrained-link transport beyond Transport (SerialTransport has it). */
export interface LinkEventSource {
  onLinkEvent(handler: (name: string, event: 'up' | 'down' | 'rx') => void): void
}

export interface DeviceOptions {
  /** `always-on` (default): downlinks go straight out, queued only while the link is down. `sleepy`: queued unless the device spoke in the last `awakeMs`. */
  mode?: 'always-on' | 'sleepy'
  /** How long a sleepy device listens after an uplink (ms). Default 2000 (LoRaWAN RX1/RX2 windows are 1 s and 2 s). */
  awakeMs?: number
  /** Upstream peers (e.g. MQTT node names) that may push downlinks to this device without its uplinks, at `downlink.configuredPerHour`. */
  downlinkFrom?: string[]
}

export interface GatewayOptions {
  node: Node
  /** The constrained-link transport the gateway fronts (mailboxes, compression). */
  link: Transport & LinkEventSource
  /** Upstream transports (MQTT…), registered on the node as they are. */
  upstream?: Transport[]
  /** Per-device behaviour, by link name; devices not listed are `always-on`. */
  devices?: Record<string, DeviceOptions>
  /**
   * Static aliases: gateway address byte (0..0x7f) → route. Alias 0 is the
   * node's default listener address (routing/address.ts DEFAULT_LISTENER): a
   * device's handshake message 1 to it costs a 1-byte routing header.
   */
  routes?: Record<number, Route>
  mailbox?: Partial<MailboxLimits>
  /** Compress return routes on the constrained link (default true). */
  compressReturnRoutes?: boolean
  aliasIdleMs?: number
  /** Downlink credits per device and upstream peer (downlink-guard.ts); false lets every upstream sender reach every device. */
  downlink?: Partial<DownlinkPolicy> | false
  clock?: Clock
}

export interface Gateway {
  readonly node: Node
  /** Messages waiting for a device. */
  mailboxSize(device: string): number
  /** Bytes held in all mailboxes. */
  readonly mailboxBytes: number
  close(): Promise<void>
}

/** Starts a gateway on `opts.node`: registers the transports and the static aliases. */
export function startGateway(opts: GatewayOptions): Gateway {
  const clock = opts.clock ?? systemClock
  const node = opts.node
  const count = (r: string, n = 1): void => node.count(r, n)
  const mailboxes = new Mailboxes(
    {
      maxMessages: opts.mailbox?.maxMessages ?? DEFAULT_MAILBOX_MESSAGES,
      maxBytes: opts.mailbox?.maxBytes ?? DEFAULT_MAILBOX_BYTES,
      maxTotalBytes: opts.mailbox?.maxTotalBytes ?? DEFAULT_MAILBOX_TOTAL_BYTES,
      ttlMs: opts.mailbox?.ttlMs ?? DEFAULT_MAILBOX_TTL_MS,
    },
    clock,
    count,
  )
  const aliases = new RouteAliases(node, clock, opts.aliasIdleMs ?? DEFAULT_ALIAS_IDLE_MS)
  const devices = opts.devices ?? {}
  const guard =
    opts.downlink === false
      ? undefined
      : new DownlinkGuard(
          {
            creditsPerUplink: opts.downlink?.creditsPerUplink ?? DEFAULT_DOWNLINK_CREDITS_PER_UPLINK,
            maxCredits: opts.downlink?.maxCredits ?? DEFAULT_DOWNLINK_MAX_CREDITS,
            creditTtlMs: opts.downlink?.creditTtlMs ?? DEFAULT_DOWNLINK_CREDIT_TTL_MS,
            configuredPerHour: opts.downlink?.configuredPerHour ?? DEFAULT_DOWNLINK_CONFIGURED_PER_HOUR,
            maxPairs: opts.downlink?.maxPairs ?? DEFAULT_DOWNLINK_MAX_PAIRS,
          },
          clock,
          Object.fromEntries(Object.entries(devices).map(([k, d]) => [k, d.downlinkFrom ?? []])),
        )
  const upstream = opts.upstream ?? []
  const front = new GatewayLink(opts.link, node, mailboxes, opts.compressReturnRoutes === false ? undefined : aliases, devices, clock, guard, new Set(upstream.map((t) => t.type)))
  for (const [byte, route] of Object.entries(opts.routes ?? {})) {
    const v = Number(byte)
    if (!Number.isInteger(v) || v < 0 || v > 0x7f) throw new HopsealError(ErrorCode.CONFIG_INVALID, `gateway route alias ${byte}: expected an integer 0..127 (a 1-byte address)`)
    if (route.length === 0) throw new HopsealError(ErrorCode.CONFIG_INVALID, `gateway route alias ${byte}: the route is empty`)
    const stored = [...route]
    node.startWorker(local(Uint8Array.of(v)), async (ctx, msg, meta) => {
      await ctx.node.route({ onward: [...stored, ...msg.onward], returnRoute: msg.returnRoute, payload: msg.payload }, meta)
    })
  }
  node.registerTransport(front)
  for (const t of upstream) node.registerTransport(guard ? observeUplinks(t, opts.link.type, guard) : t)
  return {
    node,
    mailboxSize: (d) => mailboxes.size(d),
    get mailboxBytes() {
      return mailboxes.totalBytes
    },
    async close() {
      aliases.close()
      mailboxes.clear()
      await front.close()
      for (const t of opts.upstream ?? []) await t.close()
    },
  }
}

/** The constrained link as the gateway node sees it: mailboxes and route compression in front of the real transport. */
class GatewayLink implements Transport {
  readonly type: number
  private readonly awakeUntil = new Map<string, number>()
  private readonly chains = new Map<string, Promise<void>>()

  constructor(
    private readonly inner: Transport & LinkEventSource,
    private readonly node: Node,
    private readonly mailboxes: Mailboxes,
    private readonly aliases: RouteAliases | undefined,
    private readonly devices: Record<string, DeviceOptions>,
    private readonly clock: Clock,
    private readonly guard: DownlinkGuard | undefined,
    private readonly upstreamTypes: ReadonlySet<number>,
  ) {
    this.type = inner.type
    inner.onLinkEvent((name, event) => {
      if (event === 'rx') {
        const d = this.devices[name]
        if (d?.mode === 'sleepy') this.awakeUntil.set(name, this.clock.now() + (d.awakeMs ?? 2000))
      }
      if (event === 'up' || event === 'rx') this.schedule(name, () => this.flush(name))
    })
  }

  get properties(): TransportProperties {
    return this.inner.properties
  }

  onReceive(handler: (bytes: Uint8Array, from: Address) => void): void {
    this.inner.onReceive(handler)
  }

  send(to: Address, bytes: Uint8Array): Promise<void> {
    if (to.type !== this.type) return Promise.reject(new HopsealError(ErrorCode.INVALID_ARGUMENT, `gateway link expected an address of type ${this.type}, got ${to.type}`))
    const device = fromUtf8(to.value)
    let msg: RoutingMessage | undefined
    try {
      msg = decodeRoutingMessage(bytes)
    } catch {
      msg = undefined
    }
    // A downlink from an upstream peer spends that peer's credit for this device (downlink-guard.ts).
    const source = msg?.returnRoute[0]
    if (this.guard && source && this.upstreamTypes.has(source.type) && !this.guard.allow(device, fromUtf8(source.value))) {
      this.node.count('gateway.downlink_denied')
      return Promise.resolve()
    }
    const out = msg ? this.compress(bytes, msg) : bytes
    return this.schedule(device, async () => {
      if (this.mailboxes.size(device) > 0 || this.asleep(device)) {
        this.mailboxes.put(device, out)
        return
      }
      try {
        await this.inner.send(to, out)
      } catch (e) {
        if (!isHopsealError(e, ErrorCode.TRANSPORT_UNAVAILABLE)) throw e
        this.mailboxes.put(device, out)
      }
    })
  }

  async close(): Promise<void> {
    await this.inner.close()
  }

  private asleep(device: string): boolean {
    if (this.devices[device]?.mode !== 'sleepy') return false
    return (this.awakeUntil.get(device) ?? -Infinity) < this.clock.now()
  }

  /** Runs `fn` after everything already scheduled for `device`: per-device order is kept. */
  private schedule(device: string, fn: () => Promise<void>): Promise<void> {
    const prev = this.chains.get(device) ?? Promise.resolve()
    const next = prev.then(fn, fn)
    const tail = next.catch(() => undefined)
    this.chains.set(device, tail)
    void tail.then(() => {
      if (this.chains.get(device) === tail) this.chains.delete(device)
    })
    return next
  }

  private async flush(device: string): Promise<void> {
    if (this.asleep(device)) return
    const queued = this.mailboxes.take(device)
    const to = { type: this.type, value: new TextEncoder().encode(device) }
    for (let i = 0; i < queued.length; i++) {
      try {
        await this.inner.send(to, queued[i]!)
        this.node.count('mailbox.delivered')
      } catch (e) {
        this.mailboxes.restore(device, queued.slice(isHopsealError(e, ErrorCode.TRANSPORT_UNAVAILABLE) ? i : i + 1))
        if (!isHopsealError(e, ErrorCode.TRANSPORT_UNAVAILABLE)) this.node.count('mailbox.drop.send_error')
        return
      }
    }
  }

  /** Replaces a long return route by a 1-byte alias (bytes unchanged when not possible or not needed). */
  private compress(bytes: Uint8Array, msg: RoutingMessage): Uint8Array {
    if (!this.aliases) return bytes
    const r = msg.returnRoute
    const short = r.length === 1 && r[0]!.type === TransportType.LOCAL && r[0]!.value.length === 1
    if (r.length === 0 || short) return bytes
    const alias = this.aliases.aliasFor(r)
    if (!alias) return bytes
    this.node.count('gateway.route_compressed')
    return encodeRoutingMessage({ onward: msg.onward, returnRoute: [alias], payload: msg.payload })
  }
}

/**
 * An upstream transport as the gateway registers it: every message it carries
 * from a device (its return route starts at the device's link) gives the
 * receiving peer downlink credits for that device.
 */
function observeUplinks(t: Transport, linkType: number, guard: DownlinkGuard): Transport {
  return {
    type: t.type,
    get properties() {
      return t.properties
    },
    send(to, bytes) {
      try {
        const from = decodeRoutingMessage(bytes).returnRoute[0]
        if (from && from.type === linkType) guard.uplink(fromUtf8(from.value), fromUtf8(to.value))
      } catch {
        /* not a routing message we can read: no credit */
      }
      return t.send(to, bytes)
    },
    onReceive: (h) => t.onReceive(h),
    close: () => t.close(),
  }
}
