/**
 * Gateway-scale figures (issue 17): one app-side process holding 100 000
 * established KK channels over the memory transport, then 10 000 readings per
 * second spread over all of them (bench/fleet.run.ts says how).
 *
 * - `channel.fleet_100k.heap_mb`: heap + array buffers after GC that the
 *   fleet adds to the process (listeners, known keys, channels);
 * - `channel.fleet_100k.msgs_per_s`: readings delivered per second at an
 *   offered 10 000/s (baseline: the offered rate);
 * - `channel.fleet_100k.p50_ms` / `p99_ms`: delivery time minus scheduled
 *   send time (open loop);
 * - `channel.fleet_100k.cpu_us_per_msg`: process CPU (user + system) during
 *   the traffic phase per delivered reading;
 * - `channel.fleet_100k.establish_s`: wall time of the 100 000 KK
 *   handshakes, both ends in the process, 32 in flight.
 *
 * It runs in a child process (--expose-gc, a 6 GiB heap limit). `--quick`
 * runs 10 000 channels for 3 s (figures named `channel.fleet_10k.*`).
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { BenchModule, Figure } from './figure.ts'
import type { FleetResult } from './fleet.run.ts'

const RATE = 10_000
/** The child gets this long before it is killed (the full run takes about two to three minutes on 2 shared cores). */
const CHILD_TIMEOUT_MS = 15 * 60_000

function runChild(devices: number, rate: number, seconds: number, log: (l: string) => void): Promise<FleetResult> {
  const script = fileURLToPath(new URL('./fleet.run.ts', import.meta.url))
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--max-old-space-size=6144', '--import', 'tsx', script, String(devices), String(rate), String(seconds)], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString()
      for (let i = err.indexOf('\n'); i >= 0; i = err.indexOf('\n')) {
        log(err.slice(0, i))
        err = err.slice(i + 1)
      }
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (code !== 0) return reject(new Error(`fleet child exited with ${code ?? signal}: ${err.trim().slice(-500)}`))
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as FleetResult)
      } catch (e) {
        reject(new Error(`fleet child printed no result: ${(e as Error).message}`))
      }
    })
  })
}

const run: BenchModule = async (ctx) => {
  const devices = ctx.quick ? 10_000 : 100_000
  const seconds = ctx.quick ? 3 : 10
  const tag = `channel.fleet_${devices / 1000}k`
  ctx.log(`establishing ${devices} KK channels over the memory transport, then ${RATE} readings/s for ${seconds} s (child process)`)
  const r = await runChild(devices, RATE, seconds, ctx.log)
  const established = r.devices - r.failedHandshakes
  const drops = Object.entries(r.drops).map(([k, v]) => `${k}=${v}`).join(' ')
  const note =
    `${established} channels on ${r.listeners} KK listeners (${Math.ceil(r.devices / r.listeners)} known devices each), established in ${r.establishSeconds.toFixed(1)} s (${(established / r.establishSeconds).toFixed(0)} handshakes/s, both ends); ` +
    `heap ${r.heapMb.toFixed(1)} MB: ${r.listenersHeapMb.toFixed(1)} MB of listeners and known keys, ${(((r.heapMb - r.listenersHeapMb) * 1e6) / established).toFixed(0)} B per channel (process ${r.processHeapMb.toFixed(0)} MB, ${r.baselineHeapMb.toFixed(0)} MB before the fleet); ` +
    `${r.delivered}/${r.sent} readings delivered at ${r.msgsPerSecond.toFixed(0)}/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, max ${r.maxMs.toFixed(1)} ms, ${r.cpuUsPerMessage.toFixed(1)} µs CPU per reading` +
    `${r.failedHandshakes ? `; ${r.failedHandshakes} handshakes FAILED` : ''}${drops ? `; drops ${drops}` : ''}`
  ctx.log(`${tag}: ${note}`)
  if (r.delivered !== r.sent || r.failedHandshakes > 0) throw new Error(`${tag}: ${r.delivered}/${r.sent} delivered, ${r.failedHandshakes} failed handshakes`)
  const figures: Figure[] = [
    { name: `${tag}.heap_mb`, value: Math.round(r.heapMb * 10) / 10, unit: 'MB', note },
    { name: `${tag}.msgs_per_s`, value: Math.round(r.msgsPerSecond), unit: 'msg/s', baseline: { name: `${tag}.offered_per_s`, value: RATE }, note },
    { name: `${tag}.p50_ms`, value: r.p50Ms, unit: 'ms', note },
    { name: `${tag}.p99_ms`, value: r.p99Ms, unit: 'ms', note },
    { name: `${tag}.cpu_us_per_msg`, value: Math.round(r.cpuUsPerMessage * 10) / 10, unit: 'µs', note },
    { name: `${tag}.establish_s`, value: Math.round(r.establishSeconds * 10) / 10, unit: 's', note },
  ]
  return figures
}

export default run
