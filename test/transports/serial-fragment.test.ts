/**
 * Fragmentation and reassembly of routed messages on radio frames
 * (fragment.ts, reassembly.ts): the header byte for byte, the limits at the
 * MTUs the profiles use (BLE 20, LoRa 51 / 115 / 222), reassembly in any
 * order with duplicates, interleaving and timeouts on an injected clock, and
 * bad input: a flood of adversarial fragments stays inside the configured
 * memory bounds, is counted, and does not stop a good message; malformed
 * frames are dropped and counted by the transport, never thrown.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { concat, toHex } from '../../src/bytes/index.ts'
import { isHopsealError } from '../../src/errors.ts'
import { ManualClock } from '../../src/time/clock.ts'
import { FRAGMENT_HEADER_LENGTH, MAX_FRAGMENTS } from '../../targets/node/transports/serial/constants.ts'
import {
  fragmentCount,
  fragmentMessage,
  maxMessageForMtu,
  parseFrame,
  rawProfile,
  Reassembler,
  SerialTransport,
  type Fragment,
  type ReassemblerOptions,
} from '../../targets/node/transports/serial/index.ts'
import { memoryLinkPair } from '../../hil-sim/links/memory-link.ts'
import { seededRandom, type Random } from '../../hil-sim/links/prng.ts'

const pattern = (n: number, seed = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed * 13 + 1) & 0xff)
const code = (c: string) => (e: unknown) => isHopsealError(e, c)

/** Parses frames that must all be fragments. */
function fragments(frames: Uint8Array[]): Fragment[] {
  return frames.map((f) => {
    const p = parseFrame(f)
    assert.equal(p.kind, 'fragment')
    return p as Fragment & { kind: 'fragment' }
  })
}

function shuffle<T>(xs: T[], r: Random): T[] {
  const a = xs.slice()
  for (let i = a.length - 1; i > 0; i--) {
    const j = r.int(i + 1)
    ;[a[i], a[j]] = [a[j]!, a[i]!]
  }
  return a
}

function reassembler(clock: ManualClock, over: Partial<ReassemblerOptions> = {}): { r: Reassembler; drops: Record<string, number> } {
  const drops: Record<string, number> = {}
  const r = new Reassembler({
    clock,
    timeoutMs: 1000,
    maxMessages: 4,
    maxBytes: 4096,
    maxMessage: 2048,
    onDrop: (why) => (drops[why] = (drops[why] ?? 0) + 1),
    ...over,
  })
  return { r, drops }
}

/** Pushes fragments and returns the messages they completed. */
function pushAll(r: Reassembler, fs: Fragment[]): Uint8Array[] {
  const out: Uint8Array[] = []
  for (const f of fs) {
    const m = r.push(f)
    if (m) out.push(m)
  }
  return out
}

const settle = async (rounds = 3): Promise<void> => {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r))
}

