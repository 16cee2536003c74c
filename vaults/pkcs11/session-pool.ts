/**
 * A pool of read/write sessions on one token: one active operation per
 * session (atecc608-and-pkcs11.md §B3 gotcha 2), so concurrent vault calls
 * each borrow their own session and the async pkcs11js calls run in parallel.
 *
 * Sessions are opened lazily up to `size` and kept for the vault's lifetime:
 * closing a session destroys the session objects it created (PKCS#11 §4.4),
 * so the pool never shrinks on its own. A session reported lost is marked
 * dead, closed when returned, and replaced by the next `acquire`.
 *
 * Login state belongs to the application, not the session: a new session is
 * logged in only when C_GetSessionInfo says the user is not (yet) logged in.
 */
import { ErrorCode, HopsealError, throwIfAborted } from '../../src/errors.ts'
import { CKF_RW_SESSION, CKF_SERIAL_SESSION, CKS_RO_USER_FUNCTIONS, CKS_RW_USER_FUNCTIONS, CKU_USER } from './constants.ts'
import { ckrName, mapPkcs11Error } from './errors.ts'
import type { Pkcs11 } from './module.ts'
import type { PinSource } from './config.ts'

export interface Session {
  readonly handle: Buffer
  /** Set when the token reported this session gone; the pool drops it on release. */
  dead: boolean
}

interface Waiter {
  resolve: (s: Session) => void
  reject: (e: unknown) => void
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
}

export class SessionPool {
  private readonly idle: Session[] = []
  private readonly busy = new Set<Session>()
  private readonly waiters: Waiter[] = []
  private opening = 0
  private closed = false
  private drained: (() => void) | undefined

  constructor(
    private readonly p11: () => Pkcs11,
    private readonly slot: () => Buffer,
    private readonly pin: PinSource,
    private readonly loginRequired: () => boolean,
    readonly size: number,
  ) {}

  /** Sessions currently open (idle + busy). */
  get open(): number {
    return this.idle.length + this.busy.size
  }

  /** Borrows a session; waits (abortably) when all `size` sessions are busy. */
  async acquire(signal?: AbortSignal): Promise<Session> {
    throwIfAborted(signal)
    if (this.closed) throw closedError()
    const s = this.idle.pop()
    if (s) {
      this.busy.add(s)
      return s
    }
    if (this.open + this.opening < this.size) {
      this.opening++
      try {
        const fresh = this.openSession()
        if (this.closed) {
          this.closeQuietly(fresh)
          throw closedError()
        }
        this.busy.add(fresh)
        return fresh
      } finally {
        this.opening--
      }
    }
    return new Promise<Session>((resolve, reject) => {
      const w: Waiter = { resolve, reject, signal, onAbort: undefined }
      if (signal) {
        w.onAbort = () => {
          const i = this.waiters.indexOf(w)
          if (i >= 0) this.waiters.splice(i, 1)
          reject(new HopsealError(ErrorCode.ABORTED, 'operation aborted while waiting for a PKCS#11 session', { cause: signal.reason }))
        }
        signal.addEventListener('abort', w.onAbort, { once: true })
      }
      this.waiters.push(w)
    })
  }

  /** Returns a session; a dead one is closed and, if someone waits, replaced. */
  release(s: Session): void {
    if (!this.busy.delete(s)) return
    if (s.dead || this.closed) {
      this.closeQuietly(s)
      if (!this.closed) this.serveWaitersWithNew()
      this.checkDrained()
      return
    }
    const w = this.nextWaiter()
    if (w) {
      this.busy.add(s)
      w.resolve(s)
      return
    }
    this.idle.push(s)
    this.checkDrained()
  }

  /** Marks every idle session dead and closes it (after the token was removed or re-initialised). */
  dropIdle(): void {
    for (const s of this.idle.splice(0)) this.closeQuietly(s)
  }

  /** Drops the idle sessions the token no longer knows (after one session was reported lost, the others often are too). */
  pruneIdle(): void {
    const p11 = this.p11()
    for (let i = this.idle.length - 1; i >= 0; i--) {
      try {
        p11.C_GetSessionInfo(this.idle[i]!.handle)
      } catch {
        const [s] = this.idle.splice(i, 1)
        this.closeQuietly(s!)
      }
    }
  }

  /** Marks the busy sessions dead too, so they are closed on return. */
  markAllDead(): void {
    for (const s of this.busy) s.dead = true
    this.dropIdle()
  }

  /** Logs the application in again (after CKR_USER_NOT_LOGGED_IN), through `s`. */
  login(s: Session): void {
    const pin = this.pin()
    if (pin === undefined) throw new HopsealError(ErrorCode.VAULT_WRONG_PIN, 'the token needs a PIN and none is configured (pin, pinEnv or pinFile)')
    try {
      this.p11().C_Login(s.handle, CKU_USER, pin)
    } catch (e) {
      if (ckrName(e) === 'CKR_USER_ALREADY_LOGGED_IN') return
      throw mapPkcs11Error(e, 'login')
    }
  }

  /** Rejects waiters, waits for busy sessions to come back, closes everything. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const w of this.waiters.splice(0)) {
      if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort)
      w.reject(closedError())
    }
    if (this.busy.size > 0) await new Promise<void>((r) => (this.drained = r))
    for (const s of this.idle.splice(0)) this.closeQuietly(s)
  }

  private openSession(): Session {
    const p11 = this.p11()
    let handle: Buffer
    try {
      handle = p11.C_OpenSession(this.slot(), CKF_SERIAL_SESSION | CKF_RW_SESSION)
    } catch (e) {
      throw mapPkcs11Error(e, 'open')
    }
    const s: Session = { handle, dead: false }
    try {
      if (this.loginRequired()) {
        const state = p11.C_GetSessionInfo(handle).state
        if (state !== CKS_RW_USER_FUNCTIONS && state !== CKS_RO_USER_FUNCTIONS) this.login(s)
      }
    } catch (e) {
      this.closeQuietly(s)
      throw mapPkcs11Error(e, 'login')
    }
    return s
  }

  /**
   * Replaces closed sessions for waiting callers. If a new session cannot be
   * opened (token gone, PIN refused), every waiter gets that error rather than
   * waiting for a release that may never come.
   */
  private serveWaitersWithNew(): void {
    while (this.waiters.length > 0 && this.open + this.opening < this.size) {
      let fresh: Session
      try {
        fresh = this.openSession()
      } catch (e) {
        for (let w = this.nextWaiter(); w; w = this.nextWaiter()) w.reject(e)
        return
      }
      this.busy.add(fresh)
      this.nextWaiter()!.resolve(fresh)
    }
  }

  private nextWaiter(): Waiter | undefined {
    const w = this.waiters.shift()
    if (w?.onAbort) w.signal?.removeEventListener('abort', w.onAbort)
    return w
  }

  private checkDrained(): void {
    if (this.closed && this.busy.size === 0 && this.drained) {
      const d = this.drained
      this.drained = undefined
      d()
    }
  }

  private closeQuietly(s: Session): void {
    try {
      this.p11().C_CloseSession(s.handle)
    } catch {
      /* already gone: that is what we wanted */
    }
  }
}

function closedError(): HopsealError {
  return new HopsealError(ErrorCode.VAULT_CLOSED, 'PKCS#11 vault is closed')
}
