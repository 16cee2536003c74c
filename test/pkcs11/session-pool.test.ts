/**
 * The session pool on a scripted fake module (no token needed): size bound,
 * FIFO hand-over, abort while queued, replacement of dead sessions, no waiter
 * left hanging when the token cannot give new sessions, login only when the
 * session is not logged in, and close() waiting for busy sessions.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isHopsealError } from '../../src/errors.ts'
import type { Pkcs11 } from '../../vaults/pkcs11/module.ts'
import { SessionPool, type Session } from '../../vaults/pkcs11/session-pool.ts'

class FakeModule {
  next = 1
  open = new Set<number>()
  closed: number[] = []
  logins = 0
  loggedIn = false
  failOpen: string | undefined
  C_OpenSession(): Buffer {
    if (this.failOpen) throw new Error(this.failOpen)
    const id = this.next++
    this.open.add(id)
    return Buffer.from([id, 0, 0, 0, 0, 0, 0, 0])
  }
  C_CloseSession(h: Buffer): void {
    this.open.delete(h[0]!)
    this.closed.push(h[0]!)
  }
  C_GetSessionInfo(h: Buffer): { state: number } {
    if (!this.open.has(h[0]!)) throw new Error('CKR_SESSION_HANDLE_INVALID')
    return { state: this.loggedIn ? 3 : 2 }
  }
  C_Login(_h: Buffer, _u: number, pin: string): void {
    if (pin !== '1234') throw new Error('CKR_PIN_INCORRECT')
    this.logins++
    this.loggedIn = true
  }
}

function pool(size: number, pin = '1234'): { fake: FakeModule; pool: SessionPool } {
  const fake = new FakeModule()
  const p = new SessionPool(() => fake as unknown as Pkcs11, () => Buffer.alloc(8), () => pin, () => true, size)
  return { fake, pool: p }
}

const id = (s: Session): number => s.handle[0]!

describe('pkcs11 session pool', () => {
  it('opens at most `size` sessions, logs in once, and hands sessions over in FIFO order', async () => {
    const { fake, pool: p } = pool(2)
    const a = await p.acquire()
    const b = await p.acquire()
    assert.equal(fake.open.size, 2)
    assert.equal(fake.logins, 1, 'login state is per application: the second session is already logged in')
    const order: number[] = []
    const w1 = p.acquire().then((s) => (order.push(1), s))
    const w2 = p.acquire().then((s) => (order.push(2), s))
    assert.equal(fake.open.size, 2, 'no third session')
    p.release(b)
    const s1 = await w1
    assert.equal(id(s1), id(b))
    p.release(a)
    const s2 = await w2
    assert.equal(id(s2), id(a))
    assert.deepEqual(order, [1, 2])
    p.release(s1)
    p.release(s2)
    assert.equal(p.open, 2)
  })

  it('a queued acquire can be aborted and leaves the queue', async () => {
    const { pool: p } = pool(1)
    const a = await p.acquire()
    const ac = new AbortController()
    const queued = p.acquire(ac.signal)
    const after = p.acquire()
    ac.abort()
    await assert.rejects(queued, (e: unknown) => isHopsealError(e, 'ABORTED'))
    p.release(a)
    assert.equal(id(await after), id(a), 'the next waiter gets the session')
  })

  it('a dead session is closed on release and replaced for a waiter', async () => {
    const { fake, pool: p } = pool(1)
    const a = await p.acquire()
    const waiting = p.acquire()
    a.dead = true
    p.release(a)
    const b = await waiting
    assert.notEqual(id(b), id(a))
    assert.deepEqual(fake.closed, [id(a)])
  })

  it('when no new session can be opened, every waiter gets the error instead of hanging', async () => {
    const { fake, pool: p } = pool(1)
    const a = await p.acquire()
    const waiters = [p.acquire(), p.acquire(), p.acquire()]
    fake.failOpen = 'CKR_TOKEN_NOT_PRESENT'
    a.dead = true
    p.release(a)
    const results = await Promise.allSettled(waiters)
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected', 'rejected'],
    )
    for (const r of results) assert.ok(r.status === 'rejected' && isHopsealError(r.reason, 'VAULT_TOKEN_ABSENT'))
  })

  it('pruneIdle drops sessions the token no longer knows', async () => {
    const { fake, pool: p } = pool(3)
    const s = [await p.acquire(), await p.acquire(), await p.acquire()]
    for (const x of s) p.release(x)
    fake.open.clear() // C_CloseAllSessions elsewhere
    p.pruneIdle()
    assert.equal(p.open, 0)
    fake.loggedIn = false
    await p.acquire()
    assert.equal(fake.logins, 2, 'a new session after the loss logs in again')
  })

  it('a wrong PIN fails the acquire with VAULT_WRONG_PIN and leaves no session open', async () => {
    const { fake, pool: p } = pool(2, '0000')
    await assert.rejects(p.acquire(), (e: unknown) => isHopsealError(e, 'VAULT_WRONG_PIN') && !e.message.includes('0000'))
    assert.equal(fake.open.size, 0)
    assert.equal(p.open, 0)
  })

  it('close() rejects waiters, waits for busy sessions, then closes them all', async () => {
    const { fake, pool: p } = pool(1)
    const a = await p.acquire()
    const waiting = p.acquire()
    let closed = false
    const closing = p.close().then(() => (closed = true))
    await assert.rejects(waiting, (e: unknown) => isHopsealError(e, 'VAULT_CLOSED'))
    await new Promise((r) => setImmediate(r))
    assert.equal(closed, false, 'still waiting for the busy session')
    p.release(a)
    await closing
    assert.equal(fake.open.size, 0)
    await assert.rejects(p.acquire(), (e: unknown) => isHopsealError(e, 'VAULT_CLOSED'))
  })
})
