/**
 * Transport figures (issue 5):
 *
 * - `mqtt.channel_rtt.ms`: median round trip of a small payload through a KK
 *   secure channel between two routing Nodes on MQTT transports, to an echo
 *   worker behind the channel; baseline `mqtt.plain_rtt.ms`: the same payload
 *   between two raw mqtt.js clients (QoS 1, Nagle off, persistent sessions,
 *   MQTT 3.1.1: what the transport ends up with on aedes), one echoing. Same
 *   embedded aedes broker, same run, iterations interleaved one by one so
 *   drift (GC, CPU frequency) hits both alike. A third interleaved variant,
 *   the same Nodes and transports echoing without a channel, and the channel's
 *   seal + open cost in a tight loop split the difference (printed, in `note`).
 * - `lora.kk_handshake_airtime_sf{7,12}.ms`: time on air of every radio frame
 *   of one KK handshake, both directions, device ↔ gateway over the LoRa
 *   profile (EU868 MTU for the SF), the gateway forwarding over MQTT to the
 *   app's listener (the heart-rate topology). Deterministic: computed from
 *   the bytes actually carried (Semtech formula).
 * - `lora.reading_airtime_sf12.ms`: the uplink frame(s) one 8-byte reading
 *   produces through the established channel in reliable mode (as the
 *   scenarios send readings); baseline the same 8 bytes sent without a channel.
 * - `lora.wake_reading_airtime_sf12.ms`: the same reading from a device that
 *   slept one hour (channel on the `lora` medium, its clock jumped by an
 *   hour): no handshake while the session is valid; baseline the awake
 *   reading. The note gives a wake after 30 h (past the 24 h hard limit: one
 *   KK renewal first).
 * - `channel.renewal.bytes`: every radio byte of one KK renewal at SF12 (two
 *   flights and the confirmation keep-alive), baseline the first KK handshake.
 */
import mqtt, { type MqttClient } from 'mqtt'
import { cryptoProvider } from '../targets/node/crypto/index.ts'
import { HandshakeState, softwareStaticKey, vaultStaticKey, type StaticKey } from '../src/noise/index.ts'
import { ChannelSession } from '../src/channel/session.ts'
import { MessageType } from '../src/channel/wire.ts'
import { address, local, Node, TransportType, type Address } from '../src/routing/index.ts'
import { createSecureChannel, knownPeers, startSecureChannelListener, type SecureChannel } from '../src/channel/secure-channel.ts'
import { memoryHandshakeCounter } from '../src/channel/handshake-counter.ts'
import { connectMqttTransport, startEmbeddedBroker, type MqttTransport } from '../targets/node/transports/mqtt/index.ts'
import { DEFAULT_KEEPALIVE_SEC } from '../targets/node/transports/mqtt/constants.ts'
import { loraAirtimeMs, loraProfile, SerialTransport } from '../targets/node/transports/serial/index.ts'
import { startGateway } from '../src/transports/gateway/index.ts'
import { ScaledClock, type Clock } from '../src/time/clock.ts'
import { memoryLinkPair } from '../hil-sim/links/memory-link.ts'
import { modelLink } from '../hil-sim/links/model.ts'
import { loraLinkModel } from '../hil-sim/links/presets.ts'
import { encodeReading, READING_BYTES } from '../hil-sim/scenario/readings.ts'
import { newTapRecord, tapLink } from '../hil-sim/scenario/taps.ts'
import { SoftwareVault } from '../vaults/software/index.ts'
import type { BenchContext, BenchModule, Figure } from './figure.ts'

const PROTOCOL = 'Noise_KK_25519_AESGCM_SHA256'
/** Payload of the round-trip figures: a heart-rate reading's size class. */
const RTT_PAYLOAD_BYTES = 16
/** Radio time runs this much faster than the wall clock (airtime and duty-cycle waits take no real time). */
const RADIO_CLOCK_SCALE = 10_000
/** The largest KK flight architecture.md §5 allows: one LoRa DR0 frame. */
const KK_MAX_FLIGHT_BYTES = 51
const KK_FLIGHTS = 2
/** Frames the gateway-side tap keeps (it also counts them; a handful here). */
const TAP_LIMIT_BYTES = 64 * 1024

