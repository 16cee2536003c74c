/**
 * Runs a scenario: builds the topology (broker, gateway, devices on radio
 * links through seeded link models, apps), establishes one secure channel per
 * device (KK or XX, reliable mode), sends the workload, injects the faults on
 * schedule, records what the broker and the gateway saw, and checks the
 * scenario's expectations. Reproducible from the seed: link decisions and
 * reading values come from seeded PRNGs; wall-clock timing varies.
 */
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { ErrorCode, HopsealError, isHopsealError } from '../../src/errors.ts'
import { toHex } from '../../src/bytes/index.ts'
import { address, local, Node, TransportType, type Address } from '../../src/routing/index.ts'
import { createSecureChannel, startSecureChannelListener, type SecureChannel } from '../../src/channel/secure-channel.ts'
import { connectMqttTransport, startEmbeddedBroker, type EmbeddedBroker } from '../../targets/node/transports/mqtt/index.ts'
import { SerialTransport, type LinkProfile } from '../../targets/node/transports/serial/index.ts'
import { startGateway, type Gateway } from '../../src/transports/gateway/index.ts'
import type { FrameLink } from '../../src/transports/link.ts'
import { ScaledClock } from '../../src/time/clock.ts'
import { modelLink, type ModelLink } from '../links/model.ts'
import { memoryLinkPair } from '../links/memory-link.ts'
import { seededRandom } from '../links/prng.ts'
import { modelFor, profileFor, radioTotals } from './radio.ts'
import { authFor, makeParty, openVault, type Party } from './parties.ts'
import { countPlaintext, decodeReading, encodeReading } from './readings.ts'
import { newTapRecord, tapBroker, tapLink } from './taps.ts'
import type { DeviceSpec, ScenarioSpec } from './spec.ts'
import { startEspruinoDevice, type EspruinoDevice } from './espruino.ts'

const ECDH_OPCODE = 0x43
const TAP_LIMIT_BYTES = 64 * 1024 * 1024
/** Fixed identity clock (seconds) so XX identities verify the same in every run. */
const NOW_SEC = 1_800_000_000

export type ScenarioEvent =
  | { type: 'phase'; text: string }
  | { type: 'handshake'; device: string; ms: number; frames: number; bytes: number; airtimeMs: number; attempts: number }
  | { type: 'handshake-failed'; device: string; code: string }
  | { type: 'reading'; device: string; seq: number; value: number; brokerHex: string; radioHex: string }
  | { type: 'fault'; text: string }

export interface RunOptions {
  /** Overrides of the file's values (CLI flags). */
  overrides?: { mode?: 'kk' | 'xx'; loss?: number; readings?: number; durationMs?: number; seed?: string; medium?: 'memory' | 'pty'; runtime?: 'node' | 'espruino' }
  /** Use this broker instead of the embedded one (e.g. a real Mosquitto); `restart` implements broker-restart faults. */
  broker?: { url: string; restart?: (downMs: number) => Promise<void> }
  onEvent?: (e: ScenarioEvent) => void
}

export interface Check {
  name: string
  ok: boolean
  detail: string
}

export interface Summary {
  scenario: string
  seed: string
  ok: boolean
  durationMs: number
  /** The vault each party really used (`softhsm` falls back to `software` without SoftHSM2). */
  vaults: Record<string, string>
  handshake: { mode: 'kk' | 'xx'; protocol: string; attempts: number; failures: number; frames: number; bytes: number; airtime_ms: number; ms: number }
  readings: { sent: number; received: number; duplicates: number; out_of_order: number; failed: number }
  taps: { broker_messages: number; broker_bytes: number; gateway_frames: number; gateway_bytes: number; plaintext_matches: number }
  radio: { frames: number; bytes: number; airtime_ms: number; lost: number; duplicated: number; reordered: number; duty_violations: number }
  gateway: Record<string, number>
  faults: string[]
  memory: { heap_max_mb: number }
  checks: Check[]
}

