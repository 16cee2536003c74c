#!/usr/bin/env node
/**
 * Bundles the Espruino device modules (targets/espruino/src/**.js) into ONE
 * file a user uploads to a board: each module is wrapped as
 * `Modules.addCached('hopseal/<path>', function () { ... })`, so
 * `require('hopseal/device')` works on the board without a module server.
 * The interpreter evaluates a module as soon as addCached is called, so the
 * modules come in dependency order (the `require('hopseal/...')` calls in
 * each source); a require cycle is refused.
 *
 *   node targets/espruino/build.mjs --out <file> [--entry <app.js> | --for <script.js>] [--all] [--minify] [--only crypto,link] [--sizes]
 *
 * With `--entry` (the application), the bundle holds only the modules the
 * entry's `require('hopseal/...')` calls reach, transitively, and the entry
 * is appended; `--for` takes the same modules without appending the file (a
 * harness that runs its own copy of the script); `--all` (or neither) takes
 * every module. A module marks a
 * dependency it loads lazily, only for some options, as optional:
 * `require(/* optional *\/ 'hopseal/crypto/chachapoly')`. The build does not
 * follow an optional require: an application that uses that option requires
 * the module itself (docs/espruino.md lists which). `--only` keeps the
 * modules whose first path part is listed, with what they require (tests
 * that need one area). `--minify` runs terser with options that emit only
 * syntax the interpreter runs (ES5 output: no arrows, no shorthand, ASCII
 * only) and mangles `_`-prefixed property names (internal fields; no name
 * shared with Node, the wire or the application starts with `_`). The script
 * prints the byte sizes on stdout; `--sizes` adds each module's minified size.
 */
import { Buffer } from 'node:buffer'
import { readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = dirname(fileURLToPath(import.meta.url))
const SRC = join(HERE, 'src')

/** Terser options for the interpreter: ES5 out, names kept at the top level (globals the entry uses). */
export const TERSER_OPTIONS = {
  ecma: 5,
  toplevel: false,
  compress: {
    ecma: 5,
    arrows: false,
    unsafe_arrows: false,
    passes: 2,
    keep_fargs: false,
  },
  // `_x` properties are internal to the device modules: renamed consistently across the bundle
  mangle: { toplevel: false, properties: { regex: /^_/ } },
  format: { ecma: 5, ascii_only: true, comments: false, semicolons: true },
}

function walk(dir) {
  const out = []
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...walk(p))
    else if (name.endsWith('.js')) out.push(p)
  }
  return out
}

const OPTIONAL = /require\(\s*\/\*\s*optional\s*\*\/\s*['"]hopseal\/[^'"]+['"]\s*\)/g

/** The `hopseal/...` ids a source requires (optional requires and comments stripped first). */
export function requires(source) {
  const code = source.replace(OPTIONAL, '').replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"\\])\/\/.*$/gm, '$1')
  return [...new Set([...code.matchAll(/require\(\s*['"](hopseal\/[^'"]+)['"]\s*\)/g)].map((m) => m[1]))]
}

/**
 * The modules under src/ (`hopseal/<area>/<file>`), dependencies first (then
 * by name). `only` keeps the given areas and whatever they require; `roots`
 * (module ids, an entry's requires) keeps those and whatever they require.
 */
export function modules(only, roots) {
  const all = new Map()
  for (const file of walk(SRC)) {
    const id = 'hopseal/' + relative(SRC, file).split(sep).join('/').replace(/\.js$/, '')
    all.set(id, { id, file, deps: requires(readFileSync(file, 'utf8')).filter((d) => d !== id) })
  }
  const out = []
  const state = new Map()
  const visit = (id, from) => {
    const m = all.get(id)
    if (!m) throw new Error(`${from} requires ${id}, which is not in targets/espruino/src`)
    if (state.get(id) === 'done') return
    if (state.get(id) === 'open') throw new Error(`require cycle through ${id} (the interpreter evaluates modules as they are added)`)
    state.set(id, 'open')
    for (const d of m.deps) visit(d, id)
    state.set(id, 'done')
    out.push(m)
  }
  if (roots) for (const id of [...roots].sort()) visit(id, 'the entry')
  else for (const id of [...all.keys()].sort()) if (!only || only.includes(id.split('/')[1])) visit(id, 'the build')
  return out
}