const crypto = cryptoProvider('node')

async function staticKey(vault: SoftwareVault): Promise<StaticKey> {
  return vaultStaticKey(vault, await vault.generateKey('x25519'))
}

function quantile(xs: number[], q: number): number {
  const s = xs.slice().sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!
}

/** One awaited reply at a time: `next()` arms, the receive side calls `resolve`. */
class Waiter {
  private pending: ((b: Uint8Array) => void) | undefined
  next(): Promise<Uint8Array> {
    return new Promise((r) => (this.pending = r))
  }
  resolve = (b: Uint8Array): void => {
    const p = this.pending
    this.pending = undefined
    p?.(b)
  }
}

async function rawClient(url: string, clientId: string): Promise<MqttClient> {
  // The settings the transport uses (targets/node/transports/mqtt/options.ts) as they end up on aedes.
  const c = await mqtt.connectAsync(url, { clientId, clean: false, protocolVersion: 4, keepalive: DEFAULT_KEEPALIVE_SEC, reconnectPeriod: 0 })
  ;(c.stream as unknown as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true)
  return c
}

interface RttResult {
  plain: number[]
  /** Two Nodes on the same MQTT transports with a plain echo worker: routing without the channel. */
  routing: number[]
  channel: number[]
  /** One seal + open of the payload through an established ChannelSession (µs, tight loop). */
  sealOpenUs: number
}

/**
 * Interleaved round trips over one broker: raw mqtt.js echo, routed echo
 * (Nodes, no channel) and KK channel echo; one of each per iteration, in
 * rotating order.
 */
