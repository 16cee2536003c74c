/**
 * Issue 13: message-1 replay (G4), one DH per KK message 1 (G13), cookies
 * under load (G6), the patterns a listener accepts, the global channel limit.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { utf8 } from '../../src/bytes/index.ts'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { isHopsealError } from '../../src/errors.ts'
import { softwareStaticKey, type StaticKey } from '../../src/noise/index.ts'
import { address, local, Node, TransportType } from '../../src/routing/index.ts'
import { MemoryNetwork } from '../../src/transports/memory.ts'
import { CHANNEL_PATTERNS, createSecureChannel, knownPeers, memoryHandshakeCounter, startSecureChannelListener } from '../../src/channel/index.ts'
import { COOKIE_REPLY_BYTES } from '../../src/channel/cookie.ts'

const crypto = cryptoProvider('node')
const mem = (n: string) => address(TransportType.MEMORY, n)
const immediate = () => new Promise((r) => setImmediate(r))
const key = (type: 'x25519' | 'p256' = 'x25519') => softwareStaticKey(crypto, crypto.generateKeyPair(type))
const settle = async (n = 50) => {
  for (let i = 0; i < n; i++) await immediate()
}
/** A static key that counts its DH operations (a secure element's commands). */
const counting = (k: StaticKey) => {
  const c = { dh: 0 }
  return { key: { ...k, dh: (p: Uint8Array) => (c.dh++, k.dh(p)) } as StaticKey, c }
}

function net() {
  const n = new MemoryNetwork()
  const wire: { from: string; to: string; bytes: number }[] = []
  n.tap((from, to, b) => wire.push({ from, to, bytes: b.length }))
  const mk = (name: string) => {
    const node = new Node({ name })
    node.registerTransport(n.endpoint(name))
    return node
  }
  return { n, wire, dev: mk('dev'), app: mk('app'), evil: mk('evil') }
}

