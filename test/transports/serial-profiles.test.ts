/**
 * Link profiles (profiles.ts, airtime.ts, pacing.ts, send-queue.ts): LoRa time
 * on air against published values and an independent re-derivation of the
 * Semtech formula, the LoRa MTU per EU868 data rate, the 1 % duty cycle
 * (time-off and sliding-window policies) and the send-queue bound, and BLE
 * 20-byte writes with their pacing, all on an injected clock (no real waits).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isHopsealError } from '../../src/errors.ts'
import { ManualClock, type Clock } from '../../src/time/clock.ts'
import {
  bleUartProfile,
  loraAirtimeMs,
  loraProfile,
  loraSymbolMs,
  parseFrame,
  rawProfile,
  SerialTransport,
  type LinkProfile,
  type LoraParams,
} from '../../targets/node/transports/serial/index.ts'
import { memoryLinkPair, type MemoryLink } from '../../hil-sim/links/memory-link.ts'

const code = (c: string) => (e: unknown) => isHopsealError(e, c)
const close = (a: number, b: number, what = ''): void => assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what} ${a} ≠ ${b}`)

/** Lets promise and setImmediate work settle (what ManualClock.runUntil does between timers). */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r))
}

/**
 * Independent re-derivation (AN1200.13 §4 / SX1276 datasheet §4.1.1.6), in
 * symbols and microseconds rather than the module's ms arithmetic:
 *   symbols = npreamble + 4.25 + 8 + max(ceil((8PL − 4SF + 28 + 16CRC − 20IH) / (4(SF − 2DE))) (CR + 4), 0)
 *   Tsym    = 2^SF / BW
 * DE is on when Tsym ≥ 16 ms (SF11 and SF12 at 125 kHz, SF12 at 250 kHz).
 */
function referenceAirtimeMs(pl: number, sf: number, bwHz = 125_000, cr = 1, preamble = 8, explicit = true, crc = true): number {
  const tSymUs = (2 ** sf * 1e6) / bwHz
  const de = tSymUs >= 16_000 ? 1 : 0
  const num = 8 * pl - 4 * sf + 28 + (crc ? 16 : 0) - (explicit ? 0 : 20)
  const den = 4 * (sf - 2 * de)
  const blocks = Math.max(Math.ceil(num / den), 0)
  const symbols = preamble + 4.25 + 8 + blocks * (cr + 4)
  return (symbols * tSymUs) / 1000
}

/** A transport with one link `l` over a memory cable; records the frames the peer end receives and when. */
function rig(profile: LinkProfile, clock: Clock, opts: { maxQueuedFrames?: number } = {}) {
  const [x, y] = memoryLinkPair({ mtu: Math.max(profile.mtu, 20) })
  const t = new SerialTransport({ clock, maxMessage: 4096, ...opts })
  t.addLink('l', x, profile)
  const rx: { at: number; frame: Uint8Array }[] = []
  y.onFrame((frame) => rx.push({ at: clock.now(), frame }))
  const send = (n: number, seed = 0): Promise<void> => t.send(t.linkAddress('l'), Uint8Array.from({ length: n }, (_, i) => (i + seed) & 0xff))
  return { t, x: x as MemoryLink, y, rx, send }
}

