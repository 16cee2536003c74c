/**
 * Stream framing: COBS(payload ‖ CRC-16) ‖ 0x00 on a byte stream. Byte-exact
 * vectors, a streaming decoder fed arbitrary chunks, garbage and torn frames
 * (resync at the next delimiter, exact counters, bounded buffer), and
 * streamFrameLink over an in-memory pipe and a real TCP socket pair.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, connect, type Socket } from 'node:net'
import { PassThrough } from 'node:stream'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { concat, fromHex, toHex } from '../../src/bytes/index.ts'
import { isHopsealError } from '../../src/errors.ts'
import { cobsMaxEncodedLength, encodeFrame, FrameDecoder, maxWireFrameLength, streamFrameLink } from '../../targets/node/transports/serial/index.ts'

const hex = (s: string): Uint8Array => fromHex(s.replace(/ /g, ''))

/** Two in-memory byte streams, crossed: what one end writes the other reads. */
export function pipePair(): { a: PassThrough & { peerIn: PassThrough }; b: PassThrough & { peerIn: PassThrough } } {
  const ab = new PassThrough()
  const ba = new PassThrough()
  const end = (out: PassThrough, inp: PassThrough) =>
    Object.assign(Object.create(out) as PassThrough, {
      write: (b: Uint8Array, cb?: (e?: Error | null) => void) => out.write(b, cb),
      on: (ev: string, f: (...a: unknown[]) => void) => (inp.on(ev, f), undefined),
      peerIn: inp,
    })
  return { a: end(ab, ba), b: end(ba, ab) }
}

describe('stream framing vectors', () => {
  it('encodes COBS(payload ‖ CRC big-endian) ‖ 00, byte-exact', () => {
    assert.equal(toHex(encodeFrame(new Uint8Array(0))), '03ffff00') // CRC of nothing = 0xFFFF
    assert.equal(toHex(encodeFrame(hex('01 00 02'))), '0201' + '0402dbee' + '00') // CRC 0xDBEE
    assert.equal(toHex(encodeFrame(hex('00'))), '0103e1f000') // CRC(00) = 0xE1F0
    // "123456789" has the CRC check value 29 B1
    assert.equal(toHex(encodeFrame(new TextEncoder().encode('123456789'))), '0c' + '313233343536373839' + '29b1' + '00')
  })

  it('the wire size bound holds and 0x00 appears only as the final delimiter', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (p) => {
        const f = encodeFrame(p)
        assert.ok(f.length <= maxWireFrameLength(p.length))
        assert.equal(f.indexOf(0), f.length - 1)
      }),
      { numRuns: 500 },
    )
  })
})

describe('FrameDecoder', () => {
  it('decodes frames split into arbitrary chunks, in order', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1 }), (payloads, cuts) => {
        const got: Uint8Array[] = []
        const d = new FrameDecoder((f) => got.push(f), cobsMaxEncodedLength(302))
        const wire = concat(...payloads.map(encodeFrame))
        for (let i = 0, k = 0; i < wire.length; k++) {
          const n = cuts[k % cuts.length]!
          d.push(wire.subarray(i, i + n))
          i += n
        }
        assert.deepEqual(got, payloads)
        assert.equal(d.counters.frames, payloads.length)
        assert.equal(d.counters.garbageBytes, 0)
      }),
      { numRuns: 300 },
    )
  })

  it('counts each failure reason exactly and resynchronises at the next 0x00', () => {
    const got: string[] = []
    const d = new FrameDecoder((f) => got.push(toHex(f)), 16)
    const good1 = encodeFrame(hex('a1 a2'))
    const badCrc = encodeFrame(hex('b1 b2 b3'))
    badCrc[2]! ^= 0x01 // a data byte (never creates a 0x00 here)
    const badCobs = hex('05 11 22 00') // block of 4 announced, 2 present
    const short = hex('02 11 00') // decodes to 1 byte: no room for a CRC
    const oversize = new Uint8Array(40).fill(0x33) // 40 > maxFrame 16, then a delimiter
    const good2 = encodeFrame(hex('c1'))
    d.push(concat(hex('00 00'), good1, badCrc, badCobs, short, oversize, hex('00'), hex('00 00 00'), good2))
    assert.deepEqual(got, ['a1a2', 'c1'])
    const c = d.counters
    assert.deepEqual(
      { frames: c.frames, crc: c.crc, cobs: c.cobs, short: c.short, oversize: c.oversize },
      { frames: 2, crc: 1, cobs: 1, short: 1, oversize: 1 },
    )
    assert.equal(c.garbageBytes, badCrc.length - 1 + 3 + 2 + 40)
    assert.equal(d.buffered, 0)
  })

  it('random garbage and torn frames between good frames: no throw, every frame after a delimiter arrives, buffer bounded (seeded)', () => {
    const maxFrame = cobsMaxEncodedLength(64 + 2)
    const item = fc.oneof(
      fc.record({ kind: fc.constant('good' as const), bytes: fc.uint8Array({ maxLength: 64 }) }),
      fc.record({ kind: fc.constant('garbage' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 300 }) }),
      fc.record({ kind: fc.constant('torn' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }), cut: fc.nat() }),
    )
    fc.assert(
      fc.property(fc.array(item, { maxLength: 30 }), fc.integer({ min: 1, max: 97 }), (items, chunk) => {
        const got: string[] = []
        let maxBuffered = 0
        const d = new FrameDecoder((f) => got.push(toHex(f)), maxFrame)
        const parts: Uint8Array[] = []
        const guaranteed: string[] = []
        const sent = new Set<string>()
        let synced = true // the decoder starts at a frame boundary
        for (const it of items) {
          if (it.kind === 'good') {
            parts.push(encodeFrame(it.bytes))
            sent.add(toHex(it.bytes))
            if (synced) guaranteed.push(toHex(it.bytes))
            synced = true
          } else if (it.kind === 'garbage') {
            parts.push(it.bytes)
            synced = it.bytes[it.bytes.length - 1] === 0
          } else {
            const f = encodeFrame(it.bytes)
            parts.push(f.subarray(0, it.cut % (f.length - 1))) // never the delimiter
            synced = false
          }
        }
        const wire = concat(...parts)
        for (let i = 0; i < wire.length; i += chunk) {
          d.push(wire.subarray(i, i + chunk))
          maxBuffered = Math.max(maxBuffered, d.buffered)
        }
        assert.ok(maxBuffered <= maxFrame)
        // every frame that started on a boundary arrived, in order
        let j = 0
        for (const g of got) if (g === guaranteed[j]) j++
        assert.equal(j, guaranteed.length, `missing frames: ${guaranteed.slice(j).join(',')}`)
        // nothing but sent frames was delivered (the seed fixes the cases; a CRC collision would show here)
        for (const g of got) assert.ok(sent.has(g), `spurious frame ${g}`)
        assert.equal(d.counters.frames, got.length)
      }),
      { numRuns: 400, seed: 20240605 },
    )
  })
})

