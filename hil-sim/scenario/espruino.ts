/**
 * Running the device end of a channel in the real Espruino interpreter
 * (targets/espruino, issue 15): find the interpreter, build the bundle, and
 * spawn it with a device script as a child process whose stdout lines are
 * events. The interpreter's stdin stays an open, silent pipe (with stdin at
 * EOF it floods its event queue with NULs and never reads its serial ports:
 * ../shared/tools/espruino/README.md). It runs in a temp directory, where it
 * keeps its flash file (`Storage`: the software handshake counter).
 *
 * Used by the scenario runner (`devices[].runtime: espruino`, the demo's
 * `--device espruino`) and by test/espruino/e2e-*.test.ts.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { ErrorCode, HopsealError } from '../../src/errors.ts'
import { startPtyPair, stopChild } from '../pty.ts'
import { openSerialLink } from '../../targets/node/transports/serial/index.ts'
import type { FrameLink } from '../../src/transports/link.ts'
import type { LinkProfile } from '../../targets/node/transports/serial/index.ts'
import { serveKitOnTty } from '../atecc608/serve-tty.ts'
import type { Party } from './parties.ts'
import { encodeReading } from './readings.ts'

const REPO = resolve(import.meta.dirname, '../..')

/** The interpreter: $HOPSEAL_ESPRUINO, else ../shared/tools/espruino/espruino beside the repository; undefined when absent. */
export function espruinoInterpreter(): string | undefined {
  const candidates = [process.env.HOPSEAL_ESPRUINO, resolve(REPO, '../shared/tools/espruino/espruino')]
  return candidates.find((p): p is string => !!p && existsSync(p))
}

const bundles = new Map<string, string>()

/**
 * The device bundle (targets/espruino/build.mjs), built once per process and
 * variant: every module, or with `forCode` only the modules that code's
 * `require('hopseal/...')` calls reach (as a board's application bundle).
 */