async function mqttRoundTrips(ctx: BenchContext, url: string, iterations: number, warmup: number): Promise<RttResult> {
  const closers: (() => Promise<unknown>)[] = []
  try {
    // (a) raw clients: A publishes to bench/ping, B echoes to bench/pong.
    const ra = await rawClient(url, 'bench-raw-a')
    closers.push(() => ra.endAsync(true))
    const rb = await rawClient(url, 'bench-raw-b')
    closers.push(() => rb.endAsync(true))
    await rb.subscribeAsync('bench/ping', { qos: 1 })
    await ra.subscribeAsync('bench/pong', { qos: 1 })
    rb.on('message', (_t, payload) => void rb.publish('bench/pong', payload, { qos: 1 }))
    const plainWaiter = new Waiter()
    ra.on('message', (_t, payload) => plainWaiter.resolve(payload))

    // Two Nodes on MQTT transports, each with a plain echo worker and a KK channel listener.
    const va = await SoftwareVault.open()
    const vb = await SoftwareVault.open()
    closers.push(() => va.close(), () => vb.close())
    const sa = await staticKey(va)
    const sb = await staticKey(vb)
    const na = new Node({ name: 'bench-a' })
    const nb = new Node({ name: 'bench-b' })
    const ta: MqttTransport = await connectMqttTransport({ url, name: 'bench-a' })
    closers.push(() => ta.close())
    const tb: MqttTransport = await connectMqttTransport({ url, name: 'bench-b' })
    closers.push(() => tb.close())
    na.registerTransport(ta)
    nb.registerTransport(tb)
    const echo = nb.startWorker('echo', (c, msg) => c.send(msg.returnRoute, msg.payload))

    // (b) routing only: A's worker `back` sends to B's `echo`, which answers along the return route.
    const routeWaiter = new Waiter()
    const back = na.startWorker('back', (_c, msg) => routeWaiter.resolve(msg.payload))

    // (c) the channel: KK, the echo worker behind the listener.
    // `echo` also serves variant (b) without a channel: a public service, so not channel-only.
    startSecureChannelListener(nb, 'L', { protocol: PROTOCOL, s: sb, crypto, auth: knownPeers([{ staticKey: sa.publicKey }]), initiatorStatics: [sa.publicKey], deliverTo: echo, deliverToAnyone: true })
    const chanWaiter = new Waiter()
    const ch: SecureChannel = await createSecureChannel(na, [tb.address, local('L')], {
      protocol: PROTOCOL, s: sa, rs: sb.publicKey, crypto, auth: knownPeers([{ staticKey: sb.publicKey }]), deliverTo: (p) => chanWaiter.resolve(p),
    })
    closers.push(() => ch.close())

    const payload = crypto.randomBytes(RTT_PAYLOAD_BYTES)
    const timed = async (what: string, waiter: Waiter, send: () => Promise<unknown>): Promise<number> => {
      const reply = waiter.next()
      const t0 = performance.now()
      const acked = send()
      const got = await reply
      const t = performance.now() - t0
      await acked
      if (got.length !== payload.length || !got.every((b, i) => b === payload[i])) throw new Error(`${what}: the echo differs from the payload`)
      return t
    }
    const out: RttResult = { plain: [], routing: [], channel: [], sealOpenUs: 0 }
    const variants: [number[], () => Promise<number>][] = [
      [out.plain, () => timed('plain', plainWaiter, () => ra.publishAsync('bench/ping', Buffer.from(payload), { qos: 1 }))],
      [out.routing, () => timed('routing', routeWaiter, () => na.send([tb.address, echo], payload, [back]))],
      [out.channel, () => timed('channel', chanWaiter, () => ch.send(payload))],
    ]
    for (let i = 0; i < warmup; i++) for (const [, once] of variants) await once()
    ;(globalThis as { gc?: () => void }).gc?.()
    for (let i = 0; i < iterations; i++) {
      // Rotate the order so no variant always runs right after the same other one.
      for (let k = 0; k < variants.length; k++) {
        const [into, once] = variants[(i + k) % variants.length]!
        into.push(await once())
      }
    }
    const drops = [...na.counters, ...nb.counters].filter(([k]) => k.startsWith('drop') || k.startsWith('channel.drop') || k.startsWith('handshake.failed'))
    if (drops.length > 0) ctx.log(`# mqtt: dropped: ${drops.map(([k, v]) => `${k}=${v}`).join(' ')}`)
    out.sealOpenUs = await sealOpenMicros(payload, ctx.quick ? 20_000 : 100_000)
    return out
  } finally {
    for (const c of closers.reverse()) await c().catch(() => undefined)
  }
}

/** µs per seal + open of `payload` through a KK ChannelSession pair (the channel's crypto per message, per direction). */
async function sealOpenMicros(payload: Uint8Array, n: number): Promise<number> {
  const si = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
  const sr = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
  const hi = HandshakeState.create({ protocol: PROTOCOL, initiator: true, s: si, rs: sr.publicKey, crypto })
  const hr = HandshakeState.create({ protocol: PROTOCOL, initiator: false, s: sr, rs: si.publicKey, crypto })
  await hr.readMessage(await hi.writeMessage())
  await hi.readMessage(await hr.writeMessage())
  const a = new ChannelSession(hi.finish(), Date.now)
  const b = new ChannelSession(hr.finish(), Date.now)
  const once = (): void => {
    if (!b.open(a.seal(MessageType.DATA, payload))) throw new Error('seal/open failed')
  }
  for (let i = 0; i < n / 10; i++) once()
  const t0 = performance.now()
  for (let i = 0; i < n; i++) once()
  return ((performance.now() - t0) * 1000) / n
}

interface RadioDelta {
  frames: number
  bytes: number
  airtimeMs: number
  sizes: number[]
}

/**
 * Every radio frame each way, seen at the gateway's end of the link (as the
 * scenario's tap sees it): `up` = device → gateway, `down` = gateway → device.
 */
