/**
 * The layer rules of hopseal, in one place, and the checker that holds every
 * import of every .ts file to them (test/layers/layers.test.ts runs it on the
 * tree, and on a fixture with forbidden imports to prove it fails).
 *
 * Why scripts/: the rules describe the source tree, not the product. Kept here
 * they never ship in the package (dist/ is built from src, vaults and
 * targets/node only), they may use the TypeScript compiler API (a dev
 * dependency) to parse imports exactly, and no layer imports them.
 *
 * Four packages (docs/architecture.md §2):
 * - core: portable; Uint8Array only, no `node:` import, no native or
 *   Node-only npm package. Runs on any JavaScript engine with the noble
 *   provider (a device-side build, Espruino, a browser).
 * - platform: Node around the core: the node:crypto provider, transports on
 *   sockets and serial ports, files, vault backends, the CLI, targets/node.
 * - dev: hil-sim, tests, bench, scripts, examples; may import anything; nothing
 *   in core or platform imports them. targets/node loads hil-sim's plugin when
 *   present (a declared non-literal dynamic import, see DYNAMIC_IMPORTS).
 * - device: targets/espruino, plain JavaScript for the Espruino interpreter,
 *   checked by its own lint profile (eslint.config.js): excluded here.
 *
 * Layers are matched in order, first match wins (so `targets/node/cli/**`
 * comes before `targets/node/**`). A layer may import its own files and the
 * layers it lists; the package rules below are checked on the rules
 * themselves, so a core layer cannot list a platform one.
 */
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { dirname, join, relative, resolve, sep } from 'node:path'
import ts from 'typescript'

export type PackageKind = 'core' | 'platform' | 'dev'

export interface Layer {
  name: string
  package: PackageKind
  /** Globs relative to the repository root (`*` within a path segment, `**` across segments, `{a,b}` alternatives). */
  files: readonly string[]
  /** Layers this one may import (its own files always); `'*'` for anything (dev layers only). */
  mayImport: readonly string[] | '*'
  /** npm packages (exact names, or `@scope/*`) it may import; dev layers may import any. */
  packages?: readonly string[]
  /** `node:` built-ins: only platform and dev layers. */
  builtins?: boolean
}

/** Pure-JavaScript npm packages the portable core may use. */
export const CORE_PACKAGES = ['@noble/ciphers', '@noble/curves', '@noble/hashes', 'cborg'] as const

/**
 * Native (or optional) packages: platform layers only, and never by a static
 * value import: each is an optional dependency loaded on first use, with a
 * HopsealError naming the package to install when it is missing (a type-only
 * import is fine: it is erased).
 */
export const OPTIONAL_PACKAGES = ['pkcs11js', 'serialport', 'i2c-bus'] as const

/** Node-only npm packages the platform layers may use (besides the core's and the optional ones). */
export const PLATFORM_PACKAGES = ['mqtt', 'aedes', 'yaml'] as const

const CORE_ALL = ['errors', 'optional-package', 'bytes', 'time', 'crypto', 'vault', 'vault-compliance', 'noise', 'identity', 'routing', 'channel', 'transport-api', 'gateway', 'core-entry'] as const

