/**
 * Channel-level attacks and limits on an established channel: reflection,
 * replay through the network, oversized messages; traffic on other channels
 * continues. Also channels inside channels (ROUTED messages).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { utf8 } from '../../src/bytes/index.ts'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { isHopsealError } from '../../src/errors.ts'
import { softwareStaticKey } from '../../src/noise/index.ts'
import { address, local, Node, TransportType, type RoutingMessage } from '../../src/routing/index.ts'
import { MemoryNetwork } from '../../src/transports/memory.ts'
import { createSecureChannel, knownPeers, startSecureChannelListener } from '../../src/channel/secure-channel.ts'

const crypto = cryptoProvider('node')
const mem = (n: string) => address(TransportType.MEMORY, n)
const tick = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setTimeout(r, 2))
}
const protocol = 'Noise_KK_25519_ChaChaPoly_SHA256'

async function pair() {
  const net = new MemoryNetwork()
  const wire: { from: string; to: string; bytes: Uint8Array }[] = []
  net.tap((from, to, bytes) => wire.push({ from, to, bytes }))
  const dev = new Node({ name: 'dev', limits: { maxMessageSize: 4096 } })
  const app = new Node({ name: 'app', limits: { maxMessageSize: 4096 } })
  const devT = net.endpoint('dev')
  const appT = net.endpoint('app')
  dev.registerTransport(devT)
  app.registerTransport(appT)
  const a = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
  const b = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
  const got: string[] = []
  app.startWorker('w', (_c, m) => void got.push(new TextDecoder().decode(m.payload)))
  startSecureChannelListener(app, 'l', { protocol, s: b, auth: knownPeers([{ staticKey: a.publicKey }]), deliverTo: local('w'), initiatorStatics: [a.publicKey] })
  const devGot: string[] = []
  const open = () => createSecureChannel(dev, [mem('app'), local('l')], { protocol, s: a, rs: b.publicKey, auth: knownPeers([{ staticKey: b.publicKey }]), deliverTo: (p) => devGot.push(new TextDecoder().decode(p)) })
  return { net, wire, dev, app, devT, appT, got, devGot, open }
}

describe('established-channel attacks', () => {
  it('a replayed or reflected sealed message is dropped and counted; other channels keep working', async () => {
    const { wire, dev, app, devT, appT, got, open } = await pair()
    const ch1 = await open()
    const ch2 = await open()
    await ch1.send(utf8('one'))
    await tick()
    const sealed = wire.filter((w) => w.from === 'dev').at(-1)!.bytes
    // replay the same bytes into the app, and reflect them back to the device
    await devT.send(mem('app'), sealed)
    await appT.send(mem('dev'), sealed)
    await tick()
    assert.deepEqual(got, ['one'])
    assert.ok((app.counters.get('channel.drop') ?? 0) >= 1, 'replay counted at the app')
    assert.ok((dev.counters.get('channel.drop') ?? 0) + (dev.counters.get('drop.unknown_worker') ?? 0) >= 1, 'reflection dropped at the device')
    await ch2.send(utf8('two'))
    await ch1.send(utf8('three'))
    await tick()
    assert.deepEqual(got, ['one', 'two', 'three'])
  })

  it('the worker behind a channel is reachable only through it: a raw message on the network is dropped and counted', async () => {
    const { dev, app, got, open } = await pair()
    const ch = await open()
    // An attacker on the network (a raw publish on the broker) addresses the worker directly.
    for (let i = 0; i < 100; i++) await dev.send([mem('app'), local('w')], utf8(`forged ${i}`))
    await ch.send(utf8('genuine'))
    await tick()
    assert.deepEqual(got, ['genuine'])
    assert.equal(app.counters.get('drop.not_from_channel'), 100)
    // opting out keeps the old behaviour for a worker that is also a public service
    app.startWorker('pub', () => undefined)
    startSecureChannelListener(app, 'l2', { protocol, s: softwareStaticKey(crypto, crypto.generateKeyPair('x25519')), auth: knownPeers([]), deliverTo: local('pub'), initiatorStatics: [], deliverToAnyone: true })
    await dev.send([mem('app'), local('pub')], utf8('public'))
    await tick()
    assert.equal(app.counters.get('drop.not_from_channel'), 100)
  })

  it('oversized messages are refused at the sender with a typed code and at the receiver by limit', async () => {
    const { app, devT, got, open } = await pair()
    const ch = await open()
    await assert.rejects(ch.send(new Uint8Array(5000)), (e: unknown) => isHopsealError(e, 'LIMIT_EXCEEDED'))
    await devT.send(mem('app'), new Uint8Array(5000))
    await tick()
    assert.equal(app.counters.get('drop.too_large'), 1)
    await ch.send(utf8('still fine'))
    await tick()
    assert.deepEqual(got, ['still fine'])
  })

  it('channels inside channels: an inner channel runs through an outer one, and the outer relay sees only outer ciphertext', async () => {
    // outer: dev → app ; inner: dev → service behind app, routed through the outer channel
    const { dev, app, wire, open } = await pair()
    const outer = await open()
    const c = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
    const d = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
    const inner: string[] = []
    app.startWorker('svc', (_c, m: RoutingMessage) => void inner.push(new TextDecoder().decode(m.payload)))
    startSecureChannelListener(app, 'il', { protocol, s: d, auth: knownPeers([{ staticKey: c.publicKey }]), deliverTo: local('svc'), initiatorStatics: [c.publicKey] })
    const ch = await createSecureChannel(dev, [outer.enc, local('il')], { protocol, s: c, rs: d.publicKey, auth: knownPeers([{ staticKey: d.publicKey }]) })
    await ch.send(utf8('nested secret'))
    await tick()
    assert.deepEqual(inner, ['nested secret'])
    assert.ok((dev.counters.get('handshake.completed') ?? 0) >= 2)
    for (const w of wire) assert.ok(!Buffer.from(w.bytes).includes(Buffer.from('nested secret')))
  })
})
