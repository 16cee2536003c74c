/**
 * The gateway: return-route compression keeps radio headers at 2 bytes both
 * ways, static aliases lead far, mailboxes hold downlinks for unplugged and
 * sleepy devices within limits, and the gateway never holds channel keys.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { utf8 } from '../../src/bytes/index.ts'
import { address, DEFAULT_LISTENER, local, Node, TransportType, type Address } from '../../src/routing/index.ts'
import type { Transport } from '../../src/routing/transport.ts'
import { MemoryNetwork, type MemoryTransport } from '../../src/transports/memory.ts'
import { startGateway, type LinkEventSource } from '../../src/transports/gateway/index.ts'
import { Mailboxes } from '../../src/transports/gateway/mailbox.ts'
import { ManualClock } from '../../src/time/clock.ts'
import { ErrorCode, HopsealError, isHopsealError } from '../../src/errors.ts'

/** A SERIAL-typed stand-in for the serial transport on a memory network, with link events and unplug. */
class FakeLink implements Transport, LinkEventSource {
  readonly type = TransportType.SERIAL
  up = true
  private events: ((name: string, e: 'up' | 'down' | 'rx') => void)[] = []
  sent: Uint8Array[] = []
  constructor(readonly mem: MemoryTransport) {}
  get properties() {
    return this.mem.properties
  }
  async send(to: Address, bytes: Uint8Array): Promise<void> {
    if (!this.up) throw new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, 'link down')
    this.sent.push(bytes.slice())
    await this.mem.send(address(TransportType.MEMORY, to.value), bytes)
  }
  onReceive(h: (b: Uint8Array, from: Address) => void): void {
    this.mem.onReceive((b, from) => {
      h(b, address(TransportType.SERIAL, from.value))
      for (const e of this.events) e(new TextDecoder().decode(from.value), 'rx')
    })
  }
  onLinkEvent(h: (name: string, e: 'up' | 'down' | 'rx') => void): void {
    this.events.push(h)
  }
  setUp(name: string, up: boolean): void {
    this.up = up
    for (const e of this.events) e(name, up ? 'up' : 'down')
  }
  close(): Promise<void> {
    return this.mem.close()
  }
}

const serial = (n: string) => address(TransportType.SERIAL, n)
const tick = () => new Promise((r) => setTimeout(r, 5))

function topology(devices: Record<string, { downlinkFrom?: string[] }> = { dev1: { downlinkFrom: ['app'] } }) {
  const radio = new MemoryNetwork()
  const cloud = new MemoryNetwork()
  const air: Uint8Array[] = []
  radio.tap((_f, _t, b) => air.push(b))
  const device = new Node({ name: 'device' })
  const devLink = new FakeLink(radio.endpoint('dev1'))
  device.registerTransport(devLink)
  const gw = new Node({ name: 'gw' })
  const gwLink = new FakeLink(radio.endpoint('gw'))
  const app = new Node({ name: 'app' })
  app.registerTransport(cloud.endpoint('app'))
  // The app may push to dev1 without dev1's uplinks (configured), within the gateway's hourly budget.
  const gateway = startGateway({ node: gw, link: gwLink, upstream: [cloud.endpoint('gw')], routes: { 0: [address(TransportType.MEMORY, 'app'), local('echo')], 1: [address(TransportType.MEMORY, 'app'), local('echo')] }, devices })
  return { radio, air, cloud, device, devLink, gw, gwLink, app, gateway }
}

