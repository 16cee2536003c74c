/**
 * SerialTransport end to end: the shared Transport compliance suite over
 * memory cables with each profile (raw, ble-uart, lora) and over a real socat
 * PTY pair; sender-side limits; two routing Nodes talking through it; a PTY
 * unplugged and re-plugged under live links; and random garbage, torn and
 * corrupted frames written straight into a PTY between good frames.
 *
 * PTY tests need socat (skipped with a reason without it; CI and
 * HOPSEAL_REQUIRE_SYSTEM=1 turn the skip into a failure).
 */
import assert from 'node:assert/strict'
import { closeSync, constants as fsc, openSync, writeSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { concat } from '../../src/bytes/index.ts'
import { isHopsealError } from '../../src/errors.ts'
import { addressToString, local } from '../../src/routing/address.ts'
import { Node } from '../../src/routing/node.ts'
import { ManualClock, ScaledClock, systemClock, type Clock } from '../../src/time/clock.ts'
import type { FrameLink } from '../../src/transports/link.ts'
import {
  bleUartProfile,
  cobsEncode,
  crc16,
  encodeFrame,
  loraProfile,
  maxMessageForMtu,
  openSerialLink,
  rawProfile,
  SerialTransport,
  type LinkProfile,
  type SerialLink,
  type SerialLinkEvent,
} from '../../targets/node/transports/serial/index.ts'
import { memoryLinkPair } from '../../hil-sim/links/memory-link.ts'
import { seededRandom } from '../../hil-sim/links/prng.ts'
import { ptyLinkPair, startPtyPair, type PtyLinkPair } from '../../hil-sim/pty.ts'
import { needSystem } from '../helpers/system.ts'
import { runTransportCompliance, type TransportPair } from './transport-compliance.ts'

const skipPty = needSystem('socat')
const code = (c: string) => (e: unknown) => isHopsealError(e, c)
const pattern = (n: number, seed = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 11 + seed * 7 + 3) & 0xff)

