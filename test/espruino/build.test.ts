/**
 * targets/espruino/build.mjs: an application bundle
 * (`--entry`) holds only the modules the entry's requires reach, optional
 * modules (B.optional) only when the entry requires them, `--all` every
 * module; `--for` takes the same modules as `--entry` without the entry's
 * code; the minified bundle mangles only `_` properties. In the interpreter
 * (skipped without it): the heart-rate application's own bundle loads and
 * starts (its modules are all there), asks for provisioning without
 * hopseal.json, and with one opens the chip on I2C1 (a stub on Linux, so the
 * channel closes with the driver's typed error).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import * as acorn from 'acorn'
import { norm, skipUnlessEspruino, startEspruino } from './harness.ts'

const REPO = resolve(import.meta.dirname, '../..')
const BUILD = join(REPO, 'targets/espruino/build.mjs')
const HR = join(REPO, 'targets/espruino/examples/heart-rate.js')

/** Runs build.mjs; returns the module ids it reports and the bundle text. */
function build(args: string[]): { modules: string[]; code: string } {
  const dir = mkdtempSync(join(tmpdir(), 'hopseal-build-test-'))
  try {
    const out = join(dir, 'b.js')
    const stdout = execFileSync(process.execPath, [BUILD, '--out', out, ...args], { encoding: 'utf8' })
    const line = stdout.split('\n').find((l) => l.startsWith('modules: ')) ?? assert.fail(`no modules line in ${stdout}`)
    return { modules: line.slice(9).split(' '), code: readFileSync(out, 'utf8') }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function allModules(): string[] {
  const src = join(REPO, 'targets/espruino/src')
  const out: string[] = []
  for (const e of readdirSync(src, { recursive: true, withFileTypes: true })) {
    if (e.isFile() && e.name.endsWith('.js')) out.push(join(e.parentPath, e.name).slice(src.length + 1).replace(/\.js$/, ''))
  }
  return out.sort()
}

describe('Espruino bundler', () => {
  it('an application bundle holds what the entry reaches, optional modules only when required', () => {
    const { modules, code } = build(['--entry', HR])
    for (const m of ['device', 'channel/channel', 'noise/atecc', 'crypto/p256point', 'crypto/aesgcm', 'atecc/index', 'atecc/i2c', 'link/serial', 'routing/bytes']) assert.ok(modules.includes(m), `${m} in the heart-rate bundle`)
    for (const m of ['atecc/kit', 'atecc/extra', 'crypto/x25519', 'crypto/chachapoly', 'crypto/index', 'channel/listener', 'channel/responder', 'noise/keys']) assert.ok(!modules.includes(m), `${m} not in the heart-rate bundle`)
    assert.equal(new Set(modules).size, modules.length, 'each module once')
    // dependencies come first: routing/bytes before everything that uses it, the device module after the channel
    assert.ok(modules.indexOf('routing/bytes') < modules.indexOf('atecc/index') && modules.indexOf('channel/channel') < modules.indexOf('device'))
    assert.ok(code.includes("E.on('init', start);"), 'the entry is appended')
    assert.ok(code.includes('Modules.addCached("hopseal/atecc/i2c"') && !code.includes('Modules.addCached("hopseal/atecc/kit"'), 'the I2C module, not the KIT one')
  })

  it('--all and no entry take every module; --for takes the entry\'s modules without its code', () => {
    assert.deepEqual(build(['--all', '--entry', HR]).modules.sort(), allModules())
    assert.deepEqual(build([]).modules.sort(), allModules())
    const f = build(['--for', HR])
    assert.deepEqual(f.modules, build(['--entry', HR]).modules)
    assert.ok(!f.code.includes("E.on('init', start);"), 'the script itself is not appended')
  })

  it('requiring an optional module from the entry brings it in', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hopseal-build-test-'))
    try {
      const app = join(dir, 'app.js')
      writeFileSync(app, "var hs = require('hopseal/device');\nrequire('hopseal/crypto/chachapoly');\nrequire('hopseal/atecc/extra');\nrequire('hopseal/channel/listener');\n")
      const { modules } = build(['--entry', app])
      for (const m of ['crypto/chachapoly', 'atecc/extra', 'atecc/index', 'channel/listener', 'channel/responder']) assert.ok(modules.includes(m), m)
      assert.ok(!modules.includes('crypto/x25519') && !modules.includes('noise/keys'))
      assert.ok(modules.indexOf('channel/channel') < modules.indexOf('channel/responder'), 'responder after the channel it extends')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('minified: one scope, internal properties renamed, public names kept', () => {
    const { code } = build(['--entry', HR, '--minify'])
    assert.ok(!/\._teardown\b|\b_teardown:|\._hsNode\b/.test(code), 'internal `_` names mangled')
    assert.ok(!/\.sackedAbove\b|\.owesKa\b|\.reqGap\b/.test(code), 'internal names without `_` mangled too')
    // the entry reaches the modules through the bundle's variables: only the module loaded by id (B.optional) is registered
    assert.equal(code.split('Modules.addCached(').length - 1, 1, 'one registration')
    assert.ok(code.includes('"hopseal/atecc/i2c",') && !code.includes('"hopseal/device"'), 'the I2C transport is registered, the device module is not')
    for (const name of ['.unacked(', '.on("open"', 'readJSON("hopseal.json"', '.slot', '.peerXY', '.route']) assert.ok(code.includes(name), `${name} kept`)
    // a script loaded after a --for bundle requires the modules by id: they are registered with their export names
    const f = build(['--for', HR, '--minify']).code
    assert.ok(f.includes('"hopseal/device"'), 'the device module is registered in the --for bundle')
    for (const name of ['channel', 'radio', 'vault', 'fromHex']) assert.match(f, new RegExp(`[{,]"?${name}"?[:(]`), `${name} in the --for bundle's exports`)
    // the handshake counter's file in Storage keeps its format
    assert.ok(/writeJSON\(\w+,\{c:\w+\}\)/.test(code + f), 'storageCounter writes { c: n }')
  })

  it('minified: error codes without messages, each code repeated once as a variable', () => {
    const min = build(['--entry', HR, '--minify']).code
    const plain = build(['--entry', HR]).code
    for (const msg of ['varint truncated', 'channel is closed', 'device status 0x', 'does not authenticate', 'send window full']) {
      assert.ok(plain.includes(msg), `${msg} in the plain bundle`)
      assert.ok(!min.includes(msg), `${msg} not in the minified bundle`)
    }
    for (const code of ['DECODE_ERROR', 'CHANNEL_CLOSED', 'INVALID_ARGUMENT']) assert.equal(min.split(`"${code}"`).length - 1, 1, `${code} written once`)
  })

  it('errorCodesOnly drops messages (also through aliases and helpers), keeps arguments with side effects', async () => {
    const { errorCodesOnly } = (await import(pathToFileURL(BUILD).href)) as { errorCodesOnly: (a: typeof acorn, text: string) => { text: string; count: number; codes: string[] } }
    const src = `(function () {
var $hopseal_routing_bytes$err = function (code, msg) { var e = new Error(msg || code); e.code = code; return e; };
var $hopseal_x$$alias = $hopseal_routing_bytes$err;
function $hopseal_x$$fail(what) { return $hopseal_x$$alias('NOISE_DECRYPT_FAILED', 'bad ' + what); }
var $hopseal_x$status = function (s, what) { var e = $hopseal_routing_bytes$err('VAULT_DEVICE_ERROR', what + ': 0x' + s.toString(16)); e.status = s; return e; };
var $hopseal_x$$pass = function (a, b) { return b; };
var n = 0;
function next() { n++; return 'side effect'; }
return [$hopseal_x$$fail('x'), $hopseal_x$status(7, 'ATECC608 read'), $hopseal_routing_bytes$err('DECODE_ERROR', next()), $hopseal_routing_bytes$err('DECODE_ERROR', 'short'), $hopseal_x$$pass(1, 'kept'), n];
})();
`
    const r = errorCodesOnly(acorn, src)
    assert.deepEqual(r.codes, ['DECODE_ERROR'])
    assert.equal(r.count, 5, "fail('x'), status(7, …), err(…, 'short') and the err call inside each helper")
    for (const gone of ["'bad '", "'ATECC608 read'", "'short'", "what + ': 0x'"]) assert.ok(!r.text.includes(gone), `${gone} dropped`)
    assert.ok(r.text.includes("$hopseal_x$$pass(1, 'kept')"), 'a parameter the function reads keeps its argument')
    const [fail, status, withCall, short, kept, n] = new Function(`return ${r.text}`)() as [Error & { code: string }, Error & { code: string; status: number }, Error & { code: string }, Error & { code: string }, string, number]
    assert.deepEqual([fail.code, fail.message], ['NOISE_DECRYPT_FAILED', 'NOISE_DECRYPT_FAILED'])
    assert.deepEqual([status.code, status.message, status.status], ['VAULT_DEVICE_ERROR', 'VAULT_DEVICE_ERROR', 7])
    assert.deepEqual([withCall.code, withCall.message, n], ['DECODE_ERROR', 'side effect', 1], 'an argument with a side effect is kept and runs')
    assert.deepEqual([short.code, short.message, kept], ['DECODE_ERROR', 'DECODE_ERROR', 'kept'])
  })

  it('an application bundle renames the API names its application does not write', () => {
    const { code } = build(['--entry', HR, '--minify'])
    for (const name of ['renewAfterSilenceMs', 'keepaliveMs', 'renewRetransmit']) assert.ok(!code.includes(name), `${name} renamed`)
    // the keys of an object handed over whole (the link's stats) are kept: telemetry sends it as JSON
    for (const name of ['framesSent', 'bytesSent', 'airtimeMs', 'drops']) assert.ok(code.includes(name), `${name} kept`)
    // read by string at run time: the frame decoder's counters (bad('crc')), the medium table, the profile table
    assert.match(code, /crc:0/)
    assert.match(code, /[{,]lora:/)
    // --for: a script outside the bundle reads the API
    assert.ok(build(['--for', HR, '--minify']).code.includes('renewAfterSilenceMs'), 'kept for a script loaded after the bundle')
  })

  it('the heart-rate bundle runs in the interpreter', { skip: skipUnlessEspruino() }, async () => {
    const { code } = build(['--entry', HR, '--minify'])
    // Linux has no pin objects: names stand in for them; Serial2 without a path only prints an error
    const pins = "var A2 = 'A2', A3 = 'A3', B8 = 'B8', B9 = 'B9';\n"
    const run = async (pre: string, want: RegExp): Promise<string> => {
      const dev = startEspruino(`${pins}${pre}\n${code}\nE.emit('init');\n`, { bundle: false })
      try {
        return norm(await dev.waitFor((l) => want.test(l) || l.includes('Uncaught'), 60_000))
      } finally {
        await dev.stop()
      }
    }
    assert.match(await run('', /hopseal: /), /no hopseal\.json in Storage/)
    const cfg = { slot: 0, peer: '02' + '11'.repeat(32), peerXY: '22'.repeat(64), route: 1 }
    assert.match(await run(`require('Storage').writeJSON('hopseal.json', ${JSON.stringify(cfg)});`, /hopseal: /), /^hopseal: closed VAULT_DEVICE_(ERROR|TIMEOUT)$/)
  })
})
