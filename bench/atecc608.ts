/**
 * ATECC608 figures (issue 7): Noise P-256 handshakes with the monitor's
 * identity and static keys in the simulated ATECC608, against a software-vault
 * phone, both ends in one process over the in-memory KIT channel, in
 * `realtime` mode (the simulator's typical execution times at M0 with seeded
 * jitter, hil-sim/atecc608/timing.ts) and in `max` mode (the spec A3 maximum
 * times: the worst case a host must allow for); and the secure-element
 * commands per handshake (target: XX ≤ 1 Sign and ≤ 2 ECDH, KK 0 Sign).
 * Baseline: the same handshake with the monitor's keys in a software vault.
 */
import type { BenchModule, Figure } from './figure.ts'
import { SoftwareVault } from '../vaults/software/index.ts'
import { Atecc608Vault, KitTransport } from '../vaults/atecc608/index.ts'
import { Atecc608Sim } from '../hil-sim/atecc608/index.ts'
import type { Vault } from '../src/vault/index.ts'
import { runChannel, type Party } from '../test/atecc608/handshake.ts'

async function party(v: Vault): Promise<Party> {
  const identity = await v.generateKey('p256', { label: 'identity' })
  const stat = await v.generateKey('p256', { label: 'noise-static' })
  await v.publicKey(identity)
  await v.publicKey(stat)
  return { vault: v, identity, static: stat }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

async function timeHandshakes(pattern: 'XX' | 'KK', monitor: Party, phone: Party, n: number): Promise<number> {
  await runChannel(pattern, monitor, phone) // warm-up
  const t: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await runChannel(pattern, monitor, phone)
    t.push(performance.now() - t0)
  }
  return median(t)
}

const run: BenchModule = async (ctx) => {
  const n = ctx.quick ? 2 : 5
  const sim = Atecc608Sim.create({ timing: 'realtime', seed: 'bench' })
  const mv = await Atecc608Vault.open({ transport: await KitTransport.open(sim.kitChannel()) })
  const phoneVault = await SoftwareVault.open({ name: 'phone' })
  const monitor = await party(mv)
  const phone = await party(phoneVault)
  const softMonitor = await party(await SoftwareVault.open({ name: 'monitor-soft' }))

  const count = async (pattern: 'XX' | 'KK'): Promise<Map<string, number>> => {
    const before = new Map(mv.device.ops)
    await runChannel(pattern, monitor, phone)
    const d = new Map<string, number>()
    for (const [k, v] of mv.device.ops) if (v - (before.get(k) ?? 0) > 0) d.set(k, v - (before.get(k) ?? 0))
    return d
  }
  const xxOps = await count('XX')
  const kkOps = await count('KK')
  ctx.log(`# atecc608 commands per XX handshake: ${[...xxOps].map(([k, v]) => `${k}×${v}`).join(' ')}; per KK: ${[...kkOps].map(([k, v]) => `${k}×${v}`).join(' ')}`)

  const xxMs = await timeHandshakes('XX', monitor, phone, n)
  const kkMs = await timeHandshakes('KK', monitor, phone, n)
  // the same device at the maximum execution times
  const maxSim = Atecc608Sim.create({ timing: 'max', seed: 'bench-max' })
  const maxVault = await Atecc608Vault.open({ transport: await KitTransport.open(maxSim.kitChannel()) })
  const maxMonitor = await party(maxVault)
  const xxMaxMs = await timeHandshakes('XX', maxMonitor, phone, n)
  const kkMaxMs = await timeHandshakes('KK', maxMonitor, phone, n)
  await maxVault.close()
  const xxSoft = await timeHandshakes('XX', softMonitor, phone, n * 20)
  const kkSoft = await timeHandshakes('KK', softMonitor, phone, n * 20)
  await mv.close()

  const total = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0)
  const figures: Figure[] = [
    { name: 'atecc608.xx_p256.handshake_ms', value: xxMs, unit: 'ms', baseline: { name: 'software.xx_p256.handshake_ms', value: xxSoft }, note: 'realtime: typical M0 times with jitter; 1 attestation Sign on the chip' },
    { name: 'atecc608.kk_p256.handshake_ms', value: kkMs, unit: 'ms', baseline: { name: 'software.kk_p256.handshake_ms', value: kkSoft } },
    { name: 'atecc608.xx_p256.handshake_ms.max_times', value: xxMaxMs, unit: 'ms', note: 'every command at its M0 maximum (spec A3)' },
    { name: 'atecc608.kk_p256.handshake_ms.max_times', value: kkMaxMs, unit: 'ms' },
    // the targets are per command kind (the figures below); a '<= 1' here would compare the total of 4 commands with 1
    { name: 'atecc608.ops_per_handshake', value: total(xxOps), unit: 'commands (XX)', note: 'Random, Nonce, Sign, ECDH' },
    { name: 'atecc608.ops_per_handshake.xx_sign', value: xxOps.get('Sign') ?? 0, unit: 'Sign', target: '<= 1' },
    { name: 'atecc608.ops_per_handshake.xx_ecdh', value: xxOps.get('ECDH') ?? 0, unit: 'ECDH', target: '<= 2' },
    { name: 'atecc608.ops_per_handshake.kk_sign', value: kkOps.get('Sign') ?? 0, unit: 'Sign', target: '0' },
    { name: 'atecc608.ops_per_handshake.kk_ecdh', value: kkOps.get('ECDH') ?? 0, unit: 'ECDH', target: '<= 2' },
  ]
  return figures
}
export default run
