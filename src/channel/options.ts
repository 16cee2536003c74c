/** Channel options shared by listeners and initiators, and small handshake helpers. */
import { isHopsealError } from '../errors.ts'
import { type CryptoProvider } from '../crypto/index.ts'
import { type NoiseProtocol, type StaticKey } from '../noise/index.ts'
import { type Address } from '../routing/address.ts'
import type { Node } from '../routing/node.ts'
import { type Clock } from './clock.ts'
import { type SessionLimits } from './session.ts'
import { DEFAULT_RELIABLE, type ReliableOptions } from './reliable.ts'
import type { PeerInfo, ChannelAuthenticator } from './auth.ts'
import type { SecureChannel } from './channel.ts'

export interface RetransmitOptions {
  /** First retransmission after this long (ms); doubles each time. */
  initialMs: number
  maxMs: number
  /** Total sends of one flight before the handshake times out. */
  attempts: number
}

export const DEFAULT_RETRANSMIT: RetransmitOptions = Object.freeze({ initialMs: 1000, maxMs: 8000, attempts: 6 })

export interface CommonOptions {
  protocol: string | NoiseProtocol
  /** This side's Noise static key (software or vault-backed). */
  s: StaticKey
  auth: ChannelAuthenticator
  crypto?: CryptoProvider
  clock?: Clock
  session?: Partial<SessionLimits>
  retransmit?: RetransmitOptions | false
  /** Close an endpoint after this long without traffic (ms); 0 disables. */
  idleTimeoutMs?: number
  /** Handshake prologue (both sides must agree). */
  prologue?: Uint8Array
  /** Reliable mode for DATA messages (acks, retransmission, in-order delivery); both ends must enable it. */
  reliable?: Partial<ReliableOptions> | boolean
}

export function reliableOptions(r: Partial<ReliableOptions> | boolean | undefined): ReliableOptions | undefined {
  if (!r) return undefined
  return { ...DEFAULT_RELIABLE, ...(r === true ? {} : r) }
}

/** Where decrypted data goes: a local worker address, or a callback. */
export type Delivery = Address | ((payload: Uint8Array, peer: PeerInfo, channel: SecureChannel) => void)

export interface ListenerOptions extends CommonOptions {
  /** Destination of DATA messages (the worker behind the channel). */
  deliverTo: Delivery
  /** For KK: the initiators' static keys to try (each is a candidate for msg 1). */
  initiatorStatics?: Uint8Array[]
  /** Responders awaiting message 3 (XX), at most; the oldest is evicted. Default 64. */
  maxPending?: number
  /** Established channels per peer static key; the oldest is closed. Default 8. */
  maxChannelsPerPeer?: number
}

export interface InitiatorOptions extends CommonOptions {
  /** The responder's static key (IK, KK). */
  rs?: Uint8Array
  /** Destination of the responder's DATA messages. */
  deliverTo?: Delivery
  signal?: AbortSignal
}


export function countFailure(node: Node, e: unknown): void {
  node.count(`handshake.failed.${isHopsealError(e) ? e.code.toLowerCase() : 'error'}`)
}

export async function identityPayload(auth: ChannelAuthenticator): Promise<Uint8Array> {
  return auth.payload ? await auth.payload() : new Uint8Array(0)
}

/** The message index (0-based) in which this side sends its static key, if any. */
export function sendsStaticIn(p: NoiseProtocol, initiator: boolean): number {
  return p.pattern.messages.findIndex((m, i) => m.includes('s') && (i % 2 === 0) === initiator)
}