export const LAYERS: readonly Layer[] = [
  // ---- core (portable) ----
  { name: 'errors', package: 'core', files: ['src/errors.ts'], mayImport: [] },
  // Loads an optional dependency on first use (a literal import() the caller passes) with a typed error.
  { name: 'optional-package', package: 'core', files: ['src/optional-package.ts'], mayImport: ['errors'] },
  { name: 'bytes', package: 'core', files: ['src/bytes/**'], mayImport: ['errors'] },
  { name: 'time', package: 'core', files: ['src/time/**'], mayImport: ['errors'] },
  { name: 'crypto', package: 'core', files: ['src/crypto/**'], mayImport: ['bytes', 'errors'], packages: CORE_PACKAGES },
  // The compliance suite is a test kit for vault backends (hopseal/vault/compliance).
  { name: 'vault-compliance', package: 'core', files: ['src/vault/compliance.ts'], mayImport: ['vault', 'crypto', 'bytes', 'errors'] },
  { name: 'vault', package: 'core', files: ['src/vault/**'], mayImport: ['crypto', 'bytes', 'errors'] },
  { name: 'noise', package: 'core', files: ['src/noise/**'], mayImport: ['crypto', 'vault', 'bytes', 'errors'] },
  { name: 'identity', package: 'core', files: ['src/identity/**'], mayImport: ['crypto', 'vault', 'bytes', 'errors'], packages: CORE_PACKAGES },
  { name: 'routing', package: 'core', files: ['src/routing/**'], mayImport: ['bytes', 'errors', 'time'] },
  { name: 'channel', package: 'core', files: ['src/channel/**'], mayImport: ['noise', 'identity', 'routing', 'crypto', 'vault', 'bytes', 'errors', 'time'] },
  // The transport interface files and the in-process memory transport; the real transports are platform.
  { name: 'transport-api', package: 'core', files: ['src/transports/link.ts', 'src/transports/memory.ts'], mayImport: ['routing', 'bytes', 'errors', 'time'] },
  // The gateway (mailboxes, downlink credits, route aliases) works on the routing interfaces only: portable.
  { name: 'gateway', package: 'core', files: ['src/transports/gateway/**'], mayImport: ['routing', 'bytes', 'errors', 'time'] },
  { name: 'core-entry', package: 'core', files: ['src/index.ts'], mayImport: ['errors', 'crypto', 'noise', 'vault', 'routing', 'channel'] },

  // ---- platform (Node), all under targets/node/ ----
  // The node:crypto provider and its registration (targets/node/crypto/index.ts): every Node
  // entry imports it so a Node process defaults to node:crypto; the core registry knows only noble.
  { name: 'crypto-node', package: 'platform', files: ['targets/node/crypto/**'], mayImport: ['crypto', 'bytes', 'errors'], builtins: true },
  { name: 'store', package: 'platform', files: ['targets/node/store/**'], mayImport: ['errors'], builtins: true },
  // Fixes to the serialport package's bindings, shared by the serial transport and the ATECC608 KIT vault.
  { name: 'serialport-node', package: 'platform', files: ['targets/node/serialport/**'], mayImport: [], builtins: true },
  // The identity store keeps identities in a file (node:fs).
  { name: 'identity-store', package: 'platform', files: ['targets/node/identity/**'], mayImport: ['identity', 'store', 'crypto', 'crypto-node', 'vault', 'bytes', 'errors'], builtins: true },
  {
    name: 'transports',
    package: 'platform',
    files: ['targets/node/transports/**'],
    mayImport: ['transport-api', 'routing', 'bytes', 'errors', 'time', 'optional-package', 'crypto-node', 'serialport-node'],
    packages: [...PLATFORM_PACKAGES, ...OPTIONAL_PACKAGES],
    builtins: true,
  },
  { name: 'cli', package: 'platform', files: ['targets/node/cli/**'], mayImport: [...CORE_ALL, 'crypto-node', 'identity-store', 'store'], builtins: true },
  { name: 'vault-software', package: 'platform', files: ['vaults/software/**'], mayImport: ['vault', 'crypto', 'crypto-node', 'bytes', 'errors', 'store'], packages: CORE_PACKAGES, builtins: true },
  { name: 'vault-pkcs11', package: 'platform', files: ['vaults/pkcs11/**'], mayImport: ['vault', 'crypto', 'crypto-node', 'bytes', 'errors', 'optional-package'], packages: [...CORE_PACKAGES, ...OPTIONAL_PACKAGES], builtins: true },
  { name: 'vault-atecc608', package: 'platform', files: ['vaults/atecc608/**'], mayImport: ['vault', 'crypto', 'crypto-node', 'bytes', 'errors', 'optional-package', 'serialport-node'], packages: [...CORE_PACKAGES, ...OPTIONAL_PACKAGES], builtins: true },
  {
    name: 'target-node',
    package: 'platform',
    files: ['targets/node/**'],
    mayImport: [...CORE_ALL, 'crypto-node', 'identity-store', 'store', 'transports', 'cli', 'vault-software', 'vault-pkcs11', 'vault-atecc608'],
    packages: [...CORE_PACKAGES, ...PLATFORM_PACKAGES, ...OPTIONAL_PACKAGES],
    builtins: true,
  },

  // ---- dev ----
  { name: 'hil-sim', package: 'dev', files: ['hil-sim/**'], mayImport: '*', builtins: true },
  { name: 'test', package: 'dev', files: ['test/**'], mayImport: '*', builtins: true },
  { name: 'bench', package: 'dev', files: ['bench/**'], mayImport: '*', builtins: true },
  { name: 'scripts', package: 'dev', files: ['scripts/**'], mayImport: '*', builtins: true },
  { name: 'examples', package: 'dev', files: ['examples/**'], mayImport: '*', builtins: true },
  { name: 'bin', package: 'dev', files: ['bin/**'], mayImport: '*', builtins: true },
]

