/**
 * The gateway-scale figure's measuring process (bench/fleet.ts spawns it with
 * --expose-gc and a large enough heap): one app-side Node holding `devices`
 * established KK channels over the memory transport, then `rate` readings per
 * second for `seconds`, spread over every channel on an open-loop schedule.
 *
 *   node --expose-gc --max-old-space-size=6144 --import tsx bench/fleet.run.ts DEVICES RATE SECONDS
 *
 * Prints one JSON object (FleetResult) on stdout; progress on stderr.
 *
 * What runs where:
 * - the app side is real: KK listeners (one per PEERS_PER_LISTENER devices:
 *   a KK listener tries its known initiator keys one after another on a first
 *   flight, so one listener with 100 000 keys would cost O(100 000) per
 *   handshake), SecureChannel responders on the `lora` medium (day-long
 *   sessions: the run outlasts the `ip` medium's 3-minute ones), delivery to
 *   a callback;
 * - the devices are real initiators (createSecureChannel on a "fleet" Node)
 *   in a worker thread, bridged to the app's memory network by messages:
 *   the handshakes of both ends run in parallel, and the main thread's heap
 *   (what is measured) holds the app side only. A device exists long enough
 *   to establish its channel and seal the readings the schedule gives it,
 *   then goes away without a CLOSE;
 * - the traffic phase sends those sealed routing messages from the fleet's
 *   memory endpoint at their scheduled times: latency is delivery time minus
 *   scheduled time (open loop: a late sender does not slow the schedule),
 *   CPU is the whole process's (app side + the memory transport's delivery).
 */
import { performance } from 'node:perf_hooks'
import { isMainThread, parentPort, Worker } from 'node:worker_threads'
import { cryptoProvider } from '../targets/node/crypto/index.ts'
import { softwareStaticKey, type StaticKey } from '../src/noise/index.ts'
import { address, local, Node, TransportType, type Address } from '../src/routing/index.ts'
import { encodeRoutingMessage } from '../src/routing/codec.ts'
import { MemoryNetwork } from '../src/transports/memory.ts'
import { createSecureChannel, knownPeers, startSecureChannelListener, type SecureChannel } from '../src/channel/secure-channel.ts'
import { MessageType } from '../src/channel/wire.ts'

const PROTOCOL = 'Noise_KK_25519_AESGCM_SHA256'
/** Devices per KK listener (see above). */
const PEERS_PER_LISTENER = 4
/** Handshakes in flight while establishing. */
const CONCURRENCY = 64
/** A reading: its index (4 bytes) and 4 bytes of value, the size of hil-sim's heart-rate reading. */
const READING_BYTES = 8
const KEY_BYTES = 32

export interface FleetResult {
  devices: number
  listeners: number
  rate: number
  seconds: number
  establishSeconds: number
  /** Heap + array buffers after GC attributable to the fleet (app side), MB (10^6 bytes). */
  heapMb: number
  /** Of heapMb: the listeners and their known keys before any channel. */
  listenersHeapMb: number
  /** The main thread after GC, MB, and its baseline before the fleet. */
  processHeapMb: number
  baselineHeapMb: number
  sent: number
  delivered: number
  msgsPerSecond: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  cpuUsPerMessage: number
  failedHandshakes: number
  drops: Record<string, number>
}

/** Main thread ↔ device worker. */
type ToDevices =
  | { type: 'init'; devices: number; rate: number; seconds: number }
  | { type: 'go'; appKey: Uint8Array; listeners: number }
  | { type: 'wire'; bytes: Uint8Array }
type FromDevices =
  | { type: 'keys'; keys: Uint8Array }
  | { type: 'wire'; bytes: Uint8Array }
  | { type: 'progress'; line: string }
  | { type: 'done'; readings: Uint8Array; offsets: Uint32Array; lengths: Uint16Array; failed: number }

const crypto = cryptoProvider('node')
const gc = (globalThis as { gc?: () => void }).gc
const log = (s: string): void => void process.stderr.write(`fleet: ${s}\n`)

function heapNow(): number {
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

async function settleGc(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 20))
    gc?.()
  }
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b]
  return a
}

/** The schedule: reading k at k / rate seconds, to device (k × stride) mod devices (a stride coprime to the fleet size spreads consecutive readings over distant channels). */
function schedule(devices: number, total: number): number[][] {
  let stride = Math.floor(devices * 0.618) | 1
  while (gcd(stride, devices) !== 1) stride += 2
  const byDevice: number[][] = Array.from({ length: devices }, () => [])
  for (let k = 0; k < total; k++) byDevice[(k * stride) % devices]!.push(k)
  return byDevice
}

