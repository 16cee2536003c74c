/**
 * The minified build's size rewrites (targets/espruino/build.mjs): each one
 * is checked on a small program for what it rewrites and, run with node:vm
 * before and after, for keeping what the program computes; then the whole
 * heart-rate bundle: its ES2015 output stays inside the interpreter's subset
 * (the eslint profile of targets/espruino finds nothing in it) and it fits
 * the 32 KiB of issue 15 (a size budget, not a timing).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { runInNewContext } from 'node:vm'
import * as acorn from 'acorn'
import { ESLint } from 'eslint'

const REPO = resolve(import.meta.dirname, '../..')
const BUILD = join(REPO, 'targets/espruino/build.mjs')
const HR = join(REPO, 'targets/espruino/examples/heart-rate.js')

type Rewrite = (a: typeof acorn, text: string) => { text: string }
interface BuildModule {
  aliasThis: (a: typeof acorn, text: string, min?: number) => { text: string; count: number }
  aliasGlobals: Rewrite
  foldMethods: (a: typeof acorn, text: string) => { text: string; runs: number }
  renameByUse: (code: string) => Promise<string>
  sharePrefixes: (a: typeof acorn, text: string) => { text: string; prefixes: number }
}
const load = async (): Promise<BuildModule> => (await import(pathToFileURL(BUILD).href)) as BuildModule

/** What a program leaves in `out` (JSON), run in a fresh context. */
function run(code: string): unknown {
  const ctx: { out?: unknown } = {}
  runInNewContext(code, ctx)
  return JSON.parse(JSON.stringify(ctx.out))
}

