import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { utf8 } from '../../src/bytes/index.ts'
import { isHopsealError } from '../../src/errors.ts'
import {
  address,
  addressToString,
  decodeRoutingMessage,
  DEFAULT_LISTENER,
  encodeRoutingMessage,
  headerSize,
  local,
  Node,
  parseRoute,
  registerRelay,
  routeToString,
  startRelayService,
  TransportType,
  type RoutingMessage,
} from '../../src/routing/index.ts'
import { MemoryNetwork } from '../../src/transports/memory.ts'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { relayRegistrationSigner, relayRegistrationVerifier } from '../../src/identity/signing.ts'
import { SoftwareVault } from '../../vaults/software/index.ts'

const mem = (n: string) => address(TransportType.MEMORY, n)
function nextMessage(node: Node, name: string): Promise<{ msg: RoutingMessage; from?: string }> {
  return new Promise((resolve) => {
    node.startWorker(name, (_ctx, msg, meta) => {
      node.stopWorker(local(name))
      resolve({ msg, ...(meta.from ? { from: new TextDecoder().decode(meta.from.value) } : {}) })
    })
  })
}

describe('routing codec', () => {
  it('round-trips; one-hop 1-byte local addresses cost a 2-byte header (short form)', () => {
    const m: RoutingMessage = { onward: [local('a')], returnRoute: [local('b')], payload: utf8('hi') }
    const b = encodeRoutingMessage(m)
    assert.deepEqual(b, Uint8Array.of(0x61, 0x62, 0x68, 0x69))
    assert.deepEqual(decodeRoutingMessage(b), m)
    const g: RoutingMessage = { onward: [mem('gw'), local('a')], returnRoute: [], payload: utf8('x') }
    const gb = encodeRoutingMessage(g)
    assert.deepEqual(gb, Uint8Array.of(0x82, 0x81, 2, 0x67, 0x77, 0x61, 0, 0x78))
    assert.deepEqual(decodeRoutingMessage(gb), g)
    // non-canonical spellings are refused
    assert.throws(() => decodeRoutingMessage(Uint8Array.of(0x81, 0x61, 0x01, 0x62)), (e: unknown) => isHopsealError(e, 'DECODE_ERROR'))
    assert.throws(() => decodeRoutingMessage(Uint8Array.of(0x81, 0x80, 1, 0x61, 0)), (e: unknown) => isHopsealError(e, 'DECODE_ERROR'))
    const r = parseRoute('1#gw;2#broker;0x;app')
    assert.equal(routeToString(r), '1#gw;2#broker;0#0x;0#app')
  })

  it('a message to the default listener (LOCAL 0x00) with a 1-byte return below 0x40 costs a 1-byte header (listener form)', () => {
    const m: RoutingMessage = { onward: [DEFAULT_LISTENER], returnRoute: [local(Uint8Array.of(0x01))], payload: utf8('hi') }
    const b = encodeRoutingMessage(m)
    assert.deepEqual(b, Uint8Array.of(0xc1, 0x68, 0x69))
    assert.equal(headerSize(m.onward, m.returnRoute), 1)
    assert.deepEqual(decodeRoutingMessage(b), m)
    assert.deepEqual(decodeRoutingMessage(Uint8Array.of(0xff)), { onward: [DEFAULT_LISTENER], returnRoute: [local(Uint8Array.of(0x3f))], payload: new Uint8Array(0) })
    // return 0x40 and up: the short form; another onward: the short form
    const hi: RoutingMessage = { onward: [DEFAULT_LISTENER], returnRoute: [local(Uint8Array.of(0x40))], payload: utf8('x') }
    assert.deepEqual(encodeRoutingMessage(hi), Uint8Array.of(0x00, 0x40, 0x78))
    assert.deepEqual(decodeRoutingMessage(Uint8Array.of(0x00, 0x40, 0x78)), hi)
    assert.deepEqual(encodeRoutingMessage({ onward: [local(Uint8Array.of(0x01))], returnRoute: [local(Uint8Array.of(0x02))], payload: utf8('x') }), Uint8Array.of(0x01, 0x02, 0x78))
    // the short spelling of a listener-form message is not canonical
    assert.throws(() => decodeRoutingMessage(Uint8Array.of(0x00, 0x01, 0x68)), (e: unknown) => isHopsealError(e, 'DECODE_ERROR'))
    assert.equal(addressToString(DEFAULT_LISTENER), '0#0x00')
  })

  it('is total: any bytes give a message or a typed error (10 000 cases)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        try {
          const m = decodeRoutingMessage(b)
          // canonical: re-encoding gives the same bytes
          assert.deepEqual(encodeRoutingMessage(m), b)
        } catch (e) {
          if (!isHopsealError(e)) throw e
        }
      }),
      { numRuns: 10000 },
    )
  })

  it('enforces route and size limits', () => {
    const long = Array.from({ length: 17 }, (_, i) => local(`w${i}`))
    assert.throws(() => encodeRoutingMessage({ onward: long, returnRoute: [], payload: new Uint8Array(0) }), (e: unknown) => isHopsealError(e, 'LIMIT_EXCEEDED'))
    assert.throws(() => decodeRoutingMessage(Uint8Array.of(0x80 | 40, 0)), (e: unknown) => isHopsealError(e, 'LIMIT_EXCEEDED'))
    assert.throws(() => decodeRoutingMessage(new Uint8Array(70000)), (e: unknown) => isHopsealError(e, 'LIMIT_EXCEEDED'))
    assert.throws(() => decodeRoutingMessage(Uint8Array.of(0x81, 0x81)), (e: unknown) => isHopsealError(e, 'DECODE_ERROR'))
    assert.throws(() => decodeRoutingMessage(Uint8Array.of(0x81, 0x81, 5, 1)), (e: unknown) => isHopsealError(e, 'DECODE_ERROR'))
    assert.throws(() => decodeRoutingMessage(Uint8Array.of(0x05)), (e: unknown) => isHopsealError(e, 'DECODE_ERROR'))
  })
})

