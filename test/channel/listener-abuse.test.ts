/**
 * A listener under abuse (issue 19, items 1, 2, 4, 7): bursts of bogus KK
 * message 1 flights at thousands of known peers, copies of one message 1
 * arriving together, XX message 3 arriving with the first data message,
 * patterns that do not authenticate the initiator.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { utf8 } from '../../src/bytes/index.ts'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { isHopsealError } from '../../src/errors.ts'
import { HandshakeState, softwareStaticKey, type StaticKey } from '../../src/noise/index.ts'
import { address, local, Node, TransportType } from '../../src/routing/index.ts'
import { MemoryNetwork } from '../../src/transports/memory.ts'
import { createSecureChannel, knownPeers, startSecureChannelListener } from '../../src/channel/index.ts'
import { withCounter } from '../../src/channel/handshake-counter.ts'

const crypto = cryptoProvider('node')
const mem = (n: string) => address(TransportType.MEMORY, n)
const immediate = () => new Promise((r) => setImmediate(r))
const key = () => softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
/** A static key as a vault holds it: DH answers asynchronously (PKCS#11, a secure element), so concurrent flights overlap. */
const vaultLike = (k: StaticKey): StaticKey => ({ ...k, dh: async (peer) => { await immediate(); return k.dh(peer) } })

function net() {
  const n = new MemoryNetwork()
  const mk = (name: string) => {
    const node = new Node({ name })
    const t = n.endpoint(name)
    node.registerTransport(t)
    return { node, t }
  }
  return { n, dev: mk('dev'), app: mk('app') }
}

describe('listener under abuse', () => {
  it('a burst of bogus KK flights at 4 096 known peers: bounded work in progress, the rest dropped and counted, and the event loop keeps running', async () => {
    const { dev, app } = net()
    const me = key()
    const peers = Array.from({ length: 4096 }, () => crypto.generateKeyPair('x25519').publicKey)
    startSecureChannelListener(app.node, 'l', { protocol: 'Noise_KK_25519_AESGCM_SHA256', s: me, crypto, auth: knownPeers(peers.map((staticKey) => ({ staticKey }))), initiatorStatics: peers, deliverTo: () => undefined, maxHandshakesInProgress: 2, maxHandshakesQueued: 3, cookie: 'never' })
    const flights = 40
    for (let i = 0; i < flights; i++) {
      const bogus = crypto.randomBytes(48)
      await dev.node.send([mem('app'), local('l')], bogus, [local(Uint8Array.of(9))])
    }
    let ticks = 0
    const failed = () => [...app.node.counters].filter(([k]) => k.startsWith('handshake.failed.')).reduce((n, [, v]) => n + v, 0)
    const dropped = () => app.node.counters.get('handshake.dropped_busy') ?? 0
    for (let i = 0; i < 100_000 && failed() + dropped() < flights; i++) {
      await immediate()
      ticks++
    }
    assert.equal(failed() + dropped(), flights, JSON.stringify([...app.node.counters]))
    assert.equal(failed(), 5, '2 in progress + 3 queued were worked on')
    assert.equal(dropped(), flights - 5)
    // 5 flights × 4 096 candidates, a yield every 16 candidates: the loop turned hundreds of times meanwhile
    assert.ok(ticks >= 5 * (4096 / 16) / 2, `event loop turns while the flights were worked on: ${ticks}`)
  })

  it('eight copies of one KK message 1 arriving together make one channel and get the same message 2', async () => {
    const { dev, app } = net()
    const a = key()
    const b = vaultLike(key())
    const listener = startSecureChannelListener(app.node, 'l', { protocol: 'Noise_KK_25519_AESGCM_SHA256', s: b, crypto, auth: knownPeers([{ staticKey: a.publicKey }]), initiatorStatics: [a.publicKey], deliverTo: () => undefined })
    const answers: string[] = []
    dev.node.startWorker(local(Uint8Array.of(9)), (_c, m) => void answers.push(Buffer.from(m.payload).toString('hex')))
    const hs = HandshakeState.create({ protocol: 'Noise_KK_25519_AESGCM_SHA256', initiator: true, s: a, rs: b.publicKey, crypto })
    const msg1 = await hs.writeMessage(withCounter(1, new Uint8Array(0)))
    await Promise.all(Array.from({ length: 8 }, () => dev.node.send([mem('app'), local('l')], msg1, [local(Uint8Array.of(9))])))
    for (let i = 0; i < 50 && answers.length < 8; i++) await immediate()
    assert.equal(listener.channels.size, 1, 'one channel')
    assert.equal(answers.length, 8, 'every copy answered')
    assert.equal(new Set(answers).size, 1, 'with the same message 2')
    assert.equal(app.node.counters.get('handshake.duplicate_in_progress'), 7)
  })

  it('XX message 3 and the first data message arriving together: the data waits for the handshake and is delivered', async () => {
    for (let run = 0; run < 20; run++) {
      const { dev, app } = net()
      const a = key()
      const b = vaultLike(key())
      const got: string[] = []
      const protocol = 'Noise_XX_25519_AESGCM_SHA256'
      // The listener's checks take a moment (a policy or revocation lookup): message 3 is still being worked on when the data arrives.
      const known = knownPeers([{ staticKey: a.publicKey }])
      const auth = { verify: async (rs: Uint8Array, payload: Uint8Array) => { await immediate(); return known.verify(rs, payload) } }
      startSecureChannelListener(app.node, 'l', { protocol, s: b, crypto, auth, deliverTo: (p) => void got.push(new TextDecoder().decode(p)) })
      const ch = await createSecureChannel(dev.node, [mem('app'), local('l')], { protocol, s: a, crypto, auth: knownPeers([{ staticKey: b.publicKey }]) })
      await ch.send(utf8(`first ${run}`)) // right behind message 3, before the responder finished it
      for (let i = 0; i < 50 && got.length === 0; i++) await immediate()
      assert.deepEqual(got, [`first ${run}`], `run ${run}: ${JSON.stringify([...app.node.counters])}`)
    }
  })

  it('NN and NK listeners are refused with a typed code (a channel always knows its peer); bogus flights leave no state behind', async () => {
    const { dev, app } = net()
    for (const p of ['NN', 'NK']) {
      assert.throws(() => startSecureChannelListener(app.node, `l-${p}`, { protocol: `Noise_${p}_25519_AESGCM_SHA256`, s: key(), auth: knownPeers([]), deliverTo: () => undefined }), (e: unknown) => isHopsealError(e, 'INVALID_ARGUMENT') && /authenticates its initiators/.test(e.message))
    }
    const b = key()
    const listener = startSecureChannelListener(app.node, 'l', { protocol: 'Noise_XX_25519_AESGCM_SHA256', s: b, crypto, auth: knownPeers([]), deliverTo: () => undefined, cookie: 'never' })
    // XX message 1 from strangers (cookies off: the pending bound is what is tested here): answered (pending), then expired by the cap; never more than maxPending held
    for (let i = 0; i < 200; i++) await dev.node.send([mem('app'), local('l')], crypto.randomBytes(32), [local(Uint8Array.of(9))])
    for (let i = 0; i < 400 && (app.node.counters.get('handshake.responded') ?? 0) < 200; i++) await immediate()
    assert.equal(app.node.counters.get('handshake.responded'), 200)
    assert.equal(listener.pendingCount, 64, 'bounded by maxPending')
    listener.stop()
    assert.equal(listener.pendingCount, 0)
  })
})