describe('Espruino build: size rewrites', () => {
  it('aliasThis: a function using `this` 4 times or more reads it from one local; nested functions keep theirs; an existing `var self = this` is reused', async () => {
    const { aliasThis } = await load()
    const src = `(function () {
function F() { this.a = 1; this.b = 2; this.c = 3; this.d = function () { return this === o; }; var g = () => this.a + this.b; this.e = g(); }
function G() { var self = this; self.x = 1; this.y = 2; }
function H() { var s = this; s = 5; this.z = s; }
var o = new F(), p = new G(), q = new H();
out = [o.a, o.b, o.c, o.d(), o.e, p.x, p.y, q.z];
})();`
    const r = aliasThis(acorn, src)
    assert.equal(r.count, 2, 'F (5 uses and an arrow) and G (reused self); H rebinds its local and is left alone')
    assert.match(r.text, /function F\(\) \{var \$hopseal_self = this;/)
    assert.match(r.text, /return this === o;/, "the nested function's own this is untouched")
    assert.match(r.text, /self\.y = 2/)
    assert.match(r.text, /H\(\) \{ var s = this; s = 5; this\.z = s;/)
    assert.deepEqual(run(r.text), run(src))
    assert.deepEqual(run(r.text), [1, 2, 3, true, 3, 1, 2, 5])
  })

  it('aliasGlobals: a built-in named often enough becomes a local of the outer function, unless the bundle declares that name', async () => {
    const { aliasGlobals } = await load()
    const src = `(function () {
var a = new Uint8Array(2), b = new Uint8Array(3), c = new Uint8Array(4), d = Uint8Array.of(1);
var m = Math.max(1, 2) + Math.min(3, 4);
out = [a.length + b.length + c.length, d instanceof Uint8Array, m, { Uint8Array: 1 }.Uint8Array];
})();`
    const r = aliasGlobals(acorn, src)
    assert.match(r.text, /var \$hopseal_g_Uint8Array = Uint8Array;/)
    assert.equal((r.text.match(/new \$hopseal_g_Uint8Array\(/g) ?? []).length, 3)
    assert.match(r.text, /\{ Uint8Array: 1 \}\.Uint8Array/, 'property names stay')
    assert.ok(!r.text.includes('$hopseal_g_Math'), 'Math twice does not pay for its declaration')
    assert.deepEqual(run(r.text), run(src))
    const shadowed = `(function () { function f(Uint8Array) { return Uint8Array; } var a = new Uint8Array(1), b = new Uint8Array(1), c = new Uint8Array(1), d = new Uint8Array(1); out = [f(2), a.length + b.length + c.length + d.length]; })();`
    assert.equal(aliasGlobals(acorn, shadowed).text, shadowed)
  })

  it('foldMethods: consecutive methods on one object become one Object.assign, function declarations between them stay, order of evaluation kept', async () => {
    const { foldMethods } = await load()
    const src = `(function () {
function C(v) { this.v = v; }
var P = C.prototype, log = [];
P.get = function () { return this.v; };
function helper(x) { return x * 2; }
P.twice = function () { return helper(this.get()); };
log.push(typeof P.twice);
P.late = function () { return 'late'; };
var c = new C(4);
out = [c.get(), c.twice(), c.late(), log];
})();`
    const r = foldMethods(acorn, src)
    assert.equal(r.runs, 1)
    assert.match(r.text, /function helper\(x\) \{ return x \* 2; \}\nObject\.assign\(P, \{\nget: function/)
    assert.match(r.text, /P\.late = function/, 'a method after another statement is not moved past it')
    assert.deepEqual(run(r.text), run(src))
    assert.deepEqual(run(r.text), [4, 8, 'late', ['function']])
  })

  it('renameByUse: the most-used variables of the outer function get the shortest names, never one an inner scope would capture', async () => {
    const { renameByUse } = await load()
    // `bb` is used most, but `f` declares `a` and reads `bb`: bb may not become `a`
    const src = '(function(){var a=1,bb=2,cc=3;function f(a){return bb+a}function g(x){return{cc}}out=[f(bb),bb*bb+bb+bb+bb,a,g().cc,cc+cc+cc+cc+cc+cc]})();'
    const r = await renameByUse(src)
    assert.deepEqual(run(r), run(src))
    assert.ok(r.length < src.length, `shorter: ${r.length} < ${src.length}`)
    const inner = /function \w+\(a\)\{return (\w+)\+a\}/.exec(r) ?? assert.fail(`f not found in ${r}`)
    assert.notEqual(inner[1], 'a', 'bb is not captured by the parameter a')
    assert.match(r, /\{cc:\w+\}/, 'a shorthand property keeps its key')
    assert.equal(/[ ,](\w+)=2[,;]/.exec(r)?.[1]?.length, 1, 'bb (used most) got a one-letter name')
  })

  it('sharePrefixes: literals sharing a dotted prefix name it once (longest prefix that pays), keys and require arguments stay', async () => {
    const { sharePrefixes } = await load()
    const src = `(function () {
var c = {}, require = function (id) { return id; };
function count(n) { c[n] = (c[n] || 0) + 1; }
count('channel.renewal.started'); count('channel.renewal.failed'); count('channel.renewal.silence'); count('channel.renewal.via_listener');
count('channel.drop.' + 'auth'); count('x.y');
out = [c, { 'channel.renewal.key': 1 }, require('hopseal/channel.renewal.js'), 'channel.renewal.started' === 'channel.renewal.' + 'started'];
})();`
    const r = sharePrefixes(acorn, src)
    assert.equal(r.prefixes, 1, 'channel.renewal. pays; channel.drop. (once) and x. do not')
    assert.match(r.text, /var \$hopseal_p0 = "channel\.renewal\.";/)
    assert.match(r.text, /count\(\(\$hopseal_p0 \+ "started"\)\)/)
    assert.match(r.text, /\{ 'channel\.renewal\.key': 1 \}/, 'a key stays')
    assert.match(r.text, /require\('hopseal\/channel\.renewal\.js'\)/, 'a require argument stays')
    assert.deepEqual(run(r.text), run(src))
  })

  it('the heart-rate bundle: ES2015 inside the interpreter subset, 32 KiB at most', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hopseal-compact-'))
    try {
      const out = join(dir, 'hr.js')
      execFileSync(process.execPath, [BUILD, '--out', out, '--entry', HR, '--minify'], { encoding: 'utf8' })
      const code = readFileSync(out, 'utf8')
      const eslint = new ESLint({ cwd: REPO })
      const [res] = await eslint.lintText(code, { filePath: resolve(REPO, 'targets/espruino/src/fixture.js') })
      const subset = (res?.messages ?? []).filter((m) => m.fatal || /^no-restricted-/.test(m.ruleId ?? ''))
      assert.deepEqual(subset.map((m) => `${m.ruleId}: ${m.message}`), [])
      assert.ok(/=>/.test(code) && /\bassign\(/.test(code), 'arrows and folded methods in the output')
      const bytes = Buffer.byteLength(code)
      console.log(`# heart-rate bundle: ${bytes} bytes (budget 32768)`)
      assert.ok(bytes <= 32768, `${bytes} > 32768`)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
