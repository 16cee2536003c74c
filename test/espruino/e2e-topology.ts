/**
 * The heart-rate topology with the monitor in the Espruino interpreter,
 * shared by test/espruino/e2e-heart-rate.test.ts and bench/espruino.ts:
 *
 *   interpreter ── PTY ── Node relay (seeded loss, both ways) ── gateway ── MQTT (aedes) ── phone
 *        └── PTY ── ATECC608 simulator (KIT protocol, instant timing)
 *
 * The monitor's static P-256 key is made inside the simulated chip; the
 * phone is a KK listener (`hr`, behind gateway alias 1) with a software
 * P-256 key. The gateway's serial link and the broker (`#`) are tapped.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { p256 } from '@noble/curves/nist.js'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { softwareStaticKey } from '../../src/noise/index.ts'
import { address, local, Node, TransportType } from '../../src/routing/index.ts'
import { knownPeers, startSecureChannelListener, type SecureChannel } from '../../src/channel/secure-channel.ts'
import { connectMqttTransport, startEmbeddedBroker } from '../../targets/node/transports/mqtt/index.ts'
import { loraProfile, SerialTransport } from '../../targets/node/transports/serial/index.ts'
import { startGateway } from '../../src/transports/gateway/index.ts'
import { Atecc608Vault, KitTransport } from '../../vaults/atecc608/index.ts'
import { Atecc608Sim } from '../../hil-sim/atecc608/index.ts'
import { serveKitOnTty } from '../../hil-sim/atecc608/serve-tty.ts'
import { startPtyPair } from '../../hil-sim/pty.ts'
import { memoryLinkPair } from '../../hil-sim/links/memory-link.ts'
import { modelLink, type LinkStats } from '../../hil-sim/links/model.ts'
import { loraLinkModel } from '../../hil-sim/links/presets.ts'
import { newTapRecord, tapBroker, tapLink, type TapRecord } from '../../hil-sim/scenario/taps.ts'
import { decodeReading } from '../../hil-sim/scenario/readings.ts'
import { attachPtyRadio, deviceEvent, deviceReadings, deviceScript, spawnEspruino, type EspruinoChild } from '../../hil-sim/scenario/espruino.ts'
import { espruinoBundle } from './harness.ts'

export interface HeartRateOptions {
  seed: string
  /** Frame loss on each direction of the radio. */
  loss: number
  readings: number
  /** The device renews after this many sealed messages (undefined: the lora medium's 2^32). */
  renewAfterMessages?: number
  /** Run the bundle from the interpreter's flash, as a board runs saved code. */
  fromFlash?: boolean
  /**
   * Build the device script as the application itself (build.mjs `--entry
   * --minify`, as examples/heart-rate.js is built: one scope, every property
   * name the script does not write renamed) instead of a `--for` bundle with
   * the script loaded after it.
   */
  appEntry?: boolean
  intervalMs?: number
  timeoutMs: number
  /** Device lines that are not events go here (debugging). */
  log?: (line: string) => void
}

export interface HeartRateRun {
  /** The device's events, in order. */
  events: Record<string, unknown>[]
  opened: Record<string, unknown>
  /** The device's last event: `done` when every reading was acknowledged. */
  last: Record<string, unknown>
  /** Sequence numbers the phone received, in arrival order. */
  received: number[]
  /** What the device sent. */
  readings: Uint8Array[]
  phoneChannel: SecureChannel | undefined
  up: LinkStats
  down: LinkStats
  brokerTap: TapRecord
  gatewayTap: TapRecord
  wallMs: number
  device: EspruinoChild
}