/** The device worker's thread: a fleet Node on its own memory network, whose `app` endpoint is the bridge to the main thread. */
function startDeviceWorker(): Worker {
  const code = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(import.meta.url)}) })`
  return new Worker(code, { eval: true })
}

export async function runFleet(devices: number, rate: number, seconds: number): Promise<FleetResult> {
  if (!gc) log('no --expose-gc: the heap figure includes garbage')
  await settleGc()
  const baseline = heapNow()
  const worker = startDeviceWorker()
  const waiting = new Map<string, (m: FromDevices) => void>()
  const next = <T extends FromDevices['type']>(type: T): Promise<Extract<FromDevices, { type: T }>> => new Promise((r) => waiting.set(type, r as (m: FromDevices) => void))
  const net = new MemoryNetwork()
  const app = new Node({ name: 'app' })
  app.registerTransport(net.endpoint('app'))
  // The devices' end of the app's memory network: what the app sends to `fleet` crosses to the worker.
  const bridge = net.endpoint('fleet')
  bridge.onReceive((bytes) => worker.postMessage({ type: 'wire', bytes } satisfies ToDevices))
  const appAddress: Address = address(TransportType.MEMORY, 'app')
  const failure = new Promise<never>((_, reject) => worker.on('error', reject))
  worker.on('message', (m: FromDevices) => {
    if (m.type === 'wire') return void bridge.send(appAddress, m.bytes).catch(() => undefined)
    if (m.type === 'progress') return log(m.line)
    const w = waiting.get(m.type)
    waiting.delete(m.type)
    w?.(m)
  })
  const total = Math.round(rate * seconds)
  worker.postMessage({ type: 'init', devices, rate, seconds } satisfies ToDevices)
  const { keys } = await Promise.race([next('keys'), failure])

  // The app side: listeners with PEERS_PER_LISTENER known devices each, one static key.
  const appKey: StaticKey = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
  const listenerCount = Math.ceil(devices / PEERS_PER_LISTENER)
  const latencies = new Float64Array(total)
  let delivered = 0
  let lastDelivery = 0
  let t0 = 0
  const deliver = (payload: Uint8Array): void => {
    const k = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0)
    const now = performance.now()
    latencies[delivered++] = now - (t0 + (k * 1000) / rate)
    lastDelivery = now
  }
  for (let l = 0; l < listenerCount; l++) {
    // Device i belongs to listener i mod listenerCount: first flights to one listener are spread over the run.
    const known: Uint8Array[] = []
    for (let i = l; i < devices; i += listenerCount) known.push(keys.slice(i * KEY_BYTES, (i + 1) * KEY_BYTES))
    startSecureChannelListener(app, `L${l}`, {
      protocol: PROTOCOL, s: appKey, crypto, auth: knownPeers(known.map((staticKey) => ({ staticKey }))), initiatorStatics: known, deliverTo: deliver, medium: 'lora',
      // Answers remembered for retransmitted first flights (KK keeps no other pending state) are bounded per
      // listener (64 by default): splitting the fleet over many listeners would multiply them, and the memory
      // network loses nothing, so none are kept (one listener's 64 would be noise at this scale).
      maxPending: 0,
    })
  }
  await settleGc()
  const listenersHeap = heapNow() - baseline - keys.byteLength

  // Establish: every device runs a real KK handshake (initiator in the worker, responder here).
  const tEstablish = performance.now()
  worker.postMessage({ type: 'go', appKey: appKey.publicKey, listeners: listenerCount } satisfies ToDevices)
  const done = await Promise.race([next('done'), failure])
  const establishSeconds = (performance.now() - tEstablish) / 1000
  await worker.terminate()
  const { readings, offsets, lengths, failed: failedHandshakes } = done
  log(`${devices - failedHandshakes} channels on ${listenerCount} listeners in ${establishSeconds.toFixed(1)} s; ${total} readings sealed (${readings.byteLength} bytes)`)
  await settleGc()
  const fleetHeap = heapNow() - baseline - keys.byteLength - readings.byteLength - offsets.byteLength - lengths.byteLength - latencies.byteLength
  log(`heap: ${(fleetHeap / 1e6).toFixed(1)} MB for the fleet: ${(listenersHeap / 1e6).toFixed(1)} MB for ${listenerCount} listeners and their known keys, ${((fleetHeap - listenersHeap) / (devices - failedHandshakes)).toFixed(0)} B per established channel`)

  // Traffic: open loop on the wall clock, from the devices' end of the memory network.
  const cpu0 = process.cpuUsage()
  t0 = performance.now() + 5
  let sent = 0
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000) + 1)
      for (; sent < due; sent++) void bridge.send(appAddress, readings.subarray(offsets[sent]!, offsets[sent]! + lengths[sent]!))
      if (sent < total) setTimeout(tick, 1)
      else resolve()
    }
    setTimeout(tick, 5)
  })
  for (let i = 0; i < 500 && delivered < sent; i++) await new Promise((r) => setTimeout(r, 10))
  const cpu = process.cpuUsage(cpu0)
  const sorted = latencies.slice(0, delivered).sort()
  const drops: Record<string, number> = {}
  for (const [k, v] of app.counters) if (k.startsWith('drop') || k.includes('.drop') || k.startsWith('handshake.failed')) drops[k] = v
  return {
    devices,
    listeners: listenerCount,
    rate,
    seconds,
    establishSeconds,
    heapMb: fleetHeap / 1e6,
    listenersHeapMb: listenersHeap / 1e6,
    processHeapMb: (heapNow() - readings.byteLength) / 1e6,
    baselineHeapMb: baseline / 1e6,
    sent,
    delivered,
    msgsPerSecond: delivered / ((lastDelivery - t0) / 1000),
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    maxMs: sorted[sorted.length - 1] ?? NaN,
    cpuUsPerMessage: (cpu.user + cpu.system) / Math.max(1, delivered),
    failedHandshakes,
    drops,
  }
}

/** The device worker: generates the fleet's keys, then establishes every channel and seals its readings. */
function runDevices(port: NonNullable<typeof parentPort>): void {
  const post = (m: FromDevices, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer)
  let devices = 0
  let total = 0
  let keys: StaticKey[] = []
  const net = new MemoryNetwork()
  const fleet = new Node({ name: 'fleet' })
  fleet.registerTransport(net.endpoint('fleet'))
  // The app's end of the devices' memory network: what the fleet sends to `app` crosses to the main thread.
  const bridge = net.endpoint('app')
  bridge.onReceive((bytes) => post({ type: 'wire', bytes }))
  const fleetAddress = address(TransportType.MEMORY, 'fleet')
  const appAddress = address(TransportType.MEMORY, 'app')
  port.on('message', (m: ToDevices) => {
    if (m.type === 'wire') return void bridge.send(fleetAddress, m.bytes).catch(() => undefined)
    if (m.type === 'init') {
      devices = m.devices
      total = Math.round(m.rate * m.seconds)
      keys = Array.from({ length: devices }, () => softwareStaticKey(crypto, crypto.generateKeyPair('x25519')))
      const pub = new Uint8Array(devices * KEY_BYTES)
      keys.forEach((k, i) => pub.set(k.publicKey, i * KEY_BYTES))
      return post({ type: 'keys', keys: pub }, [pub.buffer])
    }
    void establish(m.appKey, m.listeners)
  })

  async function establish(appKey: Uint8Array, listenerCount: number): Promise<void> {
    const byDevice = schedule(devices, total)
    const offsets = new Uint32Array(total + 1)
    const lengths = new Uint16Array(total)
    let buffer = new Uint8Array(Math.max(1024, total * 48))
    let used = 0
    const put = (k: number, bytes: Uint8Array): void => {
      if (used + bytes.length > buffer.length) {
        const grown = new Uint8Array(buffer.length * 2)
        grown.set(buffer.subarray(0, used))
        buffer = grown
      }
      buffer.set(bytes, used)
      offsets[k] = used
      lengths[k] = bytes.length
      used += bytes.length
    }
    const auth = knownPeers([{ staticKey: appKey }])
    const reading = new Uint8Array(READING_BYTES)
    const view = new DataView(reading.buffer)
    const t0 = performance.now()
    let failed = 0
    let next = 0
    const worker = async (): Promise<void> => {
      for (let i = next++; i < devices; i = next++) {
        let ch: SecureChannel
        try {
          // No retransmission: the memory network loses nothing, and a first flight resent while the app is slow (a GC
          // pause) would only be refused as a replay of the accepted one (its handshake counter is not above it).
          ch = await createSecureChannel(fleet, [appAddress, local(`L${i % listenerCount}`)], { protocol: PROTOCOL, s: keys[i]!, rs: appKey, crypto, auth, medium: 'lora', retransmit: false })
        } catch (e) {
          if (++failed <= 3) post({ type: 'progress', line: `handshake ${i} failed: ${(e as Error).message}` })
          continue
        }
        const onward = ch.remoteRoute.slice(1)
        for (const k of byDevice[i]!) {
          view.setUint32(0, k)
          view.setUint32(4, 60 + (k % 60))
          put(k, encodeRoutingMessage({ onward, returnRoute: [ch.dec], payload: ch.session.seal(MessageType.DATA, reading) }))
        }
        ch.teardown() // the device goes away without a CLOSE: the app keeps its end
        keys[i] = undefined as unknown as StaticKey
        if (i > 0 && i % 10_000 === 0) post({ type: 'progress', line: `${i} channels in ${((performance.now() - t0) / 1000).toFixed(1)} s` })
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker))
    const readings = buffer.slice(0, used)
    post({ type: 'done', readings, offsets, lengths, failed }, [readings.buffer, offsets.buffer, lengths.buffer])
  }
}

if (!isMainThread && parentPort) runDevices(parentPort)
else if (process.argv[1]?.endsWith('fleet.run.ts')) {
  const [devices, rate, seconds] = process.argv.slice(2).map(Number)
  const r = await runFleet(devices ?? 10_000, rate ?? 10_000, seconds ?? 3)
  process.stdout.write(JSON.stringify(r) + '\n')
  process.exit(0)
}
