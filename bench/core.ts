/**
 * `core.import_ms`: the cold import time of the portable core as a user gets
 * it, the compiled `hopseal` entry (dist/src/index.js: errors, crypto, noise,
 * vault, routing, channel), beside `@noble/curves` (ed25519 + nist, which the
 * core's noble provider imports itself) measured the same way in the same
 * run. Each sample is a fresh `node` process timing one `await import()`
 * (process start-up excluded), median of several. The core is compiled first
 * with tsconfig.build.json into a temporary folder, so a stale dist/ never
 * counts.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { BenchContext, BenchModule, Figure } from './figure.ts'

const ROOT = resolve(import.meta.dirname, '..')

/** Milliseconds one fresh node process spends in `await import(specifier)` (all of them, in order). */
function importMs(specifiers: string[], cwd: string): number {
  const code = `const t = performance.now(); for (const s of ${JSON.stringify(specifiers)}) await import(s); console.log(performance.now() - t)`
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } })
  return Number(out.trim())
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

const run: BenchModule = async (ctx: BenchContext): Promise<Figure[]> => {
  const dir = mkdtempSync(join(tmpdir(), 'hopseal-bench-core-'))
  try {
    const t0 = performance.now()
    const out = join(dir, 'dist')
    // A type error elsewhere in the tree must not stop the figure: tsc emits anyway; the entry must exist.
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', out, '--declaration', 'false', '--declarationMap', 'false'], { cwd: ROOT, encoding: 'utf8' })
    if (!existsSync(join(out, 'src/index.js'))) throw new Error(`the core did not compile: ${tsc.stdout}${tsc.stderr}`)
    if (tsc.status !== 0) ctx.log(`core: tsc reported errors (compiled anyway): ${tsc.stdout.split('\n')[0]}`)
    // The build resolves its dependencies from the repository's node_modules and is ESM, as in the package.
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'hopseal-bench-core', private: true, type: 'module' }))
    ctx.log(`core: compiled in ${((performance.now() - t0) / 1000).toFixed(1)} s`)

    const core = [pathToFileURL(join(out, 'src/index.js')).href]
    const noble = ['@noble/curves/ed25519.js', '@noble/curves/nist.js']
    const runs = ctx.quick ? 5 : 11
    const a: number[] = []
    const b: number[] = []
    importMs(core, dir) // warm the file system cache: "cold" is a fresh process, not a cold disk
    importMs(noble, dir)
    for (let i = 0; i < runs; i++) {
      // interleaved, so a burst of load on the shared machine hits both alike
      a.push(importMs(core, dir))
      b.push(importMs(noble, dir))
    }
    const coreMs = median(a)
    const nobleMs = median(b)
    ctx.log(`core: import ${coreMs.toFixed(1)} ms (runs ${a.map((x) => x.toFixed(0)).join(' ')}), @noble/curves ${nobleMs.toFixed(1)} ms (runs ${b.map((x) => x.toFixed(0)).join(' ')})`)
    return [{ name: 'core.import_ms', value: coreMs, unit: 'ms', baseline: { name: 'noble_curves.import_ms', value: nobleMs }, note: `median of ${runs} fresh node processes importing dist/src/index.js` }]
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export default run