describe('fragment header', () => {
  it('a message that fits one frame is 0x00 ‖ message, byte-exact, up to mtu − 1 bytes', () => {
    assert.deepEqual(fragmentMessage(Uint8Array.of(0xaa, 0x00, 0xbb), 20, 5).map(toHex), ['00aa00bb'])
    assert.deepEqual(fragmentMessage(new Uint8Array(0), 20, 0).map(toHex), ['00'])
    const fits = pattern(19)
    const [one] = fragmentMessage(fits, 20, 9)
    assert.equal(one!.length, 20)
    assert.equal(toHex(one!), '00' + toHex(fits))
    assert.equal(fragmentCount(19, 20), 1)
    // one byte more no longer fits the 1-byte form: 17 + 3 bytes under a 3-byte header
    assert.equal(fragmentCount(20, 20), 2)
  })

  it('fragments are u8(0x80|msgId) u8(index) u8(last) ‖ mtu − 3 bytes, byte-exact', () => {
    const m = pattern(40)
    const fr = fragmentMessage(m, 20, 5)
    assert.deepEqual(
      fr.map(toHex),
      [
        '850002' + toHex(m.subarray(0, 17)), // 17 bytes
        '850102' + toHex(m.subarray(17, 34)), // 17 bytes
        '850202' + toHex(m.subarray(34)), // 6 bytes
      ],
    )
    // msgId is 7 bits: 127 sets every bit of the first byte
    assert.equal(toHex(fragmentMessage(m, 20, 127)[0]!.subarray(0, 3)), 'ff0002')
    assert.equal(toHex(fragmentMessage(m, 20, 0)[2]!.subarray(0, 3)), '800202')
  })

  it('parseFrame reads back every header field and rejects reserved and malformed forms', () => {
    assert.deepEqual(parseFrame(Uint8Array.of(0x00)), { kind: 'whole', payload: new Uint8Array(0) })
    assert.deepEqual(parseFrame(Uint8Array.of(0x00, 0x01, 0x02)), { kind: 'whole', payload: Uint8Array.of(1, 2) })
    assert.deepEqual(parseFrame(Uint8Array.of(0xc1, 3, 7, 0xee)), { kind: 'fragment', msgId: 0x41, index: 3, last: 7, payload: Uint8Array.of(0xee) })
    assert.deepEqual(parseFrame(new Uint8Array(0)), { kind: 'invalid', reason: 'empty' })
    assert.deepEqual(parseFrame(Uint8Array.of(0x01, 9)), { kind: 'invalid', reason: 'reserved' })
    assert.deepEqual(parseFrame(Uint8Array.of(0x7f)), { kind: 'invalid', reason: 'reserved' })
    assert.deepEqual(parseFrame(Uint8Array.of(0x80)), { kind: 'invalid', reason: 'truncated' })
    assert.deepEqual(parseFrame(Uint8Array.of(0x80, 0)), { kind: 'invalid', reason: 'truncated' })
    assert.deepEqual(parseFrame(Uint8Array.of(0x80, 2, 1, 0xaa)), { kind: 'invalid', reason: 'bad_index' })
    // A one-fragment message is never sent (it would travel whole): forged, dropped.
    assert.deepEqual(parseFrame(Uint8Array.of(0x85, 0, 0, 0xaa)), { kind: 'invalid', reason: 'single_fragment' })
    assert.deepEqual(parseFrame(Uint8Array.of(0x80, 0, 1)), { kind: 'invalid', reason: 'empty_fragment' })
  })

  it('parseFrame is total: any bytes give a whole message, a fragment or a reason, and never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
        const p = parseFrame(b)
        if (p.kind === 'whole') assert.ok(b[0] === 0 && p.payload.length === b.length - 1)
        else if (p.kind === 'fragment') assert.ok(b[0]! >= 0x80 && p.index <= p.last && p.payload.length === b.length - 3 && p.msgId === (b[0]! & 0x7f))
        else assert.ok(['empty', 'reserved', 'truncated', 'bad_index', 'empty_fragment', 'single_fragment'].includes(p.reason))
      }),
      { numRuns: 2000 },
    )
  })

  it('rejects an MTU below 4 and a msgId outside 0..127 with INVALID_ARGUMENT', () => {
    assert.throws(() => fragmentMessage(pattern(10), 3, 0), code('INVALID_ARGUMENT'))
    assert.throws(() => fragmentMessage(pattern(10), 20.5, 0), code('INVALID_ARGUMENT'))
    assert.throws(() => fragmentMessage(pattern(10), 20, 128), code('INVALID_ARGUMENT'))
    assert.throws(() => fragmentMessage(pattern(10), 20, -1), code('INVALID_ARGUMENT'))
    // the smallest MTU carries one byte per fragment
    assert.equal(fragmentMessage(pattern(10), 4, 0).length, 10)
  })
})

