/** Abortable waits: every wait has a timeout and honours an AbortSignal (issue 7 "never a hang"). */
import { ErrorCode, HopsealError, throwIfAborted } from '../../src/errors.ts'

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>

/** setTimeout-based sleep that rejects with ABORTED when `signal` fires. */
export const sleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    throwIfAborted(signal)
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = (): void => {
      clearTimeout(t)
      reject(new HopsealError(ErrorCode.ABORTED, 'operation aborted', { cause: signal?.reason }))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })

/** Runs calls one at a time, in order (one command at a time per device, spec A2). */
export class Mutex {
  private tail: Promise<void> = Promise.resolve()
  /** Runs `fn` after every earlier call; an abort while waiting in line rejects at once (and `fn` never runs). */
  run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    let aborted = false
    const p = this.tail.then(() => {
      if (aborted) throw new HopsealError(ErrorCode.ABORTED, 'operation aborted while waiting for the device')
      return fn()
    })
    this.tail = p.then(
      () => undefined,
      () => undefined,
    )
    if (!signal) return p
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        aborted = true
        reject(new HopsealError(ErrorCode.ABORTED, 'operation aborted', { cause: signal.reason }))
      }
      signal.addEventListener('abort', onAbort, { once: true })
      p.then(
        (v) => {
          signal.removeEventListener('abort', onAbort)
          resolve(v)
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onAbort)
          reject(e)
        },
      )
    })
  }
}
