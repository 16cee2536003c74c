/**
 * Channels that outlive their keys (issue 12): renewal behind the same
 * SecureChannel object under reliable mode, renewal refused by policy, the
 * counter forms after long runs of losses, passive keep-alive, sleepy devices
 * on the LoRa medium, hard limits per session key. Everything runs on an
 * injected ManualClock over a memory network.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { toHex, utf8 } from '../../src/bytes/index.ts'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { isHopsealError } from '../../src/errors.ts'
import { createAttestation, createIdentity, createRevocationList, decodeCredential, issueCredential, parsePolicy, RevocationRegistry, type Identity } from '../../src/identity/index.ts'
import { softwareStaticKey, vaultStaticKey, type StaticKey } from '../../src/noise/index.ts'
import { address, local, Node, TransportType } from '../../src/routing/index.ts'
import { MemoryNetwork } from '../../src/transports/memory.ts'
import { createSecureChannel, knownPeers, startSecureChannelListener, ManualClock, type SecureChannel, type Medium, type ChannelAuthenticator } from '../../src/channel/index.ts'
import { identityAuthenticator } from '../../src/channel/identity-auth.ts'
import { MessageType } from '../../src/channel/wire.ts'
import { SoftwareVault } from '../../vaults/software/index.ts'
import { SerialTransport, rawProfile } from '../../targets/node/transports/serial/index.ts'
import { startGateway } from '../../src/transports/gateway/index.ts'
import { memoryLinkPair } from '../../hil-sim/links/memory-link.ts'

const crypto = cryptoProvider('node')
const mem = (n: string) => address(TransportType.MEMORY, n)
const text = (b: Uint8Array) => new TextDecoder().decode(b)
const MIN = 60_000
const HOUR = 60 * MIN

interface Rig {
  net: MemoryNetwork
  clock: ManualClock
  dev: Node
  app: Node
  got: string[]
  /** Payloads carried dev → app and app → dev, in order. */
  wire: { from: string; bytes: Uint8Array }[]
  open: () => Promise<SecureChannel>
  appChannel: () => SecureChannel
}

function rig(o: { protocol?: string; medium?: Medium; reliable?: boolean; devAuth?: ChannelAuthenticator; appAuth?: ChannelAuthenticator; s?: { a: StaticKey; b: StaticKey }; keepaliveMs?: number } = {}): Rig {
  const protocol = o.protocol ?? 'Noise_KK_25519_AESGCM_SHA256'
  const clock = new ManualClock()
  const net = new MemoryNetwork()
  const wire: Rig['wire'] = []
  net.tap((from, _to, bytes) => wire.push({ from, bytes }))
  const dev = new Node({ name: 'dev' })
  const app = new Node({ name: 'app' })
  dev.registerTransport(net.endpoint('dev'))
  app.registerTransport(net.endpoint('app'))
  const a = o.s?.a ?? softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
  const b = o.s?.b ?? softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
  const got: string[] = []
  const common = { protocol, crypto, clock, ...(o.medium ? { medium: o.medium } : {}), ...(o.reliable ? { reliable: true } : {}), ...(o.keepaliveMs !== undefined ? { keepaliveMs: o.keepaliveMs } : {}) }
  const listener = startSecureChannelListener(app, 'l', {
    ...common, s: b, auth: o.appAuth ?? knownPeers([{ staticKey: a.publicKey }]), initiatorStatics: [a.publicKey],
    deliverTo: (p) => void got.push(text(p)),
  })
  const open = () => createSecureChannel(dev, [mem('app'), local('l')], { ...common, s: a, rs: b.publicKey, auth: o.devAuth ?? knownPeers([{ staticKey: b.publicKey }]) })
  const appChannel = () => {
    const [c] = [...listener.channels]
    assert.ok(c, 'the app has a channel')
    return c
  }
  return { net, clock, dev, app, got, wire, open, appChannel }
}

/** Lets async work settle between clock steps (promise chains, the memory network's setImmediate hops). */
async function settle(clock: ManualClock, ms = 0): Promise<void> {
  await clock.runUntil(clock.now() + ms)
}

