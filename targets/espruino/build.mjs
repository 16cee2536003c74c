#!/usr/bin/env node
/**
 * Bundles the Espruino device modules (targets/espruino/src/**.js) into ONE
 * file a user uploads to a board. Plain: each module is wrapped as
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
 * that need one area). `--minify` hoists the modules into one scope
 * (hoistedSource: exports become variables of the bundle's function, the
 * entry goes inside it; only what may be required by id at run time is
 * registered), drops the human messages of the typed errors (errorCodesOnly:
 * codes only, each repeated code one variable), applies the size rewrites
 * of `compact` and `sharePrefixes` (docs/espruino.md "Code size") and runs
 * terser with options that emit only syntax the interpreter runs (ES2015:
 * arrows, methods, shorthand; ASCII only) and rename every property name but RESERVED
 * (built-ins, the public API, names read by string or from JSON); an
 * application bundle (`--entry` without `--all`) keeps fewer
 * (entryReserved: no script outside it reads the API). The script
 * prints the byte sizes on stdout; `--sizes` adds each module's minified size.
 */
import { Buffer } from 'node:buffer'
import { readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = dirname(fileURLToPath(import.meta.url))
const SRC = join(HERE, 'src')

/**
 * Property names the minified build keeps; every other property name is
 * renamed (shorter), consistently across the bundle and its entry. A name
 * belongs here when code outside the bundle's minified text can see it:
 * - BUILTINS: the JavaScript and Espruino built-ins the device code calls or
 *   passes (Uint8Array, Promise, Math, JSON, Error, Serial, I2C, E,
 *   Storage, require('crypto'), Modules);
 * - API: the application API (docs/espruino.md, examples/heart-rate.js),
 *   module exports, options, results and stats that scripts outside the
 *   bundle use (test/espruino/*.ts, hil-sim/scenario/espruino.ts, bench/espruino.ts);
 * - LOOKUP: names read by a string at run time (tables indexed by an option
 *   such as the medium, the pattern, the ATECC608 buffer, a counter's
 *   name), names copied from the application's objects with `for…in` (limit
 *   overrides, profile options) and names in JSON (hopseal.json: slot,
 *   peer, peerXY, route, ioKey).
 * A new public name must be added here: the interpreter tests fail otherwise.
 * An application bundle keeps only BUILTINS, LOOKUP and the names its
 * strings and its application write (entryReserved).
 * `_x` names are internal by definition and never listed. A name written
 * quoted anywhere in the bundle (`o['x']`, `{ 'x': … }`) is kept as well.
 */
const BUILTINS = [
  'AES', 'SHA256', 'BOARD', 'abs', 'addCached', 'apply', 'assign', 'bitrate', 'buffer', 'call', 'ceil', 'charCodeAt', 'clearTimeout', 'code', 'concat',
  'close', 'create', 'emit', 'encrypt', 'env', 'exports', 'fill', 'floor', 'hwRand', 'indexOf', 'join', 'keys', 'length', 'log', 'max', 'message',
  'min', 'mode', 'name', 'now', 'on', 'openFile', 'parse', 'pop', 'pow', 'prototype', 'push', 'random', 'read', 'readFrom', 'readJSON',
  'reject', 'removeListener', 'resolve', 'rx', 'scl', 'sda', 'set', 'setTimeout', 'setup', 'shift', 'slice', 'splice', 'split', 'stack',
  'subarray', 'substr', 'then', 'toString', 'toUint8Array', 'toUpperCase', 'tx', 'unshift', 'write', 'writeJSON', 'writeTo',
]
const API = [
  'Gate', 'Reassembler', 'ackTimeoutMs', 'address', 'aesGcmOpen', 'aesGcmSeal', 'airtimeMs', 'alloc', 'ascii', 'at', 'attempts', 'auth',
  'bleUart', 'busy', 'bwHz', 'bytes', 'bytesReceived', 'bytesSent', 'chachaPolyOpen', 'chachaPolySeal', 'channel', 'check',
  'cipher', 'ck', 'clock', 'close', 'closed', 'cobs', 'compress', 'copy', 'count', 'counter', 'counters', 'cr', 'crc', 'ct', 'cur',
  'data', 'dataRate', 'dec', 'decode', 'decoder', 'decompress', 'dh', 'done', 'drop', 'drops', 'dutyCycle', 'dutyPolicy', 'earliest',
  'ecdh', 'encode', 'eph', 'ephemerals', 'epoch', 'equal', 'fail', 'failed', 'finish', 'flight', 'fn', 'frames', 'framesReceived',
  'framesSent', 'fromHex', 'full', 'garbageBytes', 'genKey', 'genKeyTempKey', 'got', 'handlerErrors', 'hex', 'hkdf', 'hmacSha256',
  'hsBusy', 'hwRandomBytes', 'i2c', 'id', 'idle', 'index', 'info', 'init', 'initialMs', 'input', 'ioKey', 'keepaliveMs', 'kind', 'kit',
  'l', 'last', 'limits', 'link', 'listen', 'local', 'lora', 'loraAirtimeMs', 'lowS', 'make', 'maxBackoffMs', 'maxBytes', 'maxMessage',
  'maxMessages', 'maxMs', 'maxRetransmits', 'medium', 'minAckTimeoutMs', 'msg', 'msgId', 'mtu', 'n', 'node', 'nonce', 'ok', 'onClose',
  'onCurve', 'onDrop', 'onMessage', 'onward', 'open', 'optional', 'out', 'oversize', 'pattern', 'payload', 'peer', 'peerXY', 'peers',
  'policy', 'pre', 'privateKey', 'profile', 'pt', 'pub', 'publicKey', 'queued', 'radio', 'randomBytes', 'ratio', 'raw', 'rbusy', 're',
  'readVarint', 'reassemblyTimeoutMs', 'receive', 'receiveBuffer', 'record', 'rejectAfterMessages', 'rejectAfterMs', 'rekeyAfterMessages',
  'rekeyAfterMs', 'reliable', 'renewAfterMessages', 'renewAfterMs', 'renewAfterSilenceMs', 'renewRetransmit', 'renewals', 'ret',
  'retransmit', 'route', 'rs', 'run', 'rw', 'sack', 'send', 'sendBuffer', 'sendRouted', 'seq', 'session', 'sf', 'sha256', 'short',
  'sign', 'sleep', 'slot', 'softwareVault', 'stats', 'status', 'storageCounter', 't', 'tag', 'talk', 'timeoutMs', 'timer', 'transport',
  'type', 'uk', 'unacked', 'update', 'v', 'vault', 'waitedMs', 'wake', 'whole', 'windowMs', 'wipe', 'writeIntervalMs', 'x', 'x25519',
  'x25519Base',
]
const LOOKUP = [
  // media (limits), profiles (link/profile make()), patterns, ATECC608 buffers, link/frame Decoder counters (bad('crc'))
  'ip', 'ble', 'lora', 'raw', 'KK', 'IK', 'tempkey', 'msgdigbuf', 'altkeybuf', 'crc', 'cobs', 'short', 'oversize',
  // hopseal.json (slot, peer, peerXY, route, ioKey) and the storageCounter file ({ c: n })
  'slot', 'peer', 'peerXY', 'route', 'ioKey', 'c',
]
// Keys of objects the library hands the application whole (the link's stats): telemetry may send them as JSON
const RESULTS = ['framesSent', 'framesReceived', 'bytesSent', 'bytesReceived', 'airtimeMs', 'waitedMs', 'drops']
export const RESERVED = [...new Set([...BUILTINS, ...API, ...LOOKUP, ...RESULTS])].sort()

/** Terser options for the interpreter: ES2015 out (what 2v29 runs), names kept at the top level (globals the entry uses). */
export const TERSER_OPTIONS = {
  ecma: 2015,
  toplevel: false,
  compress: {
    ecma: 2015,
    arrows: true,
    unsafe_arrows: true,
    unsafe_methods: true,
    passes: 2,
    keep_fargs: false,
    // function declarations moved to the top of their scope (where the language hoists them anyway): 204 B less on the heart-rate bundle
    hoist_funs: true,
    unsafe_undefined: true,
  },
  // every property name but RESERVED is renamed consistently across the bundle (`builtins: true`: the
  // built-ins the code uses are listed in RESERVED, not taken from terser's browser list)
  mangle: { toplevel: false, properties: { builtins: true, keep_quoted: true, reserved: RESERVED } },
  format: { ecma: 2015, ascii_only: true, comments: false, semicolons: true },
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
 * One module wrapped for the plain bundle: its body runs inside addCached,
 * keeps its exports in a variable named after the module, and reaches the
 * modules before it through those variables (a `require('hopseal/...')`
 * string costs bytes and a lookup); the id stays registered for the
 * application. The interpreter evaluates an addCached function's text at
 * the top level, so these variables are globals, not the enclosing
 * function's.
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

/** The bundle's variable for export `name` of module `id` (hoisted build). */
function exportVar(id, name) {
  return local(id) + '$' + name
}

/** Calls `fn(node, parent)` on every node of an acorn AST, parents first. */
function visitAst(node, parent, fn) {
  fn(node, parent)
  for (const key of Object.keys(node)) {
    if (key === 'type' || key === 'start' || key === 'end' || key === 'range') continue
    for (const c of Array.isArray(node[key]) ? node[key] : [node[key]]) if (c && typeof c.type === 'string') visitAst(c, node, fn)
  }
}

/**
 * `text` with each edit `{ start, end, text }` (offsets into `text`, not
 * overlapping) put in, last offset first; at one offset a replacement goes
 * in before an insertion.
 */
function applyEdits(text, edits) {
  let out = text
  for (const e of [...edits].sort((a, b) => b.start - a.start || b.end - a.end)) out = out.slice(0, e.start) + e.text + out.slice(e.end)
  return out
}

/** `require('hopseal/...')` (not an optional one: that one has a comment, not a plain string argument). */
function hopsealRequire(n) {
  return n.type === 'CallExpression' && n.callee.type === 'Identifier' && n.callee.name === 'require' && n.arguments.length === 1 &&
    n.arguments[0].type === 'Literal' && typeof n.arguments[0].value === 'string' && n.arguments[0].value.startsWith('hopseal/') ? n.arguments[0].value : undefined
}

/**
 * One module (or the entry, `id` null) rewritten for the hoisted bundle:
 * `exports.x` becomes the bundle variable of that export, `A.x` (A a
 * `var A = require('hopseal/...')` declared once in the module) and
 * `require('hopseal/...').x` become the other module's export variable;
 * a module used as a value (passed, or an alias declared twice) becomes its
 * namespace object (`needs`). Returns the text and the names it exports.
 */
function hoistModule(acorn, eslintScope, id, source, needs) {
  // parsed inside a function, so the module's top-level names are that function's variables (resolved references)
  const head = '(function () {\n'
  const wrapped = head + source + '\n})'
  const ast = acorn.parse(wrapped, { ecmaVersion: 2020, sourceType: 'script', ranges: true })
  const fn = ast.body[0].expression
  const parents = new Map()
  const aliases = new Map()
  const declared = new Map()
  const declare = (name) => declared.set(name, (declared.get(name) ?? 0) + 1)
  visitAst(fn.body, null, (n, parent) => {
    parents.set(n, parent)
    if (n.type === 'VariableDeclarator' && n.id.type === 'Identifier') declare(n.id.name)
    else if ((n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression' || n.type === 'ClassDeclaration') && n.id) declare(n.id.name)
    if (n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression' || n.type === 'ArrowFunctionExpression') for (const p of n.params) if (p.type === 'Identifier') declare(p.name)
    if (n.type === 'CatchClause' && n.param?.type === 'Identifier') declare(n.param.name)
  })
  // exports assigned once, by a top-level `exports.x = …;`, become `var` declarations (terser inlines and drops those)
  const assigned = new Map()
  visitAst(fn.body, null, (n) => {
    if (n.type === 'AssignmentExpression' && n.left.type === 'MemberExpression' && !n.left.computed && n.left.object.type === 'Identifier' && n.left.object.name === 'exports') assigned.set(n.left.property.name, (assigned.get(n.left.property.name) ?? 0) + 1)
  })
  const declaredAt = new Set()
  for (const st of fn.body.body) {
    const x = st.type === 'ExpressionStatement' && st.expression.type === 'AssignmentExpression' && st.expression.operator === '=' ? st.expression.left : undefined
    if (id && x?.type === 'MemberExpression' && !x.computed && x.object.type === 'Identifier' && x.object.name === 'exports' && assigned.get(x.property.name) === 1) declaredAt.add(x)
  }
  for (const st of fn.body.body) {
    if (st.type !== 'VariableDeclaration') continue
    for (const d of st.declarations) {
      const dep = d.init && hopsealRequire(d.init)
      if (dep && d.id.type === 'Identifier' && declared.get(d.id.name) === 1) aliases.set(d.id.name, dep)
    }
  }
  const exported = new Set()
  const declaredExports = new Set()
  const uses = []
  const dynamic = new Set()
  const edits = []
  const edit = (n, text) => edits.push({ start: n.start, end: n.end, text })
  const member = (n) => n.type === 'MemberExpression' && !n.computed && n.property.type === 'Identifier'
  const done = new Set()
  const fail = (n, why) => {
    throw new Error(`${id ?? 'the entry'}: ${why} at offset ${n.start} (the hoisted build cannot rewrite it)`)
  }
  visitAst(fn.body, null, (n, parent) => {
    if (done.has(n)) return
    if (member(n) && n.object.type === 'Identifier' && n.object.name === 'exports' && id) {
      exported.add(n.property.name)
      if (declaredAt.has(n)) declaredExports.add(n.property.name)
      edit(n, (declaredAt.has(n) ? 'var ' : '') + exportVar(id, n.property.name))
      done.add(n.object)
      return
    }
    const dep = member(n) && n.object.type === 'Identifier' ? aliases.get(n.object.name) : member(n) ? hopsealRequire(n.object) : undefined
    if (dep) {
      if (parent.type === 'AssignmentExpression' && parent.left === n) fail(n, `assignment to ${dep}'s export ${n.property.name}`)
      uses.push({ dep, name: n.property.name, at: n.start })
      edit(n, exportVar(dep, n.property.name))
      done.add(n.object)
      if (n.object.type === 'CallExpression') done.add(n.object.arguments[0])
      return
    }
    if (n.type === 'Identifier' && n.name === 'exports' && id) fail(n, 'exports used as a value')
    const req = hopsealRequire(n)
    if (req) {
      done.add(n.arguments[0])
      const alias = parent.type === 'VariableDeclarator' && parent.init === n && parent.id.type === 'Identifier' && aliases.get(parent.id.name) === req
      if (alias || parent.type === 'ExpressionStatement') edit(n, 'void 0')
      else {
        needs.add(req)
        edit(n, local(req))
      }
      return
    }
    if (n.type === 'Literal' && typeof n.value === 'string' && n.value.startsWith('hopseal/')) dynamic.add(n.value)
    if (n.type === 'Identifier' && aliases.has(n.name) && !(parent.type === 'VariableDeclarator' && parent.id === n) && !(member(parent) && parent.property === n)) {
      if (parent.type === 'Property' && parent.key === n && !parent.shorthand && !parent.computed) return
      needs.add(aliases.get(n.name))
      edit(n, local(aliases.get(n.name)))
    }
  })
  // the module's own top-level names get a prefix of the module, so every module shares the bundle's scope
  const scope = eslintScope.analyze(ast, { ecmaVersion: 2020, sourceType: 'script' }).acquire(fn)
  const renames = []
  for (const v of scope.variables) {
    if (v.name === 'arguments') continue
    const to = `${id ? local(id) : '$entry'}$$${v.name}`
    for (const node of new Set([...v.identifiers, ...v.references.map((r) => r.identifier)])) {
      if (edits.some((e) => e.start <= node.start && node.end <= e.end)) continue
      const p = parents.get(node)
      renames.push({ start: node.start, end: node.end, text: p?.type === 'Property' && p.shorthand ? `${v.name}: ${to}` : to })
    }
  }
  edits.push(...renames)
  const text = applyEdits(wrapped, edits)
  return { text: text.slice(head.length, text.length - 3), exported, declared: declaredExports, uses, dynamic }
}


/**
 * The minified build's bundle text, before terser: ONE function holds every
 * module's exports as its own variables (hoisted: no wrapper per module, no
 * property lookups between modules), each module's body in a function of
 * its own (its private names stay apart), then the entry in the same
 * function, its `require('hopseal/...')` calls rewritten too. Only the
 * modules a later script or a run-time lookup may require by id are
 * registered with Modules.addCached, as an object of their exports.
 */
export async function hoistedSource(opts = {}) {
  const acorn = await import('acorn')
  const eslintScope = await import('eslint-scope')
  const mods = bundleModules(opts)
  const needs = new Set()
  const bodies = mods.map((m) => ({ m, ...hoistModule(acorn, eslintScope, m.id, readFileSync(m.file, 'utf8'), needs) }))
  const entry = opts.entry ? hoistModule(acorn, eslintScope, null, readFileSync(opts.entry, 'utf8'), needs) : undefined
  const exports = new Map(bodies.map((b) => [b.m.id, b.exported]))
  for (const b of entry ? [...bodies, entry] : bodies) {
    for (const u of b.uses) if (!exports.get(u.dep)?.has(u.name)) throw new Error(`${b.m?.id ?? 'the entry'} uses ${u.dep}'s ${u.name} (offset ${u.at}), which that module does not export`)
  }
  // registered: what a script loaded after the bundle may require (--for: the script's ids; --all, --only: every
  // module), and the modules present that some module names by id (B.optional: loaded at run time)
  const reg = new Set()
  if (opts.for && !opts.all) for (const id of requires(readFileSync(opts.for, 'utf8'))) reg.add(id)
  else if (!opts.entry || opts.all) for (const m of mods) reg.add(m.id)
  for (const b of bodies) for (const id of b.dynamic) if (exports.has(id) && id !== b.m.id) reg.add(id)
  for (const id of reg) needs.add(id)
  const parts = []
  const vars = []
  for (const { m, text, exported, declared } of bodies) {
    for (const x of exported) if (!declared.has(x)) vars.push(exportVar(m.id, x))
    parts.push(text + '\n')
    if (needs.has(m.id)) {
      vars.push(local(m.id))
      parts.push(`${local(m.id)} = {${[...exported].map((x) => `${JSON.stringify(x)}: ${exportVar(m.id, x)}`).join(', ')}};\n`)
    }
    if (reg.has(m.id)) parts.push(`$register(${JSON.stringify(m.id)}, ${local(m.id)});\n`)
  }
  // Modules.addCached evaluates the function's text as a module at the top level, not as a closure: the
  // namespace object goes through the global $hs, cleared once every module is registered
  const register = reg.size ? 'function $register(id, ns) {\n$hs = ns;\nModules.addCached(id, function () { module.exports = $hs; });\n}\n' : ''
  if (reg.size) parts.push('$hs = undefined;\n')
  if (entry) parts.push(entry.text + '\n')
  return `(function () {\nvar ${vars.join(', ')};\n${register}${parts.join('')}})();\n`
}

/** The bundle's error maker: routing/bytes `err(code, msg)`. */
const ERR = exportVar('hopseal/routing/bytes', 'err')
// aliasThis: the local that stands for `this`, and the fewest uses that pay for its declaration
const SELF = '$hopseal_self'
const THIS_ALIAS_MIN = 4
// aliasGlobals: the built-ins it may turn into locals (always there, never reassigned by the bundle)
const GLOBAL_ALIASES = ['Uint8Array', 'Math', 'Promise', 'getTime', 'setTimeout', 'clearTimeout', 'Error', 'Object', 'JSON', 'E']

/** Whether dropping expression `n` changes nothing but a value: literals, names, arithmetic, `.toString()`/`.slice()`. */
function pureValue(n) {
  switch (n.type) {
    case 'Literal': case 'Identifier': case 'ThisExpression': return true
    case 'TemplateLiteral': return n.expressions.every(pureValue)
    case 'BinaryExpression': case 'LogicalExpression': return pureValue(n.left) && pureValue(n.right)
    case 'ConditionalExpression': return pureValue(n.test) && pureValue(n.consequent) && pureValue(n.alternate)
    case 'UnaryExpression': return n.operator !== 'delete' && pureValue(n.argument)
    case 'MemberExpression': return pureValue(n.object) && (!n.computed || pureValue(n.property))
    case 'CallExpression': return n.callee.type === 'MemberExpression' && !n.callee.computed && ['toString', 'slice'].includes(n.callee.property.name) &&
      pureValue(n.callee.object) && n.arguments.every(pureValue)
    default: return false
  }
}

/**
 * The hoisted bundle with error codes only (--minify): every call of the
 * error maker (routing/bytes `err`, and the bundle variables that alias it)
 * keeps its `code` argument and loses the human message, so the message
 * strings are not in the bundle (err makes the code the message). Then a
 * bundle function (`$hopseal_…`, names unique in the bundle) whose trailing
 * parameters were read only inside a dropped message (handshake's `fail`,
 * packet's `statusError`, atecc/index's `need`) loses those arguments at its
 * calls too, until nothing changes. Only arguments without side effects are
 * dropped (pureValue); a call with another argument keeps it.
 */
export function errorCodesOnly(acorn, text) {
  const ast = acorn.parse(text, { ecmaVersion: 2020, sourceType: 'script', ranges: true })
  const fns = new Map()
  const calls = []
  let count = 0
  visitAst(ast, null, (n) => {
    if (n.type === 'FunctionDeclaration' && n.id?.name.startsWith('$hopseal_')) fns.set(n.id.name, n)
    if (n.type === 'VariableDeclarator' && n.id.name?.startsWith('$hopseal_') && n.init?.type === 'FunctionExpression') fns.set(n.id.name, n.init)
    if (n.type === 'CallExpression' && n.callee.type === 'Identifier' && n.callee.name.startsWith('$hopseal_')) calls.push(n)
  })
  // aliases (`var x = err`) count as the maker; a name assigned anywhere else than its declaration is left alone
  const assigned = new Set()
  visitAst(ast, null, (n) => {
    if (n.type === 'AssignmentExpression' && n.left.type === 'Identifier') assigned.add(n.left.name)
  })
  const keep = new Map([[ERR, 1]])
  for (let grew = true; grew;) {
    grew = false
    visitAst(ast, null, (n) => {
      if (n.type === 'VariableDeclarator' && n.init?.type === 'Identifier' && keep.has(n.init.name) && !keep.has(n.id.name) && !assigned.has(n.id.name)) {
        keep.set(n.id.name, keep.get(n.init.name))
        grew = true
      }
    })
  }
  const dropped = []
  const inDropped = (n) => dropped.some((d) => d.start <= n.start && n.end <= d.end)
  const dropAt = (call, from) => {
    if (call.arguments.length <= from || !call.arguments.slice(from).every(pureValue)) return
    const first = call.arguments[from]
    const last = call.arguments[call.arguments.length - 1]
    if (inDropped(first)) return
    dropped.push({ start: from === 0 ? first.start : call.arguments[from - 1].end, end: last.end })
    count++
  }
  const done = new Set()
  for (let changed = true; changed;) {
    changed = false
    for (const c of calls) if (keep.has(c.callee.name) && !done.has(c)) {
      done.add(c)
      dropAt(c, keep.get(c.callee.name))
      changed = true
    }
    // a function whose trailing parameters are now read only in dropped text: its calls drop those arguments
    for (const [name, f] of fns) {
      if (keep.has(name) || assigned.has(name)) continue
      // reads of each parameter in the function's text: all of them, and those outside dropped text
      const reads = new Map(f.params.map((p) => [p.name, { all: 0, kept: 0 }]))
      let args = false
      visitAst(f.body, f, (n, parent) => {
        if (n.type !== 'Identifier') return
        if (n.name === 'arguments') args = true
        if ((parent.type === 'MemberExpression' && parent.property === n && !parent.computed) || (parent.type === 'Property' && parent.key === n && !parent.computed)) return
        const r = reads.get(n.name)
        if (!r) return
        r.all++
        if (!inDropped(n)) r.kept++
      })
      if (args) continue
      let from = f.params.length
      while (from > 0 && reads.get(f.params[from - 1].name).kept === 0) from--
      // only parameters read in a dropped message, not one the source never reads
      if (from === f.params.length || !f.params.slice(from).some((p) => reads.get(p.name).all > 0)) continue
      keep.set(name, from)
      changed = true
    }
  }
  // an error code the maker gets more than once becomes one variable of the bundle's function (every use of that
  // string as a value reads it: comparisons of `e.code` too)
  const codes = new Map()
  for (const c of calls) {
    const a = keep.get(c.callee.name) === 1 && c.arguments[0]
    if (a?.type === 'Literal' && typeof a.value === 'string' && /^[A-Z][A-Z0-9_]*$/.test(a.value)) codes.set(a.value, (codes.get(a.value) ?? 0) + 1)
  }
  const shared = [...codes].filter(([, n]) => n > 1).map(([v]) => v).sort()
  const edits = dropped.map((d) => ({ start: d.start, end: d.end, text: '' }))
  if (shared.length) {
    visitAst(ast, null, (n, parent) => {
      if (n.type !== 'Literal' || !shared.includes(n.value) || inDropped(n)) return
      if (parent?.type === 'Property' && parent.key === n) return
      edits.push({ start: n.start, end: n.end, text: '$code$' + n.value })
    })
    const head = '(function () {\n'
    if (!text.startsWith(head)) throw new Error('the hoisted bundle does not start with its function')
    edits.push({ start: head.length, end: head.length, text: `var ${shared.map((v) => `$code$${v} = ${JSON.stringify(v)}`).join(', ')};\n` })
  }
  const out = applyEdits(text, edits)
  return { text: out, count, codes: shared }
}

/**
 * `this` in a function that uses it at least `min` times (not counting the
 * uses inside its nested non-arrow functions, which have their own) becomes
 * a local `var $hopseal_self = this;`: terser renames a local to one letter
 * but never `this`, so each use costs 1 byte instead of 4, for the 11 of the
 * declaration. The alias keeps `this` in the function's body, so terser
 * still sees it and never turns the function into an arrow.
 */
export function aliasThis(acorn, text, min = THIS_ALIAS_MIN) {
  const ast = acorn.parse(text, { ecmaVersion: 2020, sourceType: 'script' })
  const uses = new Map()
  const visit = (n, fn) => {
    if (n.type === 'ThisExpression' && fn) {
      if (!uses.has(fn)) uses.set(fn, [])
      uses.get(fn).push(n)
    }
    const own = n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression' ? n : fn
    for (const key of Object.keys(n)) {
      if (key === 'type' || key === 'start' || key === 'end') continue
      for (const c of Array.isArray(n[key]) ? n[key] : [n[key]]) if (c && typeof c.type === 'string') visit(c, own)
    }
  }
  visit(ast, undefined)
  const edits = []
  let count = 0
  for (const [fn, list] of uses) {
    // a function that starts with `var self = this` (self never declared or assigned again inside it) uses self for every `this`
    const first = fn.body.body[0]?.type === 'VariableDeclaration' ? fn.body.body[0].declarations[0] : undefined
    const own = first?.id.type === 'Identifier' && first.init?.type === 'ThisExpression' ? first.id.name : undefined
    if (own !== undefined && !rebinds(fn, own, first)) {
      for (const t of list) if (t !== first.init) edits.push({ start: t.start, end: t.end, text: own })
      count++
      continue
    }
    if (list.length < min) continue
    edits.push({ start: fn.body.start + 1, end: fn.body.start + 1, text: `var ${SELF} = this;` })
    for (const t of list) edits.push({ start: t.start, end: t.end, text: SELF })
    count++
  }
  const out = applyEdits(text, edits)
  return { text: out, count }
}

/** Whether `name` is declared (but at `decl`) or assigned anywhere inside function `fn`. */
function rebinds(fn, name, decl) {
  let found = false
  visitAst(fn.body, null, (n) => {
    if (n.type === 'VariableDeclarator' && n !== decl && n.id.type === 'Identifier' && n.id.name === name) found = true
    if ((n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression' || n.type === 'ArrowFunctionExpression') && (n.id?.name === name || n.params.some((p) => p.type === 'Identifier' && p.name === name))) found = true
    if (n.type === 'CatchClause' && n.param?.type === 'Identifier' && n.param.name === name) found = true
    if (n.type === 'AssignmentExpression' && n.left.type === 'Identifier' && n.left.name === name) found = true
    if (n.type === 'UpdateExpression' && n.argument.type === 'Identifier' && n.argument.name === name) found = true
  })
  return found
}

/**
 * The built-ins in GLOBAL_ALIASES the bundle names often enough become
 * locals of its outer function (`var $hopseal_g_Uint8Array = Uint8Array;`):
 * terser renames a local, never a global, so `new Uint8Array` (50 times in
 * the heart-rate bundle) costs a few bytes instead of 14. A name declared
 * anywhere in the bundle is left alone (its uses may not be the global).
 */
export function aliasGlobals(acorn, text) {
  const ast = acorn.parse(text, { ecmaVersion: 2020, sourceType: 'script' })
  const outer = ast.body[0]?.expression?.callee
  if (outer?.type !== 'FunctionExpression') throw new Error('aliasGlobals: the bundle is not one function call')
  const declared = new Set()
  const refs = new Map()
  visitAst(ast, null, (n, parent) => {
    if (n.type === 'VariableDeclarator' && n.id.type === 'Identifier') declared.add(n.id.name)
    if ((n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression' || n.type === 'ClassDeclaration') && n.id) declared.add(n.id.name)
    if (n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression' || n.type === 'ArrowFunctionExpression') for (const p of n.params) if (p.type === 'Identifier') declared.add(p.name)
    if (n.type === 'CatchClause' && n.param?.type === 'Identifier') declared.add(n.param.name)
    if (n.type !== 'Identifier' || !GLOBAL_ALIASES.includes(n.name)) return
    if (parent?.type === 'MemberExpression' && parent.property === n && !parent.computed) return
    if (parent?.type === 'Property' && parent.key === n && !parent.computed) return
    refs.set(n.name, [...(refs.get(n.name) ?? []), n])
  })
  const edits = []
  const decls = []
  for (const [name, list] of refs) {
    // a use costs about 2 bytes after renaming instead of the name's length; the declaration `X=Name,` its length + 4
    if (declared.has(name) || list.length * (name.length - 2) <= name.length + 4) continue
    decls.push(`$hopseal_g_${name} = ${name}`)
    for (const r of list) edits.push({ start: r.start, end: r.end, text: `$hopseal_g_${name}` })
  }
  if (decls.length) edits.push({ start: outer.body.start + 1, end: outer.body.start + 1, text: `\nvar ${decls.join(', ')};` })
  const out = applyEdits(text, edits)
  return { text: out, names: decls.length }
}

/**
 * A run of two or more consecutive statements `P.name = function … ;` on the
 * same object `P` (a prototype, mostly) becomes one
 * `Object.assign(P, { name: function …, … });`: terser then writes each as
 * a method (`name(…) {…}`, unsafe_methods), about 12 bytes less per method.
 * Nothing moves past another statement, so the order of evaluation stays.
 */
export function foldMethods(acorn, text) {
  const ast = acorn.parse(text, { ecmaVersion: 2020, sourceType: 'script' })
  const target = (st) => {
    const a = st.type === 'ExpressionStatement' && st.expression.type === 'AssignmentExpression' && st.expression.operator === '=' ? st.expression : undefined
    if (!a || a.left.type !== 'MemberExpression' || a.left.computed || a.right.type !== 'FunctionExpression') return undefined
    const obj = a.left.object
    const simple = obj.type === 'Identifier' || (obj.type === 'MemberExpression' && !obj.computed && obj.object.type === 'Identifier' && obj.property.name === 'prototype')
    return simple ? text.slice(obj.start, obj.end) : undefined
  }
  const edits = []
  let runs = 0
  visitAst(ast, null, (n) => {
    const body = n.type === 'Program' || n.type === 'BlockStatement' ? n.body : undefined
    if (!body) return
    for (let i = 0; i < body.length;) {
      const t = target(body[i])
      // function declarations between the methods stay in the run (they are hoisted: their place changes nothing)
      let j = i + 1
      for (let k = j; t !== undefined && k < body.length && (body[k].type === 'FunctionDeclaration' || target(body[k]) === t); k++) if (target(body[k]) === t) j = k + 1
      const run = body.slice(i, j)
      const methods = run.filter((st) => target(st) === t)
      if (t !== undefined && methods.length >= 2 && !edits.some((e) => e.start <= body[i].start && body[j - 1].end <= e.end)) {
        const fns = run.filter((st) => st.type === 'FunctionDeclaration').map((st) => text.slice(st.start, st.end) + '\n')
        const props = methods.map((st) => `${st.expression.left.property.name}: ${text.slice(st.expression.right.start, st.expression.right.end)}`)
        edits.push({ start: body[i].start, end: body[j - 1].end, text: `${fns.join('')}Object.assign(${t}, {\n${props.join(',\n')}\n});` })
        runs++
      }
      i = j
    }
  })
  const out = applyEdits(text, edits)
  return { text: out, runs }
}

/** Each module's minified size on its own (wrapper included), largest first: where a bundle's bytes go. */
export async function moduleSizes(opts = {}) {
  const rows = []
  for (const m of bundleModules(opts)) rows.push({ id: m.id, bytes: Buffer.byteLength(await minify(`(function () {\nvar ${local(m.id)};\n${wrap(m)}})();\n`)) })
  return rows.sort((a, b) => b.bytes - a.bytes)
}

/**
 * The property names an application bundle (`--entry`, not `--all`) keeps:
 * nothing outside it reads the modules' API, so only BUILTINS, LOOKUP,
 * every name the bundle writes as a string (`'open'`, `bad('crc')`: it may
 * be read by that string) and the names the application's own source
 * writes (what it reads from JSON or prints stays readable) stay; every
 * other API name is renamed with the rest.
 */
export function entryReserved(acorn, bundle, entry) {
  const keep = new Set([...BUILTINS, ...LOOKUP, ...RESULTS])
  visitAst(acorn.parse(bundle, { ecmaVersion: 2020, sourceType: 'script' }), null, (n) => {
    if (n.type === 'Literal' && typeof n.value === 'string' && /^[A-Za-z_$][\w$]*$/.test(n.value)) keep.add(n.value)
  })
  visitAst(acorn.parse(entry, { ecmaVersion: 2020, sourceType: 'script' }), null, (n) => {
    if (n.type === 'MemberExpression' && !n.computed) keep.add(n.property.name)
    if (n.type === 'Property' && !n.computed) keep.add(n.key.name ?? String(n.key.value))
  })
  return [...keep].sort()
}

/**
 * String literals that share a dotted prefix (the counters' names:
 * 'channel.renewal.started', 'reliable.duplicate', …) name the prefix once:
 * `$hopseal_p0 + 'started'`, the prefix a variable of the outer function.
 * Each literal takes its longest prefix that pays for its declaration
 * (terser keeps the variable when that is shorter, and folds it back when
 * not). Property keys and the arguments of require and Modules.addCached
 * stay literal.
 */
export function sharePrefixes(acorn, text) {
  const ast = acorn.parse(text, { ecmaVersion: 2020, sourceType: 'script' })
  const outer = ast.body[0]?.expression?.callee
  if (outer?.type !== 'FunctionExpression') throw new Error('sharePrefixes: the bundle is not one function call')
  const lits = []
  visitAst(ast, null, (n, parent) => {
    if (n.type !== 'Literal' || typeof n.value !== 'string' || !n.value.includes('.')) return
    if (parent?.type === 'Property' && parent.key === n) return
    if (parent?.type === 'CallExpression' && (text.slice(parent.callee.start, parent.callee.end) === 'require' || text.slice(parent.callee.start, parent.callee.end) === 'Modules.addCached')) return
    lits.push(n)
  })
  const prefixes = new Set()
  for (const l of lits) for (let i = l.value.indexOf('.'); i > 0; i = l.value.indexOf('.', i + 1)) prefixes.add(l.value.slice(0, i + 1))
  const chosen = new Map()
  const decls = []
  // longest prefixes first; a use costs about 3 bytes (`v+`) against the prefix's length, the declaration its length + 6
  for (const p of [...prefixes].sort((a, b) => b.length - a.length)) {
    const users = lits.filter((l) => !chosen.has(l) && l.value.startsWith(p))
    if (users.length * (p.length - 3) <= p.length + 6) continue
    const name = `$hopseal_p${decls.length}`
    decls.push(`${name} = ${JSON.stringify(p)}`)
    for (const l of users) chosen.set(l, { name, rest: l.value.slice(p.length) })
  }
  const edits = [...chosen].map(([l, { name, rest }]) => ({ start: l.start, end: l.end, text: rest ? `(${name} + ${JSON.stringify(rest)})` : name }))
  if (decls.length) edits.push({ start: outer.body.start + 1, end: outer.body.start + 1, text: `\nvar ${decls.join(', ')};` })
  const out = applyEdits(text, edits)
  return { text: out, prefixes: decls.length }
}

/** The hoisted bundle's size rewrites, in order, before terser: each keeps what the code does. */
export function compact(acorn, hoisted) {
  let text = errorCodesOnly(acorn, hoisted).text
  for (let r = foldMethods(acorn, text); r.runs; r = foldMethods(acorn, text)) text = r.text
  text = aliasGlobals(acorn, aliasThis(acorn, text).text).text
  // a parameter named `undefined` that no call passes: terser (unsafe_undefined) writes it, renamed, for each `void 0`
  if (!text.startsWith('(function () {')) throw new Error('the hoisted bundle does not start with its function')
  return '(function (undefined) {' + text.slice('(function () {'.length)
}

/**
 * Minifies a bundle with TERSER_OPTIONS (terser is a devDependency), keeping
 * the property names `reserved`. Terser names the renamed properties in the
 * order it meets them; a second run hands the same short names out again,
 * the shortest to the properties the first output uses most (its name
 * cache, permuted), so nothing else in the output changes.
 */
export async function minify(code, reserved = RESERVED) {
  const { minify: terser } = await import('terser')
  const run = async (props) => {
    const r = await terser(code, { ...TERSER_OPTIONS, mangle: { ...TERSER_OPTIONS.mangle, properties: { ...TERSER_OPTIONS.mangle.properties, reserved, cache: { props } } } })
    if (typeof r.code !== 'string') throw new Error('terser returned no code')
    return r.code
  }
  const first = new Map()
  const out = await run(first)
  if (!first.size) return await renameByUse(out) + '\n'
  const { parse } = await import('acorn')
  const uses = new Map([...first.values()].map((m) => [m, 0]))
  visitAst(parse(out, { ecmaVersion: 2020, sourceType: 'script' }), null, (n) => {
    const key = n.type === 'MemberExpression' && !n.computed ? n.property : (n.type === 'Property' || n.type === 'MethodDefinition') && !n.computed ? n.key : undefined
    if (key?.type === 'Identifier' && uses.has(key.name)) uses.set(key.name, uses.get(key.name) + 1)
  })
  const byUse = [...first.keys()].sort((a, b) => uses.get(first.get(b)) - uses.get(first.get(a)))
  const short = [...first.values()].sort((a, b) => a.length - b.length)
  return await renameByUse(await run(new Map(byUse.map((name, i) => [name, short[i]])))) + '\n'
}

/**
 * Terser names a scope's variables in the order it declares them; in the
 * bundle's outer function (every module's names) this re-deals the same
 * names so that the most-used variables get the shortest. A variable never
 * takes a name that an inner scope on the way to one of its uses declares
 * (that would capture the use); if the names cannot all be placed that way
 * the text is returned unchanged. Shorthand properties (`{ a }`) are
 * written out, so a renamed variable keeps its key.
 */
export async function renameByUse(code) {
  const { parse } = await import('acorn')
  const eslintScope = await import('eslint-scope')
  const ast = parse(code, { ecmaVersion: 2020, sourceType: 'script', ranges: true })
  const manager = eslintScope.analyze(ast, { ecmaVersion: 2020, sourceType: 'script' })
  const outer = manager.scopes.find((sc) => sc.type === 'function' && sc.upper?.type === 'global')
  if (!outer) return code
  const vars = outer.variables.filter((v) => v.name !== 'arguments' && v.defs.length)
  const pool = vars.map((v) => v.name).sort((a, b) => a.length - b.length)
  // names declared in the scopes between the outer function and each use of v
  const forbidden = new Map(vars.map((v) => {
    const names = new Set()
    for (const ref of v.references) for (let sc = ref.from; sc && sc !== outer; sc = sc.upper) for (const w of sc.variables) names.add(w.name)
    return [v, names]
  }))
  const order = [...vars].sort((a, b) => b.references.length - a.references.length)
  const free = [...pool]
  const to = new Map()
  for (const v of order) {
    const i = free.findIndex((n) => !forbidden.get(v).has(n))
    if (i < 0) return code
    to.set(v, free.splice(i, 1)[0])
  }
  const edits = []
  const shorthand = new Map()
  visitAst(ast, null, (n) => {
    if (n.type === 'Property' && n.shorthand) shorthand.set(n.value, n)
  })
  for (const [v, name] of to) {
    if (name === v.name) continue
    const ids = new Set([...v.identifiers, ...v.references.map((r) => r.identifier)])
    for (const id of ids) {
      const prop = shorthand.get(id)
      edits.push({ start: id.start, end: id.end, text: prop ? `${v.name}:${name}` : name })
    }
  }
  const out = applyEdits(code, edits)
  return out
}

/** Builds `{ code, plainBytes, minBytes? }`. */
export async function build(opts = {}) {
  const plain = bundleSource(opts)
  const plainBytes = Buffer.byteLength(plain)
  if (!opts.minify) return { code: plain, plainBytes }
  const acorn = await import('acorn')
  const hoisted = compact(acorn, await hoistedSource(opts))
  const app = opts.entry && !opts.all && !opts.for
  // the names the application bundle keeps come from its strings before sharePrefixes splits them
  const code = await minify(sharePrefixes(acorn, hoisted).text, app ? entryReserved(acorn, hoisted, readFileSync(opts.entry, 'utf8')) : RESERVED)
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
    // the 32 KiB budget is an application bundle's (issue 15: the heart-rate app)
    if (r.minBytes !== undefined) console.log(`minified: ${r.minBytes} bytes${o.entry && !o.all ? ' (budget <= 32768)' : ''}`)
    if (o.sizes) for (const m of await moduleSizes(o)) console.log(`${String(m.bytes).padStart(7)}  ${m.id}`)
    console.log(`wrote ${o.out}`)
  } catch (e) {
    console.error(`build.mjs: ${e instanceof Error ? e.message : String(e)}`)
    process.exitCode = 1
  }
}
