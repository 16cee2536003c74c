/**
 * Duty-cycle measurement over a sliding window (ETSI EN 300 220 counts airtime
 * over an observation period, one hour for EU868): the airtime of every
 * transmission that started within the last `windowMs` is summed.
 *
 * A sliding window rather than a token bucket: a bucket allows up to twice the
 * budget within one window, so it would miss real violations; a sender that
 * enforces the stricter LoRaWAN time-off rule never trips the window.
 */
import { MAX_DUTY_ENTRIES } from './constants.ts'

/** Relative slack so floating-point sums at exactly the budget are not violations. */
const EPSILON = 1e-9

export class DutyCycleWindow {
  private starts: number[] = []
  private durations: number[] = []
  private head = 0
  private sum = 0

  /**
   * Records a transmission of `durationMs` starting at `startMs` (non-decreasing)
   * and returns whether it takes the window over ratio·windowMs.
   */
  record(startMs: number, durationMs: number, ratio: number, windowMs: number): boolean {
    while (this.head < this.starts.length && (this.starts[this.head] as number) <= startMs - windowMs) this.dropOldest()
    if (this.starts.length - this.head >= MAX_DUTY_ENTRIES) this.dropOldest()
    const budget = ratio * windowMs
    const violation = this.sum + durationMs > budget * (1 + EPSILON) + EPSILON
    this.starts.push(startMs)
    this.durations.push(durationMs)
    this.sum += durationMs
    if (this.head > 1024 && this.head * 2 > this.starts.length) {
      this.starts = this.starts.slice(this.head)
      this.durations = this.durations.slice(this.head)
      this.head = 0
      this.sum = this.durations.reduce((a, b) => a + b, 0) // re-sum: no drift over long runs
    }
    return violation
  }

  /** Airtime (ms) in the window as of the last record. */
  get usedMs(): number {
    return this.sum
  }

  private dropOldest(): void {
    this.sum -= this.durations[this.head] as number
    this.head++
    if (this.head === this.starts.length) {
      this.starts = []
      this.durations = []
      this.head = 0
      this.sum = 0
    }
  }
}
