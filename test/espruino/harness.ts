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
 * ('@@END') when it is done. Lines before it are returned (normalised: a
 * line printed from a timer starts with '\r' on the console); a line with
 * `Uncaught` (an exception the code did not catch) fails the run at once.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
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

/**
 * Device modules wrapped by hand, as build.mjs wraps them (`Modules.addCached`),
 * for tests of one area that load its modules without the bundler; `ids` are
 * paths under targets/espruino/src without `.js`, dependencies first.
 */
export function wrapModules(ids: readonly string[]): string {
  return ids.map((id) => `Modules.addCached('hopseal/${id}', function () {\n${readFileSync(join(REPO, 'targets/espruino/src', id + '.js'), 'utf8')}\n});`).join('\n') + '\n'
}

export interface BundleOptions {
  /** Minified with the bundler's terser options (default false: readable stack traces). */
  minify?: boolean
  /** Only the modules of these areas (e.g. ['crypto']); default all. */
  only?: string[]
  /** An application file: the bundle is the modules it requires, then the file (build.mjs --entry). */
  entry?: string
}

const bundles = new Map<string, string>()

/** The bundle text from build.mjs, built once per process and option set. */
export function espruinoBundle(opts: BundleOptions = {}): string {
  const key = `${opts.minify ? 'min' : 'plain'}:${(opts.only ?? []).join(',')}:${opts.entry ?? ''}`
  let b = bundles.get(key)
  if (b === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'hopseal-bundle-'))
    try {
      const out = join(dir, 'bundle.js')
      const args = [BUILD_SCRIPT, '--out', out, ...(opts.minify ? ['--minify'] : []), ...(opts.only ? ['--only', opts.only.join(',')] : []), ...(opts.entry ? ['--entry', opts.entry] : [])]
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

/** A console line without the carriage returns and prompt the interpreter puts before output printed from timers. */
export function norm(line: string): string {
  return line.replace(/\r/g, '').replace(/^>+/, '')
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
    const line = norm(await child.waitFor((l) => norm(l) === END_MARKER || l.includes('Uncaught'), opts.timeoutMs ?? 60_000))
    if (line !== END_MARKER) {
      // give the interpreter a moment to print the rest of the error
      await new Promise((r) => setTimeout(r, 200))
      throw new Error(`uncaught exception in the interpreter:\n${child.lines.slice(-20).join('\n')}`)
    }
    const lines = child.lines.map(norm)
    return { lines: lines.slice(0, lines.indexOf(END_MARKER)), ms: performance.now() - t0 }
  } finally {
    await child.stop()
  }
}

/** The JSON values printed as `<prefix> {json}` lines, in order. */
export function jsonLines<T = unknown>(lines: readonly string[], prefix: string): T[] {
  return lines.filter((l) => l.startsWith(prefix + ' ')).map((l) => JSON.parse(l.slice(prefix.length + 1)) as T)
}

/**
 * Device-side helpers prepended by runChunked: `hex(u8)`, `unhex(str)`,
 * and `tryCode(fn)` (fn's result, or 'ERR:<code>' when it throws an error
 * with a code: the typed errors of targets/espruino/src).
 */
export const DEVICE_HELPERS = `
function hex(b) { var s = ''; for (var i = 0; i < b.length; i++) s += (b[i] < 16 ? '0' : '') + b[i].toString(16); return s; }
function unhex(s) { var b = new Uint8Array(s.length >> 1); for (var i = 0; i < b.length; i++) b[i] = parseInt(s.substr(2 * i, 2), 16); return b; }
function tryCode(f) { try { return f(); } catch (e) { if (e && e.code) return 'ERR:' + e.code; throw e; } }
`

export interface ChunkedResult<R> {
  /** One result per item, in order. */
  results: R[]
  /** Wall time of the whole run (spawn, bundle load, all chunks), ms. */
  ms: number
  /** `process.memory().usage` at its highest after a chunk. */
  peakVars: number
}

/**
 * Runs `each` (device-side JavaScript source of a function `(item) => result`,
 * result JSON-serialisable) on every item in the interpreter. The items are
 * shipped in chunks: JSON files of `perChunk` items in a temp directory, read
 * one at a time with the interpreter's `require('fs')` (a test facility of
 * the Linux build) and parsed, so no huge literal sits in the program text.
 * Each chunk's results come back on one `CHUNK [..]` line.
 */
export async function runChunked<T, R>(items: readonly T[], each: string, opts: BundleOptions & { perChunk?: number; timeoutMs?: number; setup?: string } = {}): Promise<ChunkedResult<R>> {
  const dir = mkdtempSync(join(tmpdir(), 'hopseal-vectors-'))
  try {
    const per = opts.perChunk ?? 20
    const files: string[] = []
    for (let i = 0; i < items.length; i += per) {
      const f = join(dir, `chunk-${files.length}.json`)
      writeFileSync(f, JSON.stringify(items.slice(i, i + per)))
      files.push(f)
    }
    const code = `${DEVICE_HELPERS}
${opts.setup ?? ''}
var EACH = (${each});
var FILES = ${JSON.stringify(files)};
var fi = 0, peak = 0;
function nextChunk() {
  if (fi >= FILES.length) { print('PEAK ' + peak); print('${END_MARKER}'); return; }
  var list = JSON.parse(require('fs').readFileSync(FILES[fi++]));
  var out = [];
  for (var i = 0; i < list.length; i++) out.push(EACH(list[i]));
  list = undefined;
  var u = process.memory().usage;
  if (u > peak) peak = u;
  print('CHUNK ' + JSON.stringify(out));
  setTimeout(nextChunk, 0);
}
nextChunk();
`
    const r = await runEspruino(code, opts)
    const results = jsonLines<R[]>(r.lines, 'CHUNK').flat()
    const peakLine = r.lines.find((l) => l.startsWith('PEAK '))
    if (results.length !== items.length) throw new Error(`the interpreter returned ${results.length} results for ${items.length} items; its output:\n${r.lines.map((l) => l.slice(0, 200)).join("\n")}`)
    return { results, ms: r.ms, peakVars: peakLine ? Number(peakLine.slice(5)) : NaN }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