describe('node routing over the memory transport', () => {
  it('pops and pushes routes hop by hop through an intermediary', async () => {
    const net = new MemoryNetwork()
    const a = new Node({ name: 'a' })
    const b = new Node({ name: 'b' })
    const c = new Node({ name: 'c' })
    a.registerTransport(net.endpoint('a'))
    b.registerTransport(net.endpoint('b'))
    c.registerTransport(net.endpoint('c'))
    const seen: string[] = []
    net.tap((from, to) => seen.push(`${from}->${to}`))
    // b forwards everything it gets at "fwd" onwards
    b.startWorker('fwd', (ctx, msg) => ctx.forward(msg))
    const got = nextMessage(c, 'sink')
    await a.send([mem('b'), local('fwd'), mem('c'), local('sink')], utf8('hello'), [local('origin')])
    const { msg, from } = await got
    assert.equal(new TextDecoder().decode(msg.payload), 'hello')
    assert.equal(from, 'b')
    assert.equal(routeToString(msg.returnRoute), '1#b;0#fwd;1#a;0#origin')
    assert.deepEqual(seen, ['a->b', 'b->c'])
    // the return route leads back
    const back = nextMessage(a, 'origin')
    await c.send(msg.returnRoute, utf8('reply'))
    assert.equal(new TextDecoder().decode((await back).msg.payload), 'reply')
  })

  it('counts drops: unknown worker, access denied, garbage, oversize', async () => {
    const net = new MemoryNetwork()
    const a = new Node({ name: 'a' })
    const b = new Node({ name: 'b', limits: { maxMessageSize: 100 } })
    const ta = net.endpoint('a')
    a.registerTransport(ta)
    b.registerTransport(net.endpoint('b'))
    b.startWorker('guarded', () => assert.fail('must not be delivered'), { accessControl: () => false })
    await a.send([mem('b'), local('nobody')], utf8('x'))
    await a.send([mem('b'), local('guarded')], utf8('x'))
    await ta.send(mem('b'), Uint8Array.of(0x81, 0xff))
    await ta.send(mem('b'), new Uint8Array(200))
    await new Promise((r) => setTimeout(r, 20))
    assert.equal(b.counters.get('drop.unknown_worker'), 1)
    assert.equal(b.counters.get('drop.access_denied'), 1)
    assert.equal(b.counters.get('drop.decode_error'), 1)
    assert.equal(b.counters.get('drop.too_large'), 1)
  })

  it('relays: a device registers an alias; messages to the alias reach it, and re-registration follows the device', async () => {
    const net = new MemoryNetwork()
    const relay = new Node({ name: 'relay' })
    const dev = new Node({ name: 'dev' })
    const app = new Node({ name: 'app' })
    for (const [n, name] of [[relay, 'relay'], [dev, 'dev'], [app, 'app']] as const) n.registerTransport(net.endpoint(name))
    const crypto = cryptoProvider('node')
    startRelayService(relay, { verifier: relayRegistrationVerifier(crypto) })
    // registrations are signed (the device's key binds the alias: test/routing/relay.test.ts)
    const vault = await SoftwareVault.open({ crypto })
    const signer = await relayRegistrationSigner(vault, await vault.generateKey('ed25519'))
    const { alias } = await registerRelay(dev, [mem('relay'), local('relay')], 'monitor-7', { signer, relayName: 'relay' })
    assert.equal(alias, 'fwd.monitor-7')
    const got = nextMessage(dev, 'inbox')
    await app.send([mem('relay'), local(alias), local('inbox')], utf8('to the device'))
    assert.equal(new TextDecoder().decode((await got).msg.payload), 'to the device')
    // the device moves to another network endpoint and re-registers
    const dev2 = new Node({ name: 'dev2' })
    dev2.registerTransport(net.endpoint('dev2'))
    await registerRelay(dev2, [mem('relay'), local('relay')], 'monitor-7', { signer, relayName: 'relay' })
    const got2 = nextMessage(dev2, 'inbox')
    await app.send([mem('relay'), local(alias), local('inbox')], utf8('moved'))
    assert.equal(new TextDecoder().decode((await got2).msg.payload), 'moved')
  })
})

describe('Node.close', () => {
  it('stops the workers and closes the transports: later sends to it are refused, its own sends fail', async () => {
    const net = new MemoryNetwork()
    const a = new Node({ name: 'a' })
    const b = new Node({ name: 'b' })
    a.registerTransport(net.endpoint('a'))
    b.registerTransport(net.endpoint('b'))
    const got: string[] = []
    b.startWorker('w', (_c, m) => void got.push(new TextDecoder().decode(m.payload)))
    await a.send([address(TransportType.MEMORY, 'b'), local('w')], utf8('before'))
    for (let i = 0; i < 200 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 5)) // a loaded machine may take longer than one tick
    assert.deepEqual(got, ['before'])
    await b.close()
    assert.equal(b.hasWorker(local('w')), false)
    assert.equal(b.transport(TransportType.MEMORY), undefined)
    await assert.rejects(b.send([address(TransportType.MEMORY, 'a'), local('x')], utf8('x')), (e) => isHopsealError(e))
    await a.send([address(TransportType.MEMORY, 'b'), local('w')], utf8('after')).catch(() => undefined)
    await new Promise((r) => setTimeout(r, 5))
    assert.deepEqual(got, ['before'], 'nothing delivered after close')
  })
})