describe('listener hardening (issue 13)', () => {
  it('G4: 1 000 replays of a captured KK message 1 create 0 channels and close nothing; the live channel keeps working', async () => {
    const { dev, app, evil, n } = net()
    const a = key(), b = key()
    let captured: Uint8Array | undefined
    n.tap((from, to, bytes) => {
      if (from === 'dev' && to === 'app' && !captured) captured = bytes.slice()
    })
    const got: string[] = []
    const listener = startSecureChannelListener(app, 'l', { protocol: 'Noise_KK_25519_AESGCM_SHA256', s: b, crypto, auth: knownPeers([{ staticKey: a.publicKey }]), initiatorStatics: [a.publicKey], deliverTo: (p) => void got.push(new TextDecoder().decode(p)), cookie: 'never', maxChannelsPerPeer: 200 })
    const ch = await createSecureChannel(dev, [mem('app'), local('l')], { protocol: 'Noise_KK_25519_AESGCM_SHA256', s: a, rs: b.publicKey, crypto, auth: knownPeers([{ staticKey: b.publicKey }]) })
    assert.ok(captured, 'message 1 captured on the wire')
    assert.equal(listener.channels.size, 1)
    // Replays arrive long after the handshake, once the listener's memory of answered flights has moved on:
    // fill it with 100 other handshakes of the same device first.
    for (let i = 0; i < 100; i++) await createSecureChannel(dev, [mem('app'), local('l')], { protocol: 'Noise_KK_25519_AESGCM_SHA256', s: a, rs: b.publicKey, crypto, auth: knownPeers([{ staticKey: b.publicKey }]) })
    const before = listener.channels.size
    const live = [...listener.channels]
    // The replay: the routing message as captured, sent from the attacker's node to the listener.
    const { decodeRoutingMessage } = await import('../../src/routing/codec.ts')
    const m = decodeRoutingMessage(captured)
    for (let i = 0; i < 1000; i++) await evil.send([mem('app'), ...m.onward], m.payload, [local(Uint8Array.of(7))])
    await settle(200)
    assert.equal(app.counters.get('handshake.failed.channel_replayed'), 1000, JSON.stringify([...app.counters]))
    assert.equal(listener.channels.size, before, 'no channel created')
    assert.ok(live.every((c) => !c.isClosed), 'nothing closed')
    await ch.send(utf8('still here'))
    await settle()
    assert.ok(got.includes('still here'))
  })

  it('G4: the counter is in message 1 (1 varint byte for a small persisted counter) and must increase: a device that reuses one is refused', async () => {
    const { dev, app } = net()
    const a = key(), b = key()
    const listener = startSecureChannelListener(app, 'l', { protocol: 'Noise_IK_25519_ChaChaPoly_SHA256', s: b, crypto, auth: knownPeers([{ staticKey: a.publicKey }]), deliverTo: () => undefined })
    const opts = { protocol: 'Noise_IK_25519_ChaChaPoly_SHA256', s: a, rs: b.publicKey, crypto, auth: knownPeers([{ staticKey: b.publicKey }]), retransmit: { initialMs: 20, maxMs: 20, attempts: 2 } }
    await createSecureChannel(dev, [mem('app'), local('l')], { ...opts, handshakeCounter: memoryHandshakeCounter(5) })
    await createSecureChannel(dev, [mem('app'), local('l')], { ...opts, handshakeCounter: memoryHandshakeCounter(9) })
    // a device whose counter went back (a wiped store) is refused until it passes 10
    await assert.rejects(createSecureChannel(dev, [mem('app'), local('l')], { ...opts, handshakeCounter: memoryHandshakeCounter(8) }), (e: unknown) => isHopsealError(e, 'CHANNEL_HANDSHAKE_TIMEOUT'))
    assert.ok((app.counters.get('handshake.failed.channel_replayed') ?? 0) >= 1)
    assert.equal(listener.channels.size, 2)
  })

  it('G13: a KK listener with 100 known initiators does one DH per message 1 (es), legitimate or forged, once its ss values are known', async () => {
    const { dev, app } = net()
    const b = counting(key())
    const devices = Array.from({ length: 100 }, () => key())
    const listener = startSecureChannelListener(app, 'l', { protocol: 'Noise_KK_25519_AESGCM_SHA256', s: b.key, crypto, auth: knownPeers(devices.map((d) => ({ staticKey: d.publicKey }))), initiatorStatics: devices.map((d) => d.publicKey), deliverTo: () => undefined, cookie: 'never' })
    const open = (d: StaticKey) => createSecureChannel(dev, [mem('app'), local('l')], { protocol: 'Noise_KK_25519_AESGCM_SHA256', s: d, rs: b.key.publicKey, crypto, auth: knownPeers([{ staticKey: b.key.publicKey }]) })
    await open(devices[0]!) // warm-up: ss computed for the initiators tried
    const warm = b.c.dh
    assert.ok(warm <= 101, `warm-up: ${warm}`)
    // every device once: the listener computes each ss at most once in its lifetime
    for (const d of devices) await open(d)
    const afterAll = b.c.dh
    for (const d of devices.slice(0, 20)) await open(d)
    assert.equal(b.c.dh - afterAll, 20, '20 handshakes, 20 DH: es only')
    // a forged message 1 (random bytes): one DH (es), no ss
    const before = b.c.dh
    await dev.send([mem('app'), local('l')], crypto.randomBytes(49), [local(Uint8Array.of(9))])
    await settle()
    assert.equal(b.c.dh - before, 1)
    assert.equal(listener.channels.size, 121)
  })

  it('G6: under an XX message-1 flood from spoofed return routes the listener answers only with cookies no larger than the requests, and a legitimate first contact still completes', async () => {
    const { dev, app, evil, wire, n } = net()
    const victimGot: Uint8Array[] = []
    n.tap((from, to, bytes) => {
      if (from === 'app' && to === 'victim') victimGot.push(bytes.slice())
    })
    const victim = new Node({ name: 'victim' })
    victim.registerTransport(n.endpoint('victim'))
    const b = counting(key())
    const a = key()
    const listener = startSecureChannelListener(app, 'l', { protocol: 'Noise_XX_25519_AESGCM_SHA256', s: b.key, crypto, auth: knownPeers([{ staticKey: a.publicKey }]), deliverTo: () => undefined, cookieLoadPerSecond: 20 })
    // 500 flights with a spoofed source: the network delivers them as if the victim had sent them
    const { encodeRoutingMessage, decodeRoutingMessage } = await import('../../src/routing/codec.ts')
    let requestBytes = 0
    const toVictim = () => wire.filter((w) => w.from === 'app' && w.to === 'victim')
    for (let i = 0; i < 500; i++) {
      const bytes = encodeRoutingMessage({ onward: [local('l')], returnRoute: [local(Uint8Array.of(5))], payload: crypto.randomBytes(32) })
      if (i >= 20) requestBytes += bytes.length
      n.deliver('victim', 'app', bytes)
      await immediate()
    }
    await settle()
    // the first 20 (below the load threshold) were answered with message 2; beyond, cookies only
    const replies = toVictim()
    const cookies = replies.filter((w) => w.bytes <= COOKIE_REPLY_BYTES + 4)
    assert.equal(app.counters.get('handshake.cookie_sent'), 480)
    assert.equal(cookies.length, 480)
    const afterLoad = cookies.reduce((s, w) => s + w.bytes, 0)
    const ratio = afterLoad / requestBytes
    assert.ok(ratio <= 1, `amplification once the cookie is on: ${ratio.toFixed(2)}`)
    assert.ok(listener.pendingCount <= 20)
    const dhBefore = b.c.dh
    // a legitimate first contact during the load: cookie, message 1 again with it, then the handshake
    const ch = await createSecureChannel(dev, [mem('app'), local('l')], { protocol: 'Noise_XX_25519_AESGCM_SHA256', s: a, crypto, auth: knownPeers([{ staticKey: b.key.publicKey }]), retransmit: { initialMs: 200, maxMs: 200, attempts: 3 } })
    assert.equal(ch.peer.staticKey.length, 32)
    assert.equal(dev.counters.get('handshake.cookie_received'), 1)
    assert.ok(b.c.dh - dhBefore <= 3, 'the legitimate handshake only')
    // the victim's cookie is no use to the attacker: it is bound to the victim's route
    const cookie = decodeRoutingMessage(victimGot.at(-1)!).payload.subarray(1)
    assert.equal(cookie.length, COOKIE_REPLY_BYTES - 1)
    const responded = app.counters.get('handshake.responded') ?? 0
    await evil.send([mem('app'), local('l'), local(cookie)], crypto.randomBytes(32), [local(Uint8Array.of(5))])
    await settle()
    assert.equal(app.counters.get('handshake.cookie_invalid'), 1)
    assert.equal(app.counters.get('handshake.responded') ?? 0, responded)
  })

  it('patterns: every channel pattern works end to end in both suites; others are refused at construction with INVALID_ARGUMENT', async () => {
    for (const dh of ['25519', 'P256'] as const) {
      for (const pat of CHANNEL_PATTERNS) {
        const { dev, app } = net()
        const a = key(dh === '25519' ? 'x25519' : 'p256'), b = key(dh === '25519' ? 'x25519' : 'p256')
        const got: string[] = []
        const protocol = `Noise_${pat}_${dh}_AESGCM_SHA256`
        startSecureChannelListener(app, 'l', { protocol, s: b, crypto, auth: knownPeers([{ staticKey: a.publicKey, identifier: 'dev' }]), initiatorStatics: [a.publicKey], deliverTo: (p) => void got.push(new TextDecoder().decode(p)) })
        const ch = await createSecureChannel(dev, [mem('app'), local('l')], { protocol, s: a, rs: b.publicKey, crypto, auth: knownPeers([{ staticKey: b.publicKey, identifier: 'app' }]) })
        assert.equal(ch.peer.identifier, 'app', protocol)
        await ch.send(utf8(pat))
        await settle()
        assert.deepEqual(got, [pat], protocol)
      }
    }
    const { dev, app } = net()
    for (const pat of ['NN', 'NK', 'KN', 'KX', 'XN', 'IN', 'NX']) {
      const protocol = `Noise_${pat}_25519_AESGCM_SHA256`
      assert.throws(() => startSecureChannelListener(app, `l${pat}`, { protocol, s: key(), crypto, auth: knownPeers([]), deliverTo: () => undefined }), (e: unknown) => isHopsealError(e, 'INVALID_ARGUMENT'), pat)
      await assert.rejects(createSecureChannel(dev, [mem('app'), local('x')], { protocol, s: key(), crypto, auth: knownPeers([]) }), (e: unknown) => isHopsealError(e, 'INVALID_ARGUMENT'), pat)
    }
  })

  it('a listener at its channel limit closes the idlest channel, counted, and keeps the busy ones', async () => {
    const { dev, app } = net()
    const b = key()
    const devices = Array.from({ length: 4 }, () => key())
    const listener = startSecureChannelListener(app, 'l', { protocol: 'Noise_KK_25519_AESGCM_SHA256', s: b, crypto, auth: knownPeers(devices.map((d) => ({ staticKey: d.publicKey }))), initiatorStatics: devices.map((d) => d.publicKey), deliverTo: () => undefined, maxChannels: 3 })
    const chans = []
    for (const d of devices.slice(0, 3)) chans.push(await createSecureChannel(dev, [mem('app'), local('l')], { protocol: 'Noise_KK_25519_AESGCM_SHA256', s: d, rs: b.publicKey, crypto, auth: knownPeers([{ staticKey: b.publicKey }]) }))
    // channels 0 and 2 talk; channel 1 stays silent
    await new Promise((r) => setTimeout(r, 5))
    await chans[0]!.send(utf8('x'))
    await chans[2]!.send(utf8('y'))
    await settle()
    const silentPeer = devices[1]!.publicKey
    await createSecureChannel(dev, [mem('app'), local('l')], { protocol: 'Noise_KK_25519_AESGCM_SHA256', s: devices[3]!, rs: b.publicKey, crypto, auth: knownPeers([{ staticKey: b.publicKey }]) })
    assert.equal(listener.channels.size, 3)
    assert.equal(app.counters.get('channel.evicted_idlest'), 1)
    assert.ok(![...listener.channels].some((c) => Buffer.from(c.peer.staticKey).equals(Buffer.from(silentPeer))), 'the silent one went')
  })
})
