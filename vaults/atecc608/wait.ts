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
  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.tail.then(fn)
    this.tail = p.then(
      () => undefined,
      () => undefined,
    )
    return p
  }
}