/** Not checked: device JavaScript (own lint profile), build output, dependencies, the checker's own fixtures. */
export const EXCLUDED = ['node_modules/**', 'dist/**', 'coverage/**', 'targets/espruino/**', 'test/layers/fixtures/**', '**/*.d.ts'] as const

/**
 * Non-literal `import(expr)` in core and platform layers hides an edge from
 * this checker (and from the build): allowed only in these files, each with the
 * reason. Dev layers may use them freely.
 */
export const DYNAMIC_IMPORTS: readonly { file: string; why: string }[] = [
  { file: 'targets/node/plugins.ts', why: 'loads development plugins (hil-sim/plugin.ts: `demo`, `sim`, `atecc608:sim=`) when they are present next to the target; the product never imports hil-sim' },
  { file: 'vaults/atecc608/i2c-transport.ts', why: 'the optional i2c-bus package, loaded on first use (the name is a variable so TypeScript does not need its types)' },
]

/**
 * Violations present today, each with the reason it stays and what fixes it.
 * The test fails on any violation not listed here, and on an entry that no
 * longer matches anything (so the list only shrinks).
 */
export const KNOWN_VIOLATIONS: readonly { from: string; to: string; why: string }[] = []

// ---------------------------------------------------------------------------
// The checker

export type ImportKind = 'static' | 'type' | 'dynamic' | 'dynamic-expr'

export interface ImportRef {
  file: string
  line: number
  specifier: string
  kind: ImportKind
}

export interface Violation {
  file: string
  line: number
  specifier: string
  /** The repository path of the imported file, the `node:` name or the package name. */
  target: string
  rule: 'unassigned-file' | 'layer' | 'package-direction' | 'builtin' | 'npm-package' | 'optional-static' | 'dynamic-import' | 'unresolved'
  message: string
}

const globCache = new Map<string, RegExp>()
/** `**` any number of segments, `*` within a segment, `{a,b}` alternatives. */
export function globToRegExp(glob: string): RegExp {
  let re = globCache.get(glob)
  if (re) return re
  let out = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/'
      out += slash ? '(?:.*/)?' : '.*'
      i += slash ? 2 : 1
    } else if (c === '*') out += '[^/]*'
    else if (c === '{') out += '(?:'
    else if (c === '}') out += ')'
    else if (c === ',') out += '|'
    else out += c.replace(/[.+?^$()|[\]\\]/g, '\\$&')
  }
  re = new RegExp(`^${out}$`)
  globCache.set(glob, re)
  return re
}

export function matches(path: string, globs: readonly string[]): boolean {
  return globs.some((g) => globToRegExp(g).test(path))
}

export function layerOf(path: string, layers: readonly Layer[] = LAYERS): Layer | undefined {
  return layers.find((l) => matches(path, l.files))
}

/** Checks the rules themselves: known layer names, and imports only towards core (platform may also import platform). */
export function checkRules(layers: readonly Layer[] = LAYERS): string[] {
  const problems: string[] = []
  const byName = new Map(layers.map((l) => [l.name, l]))
  if (byName.size !== layers.length) problems.push('two layers share a name')
  for (const l of layers) {
    if (l.mayImport === '*') {
      if (l.package !== 'dev') problems.push(`${l.name}: only dev layers may import anything`)
      continue
    }
    if (l.package === 'core' && l.builtins) problems.push(`${l.name}: a core layer cannot allow node: built-ins`)
    for (const p of l.packages ?? []) {
      if (l.package === 'core' && !(CORE_PACKAGES as readonly string[]).includes(p)) problems.push(`${l.name}: a core layer cannot allow the package ${p}`)
    }
    for (const n of l.mayImport) {
      const t = byName.get(n)
      if (!t) problems.push(`${l.name}: mayImport names an unknown layer ${n}`)
      else if (t.package === 'dev') problems.push(`${l.name}: may not import the dev layer ${n}`)
      else if (l.package === 'core' && t.package !== 'core') problems.push(`${l.name} (core) may not import ${n} (${t.package})`)
    }
  }
  return problems
}