describe('channel renewal', () => {
  it('10 renewals in a row under reliable mode, messages sent during each: all delivered once, in order, same objects', async () => {
    const r = rig({ reliable: true })
    const ch = await r.open()
    await settle(r.clock)
    const appCh = r.appChannel()
    const sent: string[] = []
    const pending: Promise<void>[] = []
    const hashes = new Set<string>([toHex(ch.session.handshakeHash)])
    for (let round = 1; round <= 10; round++) {
      await settle(r.clock, 2 * MIN + 1000) // past renewAfterMs (2 min on ip): the next send starts a renewal
      for (let i = 0; i < 6; i++) {
        const m = `r${round}-m${i}`
        sent.push(m)
        pending.push(ch.send(utf8(m)))
        await settle(r.clock, 5) // flights and data interleave
      }
      await settle(r.clock, 2000)
      assert.equal(ch.renewals, round, `initiator renewal ${round}`)
      assert.equal(appCh.renewals, round, `responder renewal ${round}`)
      assert.equal(ch.session.epoch, round)
      hashes.add(toHex(ch.session.handshakeHash))
    }
    await Promise.all(pending)
    assert.deepEqual(r.got, sent, 'every message once, in order')
    assert.equal(hashes.size, 11, 'each renewal made new keys')
    assert.equal(toHex(appCh.session.handshakeHash), toHex(ch.session.handshakeHash), 'both ends on the same session')
    assert.equal(r.app.counters.get('handshake.completed'), 1, 'one listener handshake: renewals went to the channel endpoint')
    // hard limits count from each session key's birth: 10 renewals × 2 min ≫ the 3 min hard limit, and sending still works
    assert.ok(r.clock.now() > 20 * MIN)
    await ch.send(utf8('after'))
    await settle(r.clock, 100)
    assert.equal(r.got.at(-1), 'after')
  })

  for (const [dh, flight] of [['25519', 48], ['P256', 49]] as const) {
    it(`${dh}: renewal flights are the bare KK messages (${flight} B), marked by their first byte, then a confirmation`, async () => {
      const keyType = dh === 'P256' ? 'p256' : 'x25519'
      const s = { a: softwareStaticKey(crypto, crypto.generateKeyPair(keyType)), b: softwareStaticKey(crypto, crypto.generateKeyPair(keyType)) }
      const r = rig({ protocol: `Noise_KK_${dh}_AESGCM_SHA256`, s })
      const ch = await r.open()
      await settle(r.clock)
      for (let round = 1; round <= 3; round++) {
        r.wire.length = 0
        await ch.renew()
        await settle(r.clock, 10)
        // memory transport payloads are routing messages: a 2-byte short header, then the channel payload
        const kinds = r.wire.map((w) => `${w.from}:${w.bytes.length}`)
        assert.deepEqual(kinds, ['dev:' + (2 + flight), 'app:' + (2 + flight), 'dev:' + (2 + 2 + 2 + 16)], `flights, then the keep-alive: ${kinds.join(' ')}`)
        for (const w of r.wire.slice(0, 2)) assert.equal(w.bytes[2]! >>> 6, MessageType.HANDSHAKE, 'the first byte says: renewal flight')
        assert.equal(ch.renewals, round)
        assert.equal(r.appChannel().renewals, round, 'the confirmation keep-alive promoted the responder')
      }
      await ch.send(utf8('after 3 renewals'))
      await settle(r.clock, 10)
      assert.deepEqual(r.got, ['after 3 renewals'])
    })
  }

  it('one state per channel: open, renewing while a renewal runs (callers share it), open again, closed at both ends', async () => {
    const r = rig({ keepaliveMs: 0 })
    const ch = await r.open()
    await settle(r.clock)
    const appCh = r.appChannel()
    assert.equal(ch.state, 'open')
    assert.equal(appCh.state, 'open')
    const first = ch.renew()
    assert.equal(ch.state, 'renewing')
    assert.equal(ch.renew(), first, 'a second caller gets the running renewal')
    await settle(r.clock, 10)
    await first
    assert.equal(ch.state, 'open')
    assert.equal(ch.renewals, 1)
    assert.equal(appCh.renewals, 1)
    assert.equal(appCh.state, 'open', 'the responder is back to open once it answered')
    await ch.close()
    await settle(r.clock)
    assert.equal(ch.state, 'closed')
    assert.equal(appCh.state, 'closed')
    await assert.rejects(ch.renew(), (e: unknown) => isHopsealError(e) && e.code === 'CHANNEL_CLOSED')
  })

  it('either side may ask: the responder past its soft limit sends RENEW and the initiator renews', async () => {
    const r = rig({ keepaliveMs: 0 })
    const ch = await r.open()
    await settle(r.clock)
    const appCh = r.appChannel()
    const fromApp: string[] = []
    ch.onMessage((p) => void fromApp.push(text(p)))
    await settle(r.clock, 2 * MIN + 1)
    await appCh.send(utf8('reply'))
    await settle(r.clock, 50)
    assert.equal(r.app.counters.get('channel.renewal.requested'), 1)
    assert.equal(ch.renewals, 1)
    assert.equal(appCh.renewals, 1)
    assert.deepEqual(fromApp, ['reply'])
  })

  it('the responder sends past its hard limit while the initiator is idle: it asks with a RENEW (opened past the limit), the initiator renews, the message arrives', async () => {
    const r = rig({ reliable: true, keepaliveMs: 0 })
    const ch = await r.open()
    await settle(r.clock)
    const appCh = r.appChannel()
    const fromApp: string[] = []
    ch.onMessage((p) => void fromApp.push(text(p)))
    await settle(r.clock, 5 * MIN) // both sessions past their 3 min hard limit (not yet reaped: 10 min idle); the device says nothing
    assert.equal(appCh.session.sendState(), 'expired')
    let done = false
    const p = appCh.send(utf8('push from the app')).then(() => (done = true))
    await settle(r.clock, 100)
    await p
    assert.ok(done)
    assert.deepEqual(fromApp, ['push from the app'])
    assert.equal(ch.renewals, 1)
    assert.equal(r.app.counters.get('channel.renewal.requested'), 1)
    assert.equal(r.app.counters.get('reliable.delivery_failed'), undefined)
  })

  it('a renewal refused by the peer\'s policy (credential revoked since the first handshake) closes both ends with CHANNEL_PEER_REFUSED', async () => {
    const NOW = 1_800_000_000
    const DAY = 86400
    const mk = async () => {
      const vault = await SoftwareVault.open()
      const key = await vault.generateKey('ed25519')
      const identity = await createIdentity(vault, key, { now: NOW - DAY, expires: NOW + 365 * DAY })
      const s = await vaultStaticKey(vault, await vault.generateKey('x25519'))
      const attestation = await createAttestation(vault, key, identity, s.publicKey, { now: NOW - DAY, expires: NOW + 30 * DAY })
      return { vault, key, identity, s, attestation }
    }
    const issuer = await mk()
    const monitor = await mk()
    const phone = await mk()
    const cred = await issueCredential(issuer.vault, issuer.key, issuer.identity, { subject: monitor.identity.identifier, attributes: { role: 'monitor' }, now: NOW, expires: NOW + 30 * DAY })
    const revocations = new RevocationRegistry()
    let now = NOW
    const auth = (me: { identity: Identity; attestation: Uint8Array }, extra: object) => identityAuthenticator({ identity: me.identity, attestation: me.attestation, now: () => now, ...extra } as Parameters<typeof identityAuthenticator>[0])
    const r = rig({
      protocol: 'Noise_XX_25519_AESGCM_SHA256',
      s: { a: monitor.s, b: phone.s },
      devAuth: auth(monitor, { credentials: [cred], policy: parsePolicy('exists subject.identifier') }),
      appAuth: auth(phone, { anchors: [issuer.identity], revocations, policy: parsePolicy('subject.role = "monitor"') }),
    })
    const ch = await r.open()
    await settle(r.clock)
    const appCh = r.appChannel()
    // one renewal while the credential is good: XX channels renew as KK with the learned keys, the policy passes again
    await ch.renew()
    await settle(r.clock, 10)
    assert.equal(appCh.renewals, 1)
    assert.equal(appCh.peer.attributes?.role, 'monitor')
    // the issuer revokes the credential; the phone learns the list
    now = NOW + DAY
    revocations.accept(await createRevocationList(issuer.vault, issuer.key, issuer.identity, { sequence: 1, credentials: [decodeCredential(cred).id], now }), issuer.identity, { now })
    const closed: string[] = []
    ch.onClose((e) => closed.push(`dev:${e?.code}`))
    appCh.onClose((e) => closed.push(`app:${e?.code}`))
    await assert.rejects(ch.renew(), (e: unknown) => isHopsealError(e, 'CHANNEL_PEER_REFUSED'))
    await settle(r.clock, 10)
    assert.deepEqual(closed.sort(), ['app:CHANNEL_PEER_REFUSED', 'dev:CHANNEL_PEER_REFUSED'])
    assert.ok(ch.isClosed && appCh.isClosed)
    await assert.rejects(ch.send(utf8('x')), (e: unknown) => isHopsealError(e, 'CHANNEL_PEER_REFUSED'))
    assert.equal(r.app.counters.get('channel.renewal.refused'), 1)
  })

  it('replayed renewal flights are dropped: an earlier epoch\'s, and another channel\'s, fail authentication (the prologue binds both)', async () => {
    const r = rig()
    const ch = await r.open()
    await settle(r.clock)
    r.wire.length = 0
    await ch.renew()
    await settle(r.clock, 10)
    const flight1 = r.wire.find((w) => w.from === 'dev' && w.bytes[2]! >>> 6 === MessageType.HANDSHAKE)
    const failures = () => [...r.app.counters].filter(([k]) => k.startsWith('channel.renewal.failed.')).reduce((n, [, v]) => n + v, 0)
    assert.ok(flight1)
    await ch.renew()
    await settle(r.clock, 10)
    const before = ch.renewals
    // replay the epoch-1 flight 1 at the responder now in epoch 2
    await r.dev.send([mem('app'), local(Uint8Array.of(flight1.bytes[0]!))], flight1.bytes.subarray(2), [local(Uint8Array.of(flight1.bytes[1]!))])
    await settle(r.clock, 10)
    assert.equal(failures(), 1)
    assert.equal(r.appChannel().renewals, before, 'nothing changed')
    assert.equal(ch.renewals, before)
    // a second channel between the same keys: epoch-1 flight of channel 1 does not authenticate on channel 2 (prologue binds the first handshake hash)
    const ch2 = await r.open()
    await settle(r.clock)
    const dec2 = ch2.remoteRoute.at(-1)
    assert.ok(dec2)
    await r.dev.send([mem('app'), dec2], flight1.bytes.subarray(2), [local(Uint8Array.of(0x7e))])
    await settle(r.clock, 10)
    assert.equal(failures(), 2, JSON.stringify([...r.app.counters]))
    assert.equal(ch2.renewals, 0)
  })
})

