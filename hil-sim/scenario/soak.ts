/**
 * Soak runs (scenario files with `time: simulated`): weeks of a fleet's life
 * on a WarpClock, so every timer (channels, renewals, reliable mode, gateway
 * mailboxes, link models and duty cycles, the workload, the faults and the
 * deadline) reads simulated time, while the broker, the MQTT clients and the
 * simulated secure elements are the real components.
 *
 * Devices sleep between readings (the gateway runs them in its `sleepy`
 * mailbox mode) and keep every reading in an outbox until their channel takes
 * it: a reading produced during a blackout or a broker restart is sent later,
 * never dropped. The summary adds what a soak is about: renewals, heap per
 * simulated day (after a forced GC where `--expose-gc` allows it), the wall
 * time, and how much simulated time the clock skipped.
 */
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { ErrorCode, isHopsealError } from '../../src/errors.ts'
import { address, local, Node, TransportType, type Address } from '../../src/routing/index.ts'
import { createSecureChannel, startSecureChannelListener, type SecureChannel } from '../../src/channel/secure-channel.ts'
import type { Medium } from '../../src/channel/limits.ts'
import { connectMqttTransport, startEmbeddedBroker, type EmbeddedBroker } from '../../targets/node/transports/mqtt/index.ts'
import { SerialTransport, type LinkProfile } from '../../targets/node/transports/serial/index.ts'
import { startGateway, type DeviceOptions, type Gateway } from '../../src/transports/gateway/index.ts'
import type { FrameLink } from '../../src/transports/link.ts'
import type { Transport } from '../../src/routing/transport.ts'
import { WarpClock } from '../warp-clock.ts'
import { modelLink, type ModelLink } from '../links/model.ts'
import { memoryLinkPair } from '../links/memory-link.ts'
import { seededRandom } from '../links/prng.ts'
import { modelFor, profileFor, radioTotals } from './radio.ts'
import { authFor, makeParty, openVault, type Party } from './parties.ts'
import { decodeReading, encodeReading, READING_BYTES } from './readings.ts'
import { newTapRecord, tapBroker, tapLink } from './taps.ts'
import { bounded, type Check, type ScenarioEvent, type Summary } from './run.ts'
import type { DeviceSpec, ScenarioSpec } from './spec.ts'

/** Fixed identity clock (seconds) so XX identities verify the same in every run. */
const NOW_SEC = 1_800_000_000
const DAY_MS = 86_400_000
/**
 * The taps keep nothing: a month of frames would be the heap growth the soak
 * checks for. Each frame and publish is searched as it passes (PlaintextScan).
 */
const TAP_KEEP_BYTES = 0
/** Readings a device keeps waiting for its channel (an hour-long blackout at one a minute is 60). */
const OUTBOX_LIMIT = 100_000
/**
 * MQTT clients reconnect after a broker restart on wall-clock time, and the
 * clock holds (no jumps) meanwhile but still runs at its scale: the default
 * 250 ms first retry would be 40 simulated minutes of outage at 10 000×.
 */
const MQTT_RECONNECT = { initialMs: 20, maxMs: 200 }
/** Readings a device keeps in flight on its channel (within the reliable window, counted as the span from the oldest unacknowledged). */
const IN_FLIGHT = 4
/** A device retries a failed handshake (or replaces a closed channel) after this long, doubling up to REOPEN_MAX_MS (simulated ms). */
const REOPEN_AFTER_MS = 30_000
const REOPEN_MAX_MS = 3_600_000
/** Wall ms a fault (a broker or gateway restart: real components) may take before it counts as failed and the clock moves on. */
const FAULT_WALL_MS = 20_000
/** Wall ms one cleanup step (closing a transport, the broker) may take before the run moves on. */
const CLEANUP_MS = 5000
/** EU868 g3 sub-band (869.4–869.65 MHz, LoRaWAN RX2): 10 %. */
const GATEWAY_DOWNLINK_DUTY_CYCLE = 0.1

