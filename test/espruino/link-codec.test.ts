/**
 * The device's serial link modules (targets/espruino/src/link) in the real
 * Espruino interpreter against Node's targets/node/transports/serial, byte for byte:
 * - the interpreter fragments and frames seeded messages (MTU 51, 20, 222):
 *   the wire bytes equal Node's, and Node's decoder and reassembler get the
 *   messages back;
 * - Node's wire bytes, cut into seeded chunks with corrupted frames and
 *   garbage between them, go through the device link's receive path: the same
 *   messages come out and the decoder counts what Node's counts;
 * - one adversarial fragment sequence (colliding ids, duplicates, losses,
 *   changed `last`, evictions) gives both reassemblers the same messages and
 *   drop counts;
 * - LoRa airtime and profile fields, pacing schedules (window and time-off
 *   duty cycles, BLE write interval), and the device's paced send queue on a
 *   manual clock writing exactly the frames Node would, when Node's pacing
 *   gate would start them.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { spawnEspruino } from '../../hil-sim/scenario/espruino.ts'
import { ManualClock } from '../../src/time/clock.ts'
import { PacingGate } from '../../targets/node/transports/serial/pacing.ts'
import { bleUartProfile, encodeFrame, FrameDecoder, fragmentMessage, loraAirtimeMs, loraProfile, parseFrame, Reassembler, type LinkProfile } from '../../targets/node/transports/serial/index.ts'
import { skipUnlessEspruino, wrapModules } from './harness.ts'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const unhex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'))
// the link modules, dependencies first (routing/bytes: their typed errors)
const LINK = ['routing/bytes', 'link/frame', 'link/fragment', 'link/profile', 'link/serial']

/** mulberry32: a small seeded PRNG for test data. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const rnd = prng(15)
const int = (n: number): number => Math.floor(rnd() * n)
const MTUS = [51, 20, 222]
const LENGTHS = [0, 1, 2, 16, 17, 18, 19, 20, 21, 47, 48, 49, 50, 51, 52, 96, 97, 219, 220, 221, 222, 251, 252, 253, 254, 255, 256, 300, 444, 508, 509, 520]

/** Seeded messages: edge lengths around every MTU and COBS run, all-zero, all-0xFF, zero-rich and random contents. */
function messages(): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let i = 0; i < LENGTHS.length + 6; i++) {
    const n = i < LENGTHS.length ? LENGTHS[i]! : 1 + int(400)
    const m = new Uint8Array(n)
    const kind = i % 4
    for (let j = 0; j < n; j++) m[j] = kind === 0 ? int(256) : kind === 1 ? (int(4) === 0 ? 0 : int(256)) : kind === 2 ? 0xff : i % 8 === 3 ? 0 : 1 + int(255)
    out.push(m)
  }
  return out
}

/** Node's frames of message i: MTU and msgId as the device is told. */
function nodeFrames(m: Uint8Array, i: number): Uint8Array[] {
  return fragmentMessage(m, MTUS[i % 3]!, (i * 37) % 128)
}

function wire(frames: Uint8Array[], flushFirst: boolean): Uint8Array {
  const parts = frames.map((f) => encodeFrame(f))
  if (flushFirst) parts.unshift(Uint8Array.of(0))
  return Uint8Array.from(parts.flatMap((p) => [...p]))
}

/** Node decodes a wire byte string into whole messages (FrameDecoder, parseFrame, Reassembler). */
function nodeDecode(bytes: Uint8Array): { messages: string[]; counters: Record<string, number> } {
  const clock = new ManualClock()
  const re = new Reassembler({ clock, timeoutMs: 5000, maxMessages: 4, maxBytes: 4096, maxMessage: 2048 })
  const out: string[] = []
  const dec = new FrameDecoder((f) => {
    const p = parseFrame(f)
    if (p.kind === 'whole') out.push(hex(p.payload))
    else if (p.kind === 'fragment') {
      const m = re.push(p)
      if (m) out.push(hex(m))
    }
  }, 1024)
  dec.push(bytes)
  return { messages: out, counters: { ...dec.counters } }
}