function lineOf(sf: ts.SourceFile, node: ts.Node): number {
  return sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1
}

/** Every import of one file: import/export … from, `import type`, `import('…')`, `typeof import('…')`, `import x = require('…')`. */
export function parseImports(file: string, text: string): ImportRef[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
  const refs: ImportRef[] = []
  const add = (node: ts.Node, specifier: string, kind: ImportKind) => refs.push({ file, line: lineOf(sf, node), specifier, kind })
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const c = node.importClause
      const typeOnly = !!c && (c.isTypeOnly || (!c.name && !!c.namedBindings && ts.isNamedImports(c.namedBindings) && c.namedBindings.elements.length > 0 && c.namedBindings.elements.every((e) => e.isTypeOnly)))
      add(node, node.moduleSpecifier.text, typeOnly ? 'type' : 'static')
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const typeOnly = node.isTypeOnly || (!!node.exportClause && ts.isNamedExports(node.exportClause) && node.exportClause.elements.length > 0 && node.exportClause.elements.every((e) => e.isTypeOnly))
      add(node, node.moduleSpecifier.text, typeOnly ? 'type' : 'static')
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      add(node, node.moduleReference.expression.text, node.isTypeOnly ? 'type' : 'static')
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0]
      if (arg && ts.isStringLiteralLike(arg)) add(node, arg.text, 'dynamic')
      else add(node, arg ? arg.getText(sf) : '', 'dynamic-expr')
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node, node.argument.literal.text, 'type')
    }
    ts.forEachChild(node, visit)
  }
  visit(sf)
  return refs
}

/** Every .ts file below root (repository-relative, `/`-separated), minus EXCLUDED. */
export function listSourceFiles(root: string, excluded: readonly string[] = EXCLUDED): string[] {
  const out: string[] = []
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      if (name.startsWith('.')) continue
      const abs = join(dir, name)
      const rel = relative(root, abs).split(sep).join('/')
      if (matches(rel, excluded) || matches(`${rel}/x`, excluded)) continue
      if (statSync(abs).isDirectory()) walk(abs)
      else if (name.endsWith('.ts') || name.endsWith('.mts')) out.push(rel)
    }
  }
  walk(root)
  return out.sort()
}

const BUILTINS = new Set(builtinModules)

function packageName(specifier: string): string {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!
}

function packageAllowed(name: string, allowed: readonly string[]): boolean {
  return allowed.some((p) => p === name || (p.endsWith('/*') && name.startsWith(p.slice(0, -1))))
}

export interface CheckOptions {
  layers?: readonly Layer[]
  excluded?: readonly string[]
  dynamicImports?: readonly { file: string }[]
}

export interface CheckResult {
  files: number
  imports: number
  violations: Violation[]
}

/** Checks every import of every source file under root against the rules. */
export function checkTree(root: string, opts: CheckOptions = {}): CheckResult {
  const layers = opts.layers ?? LAYERS
  const dynamicOk = new Set((opts.dynamicImports ?? DYNAMIC_IMPORTS).map((d) => d.file))
  const files = listSourceFiles(root, opts.excluded ?? EXCLUDED)
  const violations: Violation[] = []
  let imports = 0
  for (const file of files) {
    const from = layerOf(file, layers)
    if (!from) {
      violations.push({ file, line: 1, specifier: '', target: file, rule: 'unassigned-file', message: `${file} belongs to no layer: add it to a layer in scripts/layers.ts (or to EXCLUDED)` })
      continue
    }
    const refs = parseImports(file, readFileSync(join(root, file), 'utf8'))
    imports += refs.length
    for (const ref of refs) {
      const v = checkImport(root, ref, from, layers, dynamicOk)
      if (v) violations.push(v)
    }
  }
  return { files: files.length, imports, violations }
}