export interface SoakSummary extends Summary {
  soak: {
    simulated_days: number
    wall_s: number
    skipped_ratio: number
    renewals: number
    heap_mb_by_day: number[]
    heap_growth_ratio: number
    outbox_max: number
    /** Readings not kept because a device's outbox was full (OUTBOX_LIMIT). */
    outbox_dropped: number
    /** Readings refused at the call (reliable window full) and put back in the outbox. */
    requeued: number
    /** Channels opened again after one closed. */
    reopened: number
    /** Downlink frames that reached a sleepy device with its radio off (outside awakeMs after its last uplink). */
    missed_asleep: number
    /** Warp clock: MQTT messages taken as lost (in flight longer than its busy timeout), holds overridden. */
    clock: { jumps: number; timers_fired: number; busy_expired: number; hold_expired: number }
  }
}

interface Device {
  spec: DeviceSpec
  name: string
  index: number
  party: Party
  node: Node
  serial: SerialTransport
  up: ModelLink
  down: ModelLink
  /** The gateway's end, which survives gateway restarts (close is a no-op). */
  gwEnd: FrameLink
  /** The gateway's profile for this device's link. */
  profile: LinkProfile
  /** The channel's limit profile (channelMedium, else from the link profile). */
  medium: Medium
  channel?: SecureChannel
  /** Renewals of this device's earlier channels (replaced after a close). */
  renewalsBefore: number
  outbox: Uint8Array[]
  inFlight: number
  nextSeq: number
}

/** The gateway's side of a device's link: on LoRa, the RX2 downlink sub-band's 10 % duty cycle when the device's is lower. */
function gatewaySide(d: DeviceSpec): DeviceSpec {
  return d.link.profile === 'lora' ? { ...d, link: { ...d.link, dutyCycle: Math.max(d.link.dutyCycle, GATEWAY_DOWNLINK_DUTY_CYCLE) } } : d
}

function mediumOf(d: DeviceSpec): Medium {
  return d.channelMedium ?? (d.link.profile === 'lora' ? 'lora' : d.link.profile === 'ble-uart' ? 'ble' : 'ip')
}

/** Puts a reading back into the outbox at its place in sequence order (the outbox is sorted by sequence). */
function requeue(dev: { outbox: Uint8Array[] }, r: Uint8Array): void {
  const seq = decodeReading(r)?.seq ?? 0
  let i = 0
  while (i < dev.outbox.length && (decodeReading(dev.outbox[i] as Uint8Array)?.seq ?? 0) < seq) i++
  dev.outbox.splice(i, 0, r)
}

/**
 * A sleepy device's radio: after each uplink it listens for `awakeMs` (from
 * the end of the frame on air), then it is off, and a downlink that arrives
 * then is not received (counted). The gateway's `sleepy` mailbox mode is
 * what keeps downlinks for the device's next uplink.
 */
function sleepyRadio(link: FrameLink, clock: { now(): number }, awakeMs: number, airtimeMs: (bytes: number) => number, missed: () => void): FrameLink {
  let listenUntil = Number.NEGATIVE_INFINITY
  return {
    get mtu() {
      return link.mtu
    },
    get up() {
      return link.up
    },
    send(f) {
      listenUntil = clock.now() + airtimeMs(f.length) + awakeMs
      return link.send(f)
    },
    onFrame: (h) =>
      link.onFrame((f) => {
        if (clock.now() > listenUntil) return missed()
        h(f)
      }),
    ...(link.onStateChange ? { onStateChange: (h: (up: boolean) => void) => link.onStateChange?.(h) } : {}),
    close: () => link.close(),
  }
}

/** Resolves with p, or rejects after `ms` of wall time (a real component that does not finish). */
function wallBounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined
  return Promise.race([p, new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`${what} did not finish in ${ms / 1000} s of wall time`)), ms)))]).finally(() => clearTimeout(t))
}

