/**
 * The shared compliance suite for Transport implementations (style.md: one
 * suite per interface, run against every implementation): memory, MQTT over
 * aedes and Mosquitto, serial over streams and PTYs.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { isHopsealError } from '../../src/errors.ts'
import { addressToString, type Address } from '../../src/routing/address.ts'
import type { Transport } from '../../src/routing/transport.ts'

export interface TransportPair {
  a: Transport
  b: Transport
  /** The address `a` sends to, reaching `b`. */
  aToB: Address
  bToA: Address
  close(): Promise<void>
}

export interface ComplianceOptions {
  /** Overrides `a.properties.maxPayload` for the boundary cases. */
  maxPayload?: number
  /** How long to wait for one delivery (ms, real time). */
  timeoutMs?: number
}

interface Received {
  bytes: Uint8Array
  from: Address
}

function collector(t: Transport): { next(timeoutMs: number): Promise<Received>; pending: Received[] } {
  const pending: Received[] = []
  const waiters: ((r: Received) => void)[] = []
  t.onReceive((bytes, from) => {
    const w = waiters.shift()
    if (w) w({ bytes, from })
    else pending.push({ bytes, from })
  })
  return {
    pending,
    next(timeoutMs) {
      const p = pending.shift()
      if (p) return Promise.resolve(p)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`nothing received within ${timeoutMs} ms`)), timeoutMs)
        waiters.push((r) => {
          clearTimeout(timer)
          resolve(r)
        })
      })
    },
  }
}

const pattern = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff)

export function runTransportCompliance(name: string, factory: () => Promise<TransportPair>, opts: ComplianceOptions = {}): void {
  describe(`${name} transport compliance`, () => {
    let pair: TransportPair
    let ra: ReturnType<typeof collector>
    let rb: ReturnType<typeof collector>
    const timeout = opts.timeoutMs ?? 5000

    before(async () => {
      pair = await factory()
      ra = collector(pair.a)
      rb = collector(pair.b)
    })
    after(async () => {
      await pair.close()
    })

    it('declares sane properties', () => {
      for (const t of [pair.a, pair.b]) {
        assert.ok(Number.isInteger(t.properties.maxPayload) && t.properties.maxPayload >= 20, `maxPayload ${t.properties.maxPayload}`)
        assert.equal(typeof t.properties.reliable, 'boolean')
        assert.equal(typeof t.properties.ordered, 'boolean')
        assert.ok(Number.isInteger(t.type) && t.type > 0 && t.type < 256)
      }
    })

    it('carries bytes both ways, and `from` is a reply address', async () => {
      const m1 = pattern(37, 1)
      await pair.a.send(pair.aToB, m1)
      const got = await rb.next(timeout)
      assert.deepEqual(got.bytes, m1)
      assert.equal(got.from.type, pair.b.type)
      const m2 = pattern(23, 2)
      await pair.b.send(got.from, m2)
      const back = await ra.next(timeout)
      assert.deepEqual(back.bytes, m2)
      assert.equal(addressToString(back.from), addressToString(pair.aToB))
    })

    it('carries a message of exactly maxPayload bytes and rejects one byte more at the sender', async () => {
      const max = opts.maxPayload ?? pair.a.properties.maxPayload
      const m = pattern(max, 3)
      await pair.a.send(pair.aToB, m)
      assert.deepEqual((await rb.next(timeout)).bytes, m)
      await assert.rejects(pair.a.send(pair.aToB, pattern(max + 1, 4)), (e) => isHopsealError(e, 'FRAME_TOO_LARGE') || isHopsealError(e, 'LIMIT_EXCEEDED'))
    })

    it('carries an empty-ish one-byte message and binary bytes (0x00, 0xff) intact', async () => {
      const m = Uint8Array.of(0x00, 0xff, 0x00, 0x7e, 0x7d, 0x0a)
      await pair.a.send(pair.aToB, Uint8Array.of(0))
      assert.deepEqual((await rb.next(timeout)).bytes, Uint8Array.of(0))
      await pair.a.send(pair.aToB, m)
      assert.deepEqual((await rb.next(timeout)).bytes, m)
    })

    it('copies: mutating the sent buffer after send() does not change what arrives', async () => {
      const m = pattern(64, 5)
      const expected = m.slice()
      const p = pair.a.send(pair.aToB, m)
      m.fill(0xee)
      await p
      assert.deepEqual((await rb.next(timeout)).bytes, expected)
    })

    it('delivers a burst of 50 messages, each exactly once', async () => {
      const sent = new Set<string>()
      const sends: Promise<void>[] = []
      for (let i = 0; i < 50; i++) {
        const m = Uint8Array.of(0xb0, i, ...pattern(10, i))
        sent.add(Buffer.from(m).toString('hex'))
        sends.push(pair.a.send(pair.aToB, m))
      }
      await Promise.all(sends)
      const seen = new Set<string>()
      for (let i = 0; i < 50; i++) {
        const h = Buffer.from((await rb.next(timeout)).bytes).toString('hex')
        assert.ok(sent.has(h), `unexpected message ${h}`)
        assert.ok(!seen.has(h), `duplicate ${h}`)
        seen.add(h)
      }
      assert.equal(seen.size, 50)
    })

    it('rejects sends after close with a typed error', async () => {
      await pair.a.close()
      await assert.rejects(pair.a.send(pair.aToB, Uint8Array.of(1)), (e) => isHopsealError(e))
    })
  })
}