describe('Espruino link codec against targets/node/transports/serial', { skip: skipUnlessEspruino() }, () => {
  it('frames, fragments, reassembly, profiles and pacing are byte-identical both ways', { timeout: 300_000 }, async () => {
    const msgs = messages()

    // Node -> device: the stream Node's link would write, cut into chunks, with damage between frames.
    const stream: number[] = []
    const expectedRx: string[] = []
    msgs.forEach((m, i) => {
      const frames = nodeFrames(m, i)
      if (i % 7 === 3) {
        const bad = encodeFrame(frames[0]!)
        bad[1] = bad[1]! ^ 0x40 // a corrupted copy: counted, never delivered
        stream.push(...bad)
      }
      if (i % 11 === 5) stream.push(0x13, 0x37, 0x99, 0x00) // garbage up to a delimiter
      stream.push(...wire(frames, i === 0))
      expectedRx.push(hex(m))
    })
    const rxStream = Uint8Array.from(stream)
    const chunks: string[] = []
    for (let o = 0; o < rxStream.length; ) {
      const n = 1 + int(40)
      chunks.push(hex(rxStream.subarray(o, o + n)))
      o += n
    }

    // Adversarial fragment sequence for both reassemblers: a scripted part that hits every drop
    // reason, then seeded messages with losses, duplicates and local reordering.
    const bytes = (n: number): Uint8Array => new Uint8Array(n).map(() => int(256))
    const fr = (n: number, id: number): Uint8Array[] => fragmentMessage(bytes(n), 20, id)
    const a = fr(40, 10)
    const b = fr(60, 11)
    const others = [12, 13, 14, 15].map((id) => fr(30, id))
    const big = fr(300, 20) // over maxMessage 250: too_large
    const frags: Uint8Array[] = [
      ...a, // delivered
      a[1]!, // a completed id: duplicate
      b[0]!,
      b[0]!, // duplicate
      Uint8Array.from([b[1]![0]!, 1, 9, ...b[1]!.subarray(3)]), // another `last`: inconsistent, B restarts
      ...others.map((o) => o[0]!), // a fifth partial: the oldest (B) evicted
      ...big,
      ...others.map((o) => o[1]!), // delivered
    ]
    for (let k = 0; k < 14; k++) {
      const fs = fr(18 + int(200), (40 + k * 5) % 128)
      for (const f of fs) {
        const r = rnd()
        if (r < 0.1) continue // lost
        frags.push(f)
        if (r > 0.9) frags.push(f) // duplicate
      }
    }
    for (let k = frags.length - 1; k > 30; k--) {
      if (rnd() < 0.3) {
        const j = k - 1 - int(4) // reordered locally, as a radio does
        ;[frags[k], frags[j]] = [frags[j]!, frags[k]!]
      }
    }
    const reNode: string[] = []
    const reDrops: Record<string, number> = {}
    const re = new Reassembler({ clock: new ManualClock(), timeoutMs: 60_000, maxMessages: 4, maxBytes: 500, maxMessage: 250, onDrop: (r) => void (reDrops[r] = (reDrops[r] ?? 0) + 1) })
    for (const f of frags) {
      const p = parseFrame(f)
      if (p.kind !== 'fragment') continue
      const m = re.push(p)
      if (m) reNode.push(hex(m))
    }

    // Expiry on a clock: Node's timer drops the partial, the device finds it stale at the next fragment.
    const x = fr(30, 30)
    const xClock = new ManualClock()
    const xDrops: Record<string, number> = {}
    const xr = new Reassembler({ clock: xClock, timeoutMs: 5000, maxMessages: 4, maxBytes: 500, maxMessage: 250, onDrop: (r) => void (xDrops[r] = (xDrops[r] ?? 0) + 1) })
    const xOut: string[] = []
    for (const [at, f] of [[0, x[0]!], [6000, x[1]!], [6001, x[0]!]] as const) {
      xClock.advance(at - xClock.now())
      const p = parseFrame(f)
      if (p.kind === 'fragment') {
        const m = xr.push(p)
        if (m) xOut.push(hex(m))
      }
    }
    assert.deepEqual(xDrops, { expired: 1 })
    assert.equal(xOut.length, 1)

    // Airtime table and pacing schedules.
    const air: [number, number, number, number][] = []
    for (const sf of [7, 8, 9, 10, 11, 12]) for (const cr of [1, 2, 3, 4]) for (const bw of [125_000, 250_000]) for (const n of [0, 1, 13, 51, 115, 222, 255]) air.push([n, sf, cr, bw])
    const gateCases: { name: string; spec: Record<string, unknown>; node: LinkProfile }[] = [
      { name: 'lora DR0 window', spec: { name: 'lora', dataRate: 0 }, node: loraProfile({ dataRate: 0 }) },
      { name: 'lora SF7 time-off', spec: { name: 'lora', sf: 7, dutyPolicy: 'time-off' }, node: loraProfile({ sf: 7, dutyPolicy: 'time-off' }) },
      { name: 'lora SF9 10% window 60 s', spec: { name: 'lora', sf: 9, dutyCycle: 0.1, windowMs: 60_000 }, node: loraProfile({ sf: 9, dutyCycle: 0.1, windowMs: 60_000 }) },
      { name: 'ble-uart', spec: { name: 'ble-uart' }, node: bleUartProfile() },
    ]
    const gateFrames = Array.from({ length: 40 }, () => [4 + int(48), int(3) === 0 ? int(2000) : 0])
    const nodeSchedules = gateCases.map((c) => {
      const g = new PacingGate(c.node)
      let now = 0
      return gateFrames.map(([n, gap]) => {
        const a = c.node.airtimeMs(n!)
        const t = g.earliest(now, a)
        g.record(t, a)
        now = t + gap!
        return t
      })
    })

    // The device's send queue on a manual clock: 8 messages of 100 bytes at DR0 (24 frames; the budget is 14 per hour).
    const qMsgs = Array.from({ length: 8 }, (_, k) => new Uint8Array(100).map((_, j) => (j * 7 + k) & 0xff))
    const qProfile = loraProfile({ dataRate: 0 })
    const qFrames = qMsgs.flatMap((m, k) => fragmentMessage(m, 51, (5 + k) % 128))
    const qGate = new PacingGate(qProfile)
    let qNow = 0
    const qExpected = qFrames.map((f, k) => {
      const a = qProfile.airtimeMs(f.length)
      const t = qGate.earliest(qNow, a)
      qGate.record(t, a)
      qNow = t
      return { at: t, wire: hex(k === 0 ? Uint8Array.from([0, ...encodeFrame(f)]) : encodeFrame(f)) }
    })

    const list = (a: string[]): string => a.map((h) => `'${h}'`).join(',\n')
    const code = `${wrapModules(LINK)}
var F = require('hopseal/link/frame'), G = require('hopseal/link/fragment'), Pr = require('hopseal/link/profile'), S = require('hopseal/link/serial');
function fromHex(h) { var b = new Uint8Array(h.length / 2); for (var i = 0; i < b.length; i++) b[i] = parseInt(h.substr(2 * i, 2), 16); return b; }
function hex(b) { var s = ''; for (var i = 0; i < b.length; i++) s += (b[i] < 16 ? '0' : '') + b[i].toString(16); return s; }
var MTUS = [51, 20, 222], MSGS = [${list(msgs.map(hex))}];
var i, j;
// 1. encode
for (i = 0; i < MSGS.length; i++) {
  var fr = G.split(fromHex(MSGS[i]), MTUS[i % 3], (i * 37) % 128), w = '';
  for (j = 0; j < fr.length; j++) w += hex(F.encode(fr[j], i === 0 && j === 0));
  console.log('E ' + i + ' ' + w);
}
// 2. receive through the link
var fake = { on: function (ev, fn) { this.fn = fn; }, write: function () {} };
var link = S.open(fake, Pr.raw({ mtu: 222 }));
link.onMessage(function (m) { console.log('R ' + hex(m)); });
var CH = [${list(chunks)}];
for (i = 0; i < CH.length; i++) fake.fn(i % 2 ? E.toString(fromHex(CH[i])) : fromHex(CH[i]));
console.log('RC ' + JSON.stringify(link.decoder.counters) + ' ' + JSON.stringify(link.stats.drops));
// 3. reassembly
var drops = {};
var re = new G.Reassembler({ now: function () { return 0; }, timeoutMs: 60000, maxMessages: 4, maxBytes: 500, maxMessage: 250, onDrop: function (r) { drops[r] = (drops[r] || 0) + 1; } });
var FR = [${list(frags.map(hex))}];
for (i = 0; i < FR.length; i++) {
  var p = G.parse(fromHex(FR[i]));
  if (p.drop !== undefined || p.whole !== undefined) continue;
  var m = re.push(p);
  if (m !== undefined) console.log('A ' + hex(m));
}
console.log('AD ' + JSON.stringify(drops));
var xt = 0, xd = {}, X = [${list(x.map(hex))}];
var xr = new G.Reassembler({ now: function () { return xt; }, timeoutMs: 5000, maxMessages: 4, maxBytes: 500, maxMessage: 250, onDrop: function (r) { xd[r] = (xd[r] || 0) + 1; } });
[[0, 0], [6000, 1], [6001, 0]].forEach(function (s) { xt = s[0]; var m = xr.push(G.parse(fromHex(X[s[1]]))); if (m !== undefined) console.log('XM ' + hex(m)); });
console.log('XD ' + JSON.stringify(xd));
// 4. airtime and profiles
var AIR = ${JSON.stringify(air)};
for (i = 0; i < AIR.length; i++) console.log('T ' + i + ' ' + Pr.loraAirtimeMs(AIR[i][0], { sf: AIR[i][1], cr: AIR[i][2], bwHz: AIR[i][3] }));
for (i = 0; i < 6; i++) { var lp = Pr.lora({ dataRate: i }); console.log('L ' + i + ' ' + lp.mtu + ' ' + lp.reassemblyTimeoutMs + ' ' + JSON.stringify(lp.dutyCycle)); }
var to = Pr.lora({ sf: 12, dutyPolicy: 'time-off' }); console.log('L to ' + to.mtu + ' ' + to.reassemblyTimeoutMs);
var b = Pr.bleUart(); console.log('L ble ' + b.mtu + ' ' + b.writeIntervalMs + ' ' + b.airtimeMs(20) + ' ' + b.reassemblyTimeoutMs);
var BAD = [{ name: 'lora', dataRate: 6 }, { name: 'lora', sf: 12, dutyCycle: 0.0005 }, { name: 'lora', sf: 12, dataRate: 1 }, { name: 'ble-uart', mtu: 3 }, { name: 'lora', dutyCycle: 0 }, { name: 'mesh' }];
for (i = 0; i < BAD.length; i++) { try { Pr.make(BAD[i]); console.log('BAD ' + i + ' accepted'); } catch (e) { console.log('BAD ' + i + ' ' + e.code); } }
// 5. pacing schedules
var GC = ${JSON.stringify(gateCases.map((c) => c.spec))}, GF = ${JSON.stringify(gateFrames)};
for (i = 0; i < GC.length; i++) {
  var prof = Pr.make(GC[i]), g = new Pr.Gate(prof), now = 0, ts = [];
  for (j = 0; j < GF.length; j++) { var a = prof.airtimeMs(GF[j][0]), t = g.earliest(now, a); g.record(t, a); now = t + GF[j][1]; ts.push(t); }
  console.log('G ' + i + ' ' + JSON.stringify(ts));
}
// 6. the paced send queue on a manual clock
var vnow = 0, timers = [], writes = [];
var clock = { now: function () { return vnow; }, setTimeout: function (f, ms) { var t = { at: vnow + ms, f: f }; timers.push(t); return t; }, clearTimeout: function (t) { var k = timers.indexOf(t); if (k >= 0) timers.splice(k, 1); } };
var q = S.open({ on: function () {}, write: function (w) { writes.push(vnow + ' ' + hex(w)); } }, Pr.lora({ dataRate: 0 }), { clock: clock, msgId: 5 });
var settled = 0;
for (i = 0; i < 8; i++) { var qm = new Uint8Array(100); for (j = 0; j < 100; j++) qm[j] = (j * 7 + i) & 0xff; q.send(qm, function (e) { settled += e ? 100 : 1; }); }
var over = q.send(new Uint8Array(20000));
over.then(function () { console.log('OVER accepted'); }, function (e) { console.log('OVER ' + e.code); });
while (timers.length) { timers.sort(function (x, y) { return x.at - y.at; }); var tm = timers.shift(); vnow = tm.at; tm.f(); }
for (i = 0; i < writes.length; i++) console.log('W ' + writes[i]);
setTimeout(function () { console.log('Q ' + settled + ' ' + JSON.stringify(q.stats)); console.log('END'); }, 10);
`
    const dev = spawnEspruino(code, { bundle: false })
    try {
      await dev.waitFor((l) => l === 'END', 240_000)
      // (the harness trims lines: an empty message prints as the bare tag)
      const lines = dev.lines.map((l) => l.replace(/^[\r>]+/, '')) // the console may start a line with CR or a prompt
      const rows = (tag: string): string[] => lines.filter((l) => l === tag || l.startsWith(tag + ' ')).map((l) => l.slice(tag.length + 1))

      // 1. device encodes, bytes compared, Node decodes
      const enc = rows('E')
      assert.equal(enc.length, msgs.length, 'every message encoded')
      const all: number[] = []
      enc.forEach((l, i) => {
        const [idx, w] = l.split(' ')
        assert.equal(Number(idx), i)
        assert.equal(w, hex(wire(nodeFrames(msgs[i]!, i), i === 0)), `message ${i} (${msgs[i]!.length} bytes, MTU ${MTUS[i % 3]}): wire bytes`)
        all.push(...unhex(w!))
      })
      const back = nodeDecode(Uint8Array.from(all))
      assert.deepEqual(back.messages, msgs.map(hex), 'Node decodes the device wire')
      assert.equal(back.counters.crc! + back.counters.cobs! + back.counters.short! + back.counters.oversize!, 0)

      // 2. Node encodes, device decodes
      assert.deepEqual(rows('R'), expectedRx, 'device link delivers Node-encoded messages in order')
      const nodeRx = new FrameDecoder(() => undefined, 225)
      for (const c of chunks) nodeRx.push(unhex(c))
      const [rc, rdrops] = rows('RC')[0]!.split(' ')
      const devCounters = JSON.parse(rc!) as Record<string, number>
      for (const k of ['frames', 'crc', 'cobs', 'short', 'oversize', 'garbageBytes'] as const) assert.equal(devCounters[k], nodeRx.counters[k], `decoder counter ${k}`)
      assert.ok(nodeRx.counters.crc > 0, 'the damage was seen')
      assert.deepEqual(JSON.parse(rdrops!), {})

      // 3. reassembly
      assert.deepEqual(rows('A'), reNode, 'reassembled messages')
      assert.deepEqual(JSON.parse(rows('AD')[0]!), reDrops, 'reassembly drops by reason')
      assert.ok(reNode.length >= 3 && ['duplicate', 'inconsistent', 'evicted', 'too_large'].every((k) => reDrops[k]! > 0), `the sequence exercised drops: ${JSON.stringify(reDrops)}, ${reNode.length} messages`)

      assert.deepEqual(rows('XM'), xOut, 'expiry: the restarted message completes')
      assert.deepEqual(JSON.parse(rows('XD')[0]!), xDrops, 'expiry: one partial expired')

      // 4. airtime and profiles
      const t = rows('T')
      assert.equal(t.length, air.length)
      for (const l of t) {
        const [i, v] = l.split(' ')
        const [n, sf, cr, bw] = air[Number(i)]!
        const want = loraAirtimeMs(n, { sf, cr: cr as 1 | 2 | 3 | 4, bwHz: bw })
        assert.ok(Math.abs(Number(v) - want) < 1e-9 * want, `airtime ${air[Number(i)]!.join('/')}: ${v} vs ${want}`)
      }
      const l = rows('L')
      for (let d = 0; d < 6; d++) {
        const p = loraProfile({ dataRate: d })
        assert.equal(l[d], `${d} ${p.mtu} ${p.reassemblyTimeoutMs} ${JSON.stringify(p.dutyCycle)}`)
      }
      const pto = loraProfile({ sf: 12, dutyPolicy: 'time-off' })
      assert.equal(l[6], `to ${pto.mtu} ${pto.reassemblyTimeoutMs}`)
      const pb = bleUartProfile()
      const [, bm, bw, ba, brt] = l[7]!.split(' ')
      assert.deepEqual([Number(bm), Number(bw), Number(brt)], [pb.mtu, pb.writeIntervalMs, pb.reassemblyTimeoutMs])
      assert.ok(Math.abs(Number(ba) - pb.airtimeMs(20)) < 1e-12)
      assert.deepEqual(rows('BAD').map((r) => r.split(' ')[1]), Array(6).fill('INVALID_ARGUMENT'))

      // 5. pacing schedules
      const g = rows('G')
      assert.equal(g.length, gateCases.length)
      g.forEach((r, i) => {
        const got = JSON.parse(r.split(' ')[1]!) as number[]
        got.forEach((v, k) => assert.ok(Math.abs(v - nodeSchedules[i]![k]!) < 1e-6, `${gateCases[i]!.name} frame ${k}: ${v} vs ${nodeSchedules[i]![k]}`))
      })
      assert.ok(nodeSchedules[0]![39]! > 3_600_000, 'the DR0 schedule waited for the hourly window')

      // 6. send queue
      const w = rows('W').map((r) => r.split(' '))
      assert.equal(w.length, qExpected.length, 'every frame written')
      w.forEach(([at, bytes], k) => {
        assert.equal(bytes, qExpected[k]!.wire, `queued frame ${k}: wire bytes`)
        assert.ok(Math.abs(Number(at) - qExpected[k]!.at) < 1e-3, `queued frame ${k} starts at ${at}, Node's gate says ${qExpected[k]!.at}`)
      })
      assert.ok(qExpected[23]!.at > 3_600_000)
      const q = rows('Q')[0]!
      const settled = q.slice(0, q.indexOf(' '))
      const qs = JSON.parse(q.slice(q.indexOf(' ') + 1)) as { framesSent: number; waitedMs: number }
      assert.equal(settled, '8', 'every message resolved')
      assert.equal(qs.framesSent, 24)
      assert.ok(qs.waitedMs > 3_000_000, `waited for the duty cycle: ${qs.waitedMs} ms`)
      assert.deepEqual(rows('OVER'), ['FRAME_TOO_LARGE'])
      console.log(`# ran ${enc.length} encoded messages, ${rows('R').length} received, ${reNode.length} reassembled, ${t.length} airtimes, ${g.length} schedules, ${w.length} queued frames`)
    } finally {
      await dev.stop()
    }
  })
})