describe('LoRa time on air', () => {
  // BW 125 kHz, CR 4/5, 8 preamble symbols, explicit header, payload CRC on,
  // low data rate optimisation on for SF11/SF12 (symbol ≥ 16 ms).
  const published: [sf: number, bytes: number, ms: number, source: string][] = [
    // LoRaWAN frames with an empty application payload (13 bytes): The Things Network's figures
    [7, 13, 46.336, 'TTN'],
    [12, 13, 1155.072, 'TTN'],
    [9, 13, 164.864, 'AN1200.13 spreadsheet (avbentem), SF9 13 B'],
    // avbentem/airtime-calculator src/lora/Airtime.test.ts (checked against the AN1200.13 spreadsheet)
    [7, 14, 46.336, 'avbentem'],
    [7, 15, 46.336, 'avbentem'],
    [7, 16, 51.456, 'avbentem'],
    [7, 25, 61.696, 'avbentem'],
    [8, 14, 82.432, 'avbentem'],
    [8, 15, 92.672, 'avbentem'],
    [8, 16, 92.672, 'avbentem'],
    [8, 25, 113.152, 'avbentem'],
    [11, 14, 659.456, 'avbentem'],
    [11, 15, 659.456, 'avbentem'],
    [11, 16, 659.456, 'avbentem'],
    [11, 25, 823.296, 'avbentem'],
    // AN1200.13 spreadsheet (avbentem), 24 B application + 13 B LoRaWAN header = 37 B, every SF
    [7, 37, 82.176, 'sheet 37 B'],
    [8, 37, 143.872, 'sheet 37 B'],
    [9, 37, 267.264, 'sheet 37 B'],
    [10, 37, 493.568, 'sheet 37 B'],
    [11, 37, 1069.056, 'sheet 37 B'],
    [12, 37, 1974.272, 'sheet 37 B'],
  ]
  for (const [sf, bytes, ms, source] of published) {
    it(`SF${sf}, ${bytes} B: ${ms} ms (${source})`, () => {
      close(loraAirtimeMs(bytes, { sf }), ms)
      close(referenceAirtimeMs(bytes, sf), ms, 'the test re-derivation disagrees with the published value')
    })
  }

  it('other published settings: 250 kHz and coding rate 4/8 (avbentem)', () => {
    close(loraAirtimeMs(14, { sf: 7, bwHz: 250_000 }), 23.168)
    close(loraAirtimeMs(16, { sf: 7, bwHz: 250_000 }), 25.728)
    close(loraAirtimeMs(25, { sf: 7, bwHz: 250_000 }), 30.848)
    close(loraAirtimeMs(14, { sf: 7, cr: 4 }), 61.696)
    close(loraAirtimeMs(16, { sf: 7, cr: 4 }), 69.888)
    close(loraAirtimeMs(25, { sf: 7, cr: 4 }), 86.272)
  })

  it('matches the independent re-derivation for every SF 7..12, payload 0..255, CR 4/5..4/8, 125/250/500 kHz, header and CRC on/off', () => {
    let n = 0
    for (const sf of [7, 8, 9, 10, 11, 12])
      for (const bwHz of [125_000, 250_000, 500_000])
        for (const cr of [1, 2, 3, 4] as const)
          for (const explicitHeader of [true, false])
            for (const crc of [true, false])
              for (let pl = 0; pl <= 255; pl++) {
                const got = loraAirtimeMs(pl, { sf, bwHz, cr, explicitHeader, crc })
                const want = referenceAirtimeMs(pl, sf, bwHz, cr, 8, explicitHeader, crc)
                if (Math.abs(got - want) > 1e-9 * want) assert.fail(`SF${sf} ${bwHz} Hz CR4/${cr + 4} ${explicitHeader ? 'explicit' : 'implicit'} crc=${crc} ${pl} B: ${got} ≠ ${want}`)
                n++
              }
    assert.equal(n, 6 * 3 * 4 * 2 * 2 * 256)
    // preamble length adds whole symbols
    close(loraAirtimeMs(20, { sf: 9, preamble: 16 }) - loraAirtimeMs(20, { sf: 9 }), 8 * loraSymbolMs(9))
  })

  it('low data rate optimisation: automatic when a symbol lasts ≥ 16 ms, and overridable', () => {
    assert.equal(loraSymbolMs(10), 8.192)
    assert.equal(loraSymbolMs(11), 16.384)
    // SF11 at 125 kHz: on (DE = 1 divides by 4·(11 − 2) = 36 instead of 44)
    close(loraAirtimeMs(51, { sf: 11 }), loraAirtimeMs(51, { sf: 11, lowDataRateOptimize: true }))
    assert.ok(loraAirtimeMs(51, { sf: 11, lowDataRateOptimize: false }) < loraAirtimeMs(51, { sf: 11 }))
    // SF11 at 250 kHz: 8.192 ms symbols, off
    close(loraAirtimeMs(51, { sf: 11, bwHz: 250_000 }), loraAirtimeMs(51, { sf: 11, bwHz: 250_000, lowDataRateOptimize: false }))
    // SF10 at 125 kHz: off
    close(loraAirtimeMs(51, { sf: 10 }), loraAirtimeMs(51, { sf: 10, lowDataRateOptimize: false }))
  })

  it('airtime grows with the payload and the spreading factor', () => {
    for (let sf = 7; sf <= 12; sf++) {
      for (let pl = 1; pl <= 255; pl++) assert.ok(loraAirtimeMs(pl, { sf }) >= loraAirtimeMs(pl - 1, { sf }))
      if (sf > 7) assert.ok(loraAirtimeMs(51, { sf }) > loraAirtimeMs(51, { sf: sf - 1 }))
    }
  })

  it('rejects bad parameters with INVALID_ARGUMENT', () => {
    const bad: [number, LoraParams][] = [
      [256, { sf: 7 }],
      [-1, { sf: 7 }],
      [1.5, { sf: 7 }],
      [10, { sf: 6 }],
      [10, { sf: 13 }],
      [10, { sf: 7.5 }],
      [10, { sf: 7, bwHz: 0 }],
      [10, { sf: 7, bwHz: Number.NaN }],
      [10, { sf: 7, cr: 5 as 1 }],
      [10, { sf: 7, preamble: 5 }],
    ]
    for (const [pl, p] of bad) assert.throws(() => loraAirtimeMs(pl, p), code('INVALID_ARGUMENT'), JSON.stringify([pl, p]))
  })
})