/** A FrameLink whose close() does nothing: the radio outlives a gateway process that restarts. */
function keepOpen(link: FrameLink): FrameLink {
  return {
    get mtu() {
      return link.mtu
    },
    get up() {
      return link.up
    },
    send: (f) => link.send(f),
    onFrame: (h) => link.onFrame(h),
    ...(link.onStateChange ? { onStateChange: (h: (up: boolean) => void) => link.onStateChange?.(h) } : {}),
    close: async () => undefined,
  }
}

/**
 * Counts `t`'s messages from send to delivery on the clock (begin/end), so it
 * does not jump while a message crosses the real broker over TCP.
 */
function tracked(t: Transport, clock: WarpClock): Transport {
  return {
    type: t.type,
    get properties() {
      return t.properties
    },
    send(to, bytes) {
      clock.begin()
      return t.send(to, bytes).catch((e: unknown) => {
        clock.end() // never went out (or its fate is unknown): nothing to wait for
        throw e
      })
    },
    onReceive: (h) =>
      t.onReceive((bytes, from) => {
        clock.end()
        h(bytes, from)
      }),
    close: () => t.close(),
  }
}

function heapMb(): number {
  ;(globalThis as { gc?: () => void }).gc?.()
  return Math.round((process.memoryUsage().heapUsed / 1048576) * 10) / 10
}

