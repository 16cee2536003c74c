#!/usr/bin/env node
/**
 * Bundles the Espruino device modules (targets/espruino/src/**.js) into ONE
 * file a user uploads to a board: each module is wrapped as
 * `Modules.addCached('hopseal/<path>', function () { ... })`, so
 * `require('hopseal/crypto/index')` works on the board without a module
 * server. An optional entry file (the user's device script) is appended.
 * The interpreter evaluates a module as soon as addCached is called, so the
 * modules come in dependency order (the `require('hopseal/...')` calls in
 * each source); a require cycle is refused.
 *
 *   node targets/espruino/build.mjs --out <file> [--entry <file.js>] [--minify] [--only crypto,link]
 *
 * `--minify` runs terser with options that emit only syntax the interpreter
 * runs (ES5 output: no arrows, no shorthand, ASCII only). The script prints
 * the byte sizes (plain and minified) on stdout. `--only` keeps the modules
 * whose first path part is listed (tests that need one area).
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
  mangle: { toplevel: false },
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

/** The `hopseal/...` ids a source requires (comments stripped first). */
function requires(source) {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"\\])\/\/.*$/gm, '$1')
  return [...code.matchAll(/require\(\s*['"](hopseal\/[^'"]+)['"]\s*\)/g)].map((m) => m[1])
}

/**
 * The modules under src/ (`hopseal/<area>/<file>`), dependencies first (then
 * by name). `only` keeps the given areas and whatever they require.
 */
export function modules(only) {
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
  for (const id of [...all.keys()].sort()) if (!only || only.includes(id.split('/')[1])) visit(id, 'the build')
  return out
}

/** The bundle text: every module wrapped in Modules.addCached, then the entry. */
export function bundleSource(opts = {}) {
  const parts = modules(opts.only).map((m) => `Modules.addCached(${JSON.stringify(m.id)}, function () {\n${readFileSync(m.file, 'utf8')}\n});\n`)
  if (opts.entry) parts.push(readFileSync(opts.entry, 'utf8') + '\n')
  return parts.join('')
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
  const o = { minify: false }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--minify') o.minify = true
    else if (a === '--out' || a === '--entry' || a === '--only') {
      const v = argv[++i]
      if (v === undefined) throw new Error(`${a} needs a value`)
      if (a === '--out') o.out = resolve(v)
      else if (a === '--entry') o.entry = resolve(v)
      else o.only = v.split(',').filter(Boolean)
    } else throw new Error(`unknown option ${a} (usage: build.mjs --out <file> [--entry <file.js>] [--minify] [--only areas])`)
  }
  if (!o.out) throw new Error('--out <file> is required')
  return o
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const o = parseArgs(process.argv.slice(2))
    const r = await build(o)
    writeFileSync(o.out, r.code)
    console.log(`modules: ${modules(o.only).length}`)
    console.log(`plain: ${r.plainBytes} bytes`)
    if (r.minBytes !== undefined) console.log(`minified: ${r.minBytes} bytes (target <= 32768)`)
    console.log(`wrote ${o.out}`)
  } catch (e) {
    console.error(`build.mjs: ${e instanceof Error ? e.message : String(e)}`)
    process.exitCode = 1
  }
}