function radioMeter(airtimeMs: (bytes: number) => number) {
  const frames: { dir: 'up' | 'down'; bytes: number }[] = []
  const record = (dir: 'up' | 'down', frame: Uint8Array): void => void frames.push({ dir, bytes: frame.length })
  const mark = (): number => frames.length
  const delta = (from: number, dir: 'up' | 'down' | 'both'): RadioDelta => {
    const picked = frames.slice(from).filter((f) => dir === 'both' || f.dir === dir)
    return {
      frames: picked.length,
      bytes: picked.reduce((n, f) => n + f.bytes, 0),
      airtimeMs: picked.reduce((t, f) => t + airtimeMs(f.bytes), 0),
      sizes: picked.map((f) => f.bytes),
    }
  }
  return { record, mark, delta }
}

const settle = (ms = 20): Promise<void> => new Promise((r) => setTimeout(r, ms))

interface LoraResult {
  sf: number
  mtu: number
  handshake: RadioDelta
  /** Airtime of the bare Noise messages, one frame each (no fragment or routing header). */
  noiseOnlyAirtimeMs: number
  noiseSizes: number[]
  reading: { reliable: RadioDelta; ack: RadioDelta; unreliable: RadioDelta; plain: RadioDelta }
  /** The `lora`-medium channel: a reading after 1 h of sleep, one renewal, a reading after 30 h. */
  sleepy: Record<'awake' | 'wake1h' | 'renewal' | 'wake30h', { up: RadioDelta; both: RadioDelta }>
}

/** Wall-clock time plus a skew the bench moves forward: a device's clock across a sleep. */
function jumpClock(): Clock & { jump(ms: number): void } {
  let skew = 0
  return {
    now: () => Date.now() + skew,
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
    jump: (ms) => void (skew += ms),
  }
}

/**
 * Device ↔ (LoRa, sf) ↔ gateway ↔ MQTT ↔ app, as in the heart-rate scenario:
 * one KK handshake, then one 8-byte reading in reliable mode, one without,
 * and the same 8 bytes without a channel.
 */