/** Builds the topology, runs the device until it acknowledged every reading, closed or timed out, and tears everything down. */
export async function runHeartRate(o: HeartRateOptions): Promise<HeartRateRun> {
  const t0 = Date.now()
  const cleanups: (() => Promise<unknown>)[] = []
  try {
    const crypto = cryptoProvider('node')
    // The monitor's static key, made inside the simulated chip by the Node vault (in process, once; shredOnDelete
    // false, so closing it keeps the key), then the chip served on a PTY for the interpreter.
    // Provisioned with an I/O protection key: every ECDH output crosses the bus encrypted (the board holds the key too).
    const ioKey = crypto.hash('sha256', new TextEncoder().encode(`${o.seed}/monitor/io-protection-key`))
    const sim = Atecc608Sim.create({ seed: `${o.seed}/monitor`, ioProtectionKey: ioKey })
    const provisioning = await Atecc608Vault.open({ transport: await KitTransport.open(sim.kitChannel()), shredOnDelete: false, ioProtectionKey: ioKey })
    const handle = await provisioning.generateKey('p256', { label: 'monitor-noise-static' })
    const devicePub = await provisioning.publicKey(handle)
    await provisioning.close()
    const slot = Number(/^slot(\d+)-/.exec(handle.id)?.[1] ?? -1)
    if (slot < 0) throw new Error(`no slot in key id ${handle.id}`)
    const kitPty = await startPtyPair()
    cleanups.push(() => kitPty.close())
    const kit = await serveKitOnTty(sim, kitPty.b)
    cleanups.push(() => kit.close())

    const phoneS = softwareStaticKey(crypto, crypto.generateKeyPair('p256'))
    const phoneXY = p256.Point.fromBytes(phoneS.publicKey).toBytes(false).subarray(1)

    const broker = await startEmbeddedBroker()
    cleanups.push(() => broker.close())
    const brokerTap = newTapRecord()
    const bt = await tapBroker(broker.url, brokerTap, 16 << 20)
    cleanups.push(() => bt.close())

    // Radio: a memory pair with a seeded LoRa model on each end (loss both ways); the device's end relayed to a PTY.
    const profile = loraProfile({ sf: 7, dutyCycle: 1 })
    const gatewayTap = newTapRecord()
    const [a, b] = memoryLinkPair({ mtu: profile.mtu })
    const model = loraLinkModel({ sf: 7, loss: o.loss, dutyCycle: false })
    const up = modelLink(a, model, { seed: `${o.seed}/up` })
    const down = modelLink(b, model, { seed: `${o.seed}/down` })
    const gwNode = new Node({ name: 'gateway' })
    const gwSerial = new SerialTransport({})
    gwSerial.addLink('monitor', tapLink(down, gatewayTap, 16 << 20), profile)
    const gwMqtt = await connectMqttTransport({ url: broker.url, name: 'gateway', connectTimeoutMs: 10_000 })
    const gateway = startGateway({ node: gwNode, link: gwSerial, upstream: [gwMqtt], routes: { 1: [address(TransportType.MQTT, 'phone'), local('hr')] } })
    cleanups.push(async () => {
      await gateway.close()
      await gwSerial.close()
    })
    const radio = await attachPtyRadio(up)
    cleanups.push(() => radio.close())

    const phone = new Node({ name: 'phone' })
    const phoneMqtt = await connectMqttTransport({ url: broker.url, name: 'phone', connectTimeoutMs: 10_000 })
    phone.registerTransport(phoneMqtt)
    cleanups.push(() => phoneMqtt.close())
    const received: number[] = []
    let phoneChannel: SecureChannel | undefined
    const listener = startSecureChannelListener(phone, 'hr', {
      protocol: 'Noise_KK_P256_AESGCM_SHA256', s: phoneS, crypto, medium: 'lora',
      reliable: { ackTimeoutMs: 2000, minAckTimeoutMs: 1000 },
      auth: knownPeers([{ staticKey: devicePub, identifier: 'monitor' }]),
      initiatorStatics: [devicePub],
      deliverTo: (payload, _peer, ch) => {
        phoneChannel = ch
        const r = decodeReading(payload)
        if (r) received.push(r.seq)
      },
    })
    cleanups.push(async () => listener.stop())

    const script = deviceScript({
      radioPath: radio.path,
      profile: { name: 'lora', sf: 7, mtu: profile.mtu, dutyCycle: 1 },
      vault: { kind: 'atecc608', kitPath: kitPty.a, slot, ioKey },
      peer: phoneS.publicKey,
      peerXY: phoneXY,
      route: 1,
      medium: 'lora',
      reliable: true,
      // lora limits with timers a test can wait for: renewal flights every 2 s (not 10 s doubling to 5 min), acks after 1-2 s
      limits: {
        ...(o.renewAfterMessages ? { session: { renewAfterMessages: o.renewAfterMessages } } : {}),
        renewRetransmit: { initialMs: 2000, maxMs: 8000, attempts: 10 },
        reliable: { ackTimeoutMs: 2000, minAckTimeoutMs: 1000, maxBackoffMs: 8000 },
      },
      retransmit: { initialMs: 3000, maxMs: 8000, attempts: 8 },
      readings: { device: 0, count: o.readings },
      intervalMs: o.intervalMs ?? 150,
      window: 8,
    })
    const device = o.appEntry ? spawnApp(script, o.fromFlash ?? false) : spawnEspruino(script, { fromFlash: o.fromFlash ?? false, appBundle: true, minify: true })
    cleanups.push(() => device.stop())
    const events: Record<string, unknown>[] = []
    device.onLine((l) => {
      const e = deviceEvent(l)
      if (e) events.push(e)
      else o.log?.(l)
    })
    const opened = deviceEvent(await device.waitFor((l) => /"ev":"(open|close)"/.test(l), o.timeoutMs))!
    let last = opened
    if (opened.ev === 'open') last = deviceEvent(await device.waitFor((l) => /"ev":"(done|close|failed)"/.test(l), Math.max(1000, o.timeoutMs - (Date.now() - t0))))!
    return { events, opened, last, received, readings: deviceReadings(0, o.readings), phoneChannel, up: up.stats, down: down.stats, brokerTap, gatewayTap, wallMs: Date.now() - t0, device }
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined)
  }
}

/** The interpreter on `script` built as an application (`--entry --minify`), from its flash when `fromFlash`. */
function spawnApp(script: string, fromFlash: boolean): EspruinoChild {
  const dir = mkdtempSync(join(tmpdir(), 'hopseal-app-'))
  try {
    const entry = join(dir, 'app.js')
    writeFileSync(entry, script)
    const app = espruinoBundle({ minify: true, entry })
    const code = fromFlash ? `require('Storage').write('hopseal.js', ${JSON.stringify(app)});\neval(require('Storage').read('hopseal.js'));\n` : app
    return spawnEspruino(code, { bundle: false })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