describe('counter forms and long gaps', () => {
  it('10 000 consecutive losses, then the next message is delivered (long form while unconfirmed)', async () => {
    const r = rig({ keepaliveMs: 0 })
    const ch = await r.open()
    await settle(r.clock)
    await ch.send(utf8('first'))
    await settle(r.clock)
    r.net.fault = (from) => (from === 'dev' ? { drop: true } : undefined)
    for (let i = 0; i < 10_000; i++) await ch.send(utf8(`lost ${i}`))
    r.net.fault = undefined
    r.wire.length = 0
    await ch.send(utf8('after the gap'))
    await settle(r.clock)
    assert.deepEqual(r.got, ['first', 'after the gap'])
    assert.equal(r.wire[0]!.bytes.length, 2 + 3 + 13 + 16, 'long form: 3 header bytes')
  })

  it('with keep-alive reports the sender confirms and returns to the short form', async () => {
    const r = rig({ keepaliveMs: 10_000 })
    const ch = await r.open()
    await settle(r.clock)
    r.net.fault = (from) => (from === 'dev' ? { drop: true } : undefined)
    for (let i = 0; i < 1500; i++) await ch.send(utf8(`lost ${i}`))
    r.net.fault = undefined
    r.wire.length = 0
    await ch.send(utf8('one'))
    await settle(r.clock, 10_001) // the app answers data with a keep-alive after 10 s
    assert.equal(r.app.counters.get('channel.keepalive_sent'), 1)
    assert.equal(ch.session.unconfirmed, 0n)
    await ch.send(utf8('two'))
    await settle(r.clock)
    const data = r.wire.filter((w) => w.from === 'dev').map((w) => w.bytes.length)
    assert.deepEqual(data, [2 + 3 + 3 + 16, 2 + 2 + 3 + 16], 'long form, then short form once confirmed')
    assert.deepEqual(r.got, ['one', 'two'])
  })

  it('a receiver follows several key phases the sender ratcheted while every message was lost', async () => {
    const r = rig({ medium: 'lora' })
    const ch = await r.open()
    await settle(r.clock)
    r.net.fault = (from) => (from === 'dev' ? { drop: true } : undefined)
    for (let h = 0; h < 3; h++) {
      await settle(r.clock, 2 * HOUR) // key phase every 2 h on lora
      await ch.send(utf8(`lost ${h}`))
    }
    r.net.fault = undefined
    await ch.send(utf8('three phases later'))
    await settle(r.clock)
    assert.deepEqual(r.got, ['three phases later'])
  })
})

