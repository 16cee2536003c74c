/**
 * The device's serial link in the real Espruino interpreter over a real
 * socat PTY pair (`Serial1.setup(115200, { path })`), Node's SerialTransport
 * (serialport) on the other end, messages both ways:
 * - lora profile at DR0 (MTU 51: fragmentation), 1 % duty cycle, both sides
 *   on clocks running 100 times faster (an hour of duty-cycle window in 36 s);
 * - ble-uart profile (20-byte frames, one per 8 ms), real time.
 * Every message arrives once, in order, intact; link statistics agree
 * (frames, airtime), nothing is dropped.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { spawnEspruino } from '../../hil-sim/scenario/espruino.ts'
import { startPtyPair } from '../../hil-sim/pty.ts'
import { ScaledClock, systemClock, type Clock } from '../../src/time/clock.ts'
import { bleUartProfile, fragmentMessage, loraProfile, openSerialLink, SerialTransport, type LinkProfile } from '../../targets/node/transports/serial/index.ts'
import { needSystem } from '../helpers/system.ts'
import { skipUnlessEspruino, wrapModules } from './harness.ts'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
// the link modules, dependencies first (routing/bytes: their typed errors)
const LINK = ['routing/bytes', 'link/frame', 'link/fragment', 'link/profile', 'link/serial']

const skipReason = (): false | string => skipUnlessEspruino() || needSystem('socat')

/** Deterministic message contents (zeros included, so COBS has work). */
function message(n: number, k: number): Uint8Array {
  return new Uint8Array(n).map((_, j) => (j % 9 === 0 ? 0 : (j * 31 + k * 7) & 0xff))
}

interface Case {
  name: string
  spec: Record<string, unknown>
  profile: LinkProfile
  scale: number
  toDevice: number[]
  fromDevice: number[]
}

const CASES: Case[] = [
  // frames per direction stay under the 14 DR0 frames an hour at 1 %: no waits for the window
  { name: 'lora DR0', spec: { name: 'lora', dataRate: 0 }, profile: loraProfile({ dataRate: 0 }), scale: 100, toDevice: [0, 30, 50, 120, 150], fromDevice: [10, 50, 51, 100, 200] },
  { name: 'ble-uart', spec: { name: 'ble-uart' }, profile: bleUartProfile(), scale: 1, toDevice: [5, 19, 20, 300, 1000], fromDevice: [1, 19, 20, 333, 1500] },
]

async function waitUntil(cond: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what()}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('Espruino link over a socat PTY against Node serial', { skip: skipReason() }, () => {
  for (const c of CASES) {
    it(`${c.name}: messages both ways, once, in order`, { timeout: 180_000 }, async () => {
      const pair = await startPtyPair()
      const clock: Clock = c.scale === 1 ? systemClock : new ScaledClock(c.scale)
      const t = new SerialTransport({ clock })
      const got: string[] = []
      let dev: ReturnType<typeof spawnEspruino> | undefined
      try {
        t.addLink('dev', await openSerialLink(pair.b, { mtu: c.profile.mtu }), c.profile)
        t.onReceive((bytes) => void got.push(hex(bytes)))
        const fromDevice = c.fromDevice.map((n, k) => message(n, 100 + k))
        const toDevice = c.toDevice.map((n, k) => message(n, k))
        const code = `${wrapModules(LINK)}
var S = require('hopseal/link/serial');
function fromHex(h) { var b = new Uint8Array(h.length / 2); for (var i = 0; i < b.length; i++) b[i] = parseInt(h.substr(2 * i, 2), 16); return b; }
function hex(b) { var s = ''; for (var i = 0; i < b.length; i++) s += (b[i] < 16 ? '0' : '') + b[i].toString(16); return s; }
var SCALE = ${c.scale};
var clock = { now: function () { return getTime() * 1000 * SCALE; }, setTimeout: function (f, ms) { return setTimeout(f, ms / SCALE); }, clearTimeout: function (h) { clearTimeout(h); } };
Serial1.setup(115200, { path: ${JSON.stringify(pair.a)} });
var link = S.radio(Serial1, ${JSON.stringify(c.spec)}, { clock: clock });
link.onMessage(function (m) { console.log('RX ' + hex(m)); });
var OUT = [${fromDevice.map((m) => `'${hex(m)}'`).join(',')}], sent = 0;
setTimeout(function () {
  OUT.forEach(function (h, k) {
    link.send(fromHex(h), function (e) {
      if (e) return console.log('FAIL ' + k + ' ' + e.code);
      if (++sent === OUT.length) console.log('SENT ' + JSON.stringify(link.stats));
    });
  });
}, 200);
console.log('READY');
`
        dev = spawnEspruino(code, { bundle: false })
        await dev.waitFor((l) => l.endsWith('READY'), 30_000)
        for (const m of toDevice) await t.send(t.linkAddress('dev'), m)
        const lines = (): string[] => dev!.lines.map((l) => l.replace(/^[\r>]+/, ''))
        const rx = (): string[] => lines().filter((l) => l === 'RX' || l.startsWith('RX ')).map((l) => l.slice(3))
        await waitUntil(() => rx().length >= toDevice.length && got.length >= fromDevice.length, 120_000, () => `device got ${rx().length}/${toDevice.length}, Node got ${got.length}/${fromDevice.length}; last lines: ${lines().slice(-5).join(' | ')}`)
        const sentLine = await dev.waitFor((l) => l.includes('SENT '), 30_000)
        assert.deepEqual(rx(), toDevice.map(hex), 'the device received Node\'s messages in order')
        assert.deepEqual(got, fromDevice.map(hex), 'Node received the device\'s messages in order')
        assert.deepEqual(lines().filter((l) => l.startsWith('FAIL')), [])

        const ds = JSON.parse(sentLine.slice(sentLine.indexOf('SENT ') + 5)) as { framesSent: number; framesReceived: number; airtimeMs: number; drops: Record<string, number> }
        const ns = t.stats('dev')
        const devFrames = fromDevice.flatMap((m) => fragmentMessage(m, c.profile.mtu, 0))
        const nodeFrames = toDevice.flatMap((m) => fragmentMessage(m, c.profile.mtu, 0))
        assert.equal(ds.framesSent, devFrames.length, 'device frames sent')
        assert.equal(ns.framesReceived, devFrames.length, 'Node frames received')
        assert.equal(ns.framesSent, nodeFrames.length)
        assert.equal(ds.framesReceived, nodeFrames.length, 'device frames received')
        const air = devFrames.reduce((s, f) => s + c.profile.airtimeMs(f.length), 0)
        assert.ok(Math.abs(ds.airtimeMs - air) < 1e-6, `device airtime ${ds.airtimeMs} ms, Node's formula ${air} ms`)
        assert.deepEqual(ds.drops, {})
        assert.deepEqual(ns.drops, {})
        assert.ok(devFrames.length > fromDevice.length && nodeFrames.length > toDevice.length, 'messages were fragmented')
        console.log(`# ${c.name}: ${toDevice.length} messages (${nodeFrames.length} frames) to the device, ${fromDevice.length} (${devFrames.length} frames, ${ds.airtimeMs.toFixed(1)} ms on air) from it`)
      } finally {
        await dev?.stop()
        await t.close()
        await pair.close()
      }
    })
  }
})