describe('fragmentation at the profile MTUs', () => {
  for (const mtu of [20, 51, 115, 222]) {
    it(`MTU ${mtu}: header ≤ 3 bytes, every frame ≤ MTU, 256 × ${mtu - 3} = ${256 * (mtu - 3)} bytes at most, one more is FRAME_TOO_LARGE`, () => {
      const max = maxMessageForMtu(mtu)
      assert.equal(max, MAX_FRAGMENTS * (mtu - FRAGMENT_HEADER_LENGTH))
      const m = pattern(max, mtu)
      const frames = fragmentMessage(m, mtu, 77)
      assert.equal(frames.length, 256)
      assert.equal(fragmentCount(max, mtu), 256)
      // all frames are full: header of exactly 3 bytes plus mtu − 3 payload bytes
      assert.ok(frames.every((f) => f.length === mtu))
      const fs = fragments(frames)
      assert.deepEqual(
        fs.map((f) => [f.msgId, f.index, f.last]),
        Array.from({ length: 256 }, (_, i) => [77, i, 255]),
      )
      assert.deepEqual(concat(...fs.map((f) => f.payload)), m)
      assert.throws(() => fragmentMessage(pattern(max + 1), mtu, 0), code('FRAME_TOO_LARGE'))

      // sizes around the 1-byte/3-byte boundary and a ragged last fragment
      for (const n of [0, 1, mtu - 1, mtu, mtu + 1, 2 * (mtu - 3), 2 * (mtu - 3) + 1, 1000]) {
        const fr = fragmentMessage(pattern(n, n), mtu, 3)
        assert.equal(fr.length, fragmentCount(n, mtu), `n=${n}`)
        assert.ok(fr.every((f) => f.length <= mtu))
        const header = fr.length === 1 ? 1 : 3
        assert.equal(fr.reduce((s, f) => s + f.length, 0), n + header * fr.length, `n=${n}`)
        const r = new Reassembler({ clock: new ManualClock(), timeoutMs: 1000, maxMessages: 4, maxBytes: 1 << 20, maxMessage: 1 << 20 })
        const got = fr.length === 1 ? (parseFrame(fr[0]!) as { payload: Uint8Array }).payload : pushAll(r, fragments(fr))[0]
        assert.deepEqual(got, pattern(n, n), `n=${n}`)
      }
    })
  }

  it('the transport refuses a message over what 256 fragments carry with FRAME_TOO_LARGE, before anything is sent', async () => {
    const [x, y] = memoryLinkPair({ mtu: 20 })
    const seen: Uint8Array[] = []
    y.onFrame((f) => seen.push(f))
    const t = new SerialTransport({ maxMessage: 8192 })
    t.addLink('ble', x, rawProfile({ mtu: 20 }))
    await assert.rejects(t.send(t.linkAddress('ble'), pattern(maxMessageForMtu(20) + 1)), code('FRAME_TOO_LARGE'))
    await settle()
    assert.equal(seen.length, 0)
    assert.equal(t.stats('ble').framesSent, 0)
    await t.send(t.linkAddress('ble'), pattern(maxMessageForMtu(20)))
    await settle()
    assert.equal(seen.length, 256)
    await t.close()
  })
})

