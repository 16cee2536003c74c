/**
 * Exponential reconnect backoff with "equal jitter" (AWS Architecture Blog,
 * "Exponential Backoff and Jitter", 2015): attempt n waits a random time in
 * [d/2, d] with d = min(max, initial · 2^n). Jitter spreads a fleet that lost
 * the same broker so it does not reconnect in lock-step; keeping half of d
 * fixed means a retry never comes back almost at once.
 *
 * Rejected: "full jitter" ([0, d]), whose near-zero delays hammer a broker
 * that has just restarted, and mqtt.js's own fixed `reconnectPeriod`.
 */
export class Backoff {
  private attempt = 0

  constructor(
    readonly initialMs: number,
    readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt (ms, integer ≥ 1); each call doubles the base up to maxMs. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 40))
    this.attempt++
    const r = Math.min(Math.max(this.random(), 0), 1)
    return Math.max(1, Math.round(base / 2 + (base / 2) * r))
  }

  /** Back to the initial delay (after a successful connection). */
  reset(): void {
    this.attempt = 0
  }
}
