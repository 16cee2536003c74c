/**
 * Every import of every .ts file against the layer rules of scripts/layers.ts:
 * the tree has no violation beyond the listed known ones (each with its
 * reason), the known list has no stale entry, and the checker fails on a
 * fixture tree with one forbidden import of each kind.
 */
import assert from 'node:assert/strict'
import { join, resolve } from 'node:path'
import { describe, it } from 'node:test'
import { checkRules, checkTree, globToRegExp, KNOWN_VIOLATIONS, LAYERS, layerOf, parseImports, partitionKnown } from '../../scripts/layers.ts'

const ROOT = resolve(import.meta.dirname, '../..')
const FIXTURE = join(import.meta.dirname, 'fixtures/forbidden')

describe('layer rules', () => {
  it('the rules are consistent: known layers, core imports only core, nothing imports dev', () => {
    assert.deepEqual(checkRules(), [])
    const bad = [...LAYERS, { name: 'x', package: 'core' as const, files: ['x/**'], mayImport: ['cli'], builtins: true }]
    assert.deepEqual(checkRules(bad), ['x: a core layer cannot allow node: built-ins', 'x (core) may not import cli (platform)'])
  })

  it('globs: ** spans folders, * stays in one, first matching layer wins', () => {
    assert.ok(globToRegExp('src/**').test('src/a/b.ts'))
    assert.ok(!globToRegExp('src/*.ts').test('src/a/b.ts'))
    assert.ok(globToRegExp('src/{a,b}/**').test('src/b/c.ts'))
    assert.equal(layerOf('targets/node/identity/store.ts')?.name, 'identity-store')
    assert.equal(layerOf('src/identity/identity.ts')?.name, 'identity')
    assert.equal(layerOf('targets/node/crypto/node-provider.ts')?.package, 'platform')
    assert.equal(layerOf('src/crypto/noble-provider.ts')?.package, 'core')
  })

  it('parses every import form: import, import type, export from, import(), typeof import()', () => {
    const refs = parseImports('f.ts', [
      "import a from './a.ts'",
      "import type { B } from './b.ts'",
      "import { type C } from './c.ts'",
      "export * from './d.ts'",
      "export type { E } from './e.ts'",
      "const f = await import('./f.ts')",
      "const g = await import(name)",
      "type H = typeof import('./h.ts')",
      "// import x from './comment.ts'",
      "const s = \"import y from './string.ts'\"",
    ].join('\n'))
    assert.deepEqual(refs.map((r) => [r.specifier, r.kind, r.line]), [
      ['./a.ts', 'static', 1],
      ['./b.ts', 'type', 2],
      ['./c.ts', 'type', 3],
      ['./d.ts', 'static', 4],
      ['./e.ts', 'type', 5],
      ['./f.ts', 'dynamic', 6],
      ['name', 'dynamic-expr', 7],
      ['./h.ts', 'type', 8],
    ])
  })

  it('the tree: no import breaks the rules beyond the known violations, and none of those is stale', () => {
    const r = checkTree(ROOT)
    const p = partitionKnown(r.violations)
    console.log(`# layers: ${r.files} files, ${r.imports} imports checked, ${p.known.length} known violations (${KNOWN_VIOLATIONS.length} listed)`)
    assert.ok(r.files > 200 && r.imports > 1000, `${r.files} files, ${r.imports} imports: the walk found the tree`)
    assert.deepEqual(p.fresh.map((v) => `[${v.rule}] ${v.message}`), [])
    assert.deepEqual(p.stale, [], 'a known violation is gone: remove it from KNOWN_VIOLATIONS')
    for (const k of KNOWN_VIOLATIONS) assert.ok(k.why.length > 40, `${k.from} -> ${k.to} says why`)
  })

  it('fails on the fixture: one forbidden import of each kind, and only those', () => {
    const r = checkTree(FIXTURE)
    console.log(`# fixture: ${r.files} files, ${r.violations.length} violations`)
    const got = r.violations.map((v) => `${v.rule} ${v.file}:${v.line} -> ${v.target}`).sort()
    assert.deepEqual(got, [
      'builtin src/bytes/index.ts:2 -> node:fs',
      'dynamic-import src/routing/index.ts:5 -> where',
      'layer src/noise/index.ts:2 -> src/channel/index.ts',
      'npm-package src/crypto/provider.ts:2 -> mqtt',
      'optional-static targets/node/serial.ts:2 -> serialport',
      'package-direction src/routing/index.ts:2 -> hil-sim/index.ts',
    ])
    // The same violations are new against the real known list: the test above would fail on them.
    assert.equal(partitionKnown(r.violations).fresh.length, r.violations.length)
  })
})