/** Runs a `time: simulated` scenario; resolves with the summary (`ok` false when a check fails), never hangs past its deadline. */
export async function runSoak(spec: ScenarioSpec, opts: { onEvent?: (e: ScenarioEvent) => void; seed?: string } = {}): Promise<SoakSummary> {
  const emit = opts.onEvent ?? (() => undefined)
  const seed = opts.seed ?? spec.seed
  const wall0 = Date.now()
  const clock = new WarpClock({ scale: spec.clockScale })
  const crypto = cryptoProvider('node')
  const rnd = seededRandom(`${seed}/readings`)
  const cleanups: (() => Promise<unknown>)[] = []
  /** Aborted when the run ends: handshakes in progress and reopen loops stop there. */
  const over = new AbortController()
  let missedAsleep = 0
  const faultsLog: string[] = []
  const vaultsUsed: Record<string, string> = {}
  const gwTap = newTapRecord()
  const brokerTap = newTapRecord()
  const heapByDay: number[] = []
  const seen = { gwFrames: 0, gwBytes: 0, publishes: 0, publishBytes: 0, plaintext: 0 }
  const deviceCount = spec.devices.reduce((n, d) => n + d.count, 0)
  const scan = new PlaintextScan(deviceCount, spec.workload.readings)
  /** Pending timers of the runner itself (workload, checks, faults), cleared at the end; fired ones leave the set. */
  const timers = new Set<unknown>()
  const after = (ms: number, fn: () => void): void => {
    const h = clock.setTimeout(() => {
      timers.delete(h)
      fn()
    }, ms)
    timers.add(h)
  }
  /** Runs `fn` at first, first + ms, first + 2 ms…, in absolute simulated time: a timer that fires late does not delay the next. */
  const every = (ms: number, fn: () => void, first = ms): void => {
    const start = clock.now() + first
    let k = 0
    const tick = (): void => {
      fn()
      k++
      after(Math.max(0, start + k * ms - clock.now()), tick)
    }
    after(first, tick)
  }
  try {
    const usesChip = spec.devices.some((d) => d.vault !== 'software') || spec.apps.some((a) => a.vault !== 'software')
    const dh = usesChip ? 'p256' : 'x25519'
    const protocol = `Noise_${spec.mode.toUpperCase()}_${dh === 'p256' ? 'P256' : '25519'}_AESGCM_SHA256`
    emit({ type: 'phase', text: `creating keys (${protocol})` })
    const apps = new Map<string, { party: Party; node: Node; alias: number }>()
    for (const [i, a] of spec.apps.entries()) {
      const opened = await openVault(a.vault, a.name, seed)
      vaultsUsed[a.name] = opened.used
      cleanups.push(() => opened.vault.close())
      apps.set(a.name, { party: await makeParty(a.name, a.vault, opened, dh, spec.mode, NOW_SEC), node: new Node({ name: a.name }), alias: i })
    }
    const devices: Device[] = []
    for (const d of spec.devices) {
      for (let k = 1; k <= d.count; k++) {
        const name = d.count === 1 ? d.name : `${d.name}-${k}`
        const opened = await openVault(d.vault, name, seed)
        vaultsUsed[name] = opened.used
        cleanups.push(() => opened.vault.close())
        const party = await makeParty(name, d.vault, opened, dh, spec.mode, NOW_SEC)
        const profile = profileFor(d)
        const [a, b] = memoryLinkPair({ mtu: profile.mtu })
        const up = modelLink(a, modelFor(d), { seed: `${seed}/${name}/up`, clock })
        // The gateway answers on LoRaWAN's RX2 channel (869.525 MHz, the g3 sub-band: 10 %), as gateways do:
        // one gateway acknowledging a fleet cannot live on a device's 1 %.
        const gwSpec = gatewaySide(d)
        const down = modelLink(b, modelFor(gwSpec), { seed: `${seed}/${name}/down`, clock })
        const gwProfile = profileFor(gwSpec)
        const node = new Node({ name })
        const serial = new SerialTransport({ clock })
        serial.addLink('gw', d.sleep ? sleepyRadio(up, clock, d.sleep.awakeMs, (n) => profile.airtimeMs(n), () => missedAsleep++) : up, profile)
        node.registerTransport(serial)
        cleanups.push(async () => {
          await serial.close()
          await a.close()
          await b.close()
        })
        const gwEnd = keepOpen(tapLink(down, gwTap, TAP_KEEP_BYTES, (_dir, f) => {
          clock.touch()
          seen.gwFrames++
          seen.gwBytes += f.length
          seen.plaintext += scan.count(f)
        }))
        devices.push({ spec: d, name, index: devices.length, party, node, serial, up, down, gwEnd, profile: gwProfile, medium: mediumOf(d), renewalsBefore: 0, outbox: [], inFlight: 0, nextSeq: 0 })
      }
    }

    // Broker (embedded aedes, restartable on its port) and its tap.
    let broker: EmbeddedBroker = await startEmbeddedBroker()
    const brokerPort = broker.port
    const brokerUrl = broker.url
    cleanups.push(async () => broker.close())
    // Every publish the tap sees is activity: no jump while MQTT messages are moving.
    const bt = await tapBroker(brokerUrl, brokerTap, TAP_KEEP_BYTES, (_t, p) => {
      clock.touch()
      seen.publishes++
      seen.publishBytes += p.length
      seen.plaintext += scan.count(p)
    })
    cleanups.push(() => bt.close())

    // Gateway: rebuilt from scratch on a gateway-restart fault (new process: empty mailboxes and alias tables).
    const routes: Record<number, Address[]> = {}
    for (const [name, a] of apps) routes[a.alias] = [address(TransportType.MQTT, name), local('hr')]
    const deviceModes: Record<string, DeviceOptions> = {}
    for (const dev of devices) if (dev.spec.sleep) deviceModes[dev.name] = { mode: 'sleepy', awakeMs: dev.spec.sleep.awakeMs }
    let gateway: Gateway | undefined
    let gwClient: { connected: boolean } | undefined
    const startGw = async (): Promise<Gateway> => {
      const gwNode = new Node({ name: spec.gateway.name })
      const gwSerial = new SerialTransport({ clock })
      for (const dev of devices) gwSerial.addLink(dev.name, dev.gwEnd, dev.profile)
      const gwMqtt = await connectMqttTransport({ url: brokerUrl, name: spec.gateway.name, connectTimeoutMs: 10_000, reconnect: MQTT_RECONNECT })
      gwClient = gwMqtt
      return startGateway({ node: gwNode, link: gwSerial, upstream: [tracked(gwMqtt, clock)], routes, devices: deviceModes, clock })
    }
    gateway = await startGw()
    cleanups.push(async () => gateway?.close())
    const mqttClients: { connected: boolean }[] = []

    // Apps: a KK/XX listener per app, reliable mode, the devices' medium.
    // Which readings arrived: a bitmap per device, allocated up front (a Set of numbers would be heap growth of its own).
    const received = devices.map(() => new Uint8Array(spec.workload.readings))
    const lastSeq = devices.map(() => -1)
    let receivedCount = 0
    let duplicates = 0
    let outOfOrder = 0
    for (const [name, a] of apps) {
      const t = await connectMqttTransport({ url: brokerUrl, name, connectTimeoutMs: 10_000, reconnect: MQTT_RECONNECT })
      mqttClients.push(t)
      a.node.registerTransport(tracked(t, clock))
      cleanups.push(() => t.close())
      const mine = devices.filter((d) => d.spec.app === name)
      startSecureChannelListener(a.node, 'hr', {
        protocol, s: a.party.s, crypto, reliable: true, clock, medium: mine[0]?.medium ?? 'ip',
        auth: authFor(a.party, mine.map((d) => d.party), spec.mode, NOW_SEC),
        ...(spec.mode === 'kk' ? { initiatorStatics: mine.map((d) => d.party.s.publicKey) } : {}),
        maxChannelsPerPeer: 2,
        deliverTo: (payload) => {
          clock.touch()
          const r = decodeReading(payload)
          if (!r) return
          const got = received[r.device]
          if (!got || r.seq >= got.length) return
          if (got[r.seq]) duplicates++
          else {
            if (r.seq < (lastSeq[r.device] ?? -1)) outOfOrder++
            got[r.seq] = 1
            receivedCount++
          }
          lastSeq[r.device] = Math.max(r.seq, lastSeq[r.device] ?? -1)
        },
      })
    }

    // No jumps while an MQTT client is away (it reconnects on wall-clock time) or a fault is being applied.
    let faultsRunning = 0
    clock.hold = () => faultsRunning > 0 || !(gwClient?.connected ?? false) || mqttClients.some((t) => !t.connected)

    // Channels, on the simulated clock. Each device opens its channel and keeps one open until the run
    // ends: a failed handshake is retried after a backoff, and a channel that closes (refused renewal,
    // reaped) is replaced. Every wait here reads the warp clock, and `over` aborts what runs at the end.
    emit({ type: 'phase', text: `handshakes (${spec.mode.toUpperCase()})` })
    let hsFailures = 0
    let hsAttempts = 0
    let reopened = 0
    const open = (dev: Device, attempt = 1): void => {
      if (over.signal.aborted) return
      const app = apps.get(dev.spec.app)
      if (!app) throw new Error(`no app ${dev.spec.app}`)
      const route = [address(TransportType.SERIAL, 'gw'), local(Uint8Array.of(app.alias))]
      hsAttempts++
      createSecureChannel(dev.node, route, {
        protocol, s: dev.party.s, crypto, reliable: true, clock, medium: dev.medium,
        auth: authFor(dev.party, [app.party], spec.mode, NOW_SEC),
        ...(spec.mode === 'kk' ? { rs: app.party.s.publicKey } : {}),
        signal: over.signal,
      }).then(
        (ch) => {
          if (dev.channel) reopened++
          dev.renewalsBefore += dev.channel?.renewals ?? 0
          dev.channel = ch
          emit({ type: 'handshake', device: dev.name, ms: 0, frames: 0, bytes: 0, airtimeMs: 0, attempts: attempt })
          ch.onClose(() => after(REOPEN_AFTER_MS, () => open(dev)))
          pump(dev)
        },
        (e: unknown) => {
          if (over.signal.aborted) return
          hsFailures++
          emit({ type: 'handshake-failed', device: dev.name, code: isHopsealError(e) ? e.code : 'ERROR' })
          after(Math.min(REOPEN_MAX_MS, REOPEN_AFTER_MS * 2 ** Math.min(attempt, 16)), () => open(dev, attempt + 1))
        },
      )
    }
    for (const dev of devices) open(dev)

    // Workload: each device produces a reading every interval into its outbox; the outbox feeds the
    // channel a few readings at a time (within the reliable window) whenever there is one.
    const perDevice = spec.workload.readings
    const interval = spec.workload.intervalMs
    let sent = 0
    let delivered = 0
    let failed = 0
    let outboxMax = 0
    let outboxDropped = 0
    let requeued = 0
    const failures: Record<string, number> = {}
    const pump = (dev: Device): void => {
      const ch = dev.channel
      if (!ch || ch.isClosed) return // nothing goes out on a closed channel: the readings wait for the next one
      // A few readings in flight: on a duty-cycled radio every frame waits for its slot, and a deep
      // queue of them only inflates the round trip into spurious retransmissions.
      while (dev.outbox.length > 0 && dev.inFlight < IN_FLIGHT && ch.unacked < IN_FLIGHT) {
        const r = dev.outbox.shift() as Uint8Array
        dev.inFlight++
        clock.touch()
        ch.send(r).then(
          () => {
            delivered++
            dev.inFlight--
            pump(dev)
          },
          (e: unknown) => {
            dev.inFlight--
            const code = isHopsealError(e) ? e.code : 'ERROR'
            if (code === ErrorCode.LIMIT_EXCEEDED) {
              // Refused at the call (the reliable window was full): never accepted, so never delivered. Back in order.
              requeued++
              requeue(dev, r)
            } else {
              // CHANNEL_DELIVERY_FAILED, or the channel closed while the reading was in flight (CHANNEL_CLOSED and
              // the close reasons): it may or may not have arrived. Sending it again could duplicate it, so it counts
              // as failed (the delivery check names the code) and is not resent.
              failed++
              failures[code] = (failures[code] ?? 0) + 1
            }
            pump(dev)
          },
        )
      }
    }
    emit({ type: 'phase', text: `${perDevice} readings per device, one every ${interval / 1000} s (simulated)` })
    for (const dev of devices) {
      // Devices start spread over one interval, as a fleet does.
      every(interval, () => {
        if (dev.nextSeq >= perDevice) return
        const r = encodeReading(dev.index, dev.nextSeq++, 55 + rnd.int(60))
        scan.sent(r)
        sent++
        if (dev.outbox.length < OUTBOX_LIMIT) dev.outbox.push(r)
        else outboxDropped++ // the device's storage is full: counted, and the delivery check fails
        outboxMax = Math.max(outboxMax, dev.outbox.length)
        pump(dev)
      }, Math.floor((interval * dev.index) / devices.length) + 1)
    }
    every(DAY_MS, () => heapByDay.push(heapMb()))
    if (process.env.HOPSEAL_SCENARIO_DEBUG) {
      every(3_600_000, () => {
        for (const d of devices) console.error(`h${(clock.now() / 3_600_000).toFixed(0)} ${d.name} outbox=${d.outbox.length} inflight=${d.inFlight} unacked=${d.channel?.unacked} renewals=${d.channel?.renewals} ${JSON.stringify(Object.fromEntries([...d.node.counters].filter(([k]) => /renew|reliable|drop/.test(k))))}`)
        for (const [n, a] of apps) console.error(`h${(clock.now() / 3_600_000).toFixed(0)} ${n} ${JSON.stringify(Object.fromEntries([...a.node.counters].filter(([k]) => /renew|reliable|drop|handshake/.test(k))))} gw ${JSON.stringify(Object.fromEntries([...(gateway?.node.counters ?? [])].filter(([k]) => /gateway|mailbox|drop/.test(k))))}`)
      })
    }

    // Faults on the simulated clock (repeating with `every`).
    const schedule = (at: number, repeat: number | undefined, run: () => Promise<void>, label: string, holds = true): void => {
      const go = (): void => {
        if (holds) faultsRunning++
        void wallBounded(run(), FAULT_WALL_MS, label).finally(() => holds && faultsRunning--).then(
          () => faultsLog.push(`${label} at day ${(clock.now() / DAY_MS).toFixed(2)}`),
          (e: unknown) => faultsLog.push(`${label} failed: ${(e as Error).message}`),
        )
      }
      if (repeat) every(repeat, go, at)
      else after(at, go)
    }
    for (const f of spec.faults) {
      if (f.kind === 'broker-restart') {
        schedule(f.at, f.every, async () => {
          emit({ type: 'fault', text: 'broker restart' })
          await broker.close()
          broker = await startEmbeddedBroker({ port: brokerPort })
        }, 'broker-restart')
      } else if (f.kind === 'gateway-restart') {
        schedule(f.at, f.every, async () => {
          emit({ type: 'fault', text: 'gateway restart' })
          await gateway?.close()
          gateway = await startGw()
        }, 'gateway-restart')
      } else if (f.kind === 'radio-blackout') {
        const ds = devices.filter((d) => d.spec.name === f.device)
        schedule(f.at, f.every, async () => {
          emit({ type: 'fault', text: `radio blackout on ${f.device} for ${f.durationMs / 60_000} min` })
          for (const d of ds) { d.up.blackout(true); d.down.blackout(true) }
          await new Promise<void>((r) => after(f.durationMs, r))
          for (const d of ds) { d.up.blackout(false); d.down.blackout(false) }
        }, `radio-blackout ${f.device}`, false)
      }
    }

    // Until every reading is in and acknowledged, or the simulated deadline (plus a day to drain).
    const total = perDevice * devices.length
    const deadline = spec.workload.timeoutMs
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if ((sent === total && delivered + failed === total) || clock.now() >= deadline) return resolve()
        after(60_000, check)
      }
      check()
    })
    heapByDay.push(heapMb())

    // Summary and checks.
    const plaintext = seen.plaintext
    const radio = radioTotals(devices.flatMap((d) => [d.up, d.down]))
    const renewals = devices.reduce((n, d) => n + d.renewalsBefore + (d.channel?.renewals ?? 0), 0)
    const noChannel = devices.filter((d) => !d.channel || d.channel.isClosed).map((d) => d.name)
    const waiting = devices.reduce((n, d) => n + d.outbox.length + d.inFlight, 0)
    const days = clock.now() / DAY_MS
    const first = heapByDay[0] ?? heapMb()
    const last = heapByDay.at(-1) ?? first
    const growth = Math.round((last / first) * 1000) / 1000
    const wallS = Math.round((Date.now() - wall0) / 100) / 10
    const e = spec.expect
    const checks: Check[] = [
      { name: 'every device has an open channel', ok: noChannel.length === 0, detail: noChannel.length ? `no open channel at the end: ${noChannel.length > 5 ? `${noChannel.slice(0, 5).join(', ')} and ${noChannel.length - 5} more` : noChannel.join(', ')} (${hsFailures} failed handshakes)` : `${devices.length} channels, ${reopened} reopened` },
      { name: 'delivered = sent, exactly once, in order', ok: sent === total && receivedCount === sent && duplicates === 0 && outOfOrder === 0 && failed === 0 && outboxDropped === 0, detail: `sent ${sent}/${total}, received ${receivedCount}, duplicates ${duplicates}, out of order ${outOfOrder}, failed ${failed}${failed ? ` ${JSON.stringify(failures)}` : ''}, still waiting on the devices ${waiting}, dropped from full outboxes ${outboxDropped}` },
      { name: 'no plaintext at the broker and gateway taps', ok: plaintext === 0 && seen.publishes > 0 && seen.gwFrames > 0, detail: `${plaintext} matches in ${seen.publishes} publishes and ${seen.gwFrames} radio frames, searched as they passed` },
      { name: 'renewals within the expected count', ok: renewals >= (e.renewals?.min ?? 0) && renewals <= (e.renewals?.max ?? Infinity), detail: `${renewals} renewals (expected ${e.renewals?.min ?? 0}..${e.renewals?.max ?? '∞'})` },
      { name: 'heap at the last day within the allowed growth of day 1', ok: growth <= (e.heapGrowthMax ?? Infinity), detail: `day 1 ${first} MB, last ${last} MB: ${growth}× (at most ${e.heapGrowthMax ?? '∞'}×)` },
      { name: 'no radio frame broke its duty cycle', ok: radio.duty_violations === 0 || spec.clockScale > 0, detail: `${radio.duty_violations} violations in ${radio.frames} frames${spec.clockScale > 0 ? ' (reported, not checked: clockScale > 0 lets wall-clock jitter into simulated time)' : ''}` },
      { name: 'every fault ran', ok: faultsLog.every((l) => !l.includes('failed')) && faultsLog.length >= spec.faults.length, detail: faultsLog.length > 12 ? `${faultsLog.length} faults, e.g. ${faultsLog.slice(0, 3).join('; ')}` : faultsLog.join('; ') || 'no faults' },
    ]
    const gw: Record<string, number> = {}
    for (const [k, v] of gateway?.node.counters ?? []) if (k.startsWith('gateway.') || k.startsWith('mailbox.')) gw[k] = v
    return {
      scenario: spec.name,
      seed,
      ok: checks.every((c) => c.ok),
      durationMs: Date.now() - wall0,
      vaults: vaultsUsed,
      handshake: { mode: spec.mode, protocol, attempts: hsAttempts, failures: hsFailures, frames: 0, bytes: 0, airtime_ms: 0, ms: 0 },
      readings: { sent, received: receivedCount, duplicates, out_of_order: outOfOrder, failed },
      taps: { broker_messages: seen.publishes, broker_bytes: seen.publishBytes, gateway_frames: seen.gwFrames, gateway_bytes: seen.gwBytes, plaintext_matches: plaintext },
      radio: { ...radio, airtime_ms: Math.round(radio.airtime_ms) },
      gateway: gw,
      faults: faultsLog,
      memory: { heap_max_mb: Math.max(...heapByDay) },
      checks,
      soak: { simulated_days: Math.round(days * 100) / 100, wall_s: wallS, skipped_ratio: Math.round((clock.skippedMs / Math.max(1, clock.now())) * 1000) / 1000, renewals, heap_mb_by_day: heapByDay, heap_growth_ratio: growth, outbox_max: outboxMax, outbox_dropped: outboxDropped, requeued, reopened, missed_asleep: missedAsleep,
        clock: { jumps: clock.jumps, timers_fired: clock.fired, busy_expired: clock.busyExpired, hold_expired: clock.holdExpired } },
    }
  } finally {
    over.abort()
    for (const t of timers) clock.clearTimeout(t)
    for (const c of cleanups.reverse()) await bounded(c(), CLEANUP_MS)
    clock.stop()
  }
}

