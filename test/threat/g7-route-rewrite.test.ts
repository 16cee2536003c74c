/**
 * Threat model T3 (formerly gap G7): routing headers are not authenticated,
 * so a gateway can rewrite them. A real Node chain over the memory transport
 * (two devices → a gateway node whose forwarding worker turns hostile → the
 * app's KK listener) shows what it can and cannot do:
 * - it rewrites uplink return routes so each device's replies go to the other
 *   device (the app follows the latest authenticated return route): the
 *   misdirected ciphertext reaches the wrong device's channel endpoint, which
 *   drops it (wrong keys); nothing reaches the wrong application;
 * - it swaps uplinks between the two channels at the app, injects forged and
 *   corrupted messages, and reflects downlinks: every one is dropped and counted;
 * - it rewrites a new device's message 1 return route: message 2 goes astray,
 *   no channel forms at the device, the wrong device accepts nothing;
 * - once honest again, every channel recovers (the next authenticated uplink
 *   restores its route): the gateway cost availability, nothing else.
 * Throughout, each application worker sees only what its genuine peer sent on
 * its own channel, attributed to that peer, exactly once.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { utf8 } from '../../src/bytes/index.ts'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { createSecureChannel, knownPeers, startSecureChannelListener, type SecureChannel } from '../../src/channel/secure-channel.ts'
import { isHopsealError } from '../../src/errors.ts'
import { softwareStaticKey, type StaticKey } from '../../src/noise/index.ts'
import { address, addressEquals, local, Node, TransportType, type Address, type Route, type RoutingMessage } from '../../src/routing/index.ts'
import { ManualClock } from '../../src/time/clock.ts'
import { MemoryNetwork } from '../../src/transports/memory.ts'

const crypto = cryptoProvider('node')
const mem = (n: string) => address(TransportType.MEMORY, n)
const tick = () => new Promise((r) => setTimeout(r, 5))
const settle = async (n = 20) => {
  for (let i = 0; i < n; i++) await tick()
}
/** Waits (up to 5 s) until `cond` holds, then a little longer for stragglers; the assertions that follow say what failed. */
const until = async (cond: () => boolean) => {
  for (let i = 0; i < 1000 && !cond(); i++) await tick()
  await settle(4)
}
const text = (b: Uint8Array) => new TextDecoder().decode(b)

type Mode = 'honest' | 'swap-return' | 'swap-channels' | 'forge' | 'reflect' | 'misroute-msg1'