describe('sleepy devices (lora medium)', () => {
  it('a device that sleeps 2 h sends one reading without a handshake; after 30 h it renews with 2 flights first', async () => {
    const r = rig({ medium: 'lora', reliable: true })
    const ch = await r.open()
    await settle(r.clock)
    r.wire.length = 0
    await settle(r.clock, 2 * HOUR)
    assert.equal(ch.isClosed, false)
    const p1 = ch.send(utf8('reading after 2 h'))
    await settle(r.clock, 100)
    await p1
    assert.deepEqual(r.wire.map((w) => w.from), ['dev', 'app'], 'one data message and its ACK: no handshake')
    r.wire.length = 0
    await settle(r.clock, 30 * HOUR) // past the 24 h hard limit: idle but never reaped while the 7-day idle timeout runs
    assert.equal(ch.isClosed, false)
    assert.equal(r.appChannel().isClosed, false)
    const p2 = ch.send(utf8('reading after 30 h'))
    await settle(r.clock, 100)
    await p2
    const flights = r.wire.filter((w) => w.bytes[2]! >>> 6 === MessageType.HANDSHAKE)
    assert.deepEqual(flights.map((w) => w.from), ['dev', 'app'], 'one KK renewal: 2 flights')
    assert.deepEqual(r.got, ['reading after 2 h', 'reading after 30 h'])
    assert.equal(ch.renewals, 1)
  })
})