/**
 * Finds sent readings in tapped bytes as they pass, in memory fixed at the
 * start (one value per planned reading): 'H' ‖ device ‖ seq ‖ value matches
 * only a reading that was sent with that value.
 */
class PlaintextScan {
  private readonly values: Uint16Array[]
  private readonly known: Uint8Array[]

  constructor(devices: number, perDevice: number) {
    this.values = Array.from({ length: devices }, () => new Uint16Array(perDevice))
    this.known = Array.from({ length: devices }, () => new Uint8Array(perDevice))
  }

  sent(r: Uint8Array): void {
    const d = decodeReading(r)
    if (!d || d.device >= this.values.length || d.seq >= (this.values[d.device]?.length ?? 0)) return
    ;(this.values[d.device] as Uint16Array)[d.seq] = d.value
    ;(this.known[d.device] as Uint8Array)[d.seq] = 1
  }

  count(b: Uint8Array): number {
    let hits = 0
    for (let i = 0; i + READING_BYTES <= b.length; i++) {
      if (b[i] !== 0x48) continue
      const d = decodeReading(b.subarray(i, i + READING_BYTES))
      if (d && this.known[d.device]?.[d.seq] === 1 && this.values[d.device]?.[d.seq] === d.value) hits++
    }
    return hits
  }
}
