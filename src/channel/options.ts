/** Channel options shared by listeners and initiators, and small handshake helpers. */
import { isHopsealError } from '../errors.ts'
import { type CryptoProvider } from '../crypto/index.ts'
import { type NoiseProtocol, type StaticKey } from '../noise/index.ts'
import { type Address } from '../routing/address.ts'
import type { Node } from '../routing/node.ts'
import { type Clock } from './clock.ts'
import { resolveLimits, type ChannelLimits, type Medium, type SessionLimits } from './limits.ts'
import { type ReliableOptions } from './reliable.ts'
import type { PeerInfo, ChannelAuthenticator } from './auth.ts'
import type { SecureChannel } from './channel.ts'
import type { AcceptedCounters, HandshakeCounter } from './handshake-counter.ts'

import type { RetransmitOptions } from './limits.ts'
export { DEFAULT_RETRANSMIT, type RetransmitOptions } from './limits.ts'

export interface CommonOptions {
  protocol: string | NoiseProtocol
  /** This side's Noise static key (software or vault-backed). */
  s: StaticKey
  auth: ChannelAuthenticator
  crypto?: CryptoProvider
  clock?: Clock
  /**
   * The most constrained link on the channel's path: picks the defaults for
   * renewal, key phases, keep-alive, idle reaping and reliable mode
   * (limits.ts, docs/channels.md). Both ends should use the same. Default `ip`.
   */
  medium?: Medium
  /** Overrides of the medium's session limits (renewal, rekey, hard limits, replay window). */
  session?: Partial<SessionLimits>
  /**
   * Message 1's re-send schedule (the listener: how long a responder waits
   * for message 3 and how often it re-sends message 2). Default the medium's
   * handshake schedule (`ip` 1 s doubling to 8 s, 6 sends; `lora` 10 s to
   * 5 min, 10 sends; `ble` 2 s to 30 s, 8 sends); false: no re-sends.
   */
  retransmit?: RetransmitOptions | false
  /** Close a channel that heard nothing for this long (ms) once its session expired; 0 never. Default per medium. */
  idleTimeoutMs?: number
  /** Passive keep-alive interval (ms); 0 disables. Default per medium (10 s on `ip`, off on radios). */
  keepaliveMs?: number
  /** Initiator: renew after sending for this long with no answer (ms; 0 disables). Default per medium (15 s on `ip`, 30 min on `lora`). */
  renewAfterSilenceMs?: number
  /** Handshake prologue (both sides must agree). */
  prologue?: Uint8Array
  /** Let the `deliverTo` worker also take messages that did not come out of a channel (default false: channel-only). */
  deliverToAnyone?: boolean
  /** Reliable mode for DATA messages (acks, retransmission, in-order delivery); both ends must enable it. Defaults per medium. */
  reliable?: Partial<ReliableOptions> | boolean
}

/** The channel limits of `o` (medium defaults with the caller's overrides). */
export function channelLimits(o: CommonOptions): ChannelLimits {
  return resolveLimits({
    ...(o.medium ? { medium: o.medium } : {}),
    ...(o.session ? { session: o.session } : {}),
    ...(o.idleTimeoutMs !== undefined ? { idleTimeoutMs: o.idleTimeoutMs } : {}),
    ...(o.keepaliveMs !== undefined ? { keepaliveMs: o.keepaliveMs } : {}),
    ...(o.renewAfterSilenceMs !== undefined ? { renewAfterSilenceMs: o.renewAfterSilenceMs } : {}),
  })
}

export function reliableOptions(r: Partial<ReliableOptions> | boolean | undefined, limits: ChannelLimits): ReliableOptions | undefined {
  if (!r) return undefined
  return { ...limits.reliable, ...(r === true ? {} : r) }
}

/**
 * Where decrypted data goes: a local worker address, or a callback. A worker
 * address becomes reachable only through channels (Node.requireChannel)
 * unless `deliverToAnyone` is set.
 */
export type Delivery = Address | ((payload: Uint8Array, peer: PeerInfo, channel: SecureChannel) => void)

/** Marks a delivery worker channel-only (see Delivery). */
export function guardDelivery(node: Node, d: Delivery | undefined, anyone: boolean | undefined): void {
  if (d && typeof d !== 'function' && !anyone) node.requireChannel(d)
}

export interface ListenerOptions extends CommonOptions {
  /** Destination of DATA messages (the worker behind the channel). */
  deliverTo: Delivery
  /** For KK: the initiators' static keys to try (each is a candidate for msg 1). */
  initiatorStatics?: Uint8Array[]
  /** Responders awaiting message 3 (XX), at most; the oldest is evicted. Default 64. */
  maxPending?: number
  /** Established channels per peer static key; the oldest is closed. Default 8. */
  maxChannelsPerPeer?: number
  /** Called for each refused or failed handshake (nothing goes back on the wire): for logs. */
  onHandshakeFailed?: (code: string, error: unknown) => void
  /** Message-1 flights worked on at once (default 4) and queued beyond that (default 32); more are dropped and counted. */
  maxHandshakesInProgress?: number
  maxHandshakesQueued?: number
  /** Established channels at most; past it the idlest is closed (`channel.evicted_idlest`). Default 131 072. */
  maxChannels?: number
  /** Cookie replies (cookie.ts): `auto` (default) under load, `always`, or `never`. */
  cookie?: 'auto' | 'always' | 'never'
  /** `auto` cookies start above this many message 1 flights per second. Default 50. */
  cookieLoadPerSecond?: number
  /** KK/IK: the last handshake counter accepted per peer (pass one kept across restarts; default a new, empty one). */
  acceptedCounters?: AcceptedCounters
}

export interface InitiatorOptions extends CommonOptions {
  /** The responder's static key (IK, KK). */
  rs?: Uint8Array
  /** Destination of the responder's DATA messages. */
  deliverTo?: Delivery
  signal?: AbortSignal
  /**
   * KK/IK: the counter message 1 carries (replay protection, handshake-counter.ts).
   * Default: seconds since 2026-01-01 on `clock`. A device without a clock
   * passes a persisted one (ATECC608 Counter 1, a file).
   */
  handshakeCounter?: HandshakeCounter
}


/**
 * Patterns in which both sides prove a static key before the responder
 * establishes: a channel always knows its peer (and renews as KK with it).
 * Not KX, IN, XN, KN, N*: the responder would establish before the initiator
 * proved anything, or never learn who it is.
 */
export const CHANNEL_PATTERNS: readonly string[] = ['XX', 'IK', 'KK', 'XK', 'IX']

/** The pattern's name without PSK modifiers (`KKpsk2` → `KK`). */
export function basePattern(p: NoiseProtocol): string {
  return p.pattern.name.replace(/psk\d.*/, '')
}

/** Counts a failure locally by its code (`<prefix>.<code>`): failures are silent on the wire. */
export function countFailure(node: Node, e: unknown, prefix = 'handshake.failed'): void {
  node.count(`${prefix}.${isHopsealError(e) ? e.code.toLowerCase() : 'error'}`)
}

export async function identityPayload(auth: ChannelAuthenticator): Promise<Uint8Array> {
  return auth.payload ? await auth.payload() : new Uint8Array(0)
}

/** The message index (0-based) in which this side sends its static key, if any. */
export function sendsStaticIn(p: NoiseProtocol, initiator: boolean): number {
  return p.pattern.messages.findIndex((m, i) => m.includes('s') && (i % 2 === 0) === initiator)
}