describe('LoRa profile', () => {
  it('MTU and spreading factor per EU868 data rate: DR0..DR2 → 51, DR3 → 115, DR4..DR5 → 222', () => {
    const expected: [dr: number, sf: number, mtu: number][] = [
      [0, 12, 51],
      [1, 11, 51],
      [2, 10, 51],
      [3, 9, 115],
      [4, 8, 222],
      [5, 7, 222],
    ]
    for (const [dr, sf, mtu] of expected) {
      const p = loraProfile({ dataRate: dr })
      assert.equal(p.name, 'lora')
      assert.equal(p.mtu, mtu, `DR${dr}`)
      assert.equal(loraProfile({ sf }).mtu, mtu, `SF${sf}`)
      for (const n of [1, 13, mtu]) assert.equal(p.airtimeMs(n), loraAirtimeMs(n, { sf }), `DR${dr} ${n} B`)
      assert.equal(p.writeIntervalMs, 0)
    }
    assert.equal(loraProfile().mtu, 222) // SF7
    assert.equal(loraProfile({ sf: 12, mtu: 100 }).mtu, 100)
  })

  it('defaults to a 1 % duty cycle over a sliding hour; reassembly waits out the longest silence + 30 s', () => {
    const p = loraProfile({ dataRate: 0 })
    assert.deepEqual(p.dutyCycle, { ratio: 0.01, policy: 'window', windowMs: 3_600_000 })
    assert.equal(p.reassemblyTimeoutMs, 3_600_000 + 30_000)
    const off = loraProfile({ dataRate: 0, dutyPolicy: 'time-off' })
    assert.equal(off.reassemblyTimeoutMs, Math.ceil(loraAirtimeMs(51, { sf: 12 }) / 0.01) + 30_000)
    const free = loraProfile({ dutyCycle: 1 })
    assert.equal(free.dutyCycle, undefined)
    assert.equal(loraProfile({ reassemblyTimeoutMs: 1234 }).reassemblyTimeoutMs, 1234)
  })

  it('rejects bad options with INVALID_ARGUMENT', () => {
    assert.throws(() => loraProfile({ dataRate: 6 }), code('INVALID_ARGUMENT'))
    assert.throws(() => loraProfile({ dataRate: 0, sf: 7 }), code('INVALID_ARGUMENT')) // DR0 is SF12
    assert.throws(() => loraProfile({ sf: 13 }), code('INVALID_ARGUMENT'))
    assert.throws(() => loraProfile({ mtu: 256 }), code('INVALID_ARGUMENT'))
    assert.throws(() => loraProfile({ mtu: 3 }), code('INVALID_ARGUMENT'))
    assert.throws(() => loraProfile({ dutyCycle: 0 }), code('INVALID_ARGUMENT'))
    assert.throws(() => loraProfile({ dutyCycle: 1.5 }), code('INVALID_ARGUMENT'))
    assert.throws(() => loraProfile({ dutyPolicy: 'never' as 'window' }), code('INVALID_ARGUMENT'))
    // a 51-byte SF12 frame (2.5 s on air) can never fit a 1 % budget of 1 s per 100 s
    assert.throws(() => loraProfile({ dataRate: 0, windowMs: 100_000 }), code('INVALID_ARGUMENT'))
    assert.throws(() => loraProfile({ reassemblyTimeoutMs: 0 }), code('INVALID_ARGUMENT'))
  })
})

