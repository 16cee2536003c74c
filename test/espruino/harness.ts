/**
 * Test harness for the Espruino device code (targets/espruino): find the
 * interpreter, build the bundle (targets/espruino/build.mjs), run code in
 * the interpreter with the bundle preloaded and collect its output lines.
 *
 * The process handling (stdin an open silent pipe, temp cwd for its flash
 * file, line cleaning, stop) is hil-sim/scenario/espruino.ts's
 * spawnEspruino; this file adds the test-side pieces: skip-or-fail when the
 * interpreter is absent, bundles restricted to some areas, and a run that
 * ends on a marker line.
 *
 * Protocol of runEspruino: the code prints lines; it prints END_MARKER
 * ('@@END') when it is done. Lines before it are returned; a line with
 * `Uncaught` (an exception the code did not catch) fails the run at once.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { espruinoInterpreter, spawnEspruino, type EspruinoChild } from '../../hil-sim/scenario/espruino.ts'
import { REQUIRE_SYSTEM } from '../helpers/system.ts'

export type { EspruinoChild }

const REPO = resolve(import.meta.dirname, '../..')
export const BUILD_SCRIPT = join(REPO, 'targets/espruino/build.mjs')
export const END_MARKER = '@@END'

/** The interpreter's path ($HOPSEAL_ESPRUINO or ../shared/tools/espruino/espruino), or null when absent. */
export function espruinoPath(): string | null {
  return espruinoInterpreter() ?? null
}

/**
 * `false` when the interpreter is there (run the tests), else the printed
 * skip reason; throws when HOPSEAL_REQUIRE_SYSTEM=1 (or CI) forbids skipping.
 */
export function skipUnlessEspruino(): false | string {
  if (espruinoPath() !== null) return false
  const reason = 'the Espruino interpreter is absent (../shared/tools/espruino/espruino or HOPSEAL_ESPRUINO)'
  if (REQUIRE_SYSTEM) throw new Error(`${reason}; HOPSEAL_REQUIRE_SYSTEM/CI forbids skipping`)
  console.log(`# skip: ${reason}`)
  return reason
}

export interface BundleOptions {
  /** Minified with the bundler's terser options (default false: readable stack traces). */
  minify?: boolean
  /** Only the modules of these areas (e.g. ['crypto']); default all. */
  only?: string[]
}

const bundles = new Map<string, string>()

/** The bundle text from build.mjs, built once per process and option set. */
export function espruinoBundle(opts: BundleOptions = {}): string {
  const key = `${opts.minify ? 'min' : 'plain'}:${(opts.only ?? []).join(',')}`
  let b = bundles.get(key)
  if (b === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'hopseal-bundle-'))
    try {
      const out = join(dir, 'bundle.js')
      const args = [BUILD_SCRIPT, '--out', out, ...(opts.minify ? ['--minify'] : []), ...(opts.only ? ['--only', opts.only.join(',')] : [])]
      execFileSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] })
      b = readFileSync(out, 'utf8')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    bundles.set(key, b)
  }
  return b
}

/**
 * Starts the interpreter on `code` with the bundle preloaded (unless
 * `bundle: false`), for long-running device processes: line events,
 * waitFor and stop() are on the returned handle.
 */
export function startEspruino(code: string, opts: BundleOptions & { bundle?: boolean } = {}): EspruinoChild {
  const pre = opts.bundle === false ? '' : espruinoBundle(opts) + '\n'
  return spawnEspruino(pre + code, { bundle: false })
}

export interface RunResult {
  /** The output lines before END_MARKER. */
  lines: string[]
  /** Wall time from spawn to the marker, ms. */
  ms: number
}

/**
 * Runs `code` (bundle preloaded) until it prints END_MARKER; resolves with
 * the lines before it. Rejects on timeout (default 60 s), on an uncaught
 * exception, or when the interpreter exits first. The process is always stopped.
 */
export async function runEspruino(code: string, opts: BundleOptions & { bundle?: boolean; timeoutMs?: number } = {}): Promise<RunResult> {
  const t0 = performance.now()
  const child = startEspruino(code, opts)
  try {
    const line = await child.waitFor((l) => l === END_MARKER || l.includes('Uncaught'), opts.timeoutMs ?? 60_000)
    if (line !== END_MARKER) {
      // give the interpreter a moment to print the rest of the error
      await new Promise((r) => setTimeout(r, 200))
      throw new Error(`uncaught exception in the interpreter:\n${child.lines.slice(-20).join('\n')}`)
    }
    const end = child.lines.indexOf(END_MARKER)
    return { lines: child.lines.slice(0, end), ms: performance.now() - t0 }
  } finally {
    await child.stop()
  }
}

/** The JSON values printed as `<prefix> {json}` lines, in order. */
export function jsonLines<T = unknown>(lines: readonly string[], prefix: string): T[] {
  return lines.filter((l) => l.startsWith(prefix + ' ')).map((l) => JSON.parse(l.slice(prefix.length + 1)) as T)
}
