/**
 * Duty-cycle measurement: whether each transmission keeps the rule the sender
 * claims to follow (LinkModelOptions.dutyCycle), so a scenario can assert that
 * a link profile's pacing is right without the model enforcing anything.
 *
 * `window` sums the airtime of transmissions that started within the last
 * `windowMs` (ETSI EN 300 220 counts airtime over an observation period, one
 * hour for EU868). Whole frames count while their start is in the window, so
 * a sender that keeps the serial profile's stricter rule (a frame counts until
 * windowMs after its end) never trips it. Not a token bucket: a bucket allows up
 * to twice the budget within one window and would miss real violations.
 *
 * `time-off` checks start ≥ previous start + previous airtime / ratio (LMIC).
 */
import { MAX_DUTY_ENTRIES } from './constants.ts'
import type { DutyCycleRule } from './options.ts'

/** Slack so floating-point sums exactly at the limit are not violations. */
const EPSILON = 1e-6

export class DutyCycleMeter {
  private starts: number[] = []
  private durations: number[] = []
  private head = 0
  private sum = 0
  private lastStart = -Infinity
  private lastAirtime = 0

  /**
   * Records a transmission of `durationMs` starting at `startMs` (non-decreasing)
   * and returns whether it breaks `rule`.
   */
  record(startMs: number, durationMs: number, rule: DutyCycleRule): boolean {
    const offUntil = this.lastStart + this.lastAirtime / rule.ratio
    this.lastStart = startMs
    this.lastAirtime = durationMs
    if (rule.policy === 'time-off') return startMs + EPSILON < offUntil
    while (this.head < this.starts.length && (this.starts[this.head] as number) <= startMs - rule.windowMs) this.dropOldest()
    if (this.starts.length - this.head >= MAX_DUTY_ENTRIES) this.dropOldest()
    const violation = this.sum + durationMs > rule.ratio * rule.windowMs + EPSILON
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
