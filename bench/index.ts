/**
 * `npm run bench` prints every architecture.md §5 figure beside its baseline
 * from the same run; `npm run bench -- --json` prints a JSON array of
 * `{name, value, unit, baseline?: {name, value}}`. `--only noise,identity`
 * runs some modules; `--quick` shortens every measurement.
 */
import { targetMet, type BenchContext, type BenchModule, type Figure } from './figure.ts'

const MODULES: Record<string, () => Promise<{ default: BenchModule }>> = {
  noise: () => import('./noise.ts'),
  identity: () => import('./identity.ts'),
  channel: () => import('./channel.ts'),
  fleet: () => import('./fleet.ts'),
  pkcs11: () => import('./pkcs11.ts'),
  atecc608: () => import('./atecc608.ts'),
  transports: () => import('./transports.ts'),
  soak: () => import('./soak.ts'),
  threat: () => import('./threat.ts'),
  listener: () => import('./listener.ts'),
  core: () => import('./core.ts'),
  espruino: () => import('./espruino.ts'),
}

async function main(): Promise<void> {
  const args = process.argv.slice(2)
  const json = args.includes('--json')
  const quick = args.includes('--quick')
  const onlyArg = args.find((a) => a.startsWith('--only='))?.slice(7) ?? (args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined)
  const only = onlyArg?.split(',')
  const ctx: BenchContext = { quick, log: (l) => (json ? process.stderr.write(l + '\n') : console.log(l)) }
  const figures: Figure[] = []
  for (const [name, load] of Object.entries(MODULES)) {
    if (only && !only.includes(name)) continue
    ctx.log(`# ${name}`)
    try {
      figures.push(...(await (await load()).default(ctx)))
    } catch (e) {
      ctx.log(`# ${name}: failed: ${(e as Error).message}`)
      process.exitCode = 1
    }
  }
  const misses = figures.filter((f) => targetMet(f) === false)
  // A missed target is a failed run: exit 1 (after printing everything), so scripts and people notice.
  if (misses.length > 0) process.exitCode = 1
  if (json) {
    console.log(JSON.stringify(figures.map(({ name, value, unit, baseline, target }) => ({ name, value, unit, ...(baseline ? { baseline } : {}), ...(target ? { target, met: targetMet({ name, value, unit, ...(baseline ? { baseline } : {}), target }) } : {}) })), null, 2))
    for (const f of misses) process.stderr.write(`# target missed: ${f.name} = ${fmt(f.value)} ${f.unit}, target ${f.target ?? ''}\n`)
    return
  }
  const rows = figures.map((f) => [
    f.name,
    fmt(f.value) + ' ' + f.unit,
    f.baseline ? `${f.baseline.name} = ${fmt(f.baseline.value)}` : '',
    f.baseline && f.baseline.value && f.unit !== 'ratio' ? `${fmt(f.value / f.baseline.value)}x` : '',
    f.target ?? '',
    targetMet(f) === false ? 'MISSED' : targetMet(f) ? 'ok' : '',
  ])
  const head = ['figure', 'value', 'baseline (same run)', 'ratio', 'target', 'met']
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(w[i]!)).join('  ')
  console.log('\n' + line(head))
  console.log(w.map((n) => '-'.repeat(n)).join('  '))
  for (const r of rows) console.log(line(r))
  if (misses.length > 0) console.log(`\n${misses.length} figure${misses.length === 1 ? '' : 's'} missed ${misses.length === 1 ? 'its target' : 'their targets'}: ${misses.map((f) => f.name).join(', ')}`)
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n)
  if (Number.isInteger(n)) return String(n)
  return Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toFixed(3)
}

await main()