async function loraRun(url: string, sf: number): Promise<LoraResult> {
  const clock = new ScaledClock(RADIO_CLOCK_SCALE)
  const profile = loraProfile({ sf })
  const closers: (() => Promise<unknown>)[] = []
  try {
    const vd = await SoftwareVault.open()
    const vp = await SoftwareVault.open()
    closers.push(() => vd.close(), () => vp.close())
    const sd = await staticKey(vd)
    const sp = await staticKey(vp)
    const app = `bench-phone-sf${sf}`
    const gwName = `bench-gw-sf${sf}`

    // Radio: a memory cable with a lossless LoRa model each way (airtime, queueing, EU868 MTU).
    const [a, b] = memoryLinkPair({ mtu: profile.mtu })
    const model = loraLinkModel({ sf })
    const up = modelLink(a, model, { seed: `bench/sf${sf}/up`, clock })
    const down = modelLink(b, model, { seed: `bench/sf${sf}/down`, clock })
    const meter = radioMeter(profile.airtimeMs)

    const devNode = new Node({ name: 'monitor' })
    const devSerial = new SerialTransport({ clock })
    devSerial.addLink('gw', up, profile)
    devNode.registerTransport(devSerial)
    closers.push(() => devSerial.close())

    const gwNode = new Node({ name: gwName })
    const gwSerial = new SerialTransport({ clock })
    gwSerial.addLink('dev', tapLink(down, newTapRecord(), TAP_LIMIT_BYTES, meter.record), profile)
    const gwMqtt = await connectMqttTransport({ url, name: gwName })
    const routes: Record<number, Address[]> = {
      0: [address(TransportType.MQTT, app), local('hr')], // the default listener address: message 1 has a 1-byte header
      2: [address(TransportType.MQTT, app), local('hr-u')],
      3: [address(TransportType.MQTT, app), local('sink')],
      4: [address(TransportType.MQTT, app), local('hr-l')],
    }
    const gateway = startGateway({ node: gwNode, link: gwSerial, upstream: [gwMqtt], routes, clock })
    closers.push(() => gateway.close())

    const appNode = new Node({ name: app })
    const appMqtt = await connectMqttTransport({ url, name: app })
    appNode.registerTransport(appMqtt)
    closers.push(() => appMqtt.close())
    const got: Uint8Array[] = []
    const sink = (p: Uint8Array): void => void got.push(p)
    appNode.startWorker('sink', (_c, msg) => sink(msg.payload))
    const listen = { protocol: PROTOCOL, s: sp, crypto, auth: knownPeers([{ staticKey: sd.publicKey }]), initiatorStatics: [sd.publicKey], deliverTo: sink }
    startSecureChannelListener(appNode, 'hr', { ...listen, reliable: true })
    startSecureChannelListener(appNode, 'hr-u', listen)
    const sleepClock = jumpClock()
    startSecureChannelListener(appNode, 'hr-l', { ...listen, reliable: true, medium: 'lora', clock: sleepClock })

    const open = (alias: number, reliable: boolean): Promise<SecureChannel> =>
      createSecureChannel(devNode, [devSerial.linkAddress('gw'), local(Uint8Array.of(alias))], {
        protocol: PROTOCOL, s: sd, rs: sp.publicKey, crypto, auth: knownPeers([{ staticKey: sp.publicKey }]), reliable,
        // No retransmission: nothing is lost, and a figure must count one handshake's flights only.
        retransmit: false,
        // A LoRa device persists its handshake counter (ATECC608 Counter 1, Storage): 1 varint byte below 128.
        handshakeCounter: memoryHandshakeCounter(0),
      })

    // The handshake (reliable-mode channel, as in the scenario).
    let from = meter.mark()
    const ch = await open(0, true)
    closers.push(() => ch.close())
    await settle()
    const handshake = meter.delta(from, 'both')

    // One reading through the channel: the data frame up, the ACK down.
    const reading = encodeReading(0, 0, 72)
    if (reading.length !== READING_BYTES) throw new Error('reading size changed')
    from = meter.mark()
    await ch.send(reading)
    await settle()
    const reliable = meter.delta(from, 'up')
    const ack = meter.delta(from, 'down')

    // The same reading through a channel without reliable mode.
    const chu = await open(2, false)
    closers.push(() => chu.close())
    await settle()
    from = meter.mark()
    await chu.send(reading)
    await settle()
    const unreliable = meter.delta(from, 'up')

    // The same 8 bytes with no channel: a routed message from a 1-byte device address.
    const me = devNode.startWorker(devNode.newAddress(), () => undefined)
    from = meter.mark()
    await devNode.send([devSerial.linkAddress('gw'), local(Uint8Array.of(3))], reading, [me])
    await settle()
    const plain = meter.delta(from, 'up')

    // A sleepy device on the lora medium: awake reading, 1 h of sleep, a renewal, 30 h of sleep.
    const chl = await createSecureChannel(devNode, [devSerial.linkAddress('gw'), local(Uint8Array.of(4))], {
      protocol: PROTOCOL, s: sd, rs: sp.publicKey, crypto, auth: knownPeers([{ staticKey: sp.publicKey }]), reliable: true, medium: 'lora', clock: sleepClock, retransmit: false,
    })
    closers.push(() => chl.close())
    await settle()
    const measure = async (what: () => Promise<void>): Promise<{ up: RadioDelta; both: RadioDelta }> => {
      const m = meter.mark()
      await what()
      await settle()
      return { up: meter.delta(m, 'up'), both: meter.delta(m, 'both') }
    }
    const awake = await measure(() => chl.send(reading))
    sleepClock.jump(3_600_000)
    const wake1h = await measure(() => chl.send(reading))
    const renewal = await measure(() => chl.renew())
    sleepClock.jump(30 * 3_600_000)
    const wake30h = await measure(() => chl.send(reading))
    if (chl.renewals !== 2) throw new Error(`SF${sf}: expected 2 renewals on the sleepy channel, got ${chl.renewals}`)

    for (let i = 0; i < 100 && got.length < 6; i++) await settle(10)
    if (got.length !== 6 || !got.every((g) => g.length === reading.length && g.every((x, i) => x === reading[i]))) {
      throw new Error(`SF${sf}: expected the reading 6 times at the app, got ${got.length}`)
    }
    // Three independent counts of the time on air must agree: the tap's, the serial transports' and the radio model's.
    const tapAir = meter.delta(0, 'both').airtimeMs
    const serialAir = devSerial.stats('gw').airtimeMs + gwSerial.stats('dev').airtimeMs
    const modelAir = up.stats.airtimeMs + down.stats.airtimeMs
    if (Math.abs(serialAir - modelAir) > 1e-6 || Math.abs(tapAir - modelAir) > 1e-6) throw new Error(`SF${sf}: airtime differs: tap ${tapAir}, serial ${serialAir}, radio model ${modelAir} ms`)
    const losses = up.stats.lost + down.stats.lost + up.stats.overflow + down.stats.overflow
    if (losses !== 0) throw new Error(`SF${sf}: the radio lost ${losses} frames`)

    // Baseline of the handshake: the bare Noise KK messages, one frame each.
    const hi = HandshakeState.create({ protocol: PROTOCOL, initiator: true, s: sd, rs: sp.publicKey, crypto })
    const hr = HandshakeState.create({ protocol: PROTOCOL, initiator: false, s: sp, rs: sd.publicKey, crypto })
    const m1 = await hi.writeMessage()
    await hr.readMessage(m1)
    const m2 = await hr.writeMessage()
    await hi.readMessage(m2)
    const noiseSizes = [m1.length, m2.length]
    const noiseOnlyAirtimeMs = noiseSizes.reduce((t, n) => t + loraAirtimeMs(n, { sf }), 0)

    return { sf, mtu: profile.mtu, handshake, noiseOnlyAirtimeMs, noiseSizes, reading: { reliable, ack, unreliable, plain }, sleepy: { awake, wake1h, renewal, wake30h } }
  } finally {
    for (const c of closers.reverse()) await c().catch(() => undefined)
  }
}

