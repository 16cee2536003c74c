/**
 * Channel limits per medium: when a session is renewed (a new handshake),
 * when its key phase ratchets (Noise Rekey()), when an endpoint answers with
 * a keep-alive, and when an idle channel is reaped. The right values differ
 * between an always-on IP path (MQTT) and a LoRa radio at 1 % duty cycle
 * where every handshake costs seconds of airtime; docs/channels.md gives the
 * reasoning. Both ends of a channel use the profile of the most constrained
 * link on their path.
 */
import { ErrorCode, HopsealError } from '../errors.ts'
import {
  REJECT_AFTER_MESSAGES,
  REKEY_AFTER_MESSAGES,
  RENEW_AFTER_MESSAGES,
  REPLAY_WINDOW_SIZE,
} from './constants.ts'
import { DEFAULT_RELIABLE, type ReliableOptions } from './reliable.ts'

export interface RetransmitOptions {
  /** First retransmission after this long (ms); doubles each time. */
  initialMs: number
  maxMs: number
  /** Total sends of one flight before the handshake times out. */
  attempts: number
}

/** The `ip` medium's handshake schedule (message 1 and renewal flight 1): 1 s doubling to 8 s, 6 sends. */
export const DEFAULT_RETRANSMIT: RetransmitOptions = Object.freeze({ initialMs: 1000, maxMs: 8000, attempts: 6 })

export type Medium = 'ip' | 'lora' | 'ble'
export const MEDIA: readonly Medium[] = ['ip', 'lora', 'ble']

/** Limits of one session (one handshake's keys); times count from that session's birth. */
export interface SessionLimits {
  replayWindow: number
  /** Ratchet the sending key (Noise Rekey(), flips the phase bit) after this many messages under one key. */
  rekeyAfterMessages: number
  /** … or after this long under one key (ms); 0 disables. */
  rekeyAfterMs: number
  /** Start a renewal (new handshake) after this many messages sent in the session. */
  renewAfterMessages: number
  /** … or when the session is this old (ms). */
  renewAfterMs: number
  /** Refuse to seal, and drop received messages, past this many messages. */
  rejectAfterMessages: number
  /** … or when the session is this old (ms). */
  rejectAfterMs: number
}

export interface ChannelLimits {
  session: SessionLimits
  /** Passive keep-alive: answer received data with an empty authenticated message when nothing else went back within this long (ms); 0 disables. */
  keepaliveMs: number
  /** Close a channel idle this long (ms) whose session is past its hard limit; 0 never closes. A channel with a valid session is never closed for idleness. */
  idleTimeoutMs: number
  /**
   * The initiator renews (probing the path, and through the listener's route
   * when the peer's endpoint is unreachable) when it sent messages that call
   * for an answer (reliable mode, or keep-alive on) and heard nothing for
   * this long (ms); also the least time between such renewals. 0 disables.
   */
  renewAfterSilenceMs: number
  /** Renewal handshake flights: retransmission with backoff. */
  renewRetransmit: RetransmitOptions
  /** Reliable-mode defaults for this medium (used when reliable mode is on). */
  reliable: ReliableOptions
}

const MIN = 60_000
const HOUR = 60 * MIN

const base = { replayWindow: REPLAY_WINDOW_SIZE, rekeyAfterMessages: REKEY_AFTER_MESSAGES, renewAfterMessages: RENEW_AFTER_MESSAGES, rejectAfterMessages: REJECT_AFTER_MESSAGES }

/**
 * - `ip`: WireGuard's timers (REKEY_AFTER_TIME 120 s, REJECT_AFTER_TIME 180 s,
 *   KEEPALIVE_TIMEOUT 10 s): a handshake costs a fraction of a millisecond, so
 *   fresh keys every two minutes bound what a stolen session key reveals.
 * - `lora`: a KK renewal is ~100 bytes, about 3 s of SF12 airtime of a 36 s/h
 *   budget at 1 %: renew twice a day (hard limit a day, so a device that wakes
 *   every few hours sends without a handshake), ratchet the key phase every
 *   two hours for forward secrecy in between, no keep-alive (airtime), reap a
 *   channel only after a week of silence with an expired session.
 * - `ble`: between the two: hourly renewal, key phase every 15 min.
 */
