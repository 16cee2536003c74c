/**
 * Stateless cookies against reflection and flooding (threat model G6), in the
 * spirit of WireGuard's cookie reply (whitepaper §5.4.7).
 *
 * Under load a listener does not answer a message 1 whose return route it
 * has not seen proved: it sends back only a cookie, `0xC0 ‖ cookie` (17
 * bytes, smaller than any message 1), where cookie = HMAC-SHA256(secret,
 * canonical encoding of the return route)[0..16] and the secret changes every
 * two minutes. Only a sender that receives at that return route learns the
 * cookie; it sends message 1 again to the listener's route followed by the
 * LOCAL address `cookie`, and the listener answers that copy as usual. A
 * flood with spoofed return routes then draws 17-byte answers and no DH
 * work, no handshake state, no message 2.
 *
 * The listener keeps two secrets (current and previous) and nothing per
 * sender; the cookie binds the route, not the message, so one cookie serves
 * the retransmissions of a handshake.
 */
import { equalConstantTime, wipe } from '../bytes/index.ts'
import type { CryptoProvider } from '../crypto/index.ts'
import type { Route } from '../routing/address.ts'
import { encodeRoutingMessage } from '../routing/codec.ts'
import type { Clock } from './clock.ts'
import { COOKIE_BYTES, COOKIE_SECRET_MS } from './constants.ts'

/** First byte of a cookie reply (its length, 17, tells it from any Noise message 2). */
export const COOKIE_REPLY = 0xc0
export const COOKIE_REPLY_BYTES = 1 + COOKIE_BYTES

/** Is `payload` a cookie reply? Returns the cookie, or undefined. */
export function readCookieReply(payload: Uint8Array): Uint8Array | undefined {
  return payload.length === COOKIE_REPLY_BYTES && payload[0] === COOKIE_REPLY ? payload.slice(1) : undefined
}

export class CookieJar {
  private current: Uint8Array = new Uint8Array(0)
  private previous: Uint8Array = new Uint8Array(0)
  /** When `current` was drawn; secrets are drawn on first use (a listener that never needs cookies draws none). */
  private since = -Infinity

  constructor(private readonly crypto: CryptoProvider, private readonly clock: Clock) {}

  /** The cookie reply for a sender at `returnRoute`. */
  reply(returnRoute: Route): Uint8Array {
    this.rotate()
    const out = new Uint8Array(COOKIE_REPLY_BYTES)
    out[0] = COOKIE_REPLY
    out.set(this.mac(this.current, returnRoute), 1)
    return out
  }

  /** Did a sender at `returnRoute` receive `cookie` from this listener in the last two secret periods? Constant time. */
  valid(cookie: Uint8Array, returnRoute: Route): boolean {
    this.rotate()
    if (cookie.length !== COOKIE_BYTES) return false
    const a = equalConstantTime(cookie, this.mac(this.current, returnRoute))
    const b = equalConstantTime(cookie, this.mac(this.previous, returnRoute))
    return a || b
  }

  destroy(): void {
    wipe(this.current)
    wipe(this.previous)
  }

  private mac(secret: Uint8Array, route: Route): Uint8Array {
    return this.crypto.hmac('sha256', secret, encodeRoutingMessage({ onward: [], returnRoute: route, payload: new Uint8Array(0) })).subarray(0, COOKIE_BYTES)
  }

  private rotate(): void {
    const now = this.clock.now()
    if (now - this.since < COOKIE_SECRET_MS && this.current.length > 0) return
    const old = this.current
    wipe(this.previous)
    if (now - this.since >= 2 * COOKIE_SECRET_MS) {
      // Two periods or more without use: neither old secret may vouch for anything.
      wipe(old)
      this.previous = this.crypto.randomBytes(32)
    } else this.previous = old
    this.current = this.crypto.randomBytes(32)
    this.since = now
  }
}

/** Message-1 arrivals in the current one-second window: the listener's load signal. */
export class ArrivalRate {
  private windowStart = 0
  private count = 0

  constructor(private readonly clock: Clock) {}

  /** Counts one arrival and returns the arrivals in the current second, this one included. */
  hit(): number {
    const now = this.clock.now()
    if (now - this.windowStart >= 1000) {
      this.windowStart = now
      this.count = 0
    }
    return ++this.count
  }
}
