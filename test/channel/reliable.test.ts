/**
 * Reliable mode over a lossy, duplicating, reordering memory link: every
 * accepted message is delivered exactly once and in order; buffers stay bounded.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { utf8 } from '../../src/bytes/index.ts'
import { cryptoProvider } from '../../src/crypto/index.ts'
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
