/**
 * Threat model D17 (formerly gap G12): a routing loop (two workers that hand
 * a message to each other, as a misconfigured forwarder or relay alias would)
 * is cut by the loop guard (`maxLocalHops`, src/routing/node.ts) after that
 * many local hops: dropped, counted as `drop.loop`, and the node goes on
 * routing. Loops by `forward` and by `send`, with the default guard and a
 * small one; a straight chain shorter than the guard passes (no false
 * positive); a loop between two nodes over a transport ends at the route
 * length limit. Every test has a timeout: a hang fails it.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { utf8 } from '../../src/bytes/index.ts'
import { address, local, Node, TransportType, type WorkerHandler } from '../../src/routing/index.ts'
import { MemoryNetwork } from '../../src/transports/memory.ts'

const TIMEOUT = { timeout: 10_000 }
const tick = () => new Promise((r) => setTimeout(r, 5))

/** Two workers a and b on `node` that pass every message to each other; returns the delivery count. */
function loop(node: Node, how: 'forward' | 'send'): () => number {
  let deliveries = 0
  const pass = (to: string): WorkerHandler => (ctx, msg) => {
    deliveries++
    return how === 'forward' ? ctx.forward({ ...msg, onward: [local(to), ...msg.onward] }) : ctx.send([local(to)], msg.payload)
  }
  node.startWorker('a', pass('b'))
  node.startWorker('b', pass('a'))
  return () => deliveries
}

describe('G12: the routing loop guard', () => {
  for (const how of ['forward', 'send'] as const) {
    for (const max of [undefined, 8] as const) {
      it(`a ${how} loop between two workers is cut after maxLocalHops (${max ?? 'default 32'}): dropped, counted, no hang`, TIMEOUT, async () => {
        const node = new Node({ name: 'n', ...(max !== undefined ? { maxLocalHops: max } : {}) })
        const deliveries = loop(node, how)
        await node.send([local('a')], utf8('round and round'))
        await tick()
        const limit = max ?? 32
        assert.equal(node.counters.get('drop.loop'), 1, JSON.stringify([...node.counters]))
        assert.equal(deliveries(), limit + 1, 'hops 0..maxLocalHops are delivered, the next one is dropped')
        assert.equal(node.counters.get('drop.worker_error'), undefined, 'ended by the guard, not by a stack overflow')
        // the node still routes
        const got: string[] = []
        node.startWorker('sink', (_c, m) => void got.push(new TextDecoder().decode(m.payload)))
        await node.send([local('sink')], utf8('after'))
        assert.deepEqual(got, ['after'])
      })
    }
  }

  it('a straight chain of 20 forwarding workers passes under the default guard, and is cut under a guard of 10', TIMEOUT, async () => {
    for (const [max, delivered] of [[32, true], [10, false]] as const) {
      const node = new Node({ name: 'n', maxLocalHops: max })
      const got: string[] = []
      for (let i = 0; i < 20; i++) node.startWorker(`w${i}`, (ctx, m) => ctx.forward(m))
      node.startWorker('end', (_c, m) => void got.push(new TextDecoder().decode(m.payload)))
      await node.send([...Array.from({ length: 20 }, (_, i) => local(`w${i}`)), local('end')], utf8('chain'))
      await tick()
      assert.deepEqual(got, delivered ? ['chain'] : [], `maxLocalHops ${max}`)
      assert.equal(node.counters.get('drop.loop'), delivered ? undefined : 1)
    }
  })

  it('a forward loop between two nodes over the memory transport ends at the route length limit', TIMEOUT, async () => {
    const net = new MemoryNetwork()
    const mem = (n: string) => address(TransportType.MEMORY, n)
    const x = new Node({ name: 'x' }), y = new Node({ name: 'y' })
    x.registerTransport(net.endpoint('x'))
    y.registerTransport(net.endpoint('y'))
    let hops = 0
    x.startWorker('f', (ctx, m) => (hops++, ctx.forward({ ...m, onward: [mem('y'), local('f')] })))
    y.startWorker('f', (ctx, m) => (hops++, ctx.forward({ ...m, onward: [mem('x'), local('f')] })))
    await x.send([local('f')], utf8('ping-pong'))
    let last = -1
    for (let i = 0; i < 200 && hops !== last; i++) {
      last = hops
      for (let k = 0; k < 5; k++) await tick()
    }
    const dropped = [...x.counters, ...y.counters].filter(([k]) => k.startsWith('drop.')).reduce((n, [, v]) => n + v, 0)
    assert.ok(dropped >= 1, `the loop was dropped: ${JSON.stringify([...x.counters, ...y.counters])}`)
    assert.ok(hops <= 2 * x.limits.maxRouteLength, `${hops} hops before the drop`)
  })
})
