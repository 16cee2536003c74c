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
 *   handshake), SecureChannel responders, delivery to a callback;
 * - the devices are real initiators (createSecureChannel on a "fleet" Node)
 *   only long enough to establish their channel and seal the readings the
 *   schedule gives them; their state is then dropped without a CLOSE, so the
 *   process's heap is the app side's (plus the readings, one contiguous
 *   buffer whose size is subtracted exactly);
 * - the traffic phase sends those sealed routing messages from the fleet's
 *   memory endpoint at their scheduled times: latency is delivery time minus
 *   scheduled time (open loop: a late sender does not slow the schedule),
 *   CPU is the whole process's (app side + the memory transport's delivery).
 */
import { performance } from 'node:perf_hooks'
import { cryptoProvider } from '../src/crypto/index.ts'
import { softwareStaticKey, type StaticKey } from '../src/noise/index.ts'
import { address, Node, TransportType, type Address } from '../src/routing/index.ts'
import { encodeRoutingMessage } from '../src/routing/codec.ts'
import { MemoryNetwork } from '../src/transports/memory.ts'
import { createSecureChannel, knownPeers, startSecureChannelListener, type SecureChannel } from '../src/channel/secure-channel.ts'
import { MessageType } from '../src/channel/wire.ts'

const PROTOCOL = 'Noise_KK_25519_AESGCM_SHA256'
/** Devices per KK listener (see above). */
const PEERS_PER_LISTENER = 16
/** Handshakes in flight while establishing. */
const CONCURRENCY = 32
/** A reading: its index (4 bytes) and 4 bytes of value, the size of hil-sim's heart-rate reading. */
const READING_BYTES = 8

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
  /** The whole process after GC, MB, and its baseline before the fleet. */
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

export async function runFleet(devices: number, rate: number, seconds: number): Promise<FleetResult> {
  if (!gc) log('no --expose-gc: the heap figure includes garbage')
  await settleGc()
  const baseline = heapNow()
  const net = new MemoryNetwork()
  const app = new Node({ name: 'app' })
  const fleet = new Node({ name: 'fleet' })
  app.registerTransport(net.endpoint('app'))
  const fleetEndpoint = net.endpoint('fleet')
  fleet.registerTransport(fleetEndpoint)
  const appAddress: Address = address(TransportType.MEMORY, 'app')

  // The schedule: reading k at k / rate seconds, to channel (k × STRIDE) mod devices (a stride coprime to
  // the fleet size spreads consecutive readings over distant channels).
  const total = Math.round(rate * seconds)
  let stride = Math.floor(devices * 0.618) | 1
  while (gcd(stride, devices) !== 1) stride += 2
  const byDevice: number[][] = Array.from({ length: devices }, () => [])
  for (let k = 0; k < total; k++) byDevice[(k * stride) % devices]!.push(k)

  // Sealed routing messages of every reading, in one buffer (offsets by reading index).
  const offsets = new Uint32Array(total + 1)
  const lengths = new Uint16Array(total)
  let buffer = new Uint8Array(Math.max(1024, total * 64))
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

  // The app side: listeners with PEERS_PER_LISTENER known devices each, the same static key.
  const appKey: StaticKey = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
  const listenerCount = Math.ceil(devices / PEERS_PER_LISTENER)
  const deviceKeys: StaticKey[] = []
  for (let i = 0; i < devices; i++) deviceKeys.push(softwareStaticKey(crypto, crypto.generateKeyPair('x25519')))
  await settleGc()
  const withDeviceKeys = heapNow()
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
  const listeners: Address[] = []
  for (let l = 0; l < listenerCount; l++) {
    // Device i belongs to listener i mod listenerCount: first flights to one listener are spread over the run.
    const keys: Uint8Array[] = []
    for (let i = l; i < devices; i += listenerCount) keys.push(deviceKeys[i]!.publicKey)
    const listener = startSecureChannelListener(app, `L${l}`, {
      protocol: PROTOCOL, s: appKey, crypto, auth: knownPeers(keys.map((staticKey) => ({ staticKey }))), initiatorStatics: keys, deliverTo: deliver, medium: 'lora',
      // Answers remembered for retransmitted first flights: bounded per listener (64 by default), so
      // splitting the fleet over many listeners would multiply them; one each keeps the total near one listener's.
      maxPending: 1,
    })
    listeners.push(listener.address)
  }

  await settleGc()
  const withListeners = heapNow()

  // Establish: every device runs a real KK handshake, seals its readings, then is forgotten.
  const deviceAuth = knownPeers([{ staticKey: appKey.publicKey }])
  let failedHandshakes = 0
  let next = 0
  const reading = new Uint8Array(READING_BYTES)
  const readingView = new DataView(reading.buffer)
  const tEstablish = performance.now()
  const worker = async (): Promise<void> => {
    for (let i = next++; i < devices; i = next++) {
      let ch: SecureChannel
      try {
        ch = await createSecureChannel(fleet, [appAddress, listeners[i % listenerCount]!], { protocol: PROTOCOL, s: deviceKeys[i]!, rs: appKey.publicKey, crypto, auth: deviceAuth, medium: 'lora' })
      } catch (e) {
        failedHandshakes++
        if (failedHandshakes <= 3) log(`handshake ${i} failed: ${(e as Error).message}`)
        continue
      }
      const onward = ch.remoteRoute.slice(1)
      for (const k of byDevice[i]!) {
        readingView.setUint32(0, k)
        readingView.setUint32(4, 60 + (k % 60))
        put(k, encodeRoutingMessage({ onward, returnRoute: [ch.dec], payload: ch.session.seal(MessageType.DATA, reading) }))
      }
      ch.teardown() // the device goes away without a CLOSE: the app keeps its end
      deviceKeys[i] = undefined as unknown as StaticKey
      if (i > 0 && i % 10_000 === 0) log(`${i} channels in ${((performance.now() - tEstablish) / 1000).toFixed(1)} s`)
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  const establishSeconds = (performance.now() - tEstablish) / 1000
  const readings = buffer.subarray(0, used)
  byDevice.length = 0
  deviceKeys.length = 0
  log(`${devices - failedHandshakes} channels on ${listenerCount} listeners in ${establishSeconds.toFixed(1)} s; ${total} readings sealed (${used} bytes)`)
  await settleGc()
  const fleetHeap = heapNow() - baseline - buffer.byteLength - offsets.byteLength - lengths.byteLength - latencies.byteLength
  const listenersHeap = withListeners - withDeviceKeys
  log(`heap: ${(fleetHeap / 1e6).toFixed(1)} MB for the fleet: ${(listenersHeap / 1e6).toFixed(1)} MB for ${listenerCount} listeners and their known keys, ${((fleetHeap - listenersHeap) / (devices - failedHandshakes)).toFixed(0)} B per established channel`)

  // Traffic: open loop on the wall clock.
  const cpu0 = process.cpuUsage()
  t0 = performance.now() + 5
  let sent = 0
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000) + 1)
      for (; sent < due; sent++) void fleetEndpoint.send(appAddress, readings.subarray(offsets[sent]!, offsets[sent]! + lengths[sent]!))
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
    processHeapMb: (heapNow() - buffer.byteLength) / 1e6,
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

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b]
  return a
}

if (process.argv[1]?.endsWith('fleet.run.ts')) {
  const [devices, rate, seconds] = process.argv.slice(2).map(Number)
  const r = await runFleet(devices ?? 10_000, rate ?? 10_000, seconds ?? 3)
  process.stdout.write(JSON.stringify(r) + '\n')
  process.exit(0)
}
