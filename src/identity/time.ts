/** Time arguments: unsigned integer seconds since the Unix epoch, at most MAX_TIME. */
import { ErrorCode, HopsealError } from '../errors.ts'
import { MAX_TIME } from './constants.ts'

/** @throws HopsealError INVALID_ARGUMENT unless `t` is an integer in [0, MAX_TIME]. */
export function checkTime(label: string, t: unknown): asserts t is number {
  if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0 || t > MAX_TIME) {
    throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `${label} expected integer seconds in [0, 2^40], got ${String(t)}`)
  }
}

/** The default clock: whole seconds since the epoch. */
export function systemNow(): number {
  return Math.floor(Date.now() / 1000)
}