/** Polls `cond` every 5 ms (real time) until it holds; fails after `ms` with `what()`. */
async function waitFor(cond: () => boolean, what: () => string, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out after ${ms} ms waiting for: ${what()}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** Two transports joined by `links`, each with link `peer` (the same name on both sides, so `from` equals the address the other side sends to). */
function transportPair(links: [FrameLink, FrameLink], profile: LinkProfile, clock: Clock, extra: () => Promise<void> = async () => {}): TransportPair & { ta: SerialTransport; tb: SerialTransport } {
  const ta = new SerialTransport({ clock })
  const tb = new SerialTransport({ clock })
  ta.addLink('peer', links[0], profile)
  tb.addLink('peer', links[1], profile)
  return {
    a: ta,
    b: tb,
    ta,
    tb,
    aToB: ta.linkAddress('peer'),
    bToA: tb.linkAddress('peer'),
    async close() {
      await ta.close()
      await tb.close()
      await extra()
    },
  }
}

// ── Compliance ───────────────────────────────────────────────────────────────

const memoryCases: [string, () => LinkProfile, Clock][] = [
  ['raw', () => rawProfile(), systemClock],
  // BLE pacing (8 ms per 20-byte write) and LoRa airtime/duty cycle on compressed time: same rules, no long waits
  ['ble-uart', () => bleUartProfile(), new ScaledClock(20)],
  ['lora', () => loraProfile({ sf: 7 }), new ScaledClock(1000)],
]
for (const [name, profile, clock] of memoryCases) {
  runTransportCompliance(`serial (${name} profile, memory cable)`, async () => {
    const p = profile()
    return transportPair(memoryLinkPair({ mtu: p.mtu }), p, clock)
  })
}

if (!skipPty) {
  runTransportCompliance('serial (raw profile, socat PTY pair)', async () => {
    const p: PtyLinkPair = await ptyLinkPair()
    return transportPair([p.a, p.b], rawProfile(), systemClock, () => p.close())
  })
}

// ── Sender-side limits ───────────────────────────────────────────────────────

describe('SerialTransport limits', () => {
  it('a message over maxMessage, or over what 256 fragments of the MTU carry, is FRAME_TOO_LARGE at the sender; nothing is sent', async () => {
    const [x, y] = memoryLinkPair({ mtu: 222 })
    const seen: Uint8Array[] = []
    y.onFrame((f) => seen.push(f))
    const t = new SerialTransport({ maxMessage: 5000 })
    t.addLink('lora', x, loraProfile({ dataRate: 0, dutyCycle: 1 })) // MTU 51: 256 × 48 = 12 288 bytes would fit
    t.addLink('ble', memoryLinkPair({ mtu: 20 })[0], bleUartProfile()) // MTU 20: 256 × 17 = 4352
    assert.equal(t.properties.maxPayload, 5000)
    await assert.rejects(t.send(t.linkAddress('lora'), new Uint8Array(5001)), code('FRAME_TOO_LARGE'))
    await assert.rejects(t.send(t.linkAddress('ble'), new Uint8Array(maxMessageForMtu(20) + 1)), code('FRAME_TOO_LARGE'))
    await new Promise((r) => setImmediate(r))
    assert.equal(seen.length, 0)
    assert.equal(t.stats('lora').framesSent, 0)
    await t.close()
  })

  it('bad links, names, profiles and addresses are typed errors', async () => {
    const t = new SerialTransport()
    const [x] = memoryLinkPair({ mtu: 51 })
    assert.throws(() => t.addLink('x', x, rawProfile({ mtu: 52 })), code('INVALID_ARGUMENT')) // profile MTU over the link's
    assert.throws(() => t.addLink('bad name', x, rawProfile({ mtu: 51 })), code('INVALID_ARGUMENT'))
    assert.throws(() => t.addLink('', x, rawProfile({ mtu: 51 })), code('INVALID_ARGUMENT'))
    t.addLink('x', x, rawProfile({ mtu: 51 }))
    assert.throws(() => t.addLink('x', memoryLinkPair()[0], rawProfile()), code('INVALID_ARGUMENT'))
    await assert.rejects(t.send(t.linkAddress('nope'), Uint8Array.of(1)), code('NO_ROUTE'))
    await assert.rejects(t.send(local('x'), Uint8Array.of(1)), code('NO_ROUTE'))
    assert.throws(() => t.stats('nope'), code('NO_ROUTE'))
    assert.throws(() => new SerialTransport({ maxMessage: 0 }), code('INVALID_ARGUMENT'))
    assert.deepEqual(t.linkNames(), ['x'])
    assert.equal(await t.removeLink('x'), true)
    assert.equal(await t.removeLink('x'), false)
    await assert.rejects(x.send(Uint8Array.of(1)), code('TRANSPORT_UNAVAILABLE')) // the transport closed the link it owned
    await t.close()
    assert.throws(() => t.addLink('y', memoryLinkPair()[0], rawProfile()), code('TRANSPORT_UNAVAILABLE'))
  })
})

// ── Routing Nodes ────────────────────────────────────────────────────────────

async function nodesRoundTrip(links: [FrameLink, FrameLink], profile: LinkProfile, clock: Clock): Promise<void> {
  const pair = transportPair(links, profile, clock)
  const na = new Node({ name: 'a' })
  const nb = new Node({ name: 'b' })
  na.registerTransport(pair.ta)
  nb.registerTransport(pair.tb)
  nb.startWorker('echo', async (ctx, msg) => {
    await ctx.send(msg.returnRoute, Uint8Array.from([...msg.payload, 0xec]))
  })
  const replies: { payload: Uint8Array; from: string }[] = []
  na.startWorker('reply', (_ctx, msg, meta) => {
    replies.push({ payload: msg.payload, from: meta.from ? addressToString(meta.from) : '' })
  })
  const big = pattern(300, 9) // fragmented on every profile under test
  await na.send([pair.ta.linkAddress('peer'), local('echo')], big, [local('reply')])
  await na.send([pair.ta.linkAddress('peer'), local('echo')], Uint8Array.of(1, 2), [local('reply')])
  await waitFor(() => replies.length === 2, () => `replies ${replies.length}`)
  const byLen = replies.sort((p, q) => q.payload.length - p.payload.length)
  assert.deepEqual(byLen[0]!.payload, Uint8Array.from([...big, 0xec]))
  assert.deepEqual(byLen[1]!.payload, Uint8Array.of(1, 2, 0xec))
  assert.equal(byLen[0]!.from, addressToString(pair.ta.linkAddress('peer')))
  assert.equal(nb.counters.get('received'), 2)
  assert.equal(na.counters.get('received'), 2)
  assert.ok(pair.ta.stats('peer').framesSent > 2, 'the 300-byte message was fragmented')
  await pair.close()
}

describe('two routing Nodes through SerialTransport', () => {
  it('echo over a LoRa profile (DR3: SF9, MTU 115, 1 % duty cycle) on a memory cable', async () => {
    const p = loraProfile({ dataRate: 3 })
    await nodesRoundTrip(memoryLinkPair({ mtu: p.mtu }), p, new ScaledClock(1000))
  })

  it('echo over a BLE UART profile on a socat PTY pair', { skip: skipPty }, async () => {
    const p = await ptyLinkPair({ mtu: 20 })
    try {
      await nodesRoundTrip([p.a, p.b], bleUartProfile(), new ScaledClock(20))
    } finally {
      await p.close()
    }
  })
})

// ── PTY unplug / replug ──────────────────────────────────────────────────────

describe('PTY unplug and replug', { skip: skipPty }, () => {
  let p: PtyLinkPair
  let ta: SerialTransport
  let tb: SerialTransport
  const clock = new ManualClock() // BLE pacing and reassembly; the links' re-open backoff runs on real time
  const events: string[] = []
  const gotA: Uint8Array[] = []
  const gotB: Uint8Array[] = []

  before(async () => {
    p = await ptyLinkPair({ mtu: 20 })
    ta = new SerialTransport({ clock })
    tb = new SerialTransport({ clock })
    ta.addLink('peer', p.a, bleUartProfile())
    tb.addLink('peer', p.b, bleUartProfile())
    ta.onLinkEvent((n, e: SerialLinkEvent) => e !== 'rx' && events.push(`a:${n}:${e}`))
    tb.onLinkEvent((n, e: SerialLinkEvent) => e !== 'rx' && events.push(`b:${n}:${e}`))
    ta.onReceive((b) => gotA.push(b))
    tb.onReceive((b) => gotB.push(b))
  })
  after(async () => {
    await ta?.close()
    await tb?.close()
    await p?.close()
  })

  /** Advances the manual clock past the BLE write interval until `cond` holds. */
  async function drive(cond: () => boolean, what: () => string): Promise<void> {
    await waitFor(
      () => {
        clock.advance(8)
        return cond()
      },
      what,
    )
  }

  it('goes down on unplug (events, counters, queued message and new sends fail TRANSPORT_UNAVAILABLE) and comes back on replug', async () => {
    await ta.send(ta.linkAddress('peer'), pattern(10, 1)) // one frame: goes at once
    await waitFor(() => gotB.length === 1, () => 'first message')
    assert.deepEqual(gotB[0], pattern(10, 1))

    // A 100-byte message: 6 BLE writes, the first goes now, the others wait for the (manual) clock.
    clock.advance(8)
    const stuck = ta.send(ta.linkAddress('peer'), pattern(100, 2))
    const outcome = stuck.then(
      () => 'sent',
      (e: unknown) => (isHopsealError(e, 'TRANSPORT_UNAVAILABLE') ? 'unavailable' : String(e)),
    )
    await waitFor(() => tb.reassemblyBytes('peer') === 17, () => `B holds ${tb.reassemblyBytes('peer')} bytes`)

    await p.pty.unplug()
    await waitFor(() => events.includes('a:peer:down') && events.includes('b:peer:down'), () => events.join(' '))
    assert.equal(await outcome, 'unavailable')
    assert.equal(ta.stats('peer').drops.link_down, 1)
    assert.equal(p.a.up, false)
    assert.equal(p.b.up, false)
    await assert.rejects(ta.send(ta.linkAddress('peer'), Uint8Array.of(1)), code('TRANSPORT_UNAVAILABLE'))
    await assert.rejects(tb.send(tb.linkAddress('peer'), Uint8Array.of(1)), code('TRANSPORT_UNAVAILABLE'))
    assert.equal(p.a.counters.disconnects, 1)
    assert.equal(p.b.counters.disconnects, 1)
    assert.equal(p.a.counters.reopens ?? 0, 0)

    await p.pty.replug()
    await waitFor(() => events.includes('a:peer:up') && events.includes('b:peer:up'), () => events.join(' '))
    assert.equal(events.length, 4)
    assert.deepEqual(events.slice(0, 2).sort(), ['a:peer:down', 'b:peer:down'])
    assert.deepEqual(events.slice(2).sort(), ['a:peer:up', 'b:peer:up'])
    assert.equal(p.a.up, true)
    assert.equal(p.b.up, true)
    for (const l of [p.a, p.b]) {
      assert.equal(l.counters.reopens, 1)
      assert.equal(l.counters.disconnects, 1)
      assert.ok(l.counters.reopenAttempts! >= 1)
    }
  })

  it('after the replug messages flow both ways again, fragmented ones too; the partial from before the unplug expires', async () => {
    clock.advance(8)
    await ta.send(ta.linkAddress('peer'), pattern(12, 3))
    await waitFor(() => gotB.length === 2, () => `B got ${gotB.length}`)
    assert.deepEqual(gotB[1], pattern(12, 3))
    clock.advance(8)
    await tb.send(tb.linkAddress('peer'), pattern(15, 4))
    await waitFor(() => gotA.length === 1, () => `A got ${gotA.length}`)
    assert.deepEqual(gotA[0], pattern(15, 4))

    const big = pattern(250, 5) // 15 writes
    const sent = ta.send(ta.linkAddress('peer'), big)
    await drive(() => gotB.length === 3, () => `B got ${gotB.length}`)
    await sent
    assert.deepEqual(gotB[2], big)

    // B still held the first write of the message cut by the unplug; it expires on B's clock
    clock.advance(bleUartProfile().reassemblyTimeoutMs)
    assert.equal(tb.reassemblyBytes('peer'), 0)
    assert.equal(tb.stats('peer').drops.expired, 1)
    assert.equal(gotB.length, 3)
  })
})

// ── Garbage on the wire ──────────────────────────────────────────────────────

describe('garbage written straight into a PTY', { skip: skipPty }, () => {
  it('random bytes, torn frames, oversize runs and bad CRCs between good frames: resync at each delimiter, every good frame arrives, every junk byte is counted', async () => {
    const pty = await startPtyPair()
    const mtu = 64
    const maxFrame = 67 // cobsMaxEncodedLength(mtu + 2): what the decoder buffers at most
    let link: SerialLink | undefined
    let fd: number | undefined
    const t = new SerialTransport()
    try {
      link = await openSerialLink(pty.a, { mtu, reopen: false })
      t.addLink('dev', link, rawProfile({ mtu }))
      const got: Uint8Array[] = []
      t.onReceive((b) => got.push(b))
      // the other end, opened raw: bytes written here arrive at the link as they are
      fd = openSync(pty.b, fsc.O_RDWR | fsc.O_NOCTTY)

      const rnd = seededRandom('pty-garbage')
      const bytes = (n: number, nonZero: boolean): Uint8Array => Uint8Array.from({ length: n }, () => (nonZero ? 1 + rnd.int(255) : rnd.int(256)))
      const good: Uint8Array[] = []
      const goodWire = new Set<string>()
      const written: Uint8Array[] = []
      let badCrc = 0
      const rounds = 120
      for (let i = 0; i < rounds; i++) {
        let junk: Uint8Array
        switch (i % 4) {
          case 0: // random bytes, zeros included
            junk = bytes(1 + rnd.int(100), false)
            break
          case 1: {
            // a torn frame: the start of a good frame, never its delimiter
            const f = encodeFrame(concat(Uint8Array.of(0), bytes(5 + rnd.int(40), false)))
            junk = f.subarray(0, 1 + rnd.int(f.length - 2))
            break
          }
          case 2: // a run longer than the decoder's buffer
            junk = bytes(maxFrame + 1 + rnd.int(200), true)
            break
          default: {
            // a well-formed COBS frame whose CRC is wrong
            const payload = concat(Uint8Array.of(0), bytes(1 + rnd.int(40), false))
            const c = crc16(payload) ^ 0x0101
            junk = cobsEncode(concat(payload, Uint8Array.of(c >> 8, c & 0xff)))
            badCrc++
          }
        }
        const msg = concat(Uint8Array.of(0xa5, i), bytes(rnd.int(40), false))
        const wire = encodeFrame(concat(Uint8Array.of(0), msg)) // a whole message: 0x00 header
        good.push(msg)
        goodWire.add(Buffer.from(wire.subarray(0, -1)).toString('hex'))
        const chunk = concat(junk, Uint8Array.of(0), wire)
        written.push(chunk)
        writeSync(fd, chunk)
        await waitFor(() => got.length === i + 1, () => `round ${i}: ${got.length} messages, counters ${JSON.stringify(link!.counters)}`)
      }
      assert.deepEqual(got, good)

      // Expected counters, from the bytes written: split on 0x00, every non-empty segment is a frame attempt.
      const stream = concat(...written)
      const segments: Uint8Array[] = []
      let start = 0
      for (let k = 0; k <= stream.length; k++) {
        if (k === stream.length || stream[k] === 0) {
          if (k > start) segments.push(stream.subarray(start, k))
          start = k + 1
        }
      }
      const junkSegments = segments.filter((s) => !goodWire.has(Buffer.from(s).toString('hex')))
      const c = link.counters
      assert.equal(c.bytesReceived, stream.length, 'the PTY passed every byte unchanged')
      assert.equal(c.frames, rounds)
      assert.equal(c.garbageBytes, junkSegments.reduce((s, x) => s + x.length, 0))
      assert.equal(c.oversize, junkSegments.filter((s) => s.length > maxFrame).length)
      assert.ok(c.oversize! >= rounds / 4)
      assert.ok(c.crc! >= badCrc)
      assert.equal(c.crc! + c.cobs! + c.short! + c.oversize!, junkSegments.length)
      const st = t.stats('dev')
      assert.equal(st.framesReceived, rounds)
      assert.deepEqual(st.drops, {})
      assert.equal(t.reassemblyBytes('dev'), 0)
      console.log(`# PTY garbage: ${stream.length} bytes in, ${rounds} good frames, ${junkSegments.length} junk segments (${c.garbageBytes} bytes; crc ${c.crc}, cobs ${c.cobs}, short ${c.short}, oversize ${c.oversize})`)
    } finally {
      if (fd !== undefined) closeSync(fd)
      await t.close()
      await pty.close()
    }
  })
})