describe('Reassembler', () => {
  const msg = pattern(200, 1)
  const frames = fragmentMessage(msg, 20, 9) // 12 fragments: 11 × 17 + 13

  it('completes in order, in reverse and in a random order, returning a copy once', () => {
    const clock = new ManualClock()
    const rnd = seededRandom('reassembly-order')
    const orders = [fragments(frames), fragments(frames).reverse(), shuffle(fragments(frames), rnd), shuffle(fragments(frames), rnd)]
    for (const order of orders) {
      const { r, drops } = reassembler(clock)
      const results = order.map((f) => r.push(f))
      assert.ok(results.slice(0, -1).every((x) => x === undefined), 'only the last fragment completes')
      assert.deepEqual(results.at(-1), msg)
      assert.equal(r.partialCount, 0)
      assert.equal(r.bufferedBytes, 0)
      assert.deepEqual(drops, {})
    }
  })

  it('ignores duplicates before and after completion (counted), delivering the message once', () => {
    const clock = new ManualClock()
    const { r, drops } = reassembler(clock)
    const fs = fragments(frames)
    const doubled = fs.flatMap((f) => [f, f]).slice(0, -1) // every fragment twice but the last once
    const out = pushAll(r, doubled)
    assert.equal(out.length, 1)
    assert.deepEqual(out[0], msg)
    assert.equal(drops.duplicate, fs.length - 1)
    // late copies of a completed message are duplicates, not a new ghost message
    assert.deepEqual(pushAll(r, fs), [])
    assert.equal(drops.duplicate, 2 * fs.length - 1)
    assert.equal(r.partialCount, 0)
    // forgotten after timeoutMs: the same id can carry a new message again
    clock.advance(1000)
    const again = pushAll(r, fs)
    assert.deepEqual(again, [msg])
  })

  it('reassembles interleaved messages under different ids', () => {
    const clock = new ManualClock()
    const { r, drops } = reassembler(clock)
    const msgs = [pattern(100, 1), pattern(60, 2), pattern(150, 3)]
    const all = msgs.flatMap((m, i) => fragments(fragmentMessage(m, 20, 10 + i)))
    const out = pushAll(r, shuffle(all, seededRandom('interleave')))
    assert.equal(out.length, 3)
    const sorted = (xs: Uint8Array[]): string[] => xs.map(toHex).sort()
    assert.deepEqual(sorted(out), sorted(msgs))
    assert.deepEqual(drops, {})
    assert.equal(r.bufferedBytes, 0)
  })

  it('drops a partial message after timeoutMs without fragments on the injected clock; each fragment restarts the timer', () => {
    const clock = new ManualClock()
    const { r, drops } = reassembler(clock, { timeoutMs: 1000 })
    const fs = fragments(frames)
    r.push(fs[0]!)
    clock.advance(999)
    r.push(fs[1]!) // restarts the timer at t = 999
    clock.advance(999) // t = 1998: 999 ms since the last fragment
    assert.equal(r.partialCount, 1)
    assert.equal(r.bufferedBytes, 34)
    assert.equal(drops.expired, undefined)
    clock.advance(1) // t = 1999: 1000 ms since the last fragment
    assert.equal(r.partialCount, 0)
    assert.equal(r.bufferedBytes, 0)
    assert.equal(drops.expired, 1)
    // the rest of that message can no longer complete it: it starts a new partial
    assert.deepEqual(pushAll(r, fs.slice(2)), [])
    assert.equal(r.partialCount, 1)
    clock.advance(1000)
    assert.equal(drops.expired, 2)
    // sent again in full, it arrives
    assert.deepEqual(pushAll(r, fs), [msg])
  })

  it('a fragment whose last index disagrees drops the partial (inconsistent) and starts over', () => {
    const clock = new ManualClock()
    const { r, drops } = reassembler(clock)
    const old = fragments(fragmentMessage(pattern(100), 20, 9)) // last = 5
    pushAll(r, old.slice(0, 3))
    assert.deepEqual(pushAll(r, fragments(frames)), [msg]) // last = 11, same id
    assert.equal(drops.inconsistent, 1)
    assert.equal(r.bufferedBytes, 0)
  })

  it('drops a message growing over maxMessage (too_large) and evicts the oldest partial beyond maxMessages', () => {
    const clock = new ManualClock()
    const { r, drops } = reassembler(clock, { maxMessage: 100, maxMessages: 2 })
    assert.deepEqual(pushAll(r, fragments(frames)), []) // 200 bytes > 100
    assert.equal(drops.too_large, 1)
    // fragments 0..5 (102 bytes) went with the drop; 6..11 start a partial that can never complete
    assert.equal(r.bufferedBytes, 98)
    clock.advance(1000)
    assert.equal(drops.expired, 1)
    assert.equal(r.bufferedBytes, 0)
    const a = fragments(fragmentMessage(pattern(50, 1), 20, 1))
    const b = fragments(fragmentMessage(pattern(50, 2), 20, 2))
    const c = fragments(fragmentMessage(pattern(50, 3), 20, 3))
    r.push(a[0]!)
    r.push(b[0]!)
    r.push(c[0]!) // third partial: a (the oldest) goes
    assert.equal(drops.evicted, 1)
    assert.equal(r.partialCount, 2)
    assert.deepEqual(pushAll(r, b.slice(1)), [pattern(50, 2)])
    assert.deepEqual(pushAll(r, c.slice(1)), [pattern(50, 3)])
    assert.deepEqual(pushAll(r, a.slice(1)), []) // a lost its first fragment
  })

  it('evicts the oldest partials to stay under maxBytes and keeps the one that grows', () => {
    const clock = new ManualClock()
    const { r, drops } = reassembler(clock, { maxBytes: 100, maxMessages: 8, maxMessage: 100 })
    const olds = [1, 2, 3].map((id) => fragments(fragmentMessage(pattern(60, id), 20, id)))
    for (const o of olds) pushAll(r, o.slice(0, 2)) // 34 bytes each: 102 > 100 evicts the first
    assert.equal(drops.evicted, 1)
    assert.equal(r.bufferedBytes, 68)
    const big = fragments(fragmentMessage(pattern(90, 9), 20, 9)) // 6 fragments, 90 bytes
    assert.deepEqual(pushAll(r, big), [pattern(90, 9)])
    assert.equal(drops.evicted, 3)
    assert.equal(r.bufferedBytes, 0)
  })

  it('rejects non-positive limits with INVALID_ARGUMENT', () => {
    const clock = new ManualClock()
    for (const k of ['timeoutMs', 'maxMessages', 'maxBytes', 'maxMessage'] as const) {
      assert.throws(() => reassembler(clock, { [k]: 0 }), code('INVALID_ARGUMENT'), k)
      assert.throws(() => reassembler(clock, { [k]: Number.NaN }), code('INVALID_ARGUMENT'), k)
    }
  })
})

