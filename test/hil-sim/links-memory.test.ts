import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { isHopsealError } from '../../src/errors.ts'
import { ManualClock } from '../../src/time/clock.ts'
import { memoryLinkPair } from '../../hil-sim/links/memory-link.ts'

const tick = (): Promise<void> => new Promise((r) => setImmediate(r))

describe('hil-sim links: memory link pair', () => {
  it('delivers both ways on a later tick, in order, as copies', async () => {
    const [a, b] = memoryLinkPair()
    assert.equal(a.mtu, 1024)
    const atB: number[][] = []
    const atA: number[][] = []
    b.onFrame((f) => atB.push([...f]))
    a.onFrame((f) => atA.push([...f]))
    const buf = Uint8Array.of(1, 2, 3)
    await a.send(buf)
    await a.send(Uint8Array.of(4))
    await b.send(Uint8Array.of(9))
    buf.fill(0)
    assert.deepEqual(atB, [], 'not delivered inside send')
    await tick()
    assert.deepEqual(atB, [[1, 2, 3], [4]])
    assert.deepEqual(atA, [[9]])
  })

  it('is never re-entrant: a handler that replies at once does not recurse', async () => {
    const [a, b] = memoryLinkPair()
    let depth = 0
    let maxDepth = 0
    let count = 0
    const echo = (link: typeof a) => (f: Uint8Array) => {
      depth++
      maxDepth = Math.max(maxDepth, depth)
      if (++count < 20) void link.send(f)
      depth--
    }
    a.onFrame(echo(a))
    b.onFrame(echo(b))
    await a.send(Uint8Array.of(1))
    for (let i = 0; i < 25; i++) await tick()
    assert.equal(count, 20)
    assert.equal(maxDepth, 1)
  })

  it('rejects frames over the mtu with FRAME_TOO_LARGE and floods with LIMIT_EXCEEDED', async () => {
    const [a, b] = memoryLinkPair({ mtu: 8, maxPending: 3 })
    let got = 0
    b.onFrame(() => got++)
    await a.send(new Uint8Array(8))
    await assert.rejects(a.send(new Uint8Array(9)), (e) => isHopsealError(e, 'FRAME_TOO_LARGE'))
    await a.send(new Uint8Array(1))
    await a.send(new Uint8Array(1))
    await assert.rejects(a.send(new Uint8Array(1)), (e) => isHopsealError(e, 'LIMIT_EXCEEDED'))
    await tick()
    assert.equal(got, 3)
    await a.send(new Uint8Array(1))
    assert.throws(() => memoryLinkPair({ mtu: 0 }), (e) => isHopsealError(e, 'INVALID_ARGUMENT'))
  })

  it('close(): the other end goes down and its sends reject TRANSPORT_UNAVAILABLE', async () => {
    const [a, b] = memoryLinkPair()
    const states: boolean[] = []
    b.onStateChange((up) => states.push(up))
    let got = 0
    b.onFrame(() => got++)
    await a.send(Uint8Array.of(1)) // in flight when a closes: lost
    await a.close()
    await tick()
    assert.equal(got, 0)
    assert.deepEqual(states, [false])
    assert.equal(b.up, false)
    await assert.rejects(b.send(Uint8Array.of(1)), (e) => isHopsealError(e, 'TRANSPORT_UNAVAILABLE'))
    await assert.rejects(a.send(Uint8Array.of(1)), (e) => isHopsealError(e, 'TRANSPORT_UNAVAILABLE'))
  })

  it('setUp(false) unplugs: both ends see down then up, frames in flight are lost, sends reject meanwhile', async () => {
    const [a, b] = memoryLinkPair()
    const seen: string[] = []
    a.onStateChange((up) => seen.push(`a:${up}`))
    b.onStateChange((up) => seen.push(`b:${up}`))
    const got: number[] = []
    b.onFrame((f) => got.push(f[0]!))
    await a.send(Uint8Array.of(1))
    b.setUp(false)
    assert.equal(a.up, false)
    assert.equal(b.up, false)
    await assert.rejects(a.send(Uint8Array.of(2)), (e) => isHopsealError(e, 'TRANSPORT_UNAVAILABLE'))
    b.setUp(false) // no change, no event
    b.setUp(true)
    await a.send(Uint8Array.of(3))
    await tick()
    assert.deepEqual(got, [3])
    assert.deepEqual(seen, ['a:false', 'b:false', 'a:true', 'b:true'])
  })

  it('with a clock, delivery is a 0 ms timer of that clock', async () => {
    const clock = new ManualClock()
    const [a, b] = memoryLinkPair({ clock })
    let got = 0
    b.onFrame(() => got++)
    await a.send(Uint8Array.of(1))
    await tick()
    assert.equal(got, 0, 'nothing moves until the manual clock does')
    clock.advance(0)
    assert.equal(got, 1)
  })
})