export function deviceBundle(minify = true, forCode?: string): string {
  const roots = forCode === undefined ? undefined : [...new Set([...forCode.matchAll(/require\(\s*'(hopseal\/[^']+)'\s*\)/g)].map((m) => m[1]!))].sort()
  const key = `${minify ? 'min' : 'plain'}:${roots?.join(',') ?? 'all'}`
  let b = bundles.get(key)
  if (b === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'hopseal-bundle-'))
    try {
      const out = join(dir, 'bundle.js')
      const forArgs: string[] = []
      if (roots) {
        writeFileSync(join(dir, 'for.js'), roots.map((r) => `require('${r}');\n`).join(''))
        forArgs.push('--for', join(dir, 'for.js'))
      }
      execFileSync(process.execPath, [join(REPO, 'targets/espruino/build.mjs'), '--out', out, ...forArgs, ...(minify ? ['--minify'] : [])], { stdio: ['ignore', 'ignore', 'pipe'] })
      b = readFileSync(out, 'utf8')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    bundles.set(key, b)
  }
  return b
}

export interface EspruinoChild {
  readonly pid: number
  /** Every stdout line so far (the device's events and anything it printed). */
  readonly lines: string[]
  /** Runs `fn` for each stdout line from now on. */
  onLine(fn: (line: string) => void): void
  /** Resolves with the first line (already printed or to come) that `test` accepts; rejects after `timeoutMs` or when the process exits. */
  waitFor(test: (line: string) => boolean, timeoutMs: number): Promise<string>
  /** Resolves when the process exited. */
  readonly exited: Promise<number | null>
  /** Stops the interpreter (SIGTERM, then SIGKILL) and removes its temp dir. */
  stop(): Promise<void>
}

/** Strips the interpreter's console decorations (prompt, escape sequences) from a line. */
function clean(line: string): string {
  const ESC = String.fromCharCode(27)
  return line.split(ESC + '[J').join('').replace(/\r/g, '').replace(/^>+/, '').trimEnd()
}

/**
 * Spawns the interpreter on `code` (the bundle is prepended unless `bundle: false`;
 * `appBundle`: only the modules `code` requires, as a board's application bundle).
 * @throws HopsealError TRANSPORT_UNAVAILABLE when the interpreter is not there
 */
export function spawnEspruino(code: string, opts: { bundle?: boolean; minify?: boolean; fromFlash?: boolean; appBundle?: boolean } = {}): EspruinoChild {
  const bin = espruinoInterpreter()
  if (!bin) throw new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, 'the Espruino interpreter is not installed (../shared/tools/espruino/espruino, or set HOPSEAL_ESPRUINO)')
  const dir = mkdtempSync(join(tmpdir(), 'hopseal-espruino-'))
  const file = join(dir, 'device.js')
  const bundle = opts.bundle === false ? '' : deviceBundle(opts.minify ?? true, opts.appBundle ? code : undefined)
  // fromFlash: the bundle goes into Storage (the interpreter's flash file) and runs from there, as saved code on a board
  const pre = !bundle ? '' : opts.fromFlash ? `require('Storage').write('hopseal.js', ${JSON.stringify(bundle)});\neval(require('Storage').read('hopseal.js'));\n` : bundle + '\n'
  writeFileSync(file, pre + code)
  const child: ChildProcess = spawn(bin, [file], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] })
  const lines: string[] = []
  const listeners: ((l: string) => void)[] = []
  let buf = ''
  const take = (d: Buffer): void => {
    buf += d.toString('latin1')
    let i
    while ((i = buf.indexOf('\n')) >= 0) {
      const l = clean(buf.slice(0, i))
      buf = buf.slice(i + 1)
      lines.push(l)
      for (const f of listeners) f(l)
    }
  }
  child.stdout!.on('data', take)
  child.stderr!.on('data', take)
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)))
  return {
    pid: child.pid ?? -1,
    lines,
    onLine: (fn) => void listeners.push(fn),
    waitFor(test, timeoutMs) {
      const found = lines.find(test)
      if (found !== undefined) return Promise.resolve(found)
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no matching line from the interpreter within ${timeoutMs} ms; last lines:\n${lines.slice(-15).join('\n')}`)), timeoutMs)
        listeners.push((l) => {
          if (test(l)) {
            clearTimeout(t)
            resolve(l)
          }
        })
        void exited.then(() => {
          clearTimeout(t)
          reject(new Error(`the interpreter exited; last lines:\n${lines.slice(-15).join('\n')}`))
        })
      })
    },
    exited,
    async stop() {
      await stopChild(child)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Parses the device's event lines: `HS {json}`. */
export function deviceEvent(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('HS ')) return undefined
  try {
    return JSON.parse(line.slice(3)) as Record<string, unknown>
  } catch {
    return undefined
  }
}

export interface PtyRadio {
  /** The PTY path the interpreter opens as its radio (`Serial1.setup(…, { path })`). */
  readonly path: string
  /** Frames relayed each way. */
  readonly stats: { up: number; down: number }
  close(): Promise<void>
}

/**
 * Puts a PTY in front of `radio`, the device's end of a (modelled) radio
 * link: frames the interpreter writes on the PTY (COBS + CRC-16 framed, as
 * targets/node/transports/serial) are sent on `radio`, where a link model may lose
 * them; frames arriving on `radio` are written to the PTY. The scenario
 * runner and the end-to-end test wrap both ends of a memory pair with
 * seeded models, as for Node devices, so loss applies both ways.
 */
export async function attachPtyRadio(radio: FrameLink): Promise<PtyRadio> {
  const pty = await startPtyPair()
  let end
  try {
    end = await openSerialLink(pty.b, { mtu: radio.mtu })
  } catch (e) {
    await pty.close()
    throw e
  }
  const link = end
  const stats = { up: 0, down: 0 }
  link.onFrame((f) => {
    stats.up++
    radio.send(f).catch(() => undefined)
  })
  radio.onFrame((f) => {
    stats.down++
    link.send(f).catch(() => undefined)
  })
  return {
    path: pty.a,
    stats,
    async close() {
      await link.close()
      await pty.close()
    },
  }
}

export interface DeviceScriptOptions {
  /** The PTY the device's radio is on (attachPtyRadio). */
  radioPath: string
  /** The radio's link profile on the device (as targets/node/transports/serial profiles). */
  profile: { name: 'lora'; sf: number; mtu: number; dutyCycle: number } | { name: 'ble-uart'; mtu: number }
  /** Keys: the static key in the simulated ATECC608 served on a PTY (KIT protocol), or a software 25519 key. */
  vault: { kind: 'atecc608'; kitPath: string; slot: number; ioKey?: Uint8Array } | { kind: 'software'; privateKey: Uint8Array }
  /** The listener's static public key (33-byte compressed P-256 or 32-byte X25519). */
  peer: Uint8Array
  /** Its X || Y (P-256), so the device does not decompress it. */
  peerXY?: Uint8Array
  /** The gateway alias byte that leads to the app's listener. */
  route: number
  medium: 'ip' | 'lora' | 'ble'
  reliable: boolean
  /** Channel limit overrides, as targets/espruino/src/channel/limits.js takes them. */
  limits?: Record<string, unknown>
  /** Handshake message-1 retransmission. */
  retransmit?: { initialMs: number; maxMs: number; attempts: number }
  /** The readings the device makes and sends: `count` of them for device index `device` (deviceReadings() gives the same bytes). */
  readings: { device: number; count: number }
  intervalMs: number
  /** Most unacknowledged readings at once. */
  window: number
}

/**
 * The readings a device script makes (readings.ts format: 'H', device u16,
 * sequence u24, value u16), made the same way on the device: a reading list
 * is not shipped in the program text, where it would take RAM.
 */
export function deviceReadings(device: number, count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, seq) => encodeReading(device, seq, readingValue(device, seq)))
}

function readingValue(device: number, seq: number): number {
  return 55 + ((seq * 37 + device * 11) % 60)
}

/**
 * The device application: opens the channel, sends the readings in reliable
 * mode at `intervalMs` within `window`, and prints one event line per step
 * (`HS {"ev":…}`): open (ms, vars), ack (i), renew (epoch), error, close,
 * and done (vars: the peak of process.memory().usage, sampled after every
 * DH, send and acknowledgement; counters).
 */
export function deviceScript(o: DeviceScriptOptions): string {
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
  const vault =
    o.vault.kind === 'atecc608'
      ? `(function () {
  Serial2.setup(115200, { path: ${JSON.stringify(o.vault.kitPath)} });
  require('hopseal/atecc/kit'); // the KIT transport (optional in atecc/index)
  var chip = require('hopseal/atecc/index').open({ kit: Serial2 });
  return require('hopseal/noise/atecc').vault(chip, { slot: ${o.vault.slot}, peer: PEER${o.peerXY ? `, peerXY: B.fromHex('${hex(o.peerXY)}')` : ''}${o.vault.ioKey ? `, ioKey: B.fromHex('${hex(o.vault.ioKey)}')` : ''} });
})()`
      : `hs.softwareVault({ privateKey: B.fromHex('${hex(o.vault.privateKey)}') })`
  return `
var hs = require('hopseal/device'), B = require('hopseal/routing/bytes');
function ev(o) { console.log('HS ' + JSON.stringify(o)); }
var peak = 0;
function mem() { var u = process.memory().usage; if (u > peak) peak = u; }
var PEER = B.fromHex('${hex(o.peer)}');
Serial1.setup(115200, { path: ${JSON.stringify(o.radioPath)} });
var radio = require('hopseal/link/serial').radio(Serial1, ${JSON.stringify(o.profile)});
var vault = ${vault};
// sample memory after every key operation of the handshakes
var init = vault.init, eph = vault.eph;
function watch(k) { var dh = k.dh; k.dh = function (p) { return dh(p).then(function (r) { mem(); return r; }); }; return k; }
vault.init = function () { return init().then(watch); };
vault.eph = function (r) { return eph(r).then(watch); };
var N = ${o.readings.count}, DEV = ${o.readings.device};
function reading(k) { var v = 55 + ((k * 37 + DEV * 11) % 60); return new Uint8Array([0x48, DEV >> 8, DEV & 255, (k >> 16) & 255, (k >> 8) & 255, k & 255, v >> 8, v & 255]); }
var t0, i = 0, acked = 0, base = 0, ch;
// started from a timer: the program text (and, from flash, the bundle's source literal) is gone by then
setTimeout(function () {
base = peak = process.memory().usage;
t0 = getTime();
ch = hs.channel({ link: radio, vault: vault, peer: PEER, route: ${o.route}, medium: '${o.medium}', reliable: ${o.reliable},
  limits: ${JSON.stringify(o.limits ?? {})}${o.retransmit ? `, retransmit: ${JSON.stringify(o.retransmit)}` : ''} });
ch.on('open', function () {
  mem();
  ev({ ev: 'open', ms: Math.round((getTime() - t0) * 1000), vars: peak, base: base });
  next();
});
ch.on('renew', function (e) { ev({ ev: 'renew', epoch: e }); });
ch.on('error', function (e) { ev({ ev: 'error', code: e.code, msg: e.message }); });
ch.on('close', function (e) { ev({ ev: 'close', code: e ? e.code : null, msg: e ? e.message : null }); });
}, 0);
function next() {
  if (i >= N || ch.closed) return;
  if (ch.unacked() < ${o.window}) {
    var k = i++;
    ch.send(reading(k), function (e) {
      mem();
      if (e) return ev({ ev: 'failed', i: k, code: e.code });
      acked++;
      ev({ ev: 'ack', i: k });
      if (acked === N) ev({ ev: 'done', vars: peak, base: base, ms: Math.round((getTime() - t0) * 1000), renewals: ch.renewals, counters: ch.node.counters });
    });
    mem();
  }
  setTimeout(next, ${o.intervalMs});
}
`
}

/** A scenario device running in the interpreter (run.ts, `runtime: espruino`). */
export interface EspruinoDevice {
  /** The interpreter's output so far (empty before open()). */
  readonly lines: string[]
  readonly opened: boolean
  readonly readings: Uint8Array[]
  readonly acked: number
  readonly failed: number
  /** Resolves true once every reading was acknowledged, false when the device closed or a reading failed. */
  readonly finished: Promise<boolean>
  /** Spawns the device and waits for its first handshake: ok, or the code it closed with. */
  open(o: { peer: Uint8Array; route: number; device: number; readings: number; intervalMs: number }): Promise<{ ok: boolean; code?: string }>
  stop(): Promise<void>
}

/**
 * Prepares a scenario device for the interpreter: its radio PTY in front of
 * `up`, and, for a party whose keys are in the simulated ATECC608, the chip
 * served on a second PTY (the party's in-process vault stays open and idle:
 * closing it would shred the key it made). Nothing runs until open().
 */
export async function startEspruinoDevice(o: { name: string; party: Party; up: FrameLink; profile: LinkProfile; sf: number }): Promise<EspruinoDevice> {
  const closers: (() => Promise<unknown>)[] = []
  const radio = await attachPtyRadio(o.up)
  closers.push(() => radio.close())
  let vault: DeviceScriptOptions['vault']
  try {
    if (o.party.sim) {
      const pub = o.party.s.publicKey
      let slot = -1
      for (const h of await o.party.vault.listKeys()) {
        const p = await o.party.vault.publicKey(h)
        if (Buffer.compare(Buffer.from(p), Buffer.from(pub)) === 0) slot = Number(/^slot(\d+)-/.exec(h.id)?.[1] ?? -1)
      }
      if (slot < 0) throw new HopsealError(ErrorCode.VAULT_KEY_NOT_FOUND, `${o.name}: the static key is in no slot of the simulated ATECC608`)
      const pty = await startPtyPair()
      closers.push(() => pty.close())
      const kit = await serveKitOnTty(o.party.sim, pty.b)
      closers.push(() => kit.close())
      vault = { kind: 'atecc608', kitPath: pty.a, slot, ...(o.party.ioKey ? { ioKey: o.party.ioKey } : {}) }
    } else {
      throw new HopsealError(ErrorCode.CONFIG_INVALID, `${o.name}: an Espruino device in a scenario keeps its key in the simulated ATECC608 (vault: atecc608-sim)`)
    }
  } catch (e) {
    for (const c of closers.reverse()) await c().catch(() => undefined)
    throw e
  }
  let child: EspruinoChild | undefined
  let opened = false
  let acked = 0
  let failed = 0
  let readings: Uint8Array[] = []
  let finish: (v: boolean) => void = () => undefined
  const finished = new Promise<boolean>((r) => (finish = r))
  const profile: DeviceScriptOptions['profile'] = o.profile.name === 'ble-uart' ? { name: 'ble-uart', mtu: o.profile.mtu } : { name: 'lora', sf: o.sf, mtu: o.profile.mtu, dutyCycle: o.profile.dutyCycle?.ratio ?? 1 }
  return {
    get lines() {
      return child?.lines ?? []
    },
    get opened() {
      return opened
    },
    get readings() {
      return readings
    },
    get acked() {
      return acked
    },
    get failed() {
      return failed
    },
    finished,
    async open(a) {
      readings = deviceReadings(a.device, a.readings)
      const c = spawnEspruino(deviceScript({
        radioPath: radio.path, profile, vault, peer: a.peer, route: a.route, medium: 'ip', reliable: true,
        retransmit: { initialMs: 3000, maxMs: 8000, attempts: 8 }, readings: { device: a.device, count: a.readings }, intervalMs: a.intervalMs, window: 8,
      }), { appBundle: true })
      child = c
      c.onLine((l) => {
        const e = deviceEvent(l)
        if (e?.ev === 'ack') acked++
        else if (e?.ev === 'failed') failed++
        if (e?.ev === 'done') finish(true)
        else if (e?.ev === 'close' || e?.ev === 'failed') finish(false)
      })
      void c.exited.then(() => finish(false))
      const line = await c.waitFor((l) => /"ev":"(open|close)"/.test(l), 600_000).catch(() => undefined)
      const e = line ? deviceEvent(line) : undefined
      opened = e?.ev === 'open'
      return opened ? { ok: true } : { ok: false, code: String(e?.code ?? 'CHANNEL_HANDSHAKE_TIMEOUT') }
    },
    async stop() {
      finish(false)
      await child?.stop()
      for (const c of closers.reverse()) await c().catch(() => undefined)
    },
  }
}
