/**
 * Return-route compression for constrained links.
 *
 * A message that reaches a device from the far side of a gateway carries the
 * way back in its return route (e.g. `[2#app, 0#<app channel>]`): 8+ bytes of
 * header on every downlink frame, which pushes a 48-byte KK flight past one
 * 51-byte LoRa frame. Before a message goes onto a constrained link the
 * gateway replaces such a return route R by one 1-byte local address A
 * (0x01..0x7f) whose worker forwards to R, so the routing header stays in its
 * 2-byte short form (docs/protocol.md) in both directions.
 *
 * Alias workers forward WITHOUT pushing themselves onto the return route: the
 * far end sees the device's real return route, and the gateway compresses it
 * again (to the same alias) on the next downlink. The table is bounded (the
 * 1-byte address space): when it is full, the least recently used alias idle
 * for longer than `idleMs` is recycled; otherwise the message keeps its long
 * header (it still works, with more fragments). The gateway reads routes
 * only; payloads are ciphertext it cannot open.
 */
import { addressKey, type Address, type Route } from '../../routing/address.ts'
import type { Node } from '../../routing/node.ts'
import type { Clock } from '../../time/clock.ts'

interface Alias {
  address: Address
  route: Route
  used: number
}

const routeKey = (r: Route): string => r.map(addressKey).join(';')

export class RouteAliases {
  private readonly byRoute = new Map<string, Alias>()

  constructor(
    private readonly node: Node,
    private readonly clock: Clock,
    private readonly idleMs: number,
  ) {}

  get size(): number {
    return this.byRoute.size
  }

  /** The 1-byte alias for `route`, or undefined when none is free. */
  aliasFor(route: Route): Address | undefined {
    const key = routeKey(route)
    const now = this.clock.now()
    const hit = this.byRoute.get(key)
    if (hit) {
      hit.used = now
      return hit.address
    }
    let address = this.node.newAddress()
    if (address.value.length !== 1) {
      this.node.stopWorker(address) // releases the reservation of the long fallback name
      const victim = this.leastRecentlyUsed(now)
      if (!victim) {
        this.node.count('gateway.alias_table_full')
        return undefined
      }
      this.byRoute.delete(routeKey(victim.route))
      this.node.stopWorker(victim.address)
      this.node.count('gateway.alias_recycled')
      address = victim.address
    }
    const alias: Alias = { address, route: [...route], used: now }
    this.node.startWorker(address, async (ctx, msg, meta) => {
      alias.used = this.clock.now()
      await ctx.node.route({ onward: [...alias.route, ...msg.onward], returnRoute: msg.returnRoute, payload: msg.payload }, meta)
    })
    this.byRoute.set(key, alias)
    this.node.count('gateway.alias_created')
    return address
  }

  close(): void {
    for (const a of this.byRoute.values()) this.node.stopWorker(a.address)
    this.byRoute.clear()
  }

  private leastRecentlyUsed(now: number): Alias | undefined {
    let lru: Alias | undefined
    for (const a of this.byRoute.values()) if (now - a.used >= this.idleMs && (!lru || a.used < lru.used)) lru = a
    return lru
  }
}