/** The modules a bundle holds for these options: the entry's reach, or every module (`all`, no entry) or `only` areas. */
export function bundleModules(opts = {}) {
  const app = opts.entry ?? opts.for
  const roots = app && !opts.all ? requires(readFileSync(app, 'utf8')) : undefined
  return modules(opts.only, roots)
}

/** The bundle's local name for a module's exports. */
function local(id) {
  return '$' + id.replace(/[^A-Za-z0-9]/g, '_')
}

/**
 * One module wrapped for the bundle: its body runs inside addCached, keeps
 * its exports in a variable of the bundle's closure, and reaches the modules
 * before it through those variables (a `require('hopseal/...')` string
 * costs bytes and a lookup); the id stays registered for the application.
 */
function wrap(m) {
  const body = readFileSync(m.file, 'utf8').replace(/require\(\s*['"](hopseal\/[^'"]+)['"]\s*\)/g, (_, id) => local(id))
  return `Modules.addCached(${JSON.stringify(m.id)}, function () {\n${local(m.id)} = exports;\n${body}\n});\n`
}

/**
 * The bundle text: the modules wrapped in Modules.addCached inside one
 * function (whose variables hold their exports), then the entry.
 */
export function bundleSource(opts = {}) {
  const mods = bundleModules(opts)
  const parts = [`(function () {\nvar ${mods.map((m) => local(m.id)).join(', ')};\n`, ...mods.map(wrap), '})();\n']
  if (opts.entry) parts.push(readFileSync(opts.entry, 'utf8') + '\n')
  return parts.join('')
}

/** Each module's minified size on its own (wrapper included), largest first: where a bundle's bytes go. */
export async function moduleSizes(opts = {}) {
  const rows = []
  for (const m of bundleModules(opts)) rows.push({ id: m.id, bytes: Buffer.byteLength(await minify(`(function () {\nvar ${local(m.id)};\n${wrap(m)}})();\n`)) })
  return rows.sort((a, b) => b.bytes - a.bytes)
}

/** Minifies a bundle with TERSER_OPTIONS (terser is a devDependency). */
export async function minify(code) {
  const { minify: terser } = await import('terser')
  const r = await terser(code, TERSER_OPTIONS)
  if (typeof r.code !== 'string') throw new Error('terser returned no code')
  return r.code + '\n'
}

/** Builds `{ code, plainBytes, minBytes? }`. */
export async function build(opts = {}) {
  const plain = bundleSource(opts)
  const plainBytes = Buffer.byteLength(plain)
  if (!opts.minify) return { code: plain, plainBytes }
  const code = await minify(plain)
  return { code, plainBytes, minBytes: Buffer.byteLength(code) }
}

function parseArgs(argv) {
  const o = { minify: false, all: false, sizes: false }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--minify') o.minify = true
    else if (a === '--all') o.all = true
    else if (a === '--sizes') o.sizes = true
    else if (a === '--out' || a === '--entry' || a === '--for' || a === '--only') {
      const v = argv[++i]
      if (v === undefined) throw new Error(`${a} needs a value`)
      if (a === '--out') o.out = resolve(v)
      else if (a === '--entry') o.entry = resolve(v)
      else if (a === '--for') o.for = resolve(v)
      else o.only = v.split(',').filter(Boolean)
    } else throw new Error(`unknown option ${a} (usage: build.mjs --out <file> [--entry <app.js> | --for <script.js>] [--all] [--minify] [--only areas] [--sizes])`)
  }
  if (!o.out) throw new Error('--out <file> is required')
  return o
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const o = parseArgs(process.argv.slice(2))
    const r = await build(o)
    writeFileSync(o.out, r.code)
    console.log(`modules: ${bundleModules(o).map((m) => m.id.slice(8)).join(' ')}`)
    console.log(`plain: ${r.plainBytes} bytes`)
    if (r.minBytes !== undefined) console.log(`minified: ${r.minBytes} bytes (target <= 32768)`)
    if (o.sizes) for (const m of await moduleSizes(o)) console.log(`${String(m.bytes).padStart(7)}  ${m.id}`)
    console.log(`wrote ${o.out}`)
  } catch (e) {
    console.error(`build.mjs: ${e instanceof Error ? e.message : String(e)}`)
    process.exitCode = 1
  }
}
