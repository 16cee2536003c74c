/** The knobs of a link model and their checks (scenario files feed them, so typos fail loudly). */
import { ErrorCode, HopsealError } from '../../src/errors.ts'

/** A duty-cycle rule to measure (see LinkModelOptions.dutyCycle). */
export interface DutyCycleRule {
  /** Fraction of time on air, in (0, 1]. */
  ratio: number
  /** Trailing window (ms) of the `window` policy. */
  windowMs: number
  /** Default 'window'. */
  policy?: 'window' | 'time-off'
}

/**
 * What a simulated medium does to frames, applied on the sending side.
 * Every field is optional; `{}` is an ideal link (delivery on the next clock tick).
 */
export interface LinkModelOptions {
  /** Probability (0..1) that a frame is lost, independently of the others. */
  loss?: number
  /**
   * Gilbert–Elliott burst loss: per frame the channel moves good→bad with
   * probability `enter` and bad→good with `exit`; every frame sent while bad is
   * lost (fading, a passing truck). Mean burst length is 1/exit frames.
   */
  burstLoss?: { enter: number; exit: number }
  /** Probability (0..1) that a frame arrives twice (a repeater, a lost link-layer ack). */
  duplicate?: number
  /** Probability (0..1) that a frame is held back by `reorderDelayMs`, so later frames overtake it. */
  reorder?: number
  /** Extra delay (ms) of a held-back frame; default DEFAULT_REORDER_DELAY_MS. */
  reorderDelayMs?: number
  /** Fixed propagation/processing delay (ms) added to every frame. */
  latencyMs?: number
  /**
   * Uniform extra delay in [0, jitterMs] per frame. Jitter never reorders (one
   * radio channel is FIFO): a frame never arrives before the one sent before it;
   * reordering comes only from `reorder`.
   */
  jitterMs?: number
  /** Medium bit rate: a frame occupies it bytes·8/bps seconds and frames queue behind each other. */
  bandwidthBps?: number
  /** Largest frame (bytes); capped at the inner link's mtu. Larger sends reject FRAME_TOO_LARGE. */
  mtu?: number
  /**
   * Time on air (ms) of a frame of `frameBytes` (e.g. LoRa from the Semtech
   * formula). Overrides `bandwidthBps`: airtime already includes the
   * modulation's bit rate. Frames queue behind each other on the medium.
   */
  airtimeMs?: (frameBytes: number) => number
  /**
   * Duty-cycle limit to measure (not enforce: the sender's link profile
   * enforces it); a frame that breaks the rule counts one `dutyViolations`.
   * `policy` names the rule the sender claims to follow, as in the serial
   * transport's LinkProfile: `window` (default; the airtime of frames started
   * within the trailing windowMs, plus this one, ≤ ratio·windowMs) or
   * `time-off` (a frame starts no earlier than the previous start + previous
   * airtime / ratio). They differ: evenly spaced time-off frames can exceed an
   * hour's budget by one frame, and window bursts break the time-off rule.
   */
  dutyCycle?: DutyCycleRule
  /** Frames held in flight before new ones are dropped as `overflow` (default DEFAULT_MAX_QUEUE). */
  maxQueue?: number
}

const KEYS = new Set(['loss', 'burstLoss', 'duplicate', 'reorder', 'reorderDelayMs', 'latencyMs', 'jitterMs', 'bandwidthBps', 'mtu', 'airtimeMs', 'dutyCycle', 'maxQueue'])

function bad(msg: string): never {
  throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `link model: ${msg}`)
}

function probability(name: string, v: unknown): void {
  if (v !== undefined && !(typeof v === 'number' && v >= 0 && v <= 1)) bad(`${name} expected a probability in 0..1, got ${String(v)}`)
}

function nonNegative(name: string, v: unknown): void {
  if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) bad(`${name} expected a finite number ≥ 0, got ${String(v)}`)
}

function positive(name: string, v: unknown): void {
  if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v > 0)) bad(`${name} expected a finite number > 0, got ${String(v)}`)
}

function positiveInt(name: string, v: unknown): void {
  if (v !== undefined && !(Number.isSafeInteger(v) && (v as number) >= 1)) bad(`${name} expected an integer ≥ 1, got ${String(v)}`)
}

/**
 * Checks every field of `o` (a whole option set or a partial update).
 * @throws HopsealError INVALID_ARGUMENT naming the field, for an unknown key or an out-of-range value
 */
export function checkLinkModelOptions(o: LinkModelOptions): void {
  if (typeof o !== 'object' || o === null) bad(`options expected an object, got ${String(o)}`)
  for (const k of Object.keys(o)) if (!KEYS.has(k)) bad(`unknown option '${k}' (known: ${[...KEYS].join(', ')})`)
  probability('loss', o.loss)
  probability('duplicate', o.duplicate)
  probability('reorder', o.reorder)
  if (o.burstLoss !== undefined) {
    if (typeof o.burstLoss !== 'object' || o.burstLoss === null) bad(`burstLoss expected { enter, exit }, got ${String(o.burstLoss)}`)
    probability('burstLoss.enter', o.burstLoss.enter ?? NaN)
    probability('burstLoss.exit', o.burstLoss.exit ?? NaN)
  }
  nonNegative('reorderDelayMs', o.reorderDelayMs)
  nonNegative('latencyMs', o.latencyMs)
  nonNegative('jitterMs', o.jitterMs)
  positive('bandwidthBps', o.bandwidthBps)
  positiveInt('mtu', o.mtu)
  positiveInt('maxQueue', o.maxQueue)
  if (o.airtimeMs !== undefined && typeof o.airtimeMs !== 'function') bad(`airtimeMs expected a function (frameBytes) => ms, got ${typeof o.airtimeMs}`)
  if (o.dutyCycle !== undefined) {
    if (typeof o.dutyCycle !== 'object' || o.dutyCycle === null) bad(`dutyCycle expected { ratio, windowMs }, got ${String(o.dutyCycle)}`)
    const { ratio, windowMs } = o.dutyCycle
    if (!(typeof ratio === 'number' && ratio > 0 && ratio <= 1)) bad(`dutyCycle.ratio expected a number in (0, 1], got ${String(ratio)}`)
    positive('dutyCycle.windowMs', windowMs)
    const policy = o.dutyCycle.policy
    if (policy !== undefined && policy !== 'window' && policy !== 'time-off') bad(`dutyCycle.policy expected 'window' or 'time-off', got ${String(policy)}`)
  }
}
