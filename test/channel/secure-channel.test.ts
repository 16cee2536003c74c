/**
 * Secure channels end to end over the memory transport, through two relays
 * with a tap on every hop: no forwarded byte sequence contains plaintext.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { toHex, utf8 } from '../../src/bytes/index.ts'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { isHopsealError } from '../../src/errors.ts'
import { softwareStaticKey, type StaticKey } from '../../src/noise/index.ts'
import { address, local, Node, TransportType, type IncomingMeta } from '../../src/routing/index.ts'
import { MemoryNetwork } from '../../src/transports/memory.ts'
import { memoryHandshakeCounter, createSecureChannel, knownPeers, startSecureChannelListener, type ChannelAuthenticator } from '../../src/channel/secure-channel.ts'
import { ManualClock } from '../../src/channel/clock.ts'

const crypto = cryptoProvider('node')
const mem = (n: string) => address(TransportType.MEMORY, n)
const tick = () => new Promise((r) => setTimeout(r, 5))

function topology() {
  const net = new MemoryNetwork()
  const taps: Uint8Array[] = []
  net.tap((_f, _t, b) => taps.push(b))
  const mk = (name: string) => {
    const n = new Node({ name })
    n.registerTransport(net.endpoint(name))
    return n
  }
  const device = mk('device'), gw = mk('gw'), broker = mk('broker'), app = mk('app')
  // two relays (gateway and broker) forward without any keys
  gw.startWorker('f', (ctx, msg) => ctx.forward(msg))
  broker.startWorker('f', (ctx, msg) => ctx.forward(msg))
  const toApp = [mem('gw'), local('f'), mem('broker'), local('f'), mem('app')]
  return { net, taps, device, gw, broker, app, toApp }
}

/** A toy identity authenticator for XX: the payload is a name bound to the static key in a directory. */
function directoryAuth(me: string, directory: Map<string, string>): ChannelAuthenticator {
  return {
    payload: () => utf8(me),
    verify(remoteStatic, payload) {
      const name = new TextDecoder().decode(payload)
      if (directory.get(name) !== toHex(remoteStatic)) throw Object.assign(new Error('misbound'), {})
      return { staticKey: remoteStatic, identifier: name, attributes: { role: name } }
    },
  }
}

const containsSeq = (hay: Uint8Array, needle: Uint8Array): boolean => {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer
    return true
  }
  return false
}

for (const dh of ['25519', 'P256'] as const) {
  for (const mode of ['KK', 'IK', 'XX'] as const) {
    describe(`secure channel ${mode} ${dh}`, () => {
      it('crosses two relays; intermediaries see no plaintext; both ends see the right peer', async () => {
        const t = dh === '25519' ? 'x25519' : 'p256'
        const protocol = `Noise_${mode}_${dh}_AESGCM_SHA256`
        const { taps, device, app, toApp } = topology()
        const sDev: StaticKey = softwareStaticKey(crypto, crypto.generateKeyPair(t))
        const sApp: StaticKey = softwareStaticKey(crypto, crypto.generateKeyPair(t))
        const dir = new Map([['monitor-1', toHex(sDev.publicKey)], ['phone', toHex(sApp.publicKey)]])
        const authApp = mode === 'XX' ? directoryAuth('phone', dir) : knownPeers([{ staticKey: sDev.publicKey, identifier: 'monitor-1' }])
        const authDev = mode === 'XX' ? directoryAuth('monitor-1', dir) : knownPeers([{ staticKey: sApp.publicKey, identifier: 'phone' }])
        const received: { text: string; meta: IncomingMeta }[] = []
        app.startWorker('readings', async (ctx, msg, meta) => {
          received.push({ text: new TextDecoder().decode(msg.payload), meta })
          await ctx.send(msg.returnRoute, utf8(`ack ${new TextDecoder().decode(msg.payload)}`))
        })
        startSecureChannelListener(app, 'l', { protocol, s: sApp, auth: authApp, deliverTo: local('readings'), initiatorStatics: [sDev.publicKey] })
        const acks: string[] = []
        const ch = await createSecureChannel(device, [...toApp, local('l')], {
          protocol, s: sDev, auth: authDev, ...(mode !== 'XX' ? { rs: sApp.publicKey } : {}),
          deliverTo: (p) => acks.push(new TextDecoder().decode(p)),
        })
        assert.equal(ch.peer.identifier, 'phone')
        const secrets = ['heart-rate=072bpm#A1', 'heart-rate=074bpm#B2', 'heart-rate=071bpm#C3']
        for (const s of secrets) await ch.send(utf8(s))
        for (let i = 0; i < 20 && acks.length < 3; i++) await tick()
        assert.deepEqual(received.map((r) => r.text), secrets)
        assert.equal(received[0]!.meta.peer?.identifier, 'monitor-1')
        assert.deepEqual(acks, secrets.map((s) => `ack ${s}`))
        for (const s of secrets) for (const b of taps) assert.ok(!containsSeq(b, utf8(s)) && !containsSeq(b, utf8(s.slice(0, 8))), 'plaintext seen by an intermediary')
        assert.ok(taps.length >= 3 * 4 * 2)
      })
    })
  }
}