interface DeviceRun {
  spec: DeviceSpec
  name: string
  index: number
  party: Party
  node: Node
  serial: SerialTransport
  up: ModelLink
  down: ModelLink
  profile: LinkProfile
  channel?: SecureChannel
  /** A device running in the Espruino interpreter (`runtime: espruino`) instead of this process. */
  espruino?: EspruinoDevice
  /** Radio frames (both ways) on this device's link, for per-device handshake figures. */
  radio: { frames: number; bytes: number; airtimeMs: number }
  closeLink: () => Promise<void>
}

/** Resolves after `ms`, or at once when `signal` aborts (the run is over: nothing of it stays scheduled). */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const done = (): void => {
      clearTimeout(t)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const t = setTimeout(done, ms)
    signal?.addEventListener('abort', done)
  })
}
/** Wall ms one cleanup step (closing a channel, a transport, a broker) may take before the run moves on. */
const CLEANUP_MS = 5000

/**
 * A wall-clock deadline: `race(p)` resolves with p or at the deadline,
 * whichever comes first (p keeps running; the run stops waiting for it),
 * `signal` aborts at the deadline (handshakes in progress give up).
 */
export function wallDeadline(at: number): { readonly passed: boolean; signal: AbortSignal; race<T>(p: Promise<T>): Promise<T | undefined>; cancel(): void } {
  const ac = new AbortController()
  let passed = Date.now() >= at
  let cancelTimer = (): void => undefined
  const reached = new Promise<undefined>((resolve) => {
    const t = setTimeout(() => {
      passed = true
      ac.abort(new HopsealError(ErrorCode.CHANNEL_HANDSHAKE_TIMEOUT, 'the scenario reached its deadline'))
      resolve(undefined)
    }, Math.max(0, at - Date.now()))
    cancelTimer = () => {
      clearTimeout(t)
      resolve(undefined)
    }
  })
  return {
    get passed() {
      return passed || Date.now() >= at
    },
    signal: ac.signal,
    race: <T>(p: Promise<T>) => Promise.race([p, reached]),
    cancel: () => cancelTimer(),
  }
}

/** Resolves when `p` settles or after `ms`, whichever is first; never rejects. */
export function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined
  return Promise.race([p.then(() => undefined, () => undefined), new Promise<void>((r) => (t = setTimeout(r, ms)))]).finally(() => clearTimeout(t))
}