interface Pct {
  p50: number
  p99: number
}

const r1 = (x: number): number => Math.round(x * 1000) / 1000
const sizes = (d: RadioDelta): string => `${d.frames} frame${d.frames === 1 ? '' : 's'} [${d.sizes.join(', ')}] B`

const run: BenchModule = async (ctx) => {
  const figures: Figure[] = []
  const broker = await startEmbeddedBroker()
  try {
    const iterations = ctx.quick ? 1000 : 5000
    const warmup = ctx.quick ? 300 : 1000
    ctx.log(`measuring MQTT round trips over aedes (${RTT_PAYLOAD_BYTES}-byte payload, QoS 1, ${iterations} interleaved iterations each)`)
    const rtt = await mqttRoundTrips(ctx, broker.url, iterations, warmup)
    const [p, r, c] = [rtt.plain, rtt.routing, rtt.channel].map((xs) => ({ p50: quantile(xs, 0.5), p99: quantile(xs, 0.99) })) as [Pct, Pct, Pct]
    const us = (ms: number): string => `${(ms * 1000).toFixed(0)} µs`
    const note =
      `p50 ${c.p50.toFixed(3)} vs ${p.p50.toFixed(3)} ms (${(c.p50 / p.p50).toFixed(2)}x), p99 ${c.p99.toFixed(3)} vs ${p.p99.toFixed(3)} ms (${(c.p99 / p.p99).toFixed(2)}x); ` +
      `routed echo without a channel p50 ${r.p50.toFixed(3)} ms; the channel adds ${us(c.p50 - p.p50)} per round trip: routing ${us(r.p50 - p.p50)}, ` +
      `channel ${us(c.p50 - r.p50)}, of which 2 seals + 2 opens cost ≥ ${(2 * rtt.sealOpenUs).toFixed(0)} µs (tight loop)`
    ctx.log(`mqtt round trip, channel vs plain: ${note}`)
    figures.push({ name: 'mqtt.channel_rtt.ms', value: c.p50, unit: 'ms', baseline: { name: 'mqtt.plain_rtt.ms', value: p.p50 }, target: '<= 1.2x', note })

    for (const sf of [7, 12]) {
      const r = await loraRun(broker.url, sf)
      const dr0 = KK_FLIGHTS * loraAirtimeMs(KK_MAX_FLIGHT_BYTES, { sf })
      const hsNote = `${sizes(r.handshake)}, ${r.handshake.bytes} B on air, MTU ${r.mtu}; bare Noise messages [${r.noiseSizes.join(', ')}] B = ${r.noiseOnlyAirtimeMs.toFixed(1)} ms`
      ctx.log(`KK handshake at SF${sf}: ${r.handshake.airtimeMs.toFixed(1)} ms on air: ${hsNote}`)
      figures.push({
        name: `lora.kk_handshake_airtime_sf${sf}.ms`,
        value: r1(r.handshake.airtimeMs),
        unit: 'ms',
        baseline: { name: `lora.kk_noise_only_airtime_sf${sf}.ms`, value: r1(r.noiseOnlyAirtimeMs) },
        // architecture.md §5: every KK flight ≤ 51 B (one DR0 frame), 2 flights.
        target: `<= ${dr0.toFixed(3)} (2 x 51 B)`, // symbol times are whole µs: 3 decimals are exact
        note: hsNote,
      })
      if (sf !== 12) continue
      const { reliable, ack, unreliable, plain } = r.reading
      const rdNote = `reliable mode: ${sizes(reliable)} up, ACK ${sizes(ack)} down = ${ack.airtimeMs.toFixed(1)} ms; without reliable mode ${sizes(unreliable)} = ${unreliable.airtimeMs.toFixed(1)} ms; no channel ${sizes(plain)}`
      ctx.log(`8-byte reading at SF12: ${reliable.airtimeMs.toFixed(1)} ms on air: ${rdNote}`)
      figures.push({
        name: 'lora.reading_airtime_sf12.ms',
        value: r1(reliable.airtimeMs),
        unit: 'ms',
        baseline: { name: 'lora.plain_reading_airtime_sf12.ms', value: r1(plain.airtimeMs) },
        note: rdNote,
      })
      const { awake, wake1h, renewal, wake30h } = r.sleepy
      const both = (d: { both: RadioDelta }): string => `${sizes(d.both)} (${d.both.airtimeMs.toFixed(1)} ms both ways)`
      const wakeNote = `lora medium, reliable, uplink (downlink: the ACK): awake ${both(awake)}; after 1 h asleep ${both(wake1h)}; after 30 h asleep (session past its 24 h limit: one KK renewal first) ${both(wake30h)}`
      ctx.log(`reading after 1 h of sleep at SF12: ${wake1h.up.airtimeMs.toFixed(1)} ms up: ${wakeNote}`)
      figures.push({
        name: 'lora.wake_reading_airtime_sf12.ms',
        value: r1(wake1h.up.airtimeMs),
        unit: 'ms',
        baseline: { name: 'lora.awake_reading_airtime_sf12.ms', value: r1(awake.up.airtimeMs) },
        note: wakeNote,
      })
      const renewNote = `${both(renewal)}: flight 1, flight 2, confirmation keep-alive; first KK handshake ${sizes(r.handshake)}`
      ctx.log(`KK renewal at SF12: ${renewal.both.bytes} B on air: ${renewNote}`)
      figures.push({
        name: 'channel.renewal.bytes',
        value: renewal.both.bytes,
        unit: 'B',
        baseline: { name: 'channel.kk_handshake_lora.bytes', value: r.handshake.bytes },
        note: renewNote,
      })
    }
  } finally {
    await broker.close()
  }
  return figures
}

export default run