describe('secure channel attacks and limits', () => {
  const protocol = 'Noise_KK_25519_AESGCM_SHA256'
  const keys = () => ({ a: softwareStaticKey(crypto, crypto.generateKeyPair('x25519')), b: softwareStaticKey(crypto, crypto.generateKeyPair('x25519')) })

  it('KK flights fit one LoRa DR0 frame (MTU 51) on a one-hop link: message 1 is 51 bytes with a 1-byte handshake counter, message 2 50 bytes', async () => {
    const net = new MemoryNetwork()
    const sizes: number[] = []
    net.tap((_f, _t, b) => sizes.push(b.length))
    const dev = new Node({ name: 'dev' }), gw = new Node({ name: 'gw' })
    dev.registerTransport(net.endpoint('dev'))
    gw.registerTransport(net.endpoint('gw'))
    const { a, b } = keys()
    // one-hop: a device talks to its gateway's listener at a 1-byte address; the
    // transport address itself is the link (the serial link carries no address)
    startSecureChannelListener(gw, 'L', { protocol, s: b, auth: knownPeers([{ staticKey: a.publicKey }]), deliverTo: local('x'), initiatorStatics: [a.publicKey] })
    // a device's persisted counter (ATECC608 Counter 1, a file) is small: 1 varint byte below 128
    await createSecureChannel(dev, [mem('gw'), local('L')], { protocol, s: a, rs: b.publicKey, auth: knownPeers([{ staticKey: b.publicKey }]), handshakeCounter: memoryHandshakeCounter(41) })
    assert.equal(sizes.length, 2)
    // the memory link encodes the routes after the transport hop: [L] and [d0] → short form; 2 + 32 + 1 + 16 and 2 + 32 + 16
    assert.deepEqual(sizes, [51, 50])
  })

  it('suite mismatch and unknown peers fail silently, are counted, and time out at the initiator', async () => {
    const clock = new ManualClock()
    const { device, app, toApp } = topology()
    const { a, b } = keys()
    startSecureChannelListener(app, 'l', { protocol: 'Noise_KK_25519_ChaChaPoly_SHA256', s: b, auth: knownPeers([{ staticKey: a.publicKey }]), deliverTo: local('x'), initiatorStatics: [a.publicKey] })
    const p = createSecureChannel(device, [...toApp, local('l')], { protocol, s: a, rs: b.publicKey, auth: knownPeers([{ staticKey: b.publicKey }]), clock })
    const rejected = assert.rejects(p, (e: unknown) => isHopsealError(e, 'CHANNEL_HANDSHAKE_TIMEOUT'))
    for (let i = 0; i < 10; i++) {
      await tick()
      clock.advance(10_000)
    }
    await rejected
    assert.ok((app.counters.get('handshake.failed.noise_decrypt_failed') ?? 0) >= 1)
    assert.equal(app.counters.get('handshake.responded'), undefined, 'nothing was sent back')
  })

  it('a handshake flood keeps pending state bounded and a legitimate handshake still completes', async () => {
    const { device, app, toApp } = topology()
    const resp = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
    const dir = new Map<string, string>()
    const legit = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
    dir.set('legit', toHex(legit.publicKey))
    dir.set('phone', toHex(resp.publicKey))
    const listener = startSecureChannelListener(app, 'l', { protocol: 'Noise_XX_25519_AESGCM_SHA256', s: resp, auth: directoryAuth('phone', dir), deliverTo: local('x'), maxPending: 16, cookie: 'never' })
    // 200 bogus first messages (cookies off: this test is about the pending bound; listener-cookie.test.ts has the cookie) (random ephemerals), never completed
    for (let i = 0; i < 200; i++) await device.send([...toApp, local('l')], crypto.randomBytes(32), [local('nobody')])
    for (let i = 0; i < 30; i++) await tick()
    assert.ok(listener.pendingCount <= 16, `pending ${listener.pendingCount}`)
    assert.ok((app.counters.get('handshake.pending_evicted') ?? 0) >= 184)
    const ch = await createSecureChannel(device, [...toApp, local('l')], { protocol: 'Noise_XX_25519_AESGCM_SHA256', s: legit, auth: directoryAuth('legit', dir) })
    assert.equal(ch.peer.identifier, 'phone')
  })

  it('key-compromise impersonation: with the responder\'s static key leaked, an attacker still cannot pose as the initiator to it', async () => {
    const { device, app, toApp } = topology()
    const aKp = crypto.generateKeyPair('x25519')
    const bKp = crypto.generateKeyPair('x25519')
    const a = softwareStaticKey(crypto, aKp)
    const b = softwareStaticKey(crypto, bKp)
    const got: string[] = []
    app.startWorker('x', (_c, m) => void got.push(new TextDecoder().decode(m.payload)))
    startSecureChannelListener(app, 'l', { protocol, s: b, auth: knownPeers([{ staticKey: a.publicKey, identifier: 'alice' }]), deliverTo: local('x'), initiatorStatics: [a.publicKey] })
    // The attacker holds b's private key (leaked) but not a's. It claims a's public key and
    // computes ss = DH(a, B) as DH(b, A) with the leaked key; any other DH with "a" it cannot do.
    const fakeA: StaticKey = {
      type: 'x25519',
      publicKey: a.publicKey,
      dh: (peer) => (toHex(peer) === toHex(b.publicKey) ? crypto.dh(bKp, a.publicKey) : crypto.dh(crypto.generateKeyPair('x25519'), peer)),
    }
    const clock = new ManualClock()
    const p = createSecureChannel(device, [...toApp, local('l')], { protocol, s: fakeA, rs: b.publicKey, auth: knownPeers([{ staticKey: b.publicKey }]), clock })
    const rejected = assert.rejects(p, (e: unknown) => isHopsealError(e, 'CHANNEL_HANDSHAKE_TIMEOUT'))
    for (let i = 0; i < 10; i++) {
      await tick()
      clock.advance(10_000)
    }
    await rejected
    // msg 1 verified (KK message 1 is KCI-exposed by design, Noise §7.7), but the attacker cannot
    // derive the transport keys (se needs a's private key): it cannot finish, and nothing it
    // could send is ever delivered.
    assert.ok((device.counters.get("handshake.failed.noise_decrypt_failed") ?? 0) >= 1, JSON.stringify([...app.counters, ...device.counters]))
    assert.deepEqual(got, [])
  })

  it('mobility: the responder follows the initiator\'s latest authenticated return route', async () => {
    const { device, app, toApp, gw, broker } = topology()
    const { a, b } = keys()
    const seenAt: string[] = []
    app.startWorker('x', async (ctx, m) => ctx.send(m.returnRoute, m.payload))
    startSecureChannelListener(app, 'l', { protocol, s: b, auth: knownPeers([{ staticKey: a.publicKey }]), deliverTo: local('x'), initiatorStatics: [a.publicKey] })
    const ch = await createSecureChannel(device, [...toApp, local('l')], { protocol, s: a, rs: b.publicKey, auth: knownPeers([{ staticKey: b.publicKey }]), deliverTo: (p) => seenAt.push(new TextDecoder().decode(p)) })
    await ch.send(utf8('via gw'))
    for (let i = 0; i < 10 && seenAt.length < 1; i++) await tick()
    // the device now reaches the app directly (no gateway); the app must answer on the new path
    const before = gw.counters.get('sent') ?? 0
    ;(ch as unknown as { remote: unknown }).remote = [mem('broker'), local('f'), mem('app'), ...ch.remoteRoute.slice(5)]
    await ch.send(utf8('direct'))
    for (let i = 0; i < 10 && seenAt.length < 2; i++) await tick()
    assert.deepEqual(seenAt, ['via gw', 'direct'])
    assert.equal(gw.counters.get('sent') ?? 0, before, 'the reply did not go through the old gateway')
    void broker
  })
})