describe('gateway', () => {
  it('keeps routing headers in the 2-byte short form on the radio in both directions', async () => {
    const t = topology()
    const seenAtApp: { payload: string; ret: number }[] = []
    t.app.startWorker('echo', async (ctx, msg) => {
      seenAtApp.push({ payload: new TextDecoder().decode(msg.payload), ret: msg.returnRoute.length })
      await ctx.send(msg.returnRoute, utf8('pong'), [local('echo')])
    })
    const got: { payload: string; ret: Address[] }[] = []
    const me = t.device.newAddress()
    t.device.startWorker(me, (_ctx, msg) => {
      got.push({ payload: new TextDecoder().decode(msg.payload), ret: [...msg.returnRoute] })
    })
    await t.device.send([serial('gw'), local(Uint8Array.of(1))], utf8('ping'), [me])
    for (let i = 0; i < 50 && got.length === 0; i++) await tick()
    assert.deepEqual(seenAtApp, [{ payload: 'ping', ret: 3 }])
    assert.equal(got.length, 1)
    assert.equal(got[0]!.payload, 'pong')
    // uplink and downlink on the air: 2-byte header + 4-byte payload each
    assert.deepEqual(t.air.map((b) => b.length), [6, 6])
    assert.ok(t.air.every((b) => b[0]! < 0x80), 'short form on the air')
    // the device replies along the compressed route and reaches the app again
    await t.device.send(got[0]!.ret, utf8('again'), [me])
    for (let i = 0; i < 50 && seenAtApp.length < 2; i++) await tick()
    assert.equal(seenAtApp[1]?.payload, 'again')
    assert.equal(t.air[2]!.length, 7)
    assert.equal(t.gw.counters.get('gateway.alias_created'), 1, 'one alias reused for the same return route')
    await t.gateway.close()
  })

  it('alias 0 (the default listener address) costs a 1-byte header on the uplink (listener form) and forwards like any alias', async () => {
    const t = topology()
    const seen: string[] = []
    t.app.startWorker('echo', async (ctx, msg) => {
      seen.push(new TextDecoder().decode(msg.payload))
      await ctx.send(msg.returnRoute, utf8('pong'), [local('echo')])
    })
    const got: string[] = []
    const me = t.device.newAddress()
    t.device.startWorker(me, (_ctx, msg) => void got.push(new TextDecoder().decode(msg.payload)))
    await t.device.send([serial('gw'), DEFAULT_LISTENER], utf8('ping'), [me])
    for (let i = 0; i < 50 && got.length === 0; i++) await tick()
    assert.deepEqual(seen, ['ping'])
    assert.deepEqual(got, ['pong'])
    // uplink: 0xc0 | return address, then the payload; downlink: the short form
    assert.deepEqual(t.air.map((b) => b.length), [5, 6])
    assert.equal(t.air[0]![0], 0xc0 | me.value[0]!)
    await t.gateway.close()
  })

  it('downlinks from upstream spend credits the device\'s uplinks earned: a stranger reaches no device, a peer only as far as its credits', async () => {
    const t = topology({})
    const got: string[] = []
    const me = t.device.newAddress()
    t.device.startWorker(me, (_ctx, msg) => void got.push(new TextDecoder().decode(msg.payload)))
    const stranger = new Node({ name: 'stranger' })
    stranger.registerTransport(t.cloud.endpoint('stranger'))
    // A stranger on the broker publishes 12 downlinks to the device: none goes on the air.
    const airBefore = t.air.length
    for (let i = 0; i < 12; i++) await stranger.send([address(TransportType.MEMORY, 'gw'), serial('dev1'), me], utf8(`flood ${i}`))
    await tick()
    assert.equal(t.gw.counters.get('gateway.downlink_denied'), 12)
    assert.equal(t.air.length, airBefore, 'nothing reached the radio')
    // The device speaks to the app (alias 1): the app may answer, four downlinks per uplink.
    let back: Address[] = []
    t.app.startWorker('echo', (_ctx, msg) => void (back = [...msg.returnRoute]))
    await t.device.send([serial('gw'), local(Uint8Array.of(1))], utf8('uplink'), [me])
    for (let i = 0; i < 20 && back.length === 0; i++) await tick()
    assert.ok(back.length > 0)
    for (let i = 0; i < 10; i++) await t.app.send(back, utf8(`reply ${i}`))
    // The stranger learns the route (it is not secret) but holds no credit for this device.
    for (let i = 0; i < 5; i++) await stranger.send(back, utf8(`copycat ${i}`))
    for (let i = 0; i < 20 && got.length < 4; i++) await tick()
    await tick()
    assert.deepEqual(got, ['reply 0', 'reply 1', 'reply 2', 'reply 3'])
    assert.equal(t.gw.counters.get('gateway.downlink_denied'), 12 + 6 + 5)
    await t.gateway.close()
  })

  it('holds downlinks while a device is unplugged and delivers them in order when it returns', async () => {
    const t = topology()
    const got: string[] = []
    const me = t.device.newAddress()
    t.device.startWorker(me, (_ctx, msg) => void got.push(new TextDecoder().decode(msg.payload)))
    t.gwLink.setUp('dev1', false)
    for (let i = 0; i < 5; i++) await t.app.send([address(TransportType.MEMORY, 'gw'), serial('dev1'), me], utf8(`m${i}`))
    await tick()
    assert.equal(t.gateway.mailboxSize('dev1'), 5)
    assert.deepEqual(got, [])
    t.gwLink.setUp('dev1', true)
    for (let i = 0; i < 50 && got.length < 5; i++) await tick()
    assert.deepEqual(got, ['m0', 'm1', 'm2', 'm3', 'm4'])
    assert.equal(t.gateway.mailboxSize('dev1'), 0)
    assert.equal(t.gw.counters.get('mailbox.delivered'), 5)
    await t.gateway.close()
  })

  it('queues for a sleepy device until it speaks, then delivers within its listening window', async () => {
    const radio = new MemoryNetwork()
    const clock = new ManualClock()
    const gw = new Node()
    const gwLink = new FakeLink(radio.endpoint('gw'))
    const dev = new Node()
    dev.registerTransport(new FakeLink(radio.endpoint('s1')))
    const got: string[] = []
    dev.startWorker('in', (_c, m) => void got.push(new TextDecoder().decode(m.payload)))
    gw.startWorker('sink', () => undefined)
    const g = startGateway({ node: gw, link: gwLink, devices: { s1: { mode: 'sleepy', awakeMs: 1000 } }, clock, compressReturnRoutes: false })
    await gw.send([serial('s1'), local('in')], utf8('while-asleep'))
    await tick()
    assert.equal(g.mailboxSize('s1'), 1)
    assert.deepEqual(got, [])
    await dev.send([serial('gw'), local('sink')], utf8('uplink'))
    for (let i = 0; i < 50 && got.length < 1; i++) await tick()
    assert.deepEqual(got, ['while-asleep'])
    await gw.send([serial('s1'), local('in')], utf8('in-window'))
    for (let i = 0; i < 50 && got.length < 2; i++) await tick()
    assert.deepEqual(got, ['while-asleep', 'in-window'])
    clock.advance(1001)
    await gw.send([serial('s1'), local('in')], utf8('after-window'))
    await tick()
    assert.equal(g.mailboxSize('s1'), 1)
    await g.close()
  })

  it('refuses static aliases outside 0..127 with CONFIG_INVALID', () => {
    const radio = new MemoryNetwork()
    for (const bad of [200, 128, -1, 1.5]) {
      assert.throws(() => startGateway({ node: new Node(), link: new FakeLink(radio.endpoint(`g${bad}`)), routes: { [bad]: [local('x')] } }), (e) => isHopsealError(e, 'CONFIG_INVALID'), String(bad))
    }
  })
})

