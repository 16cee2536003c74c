/**
 * Message-1 replay protection for KK and IK (threat model G4).
 *
 * A KK or IK message 1 authenticates the initiator (its `ss` token) but
 * carries nothing fresh: Noise has no timestamp, and a recorded message 1
 * authenticates again when replayed. hopseal puts a handshake counter in it:
 * the first bytes of message 1's encrypted payload are `varint(counter)`,
 * strictly increasing per initiator static key across reboots, and the
 * listener keeps the last counter it accepted from each peer. A message 1
 * whose counter is not above that is dropped and counted
 * (`handshake.failed.channel_replayed`), before any state is created.
 *
 * No real-time clock is needed on a device: the counter is the ATECC608's
 * monotonic Counter 1, or a counter in a file, or (the default for processes
 * that have a clock) seconds since 2026-01-01 bumped past the last value used.
 * Renewal flights carry no counter: their prologue binds the first handshake
 * and the epoch (renewal.ts), which already makes a replay fail.
 */
import { decodeVarint, encodeVarint, toHex } from '../bytes/index.ts'
import { ErrorCode, HopsealError } from '../errors.ts'
import type { NoiseProtocol } from '../noise/index.ts'
import type { Clock } from './clock.ts'
import { COUNTER_CLOCK_EPOCH_MS, DEFAULT_MAX_REMEMBERED_PEERS } from './constants.ts'

/** Where an initiator gets the counter of its next first handshake. */
export interface HandshakeCounter {
  /** A value strictly above every value returned before for this static key, across restarts. */
  next(): number | Promise<number>
}

/** Does this pattern's message 1 authenticate the initiator (and so carry the counter)? KK and IK do. */
export function carriesHandshakeCounter(p: NoiseProtocol): boolean {
  return p.pattern.messages[0]?.includes('ss') ?? false
}

/**
 * The default counter: whole seconds since 2026-01-01 on `clock`, and one
 * more than the last value when the clock has not moved on. Survives a
 * restart as long as the clock is right and the process made fewer than one
 * first handshake per second on average; devices without a clock use a
 * persisted counter (ATECC608 Counter 1, a file). 4 bytes on the wire until
 * 2030. The last value is kept per static key for the process, so every
 * channel of one key draws from one sequence.
 */
export function clockHandshakeCounter(clock: Clock, staticKey: Uint8Array): HandshakeCounter {
  const k = toHex(staticKey)
  return {
    next() {
      const last = Math.max((lastByKey.get(k) ?? 0) + 1, Math.floor((clock.now() - COUNTER_CLOCK_EPOCH_MS) / 1000))
      lastByKey.set(k, last)
      return last
    },
  }
}
const lastByKey = new Map<string, number>()

/** A counter in memory from `start` (tests; a device whose keys live as long as this process). */
export function memoryHandshakeCounter(start = 0): HandshakeCounter {
  let last = start
  return { next: () => ++last }
}

/** Message 1's payload with the counter in front. */
export function withCounter(counter: number, rest: Uint8Array): Uint8Array {
  const c = encodeVarint(counter)
  const out = new Uint8Array(c.length + rest.length)
  out.set(c)
  out.set(rest, c.length)
  return out
}

/** Splits message 1's payload into its counter and the rest; DECODE_ERROR when it has none. */
export function readCounter(payload: Uint8Array): { counter: number; rest: Uint8Array } {
  try {
    const { value, length } = decodeVarint(payload)
    return { counter: value, rest: payload.subarray(length) }
  } catch (e) {
    throw new HopsealError(ErrorCode.DECODE_ERROR, 'message 1 carries no valid handshake counter', { cause: e })
  }
}

/**
 * The listener's memory of the last counter accepted per peer static key,
 * bounded: the peers heard from least recently are forgotten first (and
 * counted by the caller). `entries()` and the `initial` argument let an
 * application keep it across listener restarts; a listener that starts
 * empty accepts the next counter each peer sends (docs/threat-model.md G4).
 */
export class AcceptedCounters {
  private readonly last = new Map<string, number>()

  constructor(private readonly max = DEFAULT_MAX_REMEMBERED_PEERS, initial: Iterable<[string, number]> = [], private readonly onForget?: () => void) {
    for (const [peer, counter] of initial) this.accept(peer, counter)
  }

  /** Peer (hex static key) and last accepted counter, least recently accepted first. */
  entries(): [string, number][] {
    return [...this.last]
  }

  /** Throws CHANNEL_REPLAYED unless `counter` is above the last accepted for `peer` (hex static key). */
  check(peer: string, counter: number): void {
    const l = this.last.get(peer)
    if (l !== undefined && counter <= l) throw new HopsealError(ErrorCode.CHANNEL_REPLAYED, `message 1 carries handshake counter ${counter}, not above ${l}, the last accepted from this peer: a replay`)
  }

  /** Records an accepted counter (after the handshake succeeded). */
  accept(peer: string, counter: number): void {
    const l = this.last.get(peer)
    if (l !== undefined && counter <= l) return
    this.last.delete(peer)
    this.last.set(peer, counter)
    while (this.last.size > this.max) {
      const oldest = this.last.keys().next()
      if (oldest.done) break
      this.last.delete(oldest.value)
      this.onForget?.()
    }
  }

  get size(): number {
    return this.last.size
  }
}