describe('duty cycle and send queue (injected clock)', () => {
  it('time-off at 1 %: a frame of airtime T keeps the radio silent for 99·T after it ends', async () => {
    const clock = new ManualClock()
    const profile = loraProfile({ sf: 7, dutyPolicy: 'time-off' })
    const T = loraAirtimeMs(51, { sf: 7 }) // a 50-byte message in one frame: 0x00 + 50 bytes
    const r = rig(profile, clock)
    const done: number[] = []
    const sends = [0, 1, 2].map((i) => r.send(50, i).then(() => done.push(clock.now())))
    await clock.runUntil(100 * T - 1)
    assert.equal(r.rx.length, 1, 'the second frame waits for its budget')
    await clock.runUntil(1000 * T)
    await Promise.all(sends)
    assert.equal(r.rx.length, 3)
    const at = r.rx.map((f) => f.at)
    close(at[0]!, 0)
    close(at[1]!, 100 * T)
    close(at[2]!, 200 * T)
    close(at[1]! - (at[0]! + T), 99 * T, 'silence after frame 1')
    assert.deepEqual(done.map((d, i) => Math.abs(d - at[i]!) < 1e-9), [true, true, true]) // each send settled when its frame left
    const st = r.t.stats('l')
    close(st.airtimeMs, 3 * T)
    close(st.waitedMs, 200 * T)
    assert.equal(st.framesSent, 3)
    assert.equal(st.bytesSent, 3 * 51)
    await r.t.close()
  })

  it('sliding window at 1 %: bursts up to ratio × window, then a frame waits until the oldest leaves the window', async () => {
    const clock = new ManualClock()
    const T = loraAirtimeMs(51, { sf: 7 })
    const W = 350 * T // budget 3.5·T: three frames fit, a fourth does not
    const profile = loraProfile({ sf: 7, mtu: 51, windowMs: W })
    const r = rig(profile, clock)
    const sends = [0, 1, 2, 3, 4].map((i) => r.send(50, i))
    await clock.runUntil(W)
    assert.equal(r.rx.length, 3)
    await clock.runUntil(3 * W)
    await Promise.all(sends)
    const at = r.rx.map((f) => f.at)
    // one transmission at a time, then the window: frame 1 leaves at T + W, frame 2 at 2T + W
    const want = [0, T, 2 * T, T + W, 2 * T + W]
    want.forEach((w, i) => close(at[i]!, w, `frame ${i}`))
    close(r.t.stats('l').airtimeMs, 5 * T)
    await r.t.close()
  })

  it('the default hour window lets a burst within 1 % go out back to back', async () => {
    const clock = new ManualClock()
    const profile = loraProfile({ dataRate: 0 }) // SF12, 51-byte frames of ~2.5 s, 36 s of budget per hour
    const T = loraAirtimeMs(51, { sf: 12 })
    const r = rig(profile, clock)
    const n = Math.floor(36_000 / T) // 14 frames fit the hourly budget
    const sends = Array.from({ length: n + 1 }, (_, i) => r.send(50, i))
    await clock.runUntil(n * T)
    assert.equal(r.rx.length, n)
    r.rx.forEach((f, i) => close(f.at, i * T, `frame ${i}`))
    await clock.runUntil(3_600_000 + T)
    await Promise.all(sends)
    close(r.rx[n]!.at, 3_600_000 + T) // the first frame left the window
    await r.t.close()
  })

  it('the queue is bounded (maxQueuedFrames): a message that does not fit rejects LIMIT_EXCEEDED and is counted; queued ones still go', async () => {
    const clock = new ManualClock()
    const T = loraAirtimeMs(51, { sf: 7 })
    const r = rig(loraProfile({ sf: 7, mtu: 51, dutyPolicy: 'time-off' }), clock, { maxQueuedFrames: 4 })
    const ok = [r.send(50, 0)] // handed to the link at once: the queue is empty again
    for (let i = 1; i <= 4; i++) ok.push(r.send(50, i)) // 4 frames waiting
    await assert.rejects(r.send(50, 5), code('LIMIT_EXCEEDED'))
    await assert.rejects(r.send(10, 6), code('LIMIT_EXCEEDED'))
    assert.equal(r.t.stats('l').drops.queue_full, 2)
    await clock.runUntil(500 * T)
    await Promise.all(ok)
    assert.deepEqual(
      r.rx.map((f) => f.frame[1]),
      [0, 1, 2, 3, 4],
    )
    r.rx.forEach((f, i) => close(f.at, 100 * i * T, `frame ${i}`))
    // a message of more fragments than the whole queue never fits: 5 × 48 bytes at MTU 51
    await assert.rejects(r.send(5 * 48), code('LIMIT_EXCEEDED'))
    assert.equal(r.t.stats('l').drops.queue_full, 3)
    await r.t.close()
  })

  it('messages waiting for budget fail TRANSPORT_UNAVAILABLE when the link goes down (counted link_down); sends while down reject at once', async () => {
    const clock = new ManualClock()
    const r = rig(loraProfile({ sf: 7, mtu: 51, dutyPolicy: 'time-off' }), clock)
    const first = r.send(50, 0)
    const waiting = [r.send(50, 1), r.send(200, 2)] // one frame, then five fragments
    const settled = waiting.map((p) => p.then(() => 'sent', (e: unknown) => (isHopsealError(e, 'TRANSPORT_UNAVAILABLE') ? 'unavailable' : String(e))))
    await first
    await settle() // frame 0 delivered (an unplug loses frames in flight)
    r.x.setUp(false)
    assert.deepEqual(await Promise.all(settled), ['unavailable', 'unavailable'])
    assert.equal(r.t.stats('l').drops.link_down, 2)
    await assert.rejects(r.send(10), code('TRANSPORT_UNAVAILABLE'))
    r.x.setUp(true)
    await clock.runUntil(1_000_000)
    await r.send(10, 9)
    await settle()
    assert.deepEqual(
      r.rx.map((f) => f.frame[1]),
      [0, 9],
    )
    await r.t.close()
  })
})