describe('renewal through the listener when the route to the peer died', () => {
  it('a gateway restart forgets its return-route aliases: after 30 min of silence the device renews through the listener route and every reading arrives once, in order', async () => {
    const clock = new ManualClock()
    const net = new MemoryNetwork()
    const app = new Node({ name: 'app' })
    app.registerTransport(net.endpoint('app'))
    const a = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
    const b = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
    const got: string[] = []
    const common = { protocol: 'Noise_KK_25519_AESGCM_SHA256', crypto, clock, medium: 'lora' as const, reliable: true }
    startSecureChannelListener(app, 'hr', { ...common, s: b, auth: knownPeers([{ staticKey: a.publicKey }]), initiatorStatics: [a.publicKey], deliverTo: (p) => void got.push(text(p)) })
    const startGw = () => {
      const [devEnd, gwEnd] = memoryLinkPair({ mtu: 222 })
      const node = new Node({ name: 'gw' })
      const serial = new SerialTransport({ clock })
      serial.addLink('dev', gwEnd, rawProfile({ mtu: 222 }))
      const gateway = startGateway({ node, link: serial, upstream: [net.endpoint('gw')], routes: { 1: [mem('app'), local('hr')] }, clock })
      return { devEnd, gateway, node }
    }
    const dev = new Node({ name: 'dev' })
    const devSerial = new SerialTransport({ clock })
    let gw = startGw()
    devSerial.addLink('gw', gw.devEnd, rawProfile({ mtu: 222 }))
    dev.registerTransport(devSerial)
    const opening = createSecureChannel(dev, [devSerial.linkAddress('gw'), local(Uint8Array.of(1))], { ...common, s: a, rs: b.publicKey, auth: knownPeers([{ staticKey: b.publicKey }]) })
    await settle(clock, 10)
    const ch = await opening
    const sent: string[] = []
    const pending: Promise<void>[] = []
    const send = (m: string) => {
      sent.push(m)
      pending.push(ch.send(utf8(m)))
    }
    for (let i = 0; i < 3; i++) send(`before ${i}`)
    await settle(clock, 1000)
    assert.deepEqual(got, sent)
    // The gateway restarts: a new process with empty alias tables and mailboxes; the device's radio reattaches.
    await gw.gateway.close()
    gw = startGw()
    await devSerial.removeLink('gw')
    devSerial.addLink('gw', gw.devEnd, rawProfile({ mtu: 222 }))
    for (let i = 0; i < 3; i++) {
      send(`after ${i}`)
      await settle(clock, 60_000)
    }
    assert.deepEqual(got, sent.slice(0, 3), 'the uplinks die at the restarted gateway (unknown return-route alias)')
    assert.ok((gw.node.counters.get('drop.unknown_worker') ?? 0) > 0, JSON.stringify([...gw.node.counters]))
    for (let t = 0; t < 120 && got.length < sent.length; t++) await settle(clock, 60_000)
    await Promise.all(pending)
    assert.deepEqual(got, sent, 'every reading once, in order')
    assert.equal(ch.renewals, 1)
    assert.ok((app.counters.get('channel.renewal.via_listener') ?? 0) >= 1)
    assert.ok((dev.counters.get('channel.renewal.silence') ?? 0) >= 1)
    await gw.gateway.close()
    await devSerial.close()
  })
})