/** Runs `spec`; resolves with the summary (never rejects for a failed expectation: `ok` is false). */
export async function runScenario(spec: ScenarioSpec, opts: RunOptions = {}): Promise<Summary> {
  const o = opts.overrides ?? {}
  if (o.runtime) spec = { ...spec, devices: spec.devices.map((d) => ({ ...d, runtime: o.runtime })) }
  const mode = o.mode ?? spec.mode
  if (mode === 'xx' && spec.devices.some((d) => d.runtime === 'espruino')) throw new HopsealError(ErrorCode.CONFIG_INVALID, `${spec.name}: Espruino devices open known-peer (KK) channels only (fix: --mode kk)`)
  const seed = o.seed ?? spec.seed
  const emit = opts.onEvent ?? (() => undefined)
  const started = Date.now()
  const clock = new ScaledClock(spec.clockScale)
  const crypto = cryptoProvider('node')
  const rnd = seededRandom(`${seed}/readings`)
  const cleanups: (() => Promise<void>)[] = []
  /** Aborted when the run ends: fault waits (a blackout's duration, a broker's down time) stop there. */
  const over = new AbortController()
  const faultsLog: string[] = []
  const vaultsUsed: Record<string, string> = {}
  const gwTap = newTapRecord()
  const brokerTap = newTapRecord()
  let lastBrokerHex = ''
  let lastRadioHex = ''
  let heapMax = 0
  const heapTimer = setInterval(() => (heapMax = Math.max(heapMax, process.memoryUsage().heapUsed)), 100)
  heapTimer.unref()

  try {
    // Parties: every device instance and every app, with vaults, static keys and (XX) identities.
    // P-256 whenever a hardware-style vault takes part: the ATECC608 has only P-256, and P-256 is what every PKCS#11 token offers.
    const usesChip = spec.devices.some((d) => d.vault !== 'software') || spec.apps.some((a) => a.vault !== 'software')
    const dh = usesChip ? 'p256' : 'x25519'
    const protocol = `Noise_${mode.toUpperCase()}_${dh === 'p256' ? 'P256' : '25519'}_AESGCM_SHA256`
    emit({ type: 'phase', text: `creating keys (${protocol}; devices in ${[...new Set(spec.devices.map((d) => d.vault))].join(', ')})` })
    const apps = new Map<string, { party: Party; node: Node; alias: number }>()
    for (const [i, a] of spec.apps.entries()) {
      const opened = await openVault(a.vault, a.name, seed)
      vaultsUsed[a.name] = opened.used
      cleanups.push(() => opened.vault.close())
      apps.set(a.name, { party: await makeParty(a.name, a.vault, opened, dh, mode, NOW_SEC), node: new Node({ name: a.name }), alias: i })
    }
    const devices: DeviceRun[] = []
    let index = 0
    for (const d of spec.devices) {
      for (let k = 1; k <= d.count; k++) {
        const name = d.count === 1 ? d.name : `${d.name}-${k}`
        const opened = await openVault(d.vault, name, seed)
        vaultsUsed[name] = opened.used
        cleanups.push(() => opened.vault.close())
        const party = await makeParty(name, d.vault, opened, dh, mode, NOW_SEC)
        if (d.runtime === 'espruino' && d.vault === 'software' && dh !== 'x25519') throw new HopsealError(ErrorCode.CONFIG_INVALID, `${spec.name}: device ${name} runs on Espruino with a software vault, which has no P-256 (fix: vault: atecc608-sim)`)
        devices.push({ spec: d, name, index: index++, party, node: new Node({ name }), radio: { frames: 0, bytes: 0, airtimeMs: 0 } } as DeviceRun)
      }
    }

    // Broker and its tap.
    let broker: EmbeddedBroker | undefined
    let brokerUrl: string
    let restartBroker: (downMs: number) => Promise<void>
    if (opts.broker) {
      brokerUrl = opts.broker.url
      restartBroker = opts.broker.restart ?? (async () => { throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'this broker cannot be restarted by the scenario') })
    } else if (spec.broker === 'mosquitto') {
      // A real Mosquitto child process; a broker-restart fault kills it (SIGKILL: sessions lost) and starts it again.
      const { mosquittoPath, startMosquitto } = await import('../mosquitto.ts')
      if (!mosquittoPath()) throw new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, `${spec.file}: broker: mosquitto, but mosquitto is not installed (apt-get install mosquitto, or use broker: embedded)`)
      const m = await startMosquitto()
      brokerUrl = m.url
      restartBroker = async (downMs) => {
        await m.kill()
        await sleep(downMs, over.signal)
        await m.restart()
      }
      cleanups.push(() => m.stop())
    } else {
      broker = await startEmbeddedBroker()
      brokerUrl = broker.url
      const port = broker.port
      restartBroker = async (downMs) => {
        await broker!.close()
        await sleep(downMs, over.signal)
        broker = await startEmbeddedBroker({ port })
      }
      cleanups.push(async () => { await broker?.close() })
    }
    const bt = await tapBroker(brokerUrl, brokerTap, TAP_LIMIT_BYTES, (_t, p) => (lastBrokerHex = toHex(p.subarray(0, 24))))
    cleanups.push(() => bt.close())

    // Gateway: one serial link per device, MQTT upstream, a 1-byte alias per app listener
    // (the first app at alias 0, the default listener address: message 1 has a 1-byte header).
    const gwNode = new Node({ name: spec.gateway.name })
    const gwSerial = new SerialTransport({ clock })
    const routes: Record<number, Address[]> = {}
    for (const [name, a] of apps) routes[a.alias] = [address(TransportType.MQTT, name), local('hr')]
    const gwMqtt = await connectMqttTransport({ url: brokerUrl, name: spec.gateway.name, connectTimeoutMs: 10_000 })

    // Radio links: a medium pair (memory or real PTYs), a seeded model each way, the gateway side tapped.
    for (const dev of devices) {
      const medium = o.medium ?? dev.spec.link.medium
      const profile = profileFor(dev.spec)
      let a: FrameLink, b: FrameLink
      if (medium === 'pty') {
        // Loaded only for PTY media: memory scenarios need neither socat nor the serialport binding.
        const { ptyLinkPair } = await import('../pty.ts')
        const p = await ptyLinkPair({ mtu: profile.mtu })
        ;[a, b] = [p.a, p.b]
        dev.closeLink = () => p.close()
      } else {
        ;[a, b] = memoryLinkPair({ mtu: profile.mtu })
        dev.closeLink = async () => { await a.close(); await b.close() }
      }
      const model = modelFor(dev.spec, o.loss ?? dev.spec.link.loss)
      dev.up = modelLink(a, model, { seed: `${seed}/${dev.name}/up`, clock })
      dev.down = modelLink(b, model, { seed: `${seed}/${dev.name}/down`, clock })
      dev.profile = profile
      if (dev.spec.runtime === 'espruino') {
        // The interpreter's radio is a PTY relayed onto the device's end of the modelled link (espruino.ts).
        dev.espruino = await startEspruinoDevice({ name: dev.name, party: dev.party, up: dev.up, profile, sf: dev.spec.link.sf })
        cleanups.push(async () => {
          await dev.espruino?.stop()
          await dev.closeLink()
        })
      } else {
        dev.serial = new SerialTransport({ clock })
        dev.serial.addLink('gw', dev.up, profile)
        dev.node.registerTransport(dev.serial)
        cleanups.push(async () => {
          await dev.channel?.close().catch(() => undefined)
          await dev.serial.close()
          await dev.closeLink()
        })
      }
      gwSerial.addLink(dev.name, tapLink(dev.down, gwTap, TAP_LIMIT_BYTES, (_dir, f) => {
        lastRadioHex = toHex(f.subarray(0, 24))
        dev.radio.frames++
        dev.radio.bytes += f.length
        dev.radio.airtimeMs += profile.airtimeMs(f.length)
      }), profile)
    }
    const gateway: Gateway = startGateway({ node: gwNode, link: gwSerial, upstream: [gwMqtt], routes })
    cleanups.push(() => gateway.close())

    // Apps: MQTT transport and a secure-channel listener `hr` delivering readings.
    const received = new Map<number, number[]>()
    let duplicates = 0
    let outOfOrder = 0
    const deviceParties = devices.map((d) => d.party)
    for (const [name, a] of apps) {
      const t = await connectMqttTransport({ url: brokerUrl, name, connectTimeoutMs: 10_000 })
      a.node.registerTransport(t)
      cleanups.push(() => t.close())
      const mine = devices.filter((d) => d.spec.app === name).map((d) => d.party)
      startSecureChannelListener(a.node, 'hr', {
        protocol, s: a.party.s, crypto, reliable: true,
        auth: authFor(a.party, mine.length ? mine : deviceParties, mode, NOW_SEC),
        ...(mode === 'kk' ? { initiatorStatics: mine.map((p) => p.s.publicKey) } : {}),
        maxChannelsPerPeer: 2,
        deliverTo: (payload) => {
          const r = decodeReading(payload)
          if (!r) return
          const got = received.get(r.device) ?? []
          received.set(r.device, got)
          if (got.includes(r.seq)) duplicates++
          else if (got.length > 0 && r.seq < got[got.length - 1]!) outOfOrder++
          got.push(r.seq)
          const dev = devices[r.device]
          if (dev) emit({ type: 'reading', device: dev.name, seq: r.seq, value: r.value, brokerHex: lastBrokerHex, radioHex: lastRadioHex })
        },
      })
    }

    // Faults on schedule (wall-clock ms from now).
    const t0 = Date.now()
    const faultTimers: NodeJS.Timeout[] = []
    const faultDone: Promise<void>[] = []
    for (const f of spec.faults) {
      faultDone.push(new Promise<void>((resolve) => {
        faultTimers.push(setTimeout(() => {
          void (async () => {
            try {
              if (f.kind === 'broker-restart') {
                emit({ type: 'fault', text: `broker restart (down ${f.downMs} ms)` })
                await restartBroker(f.downMs)
                faultsLog.push(`broker-restart at ${Date.now() - t0} ms`)
              } else if (f.kind === 'radio-blackout') {
                const ds = devices.filter((d) => d.spec.name === f.device)
                emit({ type: 'fault', text: `radio blackout on ${f.device} for ${f.durationMs} ms` })
                for (const d of ds) { d.up.blackout(true); d.down.blackout(true) }
                await sleep(f.durationMs, over.signal)
                for (const d of ds) { d.up.blackout(false); d.down.blackout(false) }
                faultsLog.push(`radio-blackout ${f.device} ${f.durationMs} ms at ${Date.now() - t0 - f.durationMs} ms`)
              } else if (f.kind === 'secure-element-stall') {
                const ds = devices.filter((d) => d.spec.name === f.device)
                emit({ type: 'fault', text: `secure element of ${f.device} stops answering (${f.commands} ECDH commands)` })
                for (const d of ds) for (let i = 0; i < f.commands; i++) d.party.sim!.injectFault({ kind: 'no-response', opcode: ECDH_OPCODE })
                faultsLog.push(`secure-element-stall ${f.device} x${f.commands} at ${Date.now() - t0} ms`)
              } else {
                throw new Error(`${f.kind} runs only in time: simulated scenarios`)
              }
            } catch (e) {
              faultsLog.push(`${f.kind} failed: ${(e as Error).message}`)
            }
            resolve()
          })()
        }, f.at))
      }))
    }
    cleanups.push(async () => { for (const t of faultTimers) clearTimeout(t) })

    // Handshakes: each device opens a channel to its app's alias on the gateway, retrying after failures.
    // Nothing below waits past the deadline: every wait races `atDeadline`, and handshakes in progress are aborted.
    emit({ type: 'phase', text: `handshakes (${mode.toUpperCase()}) over ${devices[0]!.spec.link.profile} SF${devices[0]!.spec.link.sf}` })
    const deadline = t0 + (o.durationMs ?? spec.workload.timeoutMs)
    const atDeadline = wallDeadline(deadline)
    cleanups.push(async () => atDeadline.cancel())
    let hsFailures = 0
    let hsAttempts = 0
    let hsFrames = 0
    let hsBytes = 0
    let hsAirtime = 0
    let hsMs = 0
    await Promise.all(devices.map(async (dev) => {
      const app = apps.get(dev.spec.app)!
      const route = [address(TransportType.SERIAL, 'gw'), local(Uint8Array.of(app.alias))]
      const before = { ...dev.radio }
      const t = Date.now()
      if (dev.espruino) {
        // The device's script opens its channel itself, retransmitting message 1 as Node devices do, and sends its readings.
        hsAttempts++
        const r = await atDeadline.race(dev.espruino.open({ peer: app.party.s.publicKey, route: app.alias, device: dev.index, readings: o.readings ?? spec.workload.readings, intervalMs: spec.workload.intervalMs }))
        if (!r?.ok) {
          hsFailures++
          emit({ type: 'handshake-failed', device: dev.name, code: r?.code ?? 'CHANNEL_HANDSHAKE_TIMEOUT' })
          return
        }
        hsFrames += dev.radio.frames - before.frames
        hsBytes += dev.radio.bytes - before.bytes
        hsAirtime += dev.radio.airtimeMs - before.airtimeMs
        hsMs = Math.max(hsMs, Date.now() - t)
        emit({ type: 'handshake', device: dev.name, ms: Date.now() - t, frames: dev.radio.frames - before.frames, bytes: dev.radio.bytes - before.bytes, airtimeMs: dev.radio.airtimeMs - before.airtimeMs, attempts: 1 })
        return
      }
      for (let attempt = 1; !atDeadline.passed; attempt++) {
        hsAttempts++
        try {
          dev.channel = await createSecureChannel(dev.node, route, {
            protocol, s: dev.party.s, crypto, reliable: true,
            auth: authFor(dev.party, [app.party], mode, NOW_SEC),
            ...(mode === 'kk' ? { rs: app.party.s.publicKey } : {}),
            retransmit: { initialMs: 1000, maxMs: 4000, attempts: 8 },
            signal: atDeadline.signal,
          })
          const frames = dev.radio.frames - before.frames
          const bytes = dev.radio.bytes - before.bytes
          const air = dev.radio.airtimeMs - before.airtimeMs
          hsFrames += frames
          hsBytes += bytes
          hsAirtime += air
          hsMs = Math.max(hsMs, Date.now() - t)
          emit({ type: 'handshake', device: dev.name, ms: Date.now() - t, frames, bytes, airtimeMs: air, attempts: attempt })
          return
        } catch (e) {
          hsFailures++
          emit({ type: 'handshake-failed', device: dev.name, code: isHopsealError(e) ? e.code : 'ERROR' })
          await atDeadline.race(sleep(Math.min(4000, 250 * 2 ** attempt)))
        }
      }
    }))

    // Workload: readings at the configured interval, reliable mode, bounded outstanding sends.
    // A device without a channel sends nothing (its readings count as not sent: the checks fail, naming it).
    emit({ type: 'phase', text: `sending ${o.readings ?? spec.workload.readings} readings per device` })
    const perDevice = o.readings ?? spec.workload.readings
    const sentReadings: Uint8Array[] = []
    let sent = 0
    let failed = 0
    /** Sends still unacknowledged when the run stopped waiting for them at the deadline. */
    let unsettled = 0
    await Promise.all(devices.map(async (dev) => {
      const esp = dev.espruino
      if (esp?.opened) {
        // It sends on its own (opened above); wait for its acknowledgements or the deadline.
        sentReadings.push(...esp.readings)
        sent += esp.readings.length
        const r = await atDeadline.race(esp.finished)
        failed += esp.failed
        if (!r) unsettled += esp.readings.length - esp.acked - esp.failed
        return
      }
      const ch = dev.channel
      if (!ch) return
      const pending = new Set<Promise<void>>()
      for (let seq = 0; seq < perDevice && !atDeadline.passed; seq++) {
        const value = 55 + rnd.int(60)
        const r = encodeReading(dev.index, seq, value)
        // Stay inside the reliable sending window (span from the oldest unacknowledged message).
        while (ch.unacked >= 32 && pending.size > 0 && !atDeadline.passed) await atDeadline.race(Promise.race(pending))
        if (atDeadline.passed) break
        sentReadings.push(r)
        sent++
        const p: Promise<void> = ch.send(r).then(
          () => { pending.delete(p) },
          () => { failed++; pending.delete(p) },
        )
        pending.add(p)
        if (spec.workload.intervalMs > 0) await atDeadline.race(sleep(spec.workload.intervalMs))
      }
      // Sends already accepted get until the deadline to be acknowledged.
      while (pending.size > 0 && !atDeadline.passed) await atDeadline.race(Promise.race(pending))
      unsettled += pending.size
    }))
    // Faults still running at the deadline are abandoned.
    await atDeadline.race(Promise.all(faultDone))
    await sleep(50)

    // Summary and checks.
    const receivedCount = [...received.values()].reduce((n, v) => n + v.length, 0) - duplicates
    const plaintext = countPlaintext(sentReadings, [...brokerTap.items, ...gwTap.items])
    const radio = radioTotals(devices.flatMap((d) => [d.up, d.down]))
    const gw: Record<string, number> = {}
    for (const [k, v] of gwNode.counters) if (k.startsWith('gateway.') || k.startsWith('mailbox.') || k.startsWith('drop.') || k === 'received' || k === 'sent') gw[k] = v
    if (process.env.HOPSEAL_SCENARIO_DEBUG) {
      for (const d of devices) console.error(d.name, d.espruino ? d.espruino.lines.slice(-5).join(' | ') : Object.fromEntries(d.node.counters), d.serial ? JSON.stringify(d.serial.stats('gw')) : '', JSON.stringify(d.up.stats), JSON.stringify(d.down.stats))
      for (const [n, a] of apps) console.error(n, Object.fromEntries(a.node.counters))
      console.error('gateway', Object.fromEntries(gwNode.counters))
    }
    const heapMB = Math.round((heapMax / 1048576) * 10) / 10
    const noChannel = devices.filter((d) => !d.channel && !d.espruino?.opened).map((d) => d.name)
    const checks: Check[] = [
      { name: 'every device opened its channel', ok: noChannel.length === 0, detail: noChannel.length ? `no channel by the deadline: ${noChannel.join(', ')} (${hsFailures} failed attempts)` : `${devices.length} channels` },
      { name: 'delivered = sent, exactly once, in order', ok: receivedCount === sent && duplicates === 0 && outOfOrder === 0 && failed === 0 && unsettled === 0 && sent === perDevice * devices.length, detail: `sent ${sent}/${perDevice * devices.length}, received ${receivedCount}, duplicates ${duplicates}, out of order ${outOfOrder}, failed ${failed}, unacknowledged at the deadline ${unsettled}` },
      { name: 'no plaintext at the broker and gateway taps', ok: plaintext <= spec.expect.plaintextAtTaps && brokerTap.skipped === 0 && gwTap.skipped === 0 && brokerTap.items.length > 0 && gwTap.items.length > 0, detail: `${plaintext} matches in ${brokerTap.items.length} publishes and ${gwTap.items.length} radio frames` },
      { name: 'bounded memory', ok: heapMB <= spec.expect.maxHeapMB, detail: `heap max ${heapMB} MB (limit ${spec.expect.maxHeapMB})` },
      { name: 'handshake failures as expected', ok: hsFailures >= spec.expect.minHandshakeFailures, detail: `${hsFailures} failed attempts (at least ${spec.expect.minHandshakeFailures} expected)` },
      { name: 'every fault ran', ok: faultsLog.length === spec.faults.length && faultsLog.every((l) => !l.includes('failed')), detail: faultsLog.join('; ') || 'no faults' },
    ]
    return {
      scenario: spec.name,
      seed,
      ok: checks.every((c) => c.ok),
      durationMs: Date.now() - started,
      vaults: vaultsUsed,
      handshake: { mode, protocol, attempts: hsAttempts, failures: hsFailures, frames: hsFrames, bytes: hsBytes, airtime_ms: Math.round(hsAirtime * 10) / 10, ms: hsMs },
      readings: { sent, received: receivedCount, duplicates, out_of_order: outOfOrder, failed },
      taps: { broker_messages: brokerTap.items.length, broker_bytes: brokerTap.bytes, gateway_frames: gwTap.items.length, gateway_bytes: gwTap.bytes, plaintext_matches: plaintext },
      radio: { ...radio, airtime_ms: Math.round(radio.airtime_ms) },
      gateway: gw,
      faults: faultsLog,
      memory: { heap_max_mb: heapMB },
      checks,
    }
  } finally {
    clearInterval(heapTimer)
    over.abort()
    for (const c of cleanups.reverse()) await bounded(c(), CLEANUP_MS)
  }
}