describe('BLE UART profile', () => {
  it('defaults: 20-byte writes, one per 8 ms, LE 1M airtime (17 + n bytes at 8 µs)', () => {
    const p = bleUartProfile()
    assert.equal(p.name, 'ble-uart')
    assert.equal(p.mtu, 20)
    assert.equal(p.writeIntervalMs, 8)
    close(p.airtimeMs(20), 37 * 0.008)
    assert.equal(p.dutyCycle, undefined)
    assert.equal(bleUartProfile({ mtu: 244, writeIntervalMs: 15 }).mtu, 244)
    assert.throws(() => bleUartProfile({ mtu: 513 }), code('INVALID_ARGUMENT'))
    assert.throws(() => bleUartProfile({ writeIntervalMs: -1 }), code('INVALID_ARGUMENT'))
    assert.throws(() => rawProfile({ mtu: 3 }), code('INVALID_ARGUMENT'))
  })

  for (const interval of [8, 15]) {
    it(`a 100-byte message goes as 20-byte writes, one every ${interval} ms`, async () => {
      const clock = new ManualClock()
      const r = rig(bleUartProfile({ writeIntervalMs: interval }), clock)
      const sent = r.send(100)
      await clock.runUntil(10 * interval)
      await sent
      assert.deepEqual(
        r.rx.map((f) => f.frame.length),
        [20, 20, 20, 20, 20, 18], // 5 × 17 + 15 bytes under 3-byte headers
      )
      assert.deepEqual(
        r.rx.map((f) => f.at),
        [0, 1, 2, 3, 4, 5].map((i) => i * interval),
      )
      assert.deepEqual(
        r.rx.map((f) => {
          const p = parseFrame(f.frame)
          return p.kind === 'fragment' ? [p.index, p.last] : []
        }),
        [0, 1, 2, 3, 4, 5].map((i) => [i, 5]),
      )
      const st = r.t.stats('l')
      close(st.airtimeMs, (5 * 37 + 35) * 0.008)
      close(st.waitedMs, 5 * interval)
      await r.t.close()
    })
  }

  it('without a write interval, writes are spaced by their airtime only', async () => {
    const clock = new ManualClock()
    const r = rig(bleUartProfile({ writeIntervalMs: 0 }), clock)
    const sent = r.send(40) // 17 + 17 + 6
    await clock.runUntil(10)
    await sent
    const a = (20 + 17) * 0.008
    const want = [0, a, 2 * a]
    r.rx.forEach((f, i) => close(f.at, want[i]!, `write ${i}`))
    await r.t.close()
  })

  it('a raw profile sends back to back with no waiting', async () => {
    const clock = new ManualClock()
    const r = rig(rawProfile({ mtu: 20 }), clock)
    await Promise.all([r.send(100), r.send(5)])
    await settle()
    assert.equal(r.rx.length, 7)
    assert.ok(r.rx.every((f) => f.at === 0))
    assert.equal(r.t.stats('l').waitedMs, 0)
    assert.equal(r.t.stats('l').airtimeMs, 0)
    await r.t.close()
  })
})