describe('streamFrameLink', () => {
  it('carries frames of 0..mtu bytes both ways over a pipe; rejects over-MTU frames at the sender', async () => {
    const { a, b } = pipePair()
    const la = streamFrameLink(a, { mtu: 222 })
    const lb = streamFrameLink(b, { mtu: 222 })
    const atB: Uint8Array[] = []
    const atA: Uint8Array[] = []
    lb.onFrame((f) => atB.push(f))
    la.onFrame((f) => atA.push(f))
    const sizes = [0, 1, 2, 20, 51, 115, 221, 222]
    const frames = sizes.map((n) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff))
    for (const f of frames) await la.send(f)
    await lb.send(Uint8Array.of(0, 0, 0))
    await new Promise((r) => setImmediate(r))
    assert.deepEqual(atB, frames)
    assert.deepEqual(atA, [Uint8Array.of(0, 0, 0)])
    await assert.rejects(la.send(new Uint8Array(223)), (e) => isHopsealError(e, 'FRAME_TOO_LARGE'))
    assert.equal(la.counters.framesSent, frames.length)
    assert.equal(lb.counters.frames, frames.length)
    // the first frame was preceded by one flushing 0x00
    assert.equal(la.counters.bytesSent, frames.reduce((s, f) => s + encodeFrame(f).length, 0) + 1)
    await la.close()
    assert.equal(la.up, false)
    await assert.rejects(la.send(Uint8Array.of(1)), (e) => isHopsealError(e, 'TRANSPORT_UNAVAILABLE'))
  })

  it('garbage written into the stream between frames does not break the link', async () => {
    const { a, b } = pipePair()
    const la = streamFrameLink(a, { mtu: 64 })
    const lb = streamFrameLink(b, { mtu: 64 })
    const got: string[] = []
    lb.onFrame((f) => got.push(toHex(f)))
    await la.send(hex('01'))
    a.write(hex('ff ff 13 37 00 42 42')) // junk, a delimiter, junk glued onto the next frame
    await la.send(hex('02')) // lost: glued to the junk
    a.write(new Uint8Array(500).fill(0x41)) // oversize run
    a.write(hex('00'))
    await la.send(hex('03'))
    await new Promise((r) => setImmediate(r))
    assert.deepEqual(got, ['01', '03'])
    assert.equal(lb.counters.oversize, 1)
    assert.ok((lb.counters.crc ?? 0) + (lb.counters.cobs ?? 0) + (lb.counters.short ?? 0) >= 2, JSON.stringify(lb.counters))
  })

  it('goes down when the stream closes; a throwing frame handler is counted, not fatal', async () => {
    const s = new PassThrough()
    const l = streamFrameLink(s, { mtu: 32 })
    const states: boolean[] = []
    l.onStateChange?.((up) => states.push(up))
    l.onFrame(() => {
      throw new Error('handler bug')
    })
    await l.send(hex('aa')) // loops back: PassThrough is both ends
    await new Promise((r) => setImmediate(r))
    assert.equal(l.counters.handlerErrors, 1)
    s.destroy()
    await once(s, 'close')
    assert.deepEqual(states, [false])
    assert.equal(l.up, false)
    await assert.rejects(l.send(hex('bb')), (e) => isHopsealError(e, 'TRANSPORT_UNAVAILABLE'))
  })

  it('works over a real TCP socket pair', async () => {
    const server = createServer()
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const port = (server.address() as { port: number }).port
    const accepted = once(server, 'connection') as Promise<[Socket]>
    const client = connect(port, '127.0.0.1')
    await once(client, 'connect')
    const [srv] = await accepted
    try {
      const lc = streamFrameLink(client, { mtu: 1024 })
      const ls = streamFrameLink(srv, { mtu: 1024 })
      const got: Uint8Array[] = []
      const all = new Promise<void>((resolve) =>
        ls.onFrame((f) => {
          got.push(f)
          if (got.length === 100) resolve()
        }),
      )
      const frames = Array.from({ length: 100 }, (_, i) => Uint8Array.from({ length: (i * 37) % 1025 }, (_, k) => (k + i) & 0xff))
      await Promise.all(frames.map((f) => lc.send(f)))
      await all
      assert.deepEqual(got, frames)
      assert.equal(ls.counters.garbageBytes, 0)
    } finally {
      client.destroy()
      srv.destroy()
      server.close()
    }
  })
})
