import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { address, local, Node, TransportType, type Address, type RoutingMessage, type WorkerContext } from '../../src/routing/index.ts'
import { MemoryNetwork } from '../../src/transports/memory.ts'

const mem = (n: string): Address => address(TransportType.MEMORY, n)
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5))

describe('Node workers: one registration object per worker', () => {
  it('a handler function and a Worker object (called as a method) get a context whose send and forward route', async () => {
    const n = new Node()
    const got: { at: string; msg: RoutingMessage }[] = []
    n.startWorker('sink', (ctx, msg) => void got.push({ at: new TextDecoder().decode(ctx.address.value), msg }))
    n.startWorker('fwd', (ctx, msg) => ctx.forward(msg))
    class Echo {
      seen = 0
      handleMessage(ctx: WorkerContext, msg: RoutingMessage): Promise<void> {
        this.seen++ // `this` is the worker object
        assert.equal(ctx.node, n)
        return ctx.send([local('sink')], msg.payload)
      }
    }
    const echo = new Echo()
    n.startWorker('echo', echo)
    await n.send([local('echo')], Uint8Array.of(1), [local('origin')])
    assert.equal(echo.seen, 1)
    assert.equal(got.length, 1)
    assert.equal(got[0]!.at, 'sink')
    assert.deepEqual(got[0]!.msg.payload, Uint8Array.of(1))
    assert.deepEqual(got[0]!.msg.returnRoute, [local('echo')], 'send() defaults the return route to the worker')
    await n.send([local('fwd'), local('sink')], Uint8Array.of(2), [local('origin')])
    assert.deepEqual(got[1]!.msg.returnRoute, [local('fwd'), local('origin')], 'forward() pushes the worker onto the return route')
  })

  it('hands out each 1-byte address once per node while it is in use, the same frozen object across nodes', () => {
    const a = new Node()
    const b = new Node()
    const fromA = a.newAddress()
    const fromB = b.newAddress()
    assert.equal(fromA, fromB, 'one object per 1-byte address in the process')
    assert.ok(Object.isFrozen(fromA))
    assert.notDeepEqual(a.newAddress(), fromA, 'reserved: not handed out twice by one node')
  })

  it('messages from one transport peer share its address object in their return routes', async () => {
    const net = new MemoryNetwork()
    const dev = new Node({ name: 'dev' })
    const gw = new Node({ name: 'gw' })
    dev.registerTransport(net.endpoint('dev'))
    gw.registerTransport(net.endpoint('gw'))
    const routes: RoutingMessage['returnRoute'][] = []
    gw.startWorker('w', (_ctx, msg) => void routes.push(msg.returnRoute))
    for (let i = 0; i < 3; i++) await dev.send([mem('gw'), local('w')], Uint8Array.of(i), [local(`r${i}`)])
    for (let i = 0; i < 20 && routes.length < 3; i++) await tick()
    assert.equal(routes.length, 3)
    assert.deepEqual(routes[0]![0], mem('dev'))
    assert.equal(routes[1]![0], routes[0]![0])
    assert.equal(routes[2]![0], routes[0]![0])
    assert.deepEqual(routes.map((r) => new TextDecoder().decode(r[1]!.value)), ['r0', 'r1', 'r2'])
  })
})

describe('Node.newAddress', () => {
  it('once the 127 one-byte addresses are taken, hands out longer ones, and a one-byte address again once one is stopped', () => {
    const n = new Node()
    const short = Array.from({ length: 127 }, () => n.newAddress())
    assert.ok(short.every((a) => a.value.length === 1))
    assert.equal(new Set(short.map((a) => a.value[0])).size, 127)
    const long = n.newAddress()
    assert.ok(long.value.length > 1, 'the 128th is longer')
    assert.ok(n.newAddress().value.length > 1)
    n.stopWorker(short[41]!)
    assert.deepEqual(n.newAddress(), short[41], 'the stopped one-byte address is handed out again')
    assert.ok(n.newAddress().value.length > 1)
  })
})
