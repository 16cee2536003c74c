/** Channel lifecycle: encrypted close, idle timeout (manual clock), handshake retransmission under loss. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { utf8 } from '../../src/bytes/index.ts'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { isHopsealError } from '../../src/errors.ts'
import { softwareStaticKey } from '../../src/noise/index.ts'
import { address, local, Node, TransportType } from '../../src/routing/index.ts'
import { MemoryNetwork } from '../../src/transports/memory.ts'
import { createSecureChannel, knownPeers, startSecureChannelListener, ManualClock, type Clock } from '../../src/channel/index.ts'

const crypto = cryptoProvider('node')
const mem = (n: string) => address(TransportType.MEMORY, n)
const tick = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setTimeout(r, 2))
}
const protocol = 'Noise_XX_25519_AESGCM_SHA256'

function setup(clock?: Clock) {
  const net = new MemoryNetwork()
  const dev = new Node({ name: 'dev' })
  const app = new Node({ name: 'app' })
  dev.registerTransport(net.endpoint('dev'))
  app.registerTransport(net.endpoint('app'))
  const a = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
  const b = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
  const got: string[] = []
  app.startWorker('w', (_c, m) => void got.push(new TextDecoder().decode(m.payload)))
  const listener = startSecureChannelListener(app, 'l', { protocol, s: b, auth: knownPeers([{ staticKey: a.publicKey }]), deliverTo: local('w'), ...(clock ? { clock, idleTimeoutMs: 60_000 } : {}) })
  const open = () => createSecureChannel(dev, [mem('app'), local('l')], { protocol, s: a, auth: knownPeers([{ staticKey: b.publicKey }]), ...(clock ? { clock, idleTimeoutMs: 60_000 } : {}) })
  return { net, dev, app, got, listener, open }
}

describe('channel lifecycle', () => {
  it('close sends an encrypted CLOSE: both ends tear down and free their addresses', async () => {
    const { app, listener, open } = setup()
    const ch = await open()
    await tick()
    assert.equal(listener.channels.size, 1)
    const [peer] = [...listener.channels]
    await ch.close()
    await tick()
    assert.ok(ch.isClosed && peer!.isClosed)
    assert.equal(listener.channels.size, 0)
    assert.equal(app.hasWorker(peer!.dec), false)
    await assert.rejects(ch.send(utf8('late')), (e: unknown) => isHopsealError(e, 'CHANNEL_CLOSED'))
  })

  it('an idle channel closes once idle past the idle timeout with an expired session; traffic keeps it open', async () => {
    const clock = new ManualClock()
    const { listener, open } = setup(clock)
    const ch = await open()
    await tick()
    clock.advance(50_000)
    await ch.send(utf8('still here'))
    await tick()
    clock.advance(100_000)
    assert.equal(ch.isClosed, false, 'idle 150 s but the session (hard limit 180 s) is valid: open')
    assert.equal(listener.channels.size, 1)
    clock.advance(100_000)
    assert.equal(ch.isClosed, true, 'idle past 60 s and the session expired: reaped')
    assert.equal(ch.closeReason?.code, 'CHANNEL_EXPIRED')
    assert.equal([...listener.channels].length, 0, 'the responder idled out too')
  })

  for (const [name, lost] of [
    ['message 1, then message 2, then the retransmitted message 1', ['dev>app#1', 'app>dev#1', 'dev>app#3']],
    ['message 3 (the initiator already sends data; the responder re-sends message 2)', ['dev>app#2']],
  ] as const) {
    it(`lost handshake flights are recovered: ${name}`, async () => {
      const clock = new ManualClock()
      const { net, dev, app, got, open } = setup(clock)
      const dropped: string[] = []
      const lose = new Set<string>(lost)
      const seen = new Map<string, number>()
      net.fault = (from, to) => {
        const k = `${from}>${to}`
        const n = (seen.get(k) ?? 0) + 1
        seen.set(k, n)
        if (lose.has(`${k}#${n}`)) {
          dropped.push(`${k}#${n}`)
          return { drop: true }
        }
        return undefined
      }
      const p = open()
      for (let i = 0; i < 20; i++) {
        await tick(2)
        clock.advance(1000)
      }
      const ch = await p
      await ch.send(utf8('first, possibly lost'))
      await tick(5)
      await ch.send(utf8('after loss'))
      await tick(5)
      assert.ok(got.includes('after loss'), JSON.stringify(got))
      assert.deepEqual(dropped.sort(), [...lost].sort())
      const recovered = (dev.counters.get('handshake.retransmitted') ?? 0) + (app.counters.get('handshake.msg2_resent') ?? 0)
      assert.ok(recovered >= 1)
    })
  }
})