export const MEDIUM_LIMITS: Readonly<Record<Medium, ChannelLimits>> = Object.freeze({
  ip: Object.freeze({
    session: Object.freeze({ ...base, rekeyAfterMs: 0, renewAfterMs: 2 * MIN, rejectAfterMs: 3 * MIN }),
    keepaliveMs: 10_000,
    idleTimeoutMs: 10 * MIN,
    renewAfterSilenceMs: 15_000,
    renewRetransmit: DEFAULT_RETRANSMIT,
    reliable: DEFAULT_RELIABLE,
  }),
  lora: Object.freeze({
    session: Object.freeze({ ...base, rekeyAfterMs: 2 * HOUR, renewAfterMs: 12 * HOUR, rejectAfterMs: 24 * HOUR }),
    keepaliveMs: 0,
    idleTimeoutMs: 7 * 24 * HOUR,
    renewAfterSilenceMs: 30 * MIN,
    renewRetransmit: Object.freeze({ initialMs: 10_000, maxMs: 5 * MIN, attempts: 10 }),
    reliable: Object.freeze({ ackTimeoutMs: 10_000, minAckTimeoutMs: 3000, maxBackoffMs: 15 * MIN, maxRetransmits: 40, sendBuffer: 16, receiveBuffer: 16 }),
  }),
  ble: Object.freeze({
    session: Object.freeze({ ...base, rekeyAfterMs: 15 * MIN, renewAfterMs: HOUR, rejectAfterMs: 2 * HOUR }),
    keepaliveMs: 0,
    idleTimeoutMs: 24 * HOUR,
    renewAfterSilenceMs: 2 * MIN,
    renewRetransmit: Object.freeze({ initialMs: 2000, maxMs: 30_000, attempts: 8 }),
    reliable: Object.freeze({ ...DEFAULT_RELIABLE, maxBackoffMs: 60_000, maxRetransmits: 20 }),
  }),
})

/** Overrides on top of a medium's defaults. */
export interface LimitOverrides {
  medium?: Medium
  session?: Partial<SessionLimits>
  keepaliveMs?: number
  idleTimeoutMs?: number
  renewAfterSilenceMs?: number
}

/** The limits for `o.medium` (default `ip`) with `o`'s overrides; CONFIG_INVALID for nonsense. */
export function resolveLimits(o: LimitOverrides): ChannelLimits {
  const medium = o.medium ?? 'ip'
  const d = MEDIUM_LIMITS[medium]
  if (!d) throw new HopsealError(ErrorCode.CONFIG_INVALID, `channel medium ${String(medium)}: expected one of ${MEDIA.join(', ')}`)
  const session = { ...d.session, ...o.session }
  for (const [k, v] of Object.entries(session)) {
    if (typeof v !== 'number' || !(v >= 0)) throw new HopsealError(ErrorCode.CONFIG_INVALID, `channel limit session.${k}: expected a number ≥ 0, got ${String(v)}`)
  }
  if (session.renewAfterMs > session.rejectAfterMs) throw new HopsealError(ErrorCode.CONFIG_INVALID, `channel limits: renewAfterMs (${session.renewAfterMs}) must not exceed rejectAfterMs (${session.rejectAfterMs})`)
  if (session.renewAfterMessages > session.rejectAfterMessages) throw new HopsealError(ErrorCode.CONFIG_INVALID, `channel limits: renewAfterMessages must not exceed rejectAfterMessages`)
  const keepaliveMs = o.keepaliveMs ?? d.keepaliveMs
  const idleTimeoutMs = o.idleTimeoutMs ?? d.idleTimeoutMs
  const renewAfterSilenceMs = o.renewAfterSilenceMs ?? d.renewAfterSilenceMs
  for (const [k, v] of [['keepaliveMs', keepaliveMs], ['idleTimeoutMs', idleTimeoutMs], ['renewAfterSilenceMs', renewAfterSilenceMs]] as const) {
    if (!(v >= 0)) throw new HopsealError(ErrorCode.CONFIG_INVALID, `channel limit ${k}: expected a number ≥ 0, got ${String(v)}`)
  }
  return { session, keepaliveMs, idleTimeoutMs, renewAfterSilenceMs, renewRetransmit: d.renewRetransmit, reliable: d.reliable }
}