/**
 * Adversarial fragments, in phases of 250: (0) distinct ids cycling through
 * all 128 with 255 fragments announced, (1) random ids and random huge `last`
 * (200..255), (2) one id hammered with big fragments (grows past maxMessage),
 * (3) one fragment repeated (duplicates). Never the final index, so no flood
 * message ever completes. (A forger who repeats a real message's id *and*
 * last index can corrupt it: this layer has no integrity check, the Noise
 * channel above rejects the result.)
 */
function floodFragment(rnd: Random, i: number): Fragment {
  const phase = Math.floor(i / 250) % 4
  const block = Math.floor(i / 1000)
  const bytes = (n: number): Uint8Array => {
    const b = new Uint8Array(n)
    for (let k = 0; k < n; k++) b[k] = rnd.int(256)
    return b
  }
  switch (phase) {
    case 0:
      return { msgId: i % 128, index: rnd.int(255), last: 255, payload: bytes(1 + rnd.int(60)) }
    case 1: {
      const last = 200 + rnd.int(56)
      return { msgId: rnd.int(128), index: rnd.int(last), last, payload: bytes(1 + rnd.int(60)) }
    }
    case 2:
      return { msgId: (5 + block) % 128, index: rnd.int(240), last: 240, payload: bytes(150 + rnd.int(100)) }
    default:
      return { msgId: (90 + block) % 128, index: 7, last: 222, payload: Uint8Array.of(block, 1, 2, 3) }
  }
}

