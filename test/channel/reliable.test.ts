/**
 * Reliable mode over a lossy, duplicating, reordering memory link: every
 * accepted message is delivered exactly once and in order; buffers stay bounded.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { concat, encodeVarint, utf8 } from '../../src/bytes/index.ts'
import { DEFAULT_RELIABLE, ReliableReceiver, ReliableSender } from '../../src/channel/reliable.ts'
import { ManualClock } from '../../src/time/clock.ts'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { isHopsealError } from '../../src/errors.ts'
import { softwareStaticKey } from '../../src/noise/index.ts'
import { address, local, Node, TransportType } from '../../src/routing/index.ts'
import { MemoryNetwork } from '../../src/transports/memory.ts'
import { createSecureChannel, knownPeers, startSecureChannelListener } from '../../src/channel/secure-channel.ts'

const crypto = cryptoProvider('node')
const mem = (n: string) => address(TransportType.MEMORY, n)

/** Deterministic PRNG (mulberry32) so a failing seed can be replayed. */
function rng(seed: number): () => number {
  return () => {
    seed |= 0
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

async function setup(reliable: object | boolean, fault?: (r: () => number) => MemoryNetwork['fault']) {
  const net = new MemoryNetwork()
  const dev = new Node({ name: 'dev' })
  const app = new Node({ name: 'app' })
  dev.registerTransport(net.endpoint('dev'))
  app.registerTransport(net.endpoint('app'))
  const a = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
  const b = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
  const got: string[] = []
  app.startWorker('w', (_c, m) => void got.push(new TextDecoder().decode(m.payload)))
  const protocol = 'Noise_KK_25519_AESGCM_SHA256'
  startSecureChannelListener(app, 'l', { protocol, s: b, auth: knownPeers([{ staticKey: a.publicKey }]), deliverTo: local('w'), initiatorStatics: [a.publicKey], reliable })
  const ch = await createSecureChannel(dev, [mem('app'), local('l')], { protocol, s: a, rs: b.publicKey, auth: knownPeers([{ staticKey: b.publicKey }]), reliable })
  if (fault) net.fault = fault(rng(42))
  return { ch, got, dev, app, net }
}

describe('reliable mode', () => {
  it('delivers every message exactly once, in order, across 30 % loss, duplication and reordering', async () => {
    const { ch, got, dev } = await setup({ ackTimeoutMs: 20, maxBackoffMs: 80, maxRetransmits: 30, sendBuffer: 128, receiveBuffer: 128 }, (r) => () => {
      const x = r()
      if (x < 0.3) return { drop: true }
      if (x < 0.4) return { duplicate: true }
      if (x < 0.6) return { delayMs: Math.floor(r() * 15) }
      return undefined
    })
    const sent = Array.from({ length: 100 }, (_, i) => `reading ${i}`)
    await Promise.all(sent.map((s) => ch.send(utf8(s))))
    assert.deepEqual(got, sent)
    assert.ok((dev.counters.get('reliable.retransmitted') ?? 0) > 0, 'the loss was real')
    assert.equal(ch.unacked, 0)
  })

  it('a full send buffer refuses new messages without dropping accepted ones', async () => {
    const { ch, got, net } = await setup({ ackTimeoutMs: 10, maxBackoffMs: 20, maxRetransmits: 50, sendBuffer: 4 })
    let blackout = true
    net.fault = () => (blackout ? { drop: true } : undefined)
    const accepted = [0, 1, 2, 3].map((i) => ch.send(utf8(`m${i}`)))
    await assert.rejects(ch.send(utf8('m4')), (e: unknown) => isHopsealError(e, 'LIMIT_EXCEEDED'))
    await new Promise((r) => setTimeout(r, 50))
    blackout = false
    await Promise.all(accepted)
    assert.deepEqual(got, ['m0', 'm1', 'm2', 'm3'])
  })

  it('delivery fails with a typed code after the last retransmission', async () => {
    const { ch, net } = await setup({ ackTimeoutMs: 5, maxBackoffMs: 5, maxRetransmits: 3 })
    net.fault = () => ({ drop: true })
    await assert.rejects(ch.send(utf8('lost')), (e: unknown) => isHopsealError(e, 'CHANNEL_DELIVERY_FAILED'))
  })
})

describe('reliable mode units', () => {
  const opts = { ...DEFAULT_RELIABLE }
  const framed = (seq: number, text: string) => concat(encodeVarint(seq), utf8(text))

  it('a copy that arrives while the first is still being delivered is a duplicate, not a second delivery', async () => {
    const delivered: string[] = []
    const counts: string[] = []
    const acks: number[] = []
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const rx = new ReliableReceiver<string>(
      opts,
      async (p, meta) => {
        delivered.push(`${new TextDecoder().decode(p)}@${meta}`)
        await gate
      },
      async (next) => void acks.push(next),
      (r) => void counts.push(r),
    )
    const first = rx.receive(framed(0, 'a'), 'm0')
    const copy = rx.receive(framed(0, 'a'), 'm0-copy') // the retransmission, mid-delivery
    const next = rx.receive(framed(1, 'b'), 'm1')
    release()
    await Promise.all([first, copy, next])
    assert.deepEqual(delivered, ['a@m0', 'b@m1'])
    assert.deepEqual(counts, ['reliable.duplicate'])
    assert.equal(acks.at(-1), 2, 'the last ack says everything below 2 arrived')
    assert.ok(acks.every((n) => n >= 1), `no ack sent before its delivery: ${acks}`)
  })

  it('a copy still waiting in the send queue (duty cycle) is not joined by another: the timer waits for it to leave', async () => {
    const clock = new ManualClock()
    let sent = 0
    let leave: () => void = () => undefined
    const tx = new ReliableSender({ ...opts, ackTimeoutMs: 1000, minAckTimeoutMs: 50, maxBackoffMs: 8000 }, clock, () => {
      sent++
      return new Promise<void>((r) => (leave = r)) // resolves when the radio actually sends it
    }, () => undefined)
    const p = tx.send(utf8('x'))
    for (let i = 0; i < 5; i++) clock.advance(1000)
    assert.equal(sent, 1, 'five timeouts while the first copy is still queued: no second copy')
    leave()
    await Promise.resolve()
    clock.advance(1000)
    assert.equal(sent, 2, 'once it left, the next timeout retransmits')
    tx.onAck(1)
    await p
  })

  it('the retransmission timeout follows the measured RTT (RFC 6298), floored and capped; retransmitted acks are not samples', async () => {
    const clock = new ManualClock()
    const sent: Uint8Array[] = []
    const tx = new ReliableSender({ ...opts, ackTimeoutMs: 1000, minAckTimeoutMs: 50, maxBackoffMs: 8000 }, clock, async (f) => void sent.push(f), () => undefined)
    assert.equal(tx.rto, 1000, 'before any sample')
    for (let i = 0; i < 20; i++) {
      const p = tx.send(utf8('x'))
      clock.advance(200)
      tx.onAck(i + 1)
      await p
    }
    // Constant 200 ms RTT: SRTT → 200, RTTVAR → 0, so RTO → SRTT + max(SRTT/4, 4·RTTVAR) = 250:
    // the variance term's floor keeps the timer off the ACK's arrival (200 + 4·RTTVAR would be ≈ 200).
    assert.ok(tx.rto >= 250 && tx.rto < 260, `rto ${tx.rto}`)
    // A message acknowledged only after a retransmission (Karn) does not move the estimate.
    const before = tx.rto
    const p = tx.send(utf8('slow'))
    await Promise.resolve() // the first transmission leaves (a copy still in the send queue is not retransmitted)
    clock.advance(before) // the timer fires: second transmission
    assert.equal(sent.length, 22)
    clock.advance(5000)
    tx.onAck(21)
    await p
    assert.equal(tx.rto, before)
    // Fast acks never push it below the floor.
    for (let i = 21; i < 60; i++) {
      const q = tx.send(utf8('y'))
      clock.advance(1)
      tx.onAck(i + 1)
      await q
    }
    assert.equal(tx.rto, 50)
  })
})