describe('gateway mailboxes', () => {
  it('bound messages and bytes per device, evicting the oldest, and expire on the clock', () => {
    const clock = new ManualClock()
    const counts: Record<string, number> = {}
    const m = new Mailboxes({ maxMessages: 3, maxBytes: 100, maxTotalBytes: 150, ttlMs: 1000 }, clock, (r, n = 1) => void (counts[r] = (counts[r] ?? 0) + n))
    for (let i = 0; i < 5; i++) m.put('a', Uint8Array.of(i))
    assert.deepEqual(m.take('a').map((b) => b[0]), [2, 3, 4])
    assert.equal(counts['mailbox.drop.full'], 2)
    m.put('a', new Uint8Array(60))
    m.put('a', new Uint8Array(60))
    assert.equal(m.size('a'), 1, 'byte limit evicts the older 60-byte message')
    m.put('b', new Uint8Array(80))
    m.put('c', new Uint8Array(40))
    assert.ok(m.totalBytes <= 150, `total ${m.totalBytes}`)
    assert.equal(counts['mailbox.drop.total'], 1)
    m.put('a', new Uint8Array(101))
    assert.equal(counts['mailbox.drop.too_large'], 1)
    clock.advance(1001)
    m.put('d', Uint8Array.of(9))
    assert.deepEqual(m.take('b'), [], 'expired')
    assert.deepEqual(m.take('d').map((b) => b[0]), [9])
  })

  it('stays bounded under a flood of 100 000 messages to 1 000 devices', () => {
    const m = new Mailboxes({ maxMessages: 32, maxBytes: 16384, maxTotalBytes: 1 << 20, ttlMs: 3600_000 }, new ManualClock(), () => undefined)
    for (let i = 0; i < 100_000; i++) m.put(`d${i % 1000}`, new Uint8Array(51))
    assert.ok(m.totalBytes <= 1 << 20, `${m.totalBytes}`)
    assert.ok(m.size('d0') <= 32)
  })
})
