/** The channel's named timer events (src/channel/timers.ts) on a manual clock. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ManualClock } from '../../src/time/clock.ts'
import { Timers } from '../../src/channel/timers.ts'

type Name = 'idle' | 'keepalive' | 'retransmit'

function setup(): { clock: ManualClock; timers: Timers<string[], Name>; fired: string[] } {
  const clock = new ManualClock()
  const fired: string[] = []
  return { clock, timers: new Timers<string[], Name>(clock, fired), fired }
}

describe('named timers', () => {
  it('fires an armed event once, after its delay, with the owner', () => {
    const { clock, timers, fired } = setup()
    timers.arm('idle', 100, (owner) => owner.push('idle'))
    assert.equal(timers.isArmed('idle'), true)
    clock.advance(99)
    assert.deepEqual(fired, [])
    clock.advance(1)
    assert.deepEqual(fired, ['idle'])
    assert.equal(timers.isArmed('idle'), false, 'a fired event is no longer armed')
    clock.advance(1000)
    assert.deepEqual(fired, ['idle'])
  })

  it('arming an armed event replaces it; disarm cancels only that event', () => {
    const { clock, timers, fired } = setup()
    timers.arm('retransmit', 100, (o) => o.push('first'))
    timers.arm('retransmit', 300, (o) => o.push('second'))
    timers.arm('keepalive', 200, (o) => o.push('keepalive'))
    clock.advance(250)
    assert.deepEqual(fired, ['keepalive'], 'the replaced retransmit never fires')
    timers.arm('idle', 10, (o) => o.push('idle'))
    timers.disarm('retransmit')
    timers.disarm('retransmit') // twice is harmless
    clock.advance(1000)
    assert.deepEqual(fired, ['keepalive', 'idle'])
  })

  it('clear() disarms every event; a handler may re-arm its own event', () => {
    const { clock, timers, fired } = setup()
    const again = (o: string[]): void => {
      o.push('tick')
      if (o.length < 3) timers.arm('idle', 10, again)
    }
    timers.arm('idle', 10, again)
    clock.advance(100)
    assert.deepEqual(fired, ['tick', 'tick', 'tick'])
    timers.arm('idle', 10, (o) => o.push('idle'))
    timers.arm('keepalive', 20, (o) => o.push('keepalive'))
    timers.clear()
    assert.equal(timers.isArmed('idle') || timers.isArmed('keepalive'), false)
    clock.advance(100)
    assert.deepEqual(fired, ['tick', 'tick', 'tick'])
  })

  it('background events are unref()ed, awaited ones are not', () => {
    const refs: string[] = []
    const handle = (name: string) => ({ unref: () => refs.push(name) })
    let next = ''
    const clock = { now: () => 0, setTimeout: () => handle(next), clearTimeout: () => undefined }
    const timers = new Timers<null, Name>(clock, null)
    next = 'idle'
    timers.arm('idle', 10, () => undefined, 'background')
    next = 'retransmit'
    timers.arm('retransmit', 10, () => undefined)
    assert.deepEqual(refs, ['idle'])
  })
})