describe('fragment flood', () => {
  it('5 000 adversarial fragments never hold more than maxBytes / maxMessages, every drop is counted, a good message still arrives', () => {
    const clock = new ManualClock()
    const limits = { maxMessages: 4, maxBytes: 600, maxMessage: 400, timeoutMs: 1000 }
    const { r, drops } = reassembler(clock, limits)
    const rnd = seededRandom('fragment-flood')
    let peakBytes = 0
    let peakPartials = 0
    let delivered = 0
    for (let i = 0; i < 5000; i++) {
      if (r.push(floodFragment(rnd, i))) delivered++
      assert.ok(r.bufferedBytes <= limits.maxBytes, `held ${r.bufferedBytes} bytes after fragment ${i}`)
      assert.ok(r.partialCount <= limits.maxMessages, `held ${r.partialCount} partials after fragment ${i}`)
      peakBytes = Math.max(peakBytes, r.bufferedBytes)
      peakPartials = Math.max(peakPartials, r.partialCount)
      if (i % 500 === 499) clock.advance(10) // time passes, but less than the timeout
    }
    assert.equal(delivered, 0)
    // the bounds were reached (the flood did push), not just never approached
    assert.equal(peakPartials, limits.maxMessages)
    assert.ok(peakBytes > limits.maxBytes - 250, `peak ${peakBytes}`)
    assert.ok((drops.evicted ?? 0) > 1000, JSON.stringify(drops))
    assert.ok((drops.too_large ?? 0) > 100, JSON.stringify(drops))
    assert.ok((drops.duplicate ?? 0) > 1000, JSON.stringify(drops))
    assert.equal(drops.expired, undefined)

    // a good message (last < 200, unlike the flood) arrives right after, without waiting
    const good = pattern(300, 42)
    assert.deepEqual(pushAll(r, fragments(fragmentMessage(good, 51, 17))), [good])
    clock.advance(1000)
    assert.equal(r.partialCount, 0)
    assert.equal(r.bufferedBytes, 0)
    assert.ok((drops.expired ?? 0) >= 1)
  })

  it('through the transport: flood and malformed frames are dropped by reason, reassembly stays bounded, then a good fragmented message arrives', async () => {
    const clock = new ManualClock()
    const [x, y] = memoryLinkPair({ mtu: 1024 })
    const maxBytes = 500 // below maxMessage: the byte bound bites before the per-message one
    const rx = new SerialTransport({ clock, maxMessage: 600, reassembly: { maxMessages: 3, maxBytes } })
    const tx = new SerialTransport({ clock, maxMessage: 600 })
    rx.addLink('peer', y, rawProfile({ mtu: 64 }))
    tx.addLink('peer', x, rawProfile({ mtu: 64 }))
    const got: Uint8Array[] = []
    rx.onReceive((b) => got.push(b))

    const rnd = seededRandom('transport-flood')
    const malformed: [Uint8Array, string][] = [
      [new Uint8Array(0), 'empty'],
      [Uint8Array.of(0x01, 1, 2), 'reserved'],
      [Uint8Array.of(0x42), 'reserved'],
      [Uint8Array.of(0x85), 'truncated'],
      [Uint8Array.of(0x85, 0), 'truncated'],
      [Uint8Array.of(0x85, 9, 3, 1), 'bad_index'],
      [Uint8Array.of(0x85, 0, 3), 'empty_fragment'],
      [concat(Uint8Array.of(0), pattern(601)), 'too_large'], // a whole message over maxMessage
    ]
    const expected: Record<string, number> = {}
    let sent = 0
    let peak = 0
    for (let i = 0; i < 2000; i++) {
      let frame: Uint8Array
      if (i % 10 === 0) {
        const [f, why] = malformed[(i / 10) % malformed.length]!
        frame = f
        expected[why] = (expected[why] ?? 0) + 1
      } else {
        const f = floodFragment(rnd, i)
        frame = concat(Uint8Array.of(0x80 | f.msgId, f.index, f.last), f.payload.subarray(0, 61))
      }
      await x.send(frame) // straight onto the wire, under the transport
      sent++
      await settle(1) // delivered: the memory link delivers on the next turn
      peak = Math.max(peak, rx.reassemblyBytes('peer'))
      assert.ok(rx.reassemblyBytes('peer') <= maxBytes, `held ${rx.reassemblyBytes('peer')} after frame ${i}`)
    }
    await settle()
    const st = rx.stats('peer')
    assert.equal(st.framesReceived, sent)
    assert.equal(got.length, 0)
    for (const [why, n] of Object.entries(expected)) {
      if (why === 'too_large') assert.ok(st.drops.too_large! >= n, `too_large ${st.drops.too_large} < ${n}`)
      else assert.equal(st.drops[why], n, why)
    }
    assert.ok((st.drops.evicted ?? 0) > 100, JSON.stringify(st.drops))
    assert.ok(peak > 0.8 * maxBytes, `peak ${peak}`)
    console.log(`# transport flood: ${sent} frames, peak reassembly ${peak}/${maxBytes} bytes, drops ${JSON.stringify(st.drops)}`)

    const good = pattern(500, 7) // 9 fragments of 61 bytes at MTU 64
    await tx.send(tx.linkAddress('peer'), good)
    await settle()
    assert.equal(got.length, 1)
    assert.deepEqual(got[0], good)
    assert.ok(rx.reassemblyBytes('peer') <= maxBytes)
    clock.advance(rawProfile().reassemblyTimeoutMs)
    assert.equal(rx.reassemblyBytes('peer'), 0)
    await tx.close()
    await rx.close()
  })
})
