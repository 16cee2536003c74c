/**
 * Who may send downlinks to a device through the gateway, and how many.
 *
 * Anyone who can publish to a gateway's MQTT topic could otherwise route
 * traffic onto its radio: twelve publishes used a LoRa device's whole hourly
 * duty-cycle budget and blocked its handshakes for an hour. The gateway holds
 * no keys, so it cannot check a message's contents; it checks where it comes
 * from and how much, LoRaWAN class A style: a device's uplink toward an
 * upstream peer gives that peer a few downlink credits for the device
 * (answers, acknowledgements, a renewal's second flight); every downlink from
 * an upstream peer spends one; without credit it is dropped and counted
 * (`gateway.downlink_denied`). Peers configured for a device (`downlinkFrom`)
 * may also push, at a bounded rate per hour. The upstream source is the hop
 * the gateway received the message from (an MQTT sender name), which the
 * broker's ACLs, not the gateway, authenticate: the budget bounds what a
 * forged sender can spend to what the device's own traffic earned.
 */
import type { Clock } from '../../time/clock.ts'

export interface DownlinkPolicy {
  /** Credits a device's uplink toward a peer gives that peer for the device. */
  creditsPerUplink: number
  /** Most credits a peer holds for one device. */
  maxCredits: number
  /** Credits expire this long (ms) after the device's last uplink toward the peer. */
  creditTtlMs: number
  /** Downlinks per hour a configured peer (`downlinkFrom`) may send a device without its uplinks. */
  configuredPerHour: number
  /** Most (device, peer) pairs tracked; the least recently used is forgotten. */
  maxPairs: number
}

interface Pair {
  credits: number
  /** Clock ms of the last uplink (learned credits) or refill (configured peers). */
  at: number
}

export class DownlinkGuard {
  private readonly pairs = new Map<string, Pair>()

  constructor(
    private readonly policy: DownlinkPolicy,
    private readonly clock: Clock,
    /** device link name → upstream peers configured to push to it. */
    private readonly configured: Readonly<Record<string, readonly string[]>>,
  ) {}

  /** The device `device` sent an uplink toward `peer`. */
  uplink(device: string, peer: string): void {
    const key = pairKey(device, peer)
    const p = this.pairs.get(key)
    const now = this.clock.now()
    const credits = Math.min(this.policy.maxCredits, (p && now - p.at <= this.policy.creditTtlMs ? p.credits : 0) + this.policy.creditsPerUplink)
    this.touch(key, { credits, at: now })
  }

  /** May `peer` send one downlink to `device` now? Spends a credit when it may. */
  allow(device: string, peer: string): boolean {
    const key = pairKey(device, peer)
    const now = this.clock.now()
    let p = this.pairs.get(key)
    if (this.configured[device]?.includes(peer)) {
      // A token bucket refilled at configuredPerHour, on top of what uplinks earned.
      const refill = p ? ((now - p.at) / 3_600_000) * this.policy.configuredPerHour : this.policy.configuredPerHour
      p = { credits: Math.min(Math.max(this.policy.maxCredits, this.policy.configuredPerHour), (p?.credits ?? 0) + refill), at: now }
    } else if (p && now - p.at > this.policy.creditTtlMs) p = undefined
    if (!p || p.credits < 1) return false
    this.touch(key, { credits: p.credits - 1, at: p.at })
    return true
  }

  get size(): number {
    return this.pairs.size
  }

  private touch(key: string, p: Pair): void {
    this.pairs.delete(key)
    this.pairs.set(key, p)
    while (this.pairs.size > this.policy.maxPairs) this.pairs.delete(this.pairs.keys().next().value as string)
  }
}

const pairKey = (device: string, peer: string): string => `${device}\u0000${peer}`