function checkImport(root: string, ref: ImportRef, from: Layer, layers: readonly Layer[], dynamicOk: Set<string>): Violation | undefined {
  const at = (target: string, rule: Violation['rule'], message: string): Violation => ({ file: ref.file, line: ref.line, specifier: ref.specifier, target, rule, message: `${ref.file}:${ref.line} (${from.name}) ${message}` })
  const dev = from.package === 'dev'
  if (ref.kind === 'dynamic-expr') {
    if (dev || dynamicOk.has(ref.file)) return undefined
    return at(ref.specifier, 'dynamic-import', `imports a computed specifier import(${ref.specifier}): list the file in DYNAMIC_IMPORTS with the reason, or use a string literal`)
  }
  const s = ref.specifier
  if (s.startsWith('.') || s.startsWith('/')) {
    const abs = resolve(dirname(join(root, ref.file)), s)
    const target = relative(root, abs).split(sep).join('/')
    if (!existsSync(abs)) return at(target, 'unresolved', `imports ${s}, which does not exist`)
    const to = layerOf(target, layers)
    if (!to) return dev ? undefined : at(target, 'layer', `imports ${target}, which belongs to no layer`)
    if (dev || to === from) return undefined
    if (to.package === 'dev') return at(target, 'package-direction', `imports ${target} (${to.name}, a dev package): nothing in core or platform imports hil-sim, tests, bench, scripts or examples`)
    if (from.package === 'core' && to.package !== 'core') return at(target, 'package-direction', `imports ${target} (${to.name}, ${to.package}): the portable core imports only core layers`)
    if (from.mayImport === '*' || from.mayImport.includes(to.name)) return undefined
    return at(target, 'layer', `imports ${target} (${to.name}); ${from.name} may import only ${from.mayImport.join(', ') || 'nothing'}`)
  }
  const bare = s.startsWith('node:') ? s.slice(5) : s
  if (s.startsWith('node:') || BUILTINS.has(packageName(bare))) {
    const name = s.startsWith('node:') ? s : `node:${s}`
    if (dev || from.builtins) return undefined
    return at(name, 'builtin', `imports ${s}: ${from.package === 'core' ? 'the portable core has no node: imports (Uint8Array, injected clocks and providers instead)' : 'this layer does not allow node: built-ins'}`)
  }
  const pkg = packageName(s)
  if (dev) return undefined
  if (pkg === 'hopseal') return at(pkg, 'npm-package', `imports ${s}: inside the package, import by relative path`)
  if (!packageAllowed(pkg, from.packages ?? [])) {
    return at(pkg, 'npm-package', `imports the package ${pkg}; ${from.name} (${from.package}) may use only ${(from.packages ?? []).join(', ') || 'no npm package'}`)
  }
  if ((OPTIONAL_PACKAGES as readonly string[]).includes(pkg) && ref.kind === 'static') {
    return at(pkg, 'optional-static', `imports the optional package ${pkg} statically: load it on first use (await import) and throw a HopsealError naming the package when it is missing`)
  }
  return undefined
}

/** Splits violations into those listed in KNOWN_VIOLATIONS and new ones; also returns known entries that matched nothing. */
export function partitionKnown(violations: readonly Violation[], known = KNOWN_VIOLATIONS): { fresh: Violation[]; known: Violation[]; stale: typeof known[number][] } {
  const used = new Set<number>()
  const fresh: Violation[] = []
  const matched: Violation[] = []
  for (const v of violations) {
    const i = known.findIndex((k) => k.from === v.file && k.to === v.target)
    if (i < 0) fresh.push(v)
    else {
      used.add(i)
      matched.push(v)
    }
  }
  return { fresh, known: matched, stale: known.filter((_, i) => !used.has(i)) }
}

const isMain = process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)
if (isMain) {
  const root = resolve(import.meta.dirname, '..')
  const r = checkTree(root)
  const p = partitionKnown(r.violations)
  for (const v of p.fresh) console.log(`violation [${v.rule}] ${v.message}`)
  for (const k of p.stale) console.log(`stale known violation: ${k.from} -> ${k.to}`)
  console.log(`layers: ${r.files} files, ${r.imports} imports, ${p.fresh.length} new violations, ${p.known.length} known, ${p.stale.length} stale`)
  process.exitCode = p.fresh.length + p.stale.length > 0 ? 1 : 0
}