describe('G7: a gateway that rewrites routes', () => {
  it('cannot make either end accept a forged or misdirected message, and nothing is misdelivered', async () => {
    const protocol = 'Noise_KK_25519_AESGCM_SHA256'
    const net = new MemoryNetwork()
    const mk = (name: string) => {
      const n = new Node({ name })
      n.registerTransport(net.endpoint(name))
      return n
    }
    const app = mk('app'), gw = mk('gw')
    const devs = ['devA', 'devB', 'devC'] as const
    const nodes = Object.fromEntries(devs.map((d) => [d, mk(d)])) as Record<(typeof devs)[number], Node>
    const keys = Object.fromEntries(devs.map((d) => [d, softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))])) as Record<(typeof devs)[number], StaticKey>
    const sApp = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))

    // The app: every delivery is recorded with the peer the channel authenticated, and echoed back on the channel.
    const atApp: { peer: string; text: string }[] = []
    app.startWorker('readings', async (ctx, msg, meta) => {
      const peer = meta.peer?.identifier ?? '?'
      atApp.push({ peer, text: text(msg.payload) })
      await ctx.send(msg.returnRoute, utf8(`ack ${text(msg.payload)}`))
    })
    startSecureChannelListener(app, 'l', {
      protocol,
      s: sApp,
      auth: knownPeers(devs.map((d) => ({ staticKey: keys[d].publicKey, identifier: d }))),
      deliverTo: local('readings'),
      initiatorStatics: devs.map((d) => keys[d].publicKey),
    })

    // The gateway: forwards both ways; its mode decides how it lies.
    let mode: Mode = 'honest'
    const uplinkDec = new Map<string, Address>() // device → the app-side channel endpoint its uplinks go to
    const lastDownlink = new Map<string, RoutingMessage>() // device → its last downlink
    const other: Record<string, string> = { devA: 'devB', devB: 'devA' }
    const swapDevice = (r: Route): Route => r.map((a) => (a.type === TransportType.MEMORY && other[text(a.value)] ? mem(other[text(a.value)]!) : a))
    gw.startWorker('f', async (ctx, msg) => {
      const fromDevice = msg.onward[0] && addressEquals(msg.onward[0], mem('app'))
      if (fromDevice) {
        const src = text(msg.returnRoute[0]!.value)
        const dest = msg.onward[1]
        if (dest && !addressEquals(dest, local('l'))) uplinkDec.set(src, dest)
        if (mode === 'swap-return' && other[src]) {
          // replies to this uplink go to the other device (same endpoint address there)
          await gw.route({ onward: msg.onward, returnRoute: [local('f'), ...swapDevice(msg.returnRoute)], payload: msg.payload }, {})
          return
        }
        if (mode === 'swap-channels' && other[src] && uplinkDec.has(other[src]!) && dest && !addressEquals(dest, local('l'))) {
          // deliver this channel's ciphertext to the other device's channel endpoint at the app
          await gw.route({ onward: [mem('app'), uplinkDec.get(other[src]!)!], returnRoute: [local('f'), ...msg.returnRoute], payload: msg.payload }, {})
          return
        }
        if (mode === 'misroute-msg1' && src === 'devC' && dest && addressEquals(dest, local('l'))) {
          await gw.route({ onward: msg.onward, returnRoute: [local('f'), mem('devA'), ...msg.returnRoute.slice(1)], payload: msg.payload }, {})
          return
        }
      } else {
        const dst = msg.onward[0] ? text(msg.onward[0].value) : ''
        lastDownlink.set(dst, msg)
        if (mode === 'reflect') {
          // send the downlink back to the app, as if the device had sent it
          await gw.route({ onward: [mem('app'), ...(uplinkDec.has(dst) ? [uplinkDec.get(dst)!] : [])], returnRoute: [local('f'), ...msg.onward], payload: msg.payload }, {})
          return
        }
      }
      await ctx.forward(msg)
    })

    const toApp: Route = [mem('gw'), local('f'), mem('app'), local('l')]
    const atDev: Record<string, string[]> = { devA: [], devB: [], devC: [] }
    const channels: Partial<Record<(typeof devs)[number], SecureChannel>> = {}
    const open = async (d: 'devA' | 'devB' | 'devC', clock?: ManualClock) =>
      createSecureChannel(nodes[d], toApp, { protocol, s: keys[d], rs: sApp.publicKey, auth: knownPeers([{ staticKey: sApp.publicKey, identifier: 'app' }]), deliverTo: (p: Uint8Array) => void atDev[d]!.push(text(p)), ...(clock ? { clock } : {}) })
    channels.devA = await open('devA')
    channels.devB = await open('devB')
    const sent: Record<string, string[]> = { devA: [], devB: [] }
    const say = async (d: 'devA' | 'devB', t: string) => {
      sent[d]!.push(t)
      await channels[d]!.send(utf8(t))
    }

    // Honest: round trips work.
    await say('devA', 'A1')
    await say('devB', 'B1')
    await until(() => atDev.devA!.length > 0 && atDev.devB!.length > 0)
    assert.deepEqual(atDev.devA, ['ack A1'])
    assert.deepEqual(atDev.devB, ['ack B1'])

    // Swapped return routes: each device's replies travel to the other device, which opens none of them.
    const dropsBefore = (n: Node) => n.counters.get('channel.drop') ?? 0
    const dropA = dropsBefore(nodes.devA), dropB = dropsBefore(nodes.devB)
    mode = 'swap-return'
    await say('devA', 'A2')
    await say('devB', 'B2')
    await until(() => dropsBefore(nodes.devA) > dropA && dropsBefore(nodes.devB) > dropB)
    assert.deepEqual(atDev.devA, ['ack A1'], 'devA accepted nothing meant for devB')
    assert.deepEqual(atDev.devB, ['ack B1'], 'devB accepted nothing meant for devA')
    assert.ok(dropsBefore(nodes.devA) > dropA && dropsBefore(nodes.devB) > dropB, 'the misdirected replies reached the wrong endpoints and were dropped there')

    // Swapped channels at the app: devA's ciphertext delivered to devB's channel endpoint, and back.
    // Refusals of the app's channel endpoints: sealed messages that fail (channel.drop*), and bytes that parse as a renewal flight and fail it.
    const appDrops = () => [...app.counters].filter(([k]) => /^channel\.(drop($|\.)|renewal\.failed\.|renewal\.unexpected_flight$)/.test(k)).reduce((n, [, v]) => n + v, 0)
    let before = appDrops()
    mode = 'swap-channels'
    await say('devA', 'A3')
    await say('devB', 'B3')
    await until(() => appDrops() >= before + 2)
    assert.ok(appDrops() >= before + 2, 'both cross-delivered messages dropped at the app')

    // Forged and corrupted messages injected at both app-side endpoints, and replays of genuine ones.
    mode = 'forge'
    before = appDrops()
    const deliveredBefore = atApp.length
    let injected = 0
    for (const d of ['devA', 'devB']) {
      const dec = uplinkDec.get(d)!
      const genuine = lastDownlink.get(d) // a downlink's bytes are the app's own key direction: a reflection
      for (const bytes of [crypto.randomBytes(40), Uint8Array.of(0, 0, 0, 0, 1, 2, 3), ...(genuine ? [genuine.payload, genuine.payload.map((b, i) => (i === 3 ? b ^ 1 : b))] : [])]) {
        await gw.send([mem('app'), dec], bytes, [local('f'), mem(d)])
        injected++
      }
    }
    await until(() => appDrops() >= before + injected)
    assert.ok(injected >= 6)
    assert.ok(appDrops() >= before + injected, `every injected message dropped (${appDrops() - before} of ${injected}): ${JSON.stringify([...app.counters])}`)
    assert.equal(atApp.length, deliveredBefore, 'nothing injected was delivered')

    // Reflection: downlinks sent back to the app as uplinks.
    mode = 'reflect'
    before = appDrops()
    await say('devA', 'A4') // the uplink passes; the app's reply is turned back to the app
    await until(() => appDrops() > before)
    assert.ok(appDrops() > before, 'a reflected downlink is dropped (one key per direction)')

    // A new device whose message 1 return route is rewritten to another device: no channel at the device, nothing accepted elsewhere.
    mode = 'misroute-msg1'
    const atA = atDev.devA!.length
    const clock = new ManualClock()
    const c = open('devC', clock)
    const timedOut = assert.rejects(c, (e: unknown) => isHopsealError(e, 'CHANNEL_HANDSHAKE_TIMEOUT'))
    for (let i = 0; i < 12; i++) {
      await tick()
      clock.advance(10_000)
    }
    await timedOut
    assert.deepEqual(atDev.devC, [])
    assert.equal(atDev.devA!.length, atA, 'devA accepted nothing of the misrouted handshake')

    // Honest again: every channel recovers with its next authenticated uplink.
    mode = 'honest'
    channels.devC = await open('devC')
    await say('devA', 'A5')
    await say('devB', 'B5')
    await channels.devC.send(utf8('C1'))
    await until(() => atDev.devA!.includes('ack A5') && atDev.devB!.includes('ack B5') && atDev.devC!.length > 0)
    assert.ok(atDev.devA.includes('ack A5'), JSON.stringify(atDev))
    assert.ok(atDev.devB.includes('ack B5'), JSON.stringify(atDev))
    assert.deepEqual(atDev.devC, ['ack C1'])

    // No misdelivery, ever: each device saw acks of its own messages only, once each;
    // the app saw each device's messages attributed to that device only, once each.
    for (const d of ['devA', 'devB'] as const) {
      for (const t of atDev[d]!) assert.ok(sent[d]!.includes(t.replace(/^ack /, '')), `${d} got ${t}`)
      assert.equal(new Set(atDev[d]).size, atDev[d]!.length, `${d} got a duplicate`)
    }
    for (const { peer, text: t } of atApp) {
      const origin = t.startsWith('A') ? 'devA' : t.startsWith('B') ? 'devB' : 'devC'
      assert.equal(peer, origin, `the app attributed "${t}" to ${peer}`)
    }
    assert.equal(new Set(atApp.map((x) => x.text)).size, atApp.length, 'the app got a duplicate')
    assert.ok(!atApp.some((x) => x.text === 'A3' || x.text === 'B3'), 'a message cross-delivered to the other channel was accepted')
    assert.ok(['A1', 'A2', 'A4', 'A5', 'B1', 'B2', 'B5', 'C1'].every((t) => atApp.some((x) => x.text === t)), JSON.stringify(atApp))
  })
})
