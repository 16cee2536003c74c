/**
 * The package as a user gets it: `npm pack` (prepack builds dist/), the
 * tarball installed into an empty project with `--omit=optional`, then, with
 * plain node (no tsx, no TypeScript): the README's library example, a Noise
 * handshake through `hopseal/noise`, the `hopseal` command, and the optional
 * packages' typed errors (a PKCS#11 vault names pkcs11js, a serial link names
 * serialport). Also: tsconfig's development paths match the exports.
 *
 * Needs the npm registry for the package's dependencies (from npm's cache when
 * it has them: --prefer-offline); skips with the reason when npm cannot reach
 * it, except with HOPSEAL_REQUIRE_SYSTEM=1. Costs about 20-40 s of wall time
 * (the build, the install), printed as it runs.
 */
import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import ts from 'typescript'
import { REQUIRE_SYSTEM } from '../helpers/system.ts'

const ROOT = resolve(import.meta.dirname, '../..')
const run = promisify(execFile)
const NETWORK = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|network|offline|ENOTCACHED/i

interface Pkg {
  exports: Record<string, string>
  files: string[]
  dependencies: Record<string, string>
  devDependencies: Record<string, string>
  optionalDependencies: Record<string, string>
}
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Pkg

describe('the package, without a build', () => {
  it('tsconfig paths map each export to the source it is compiled from (development runs from sources)', () => {
    const tsconfig = ts.readConfigFile(join(ROOT, 'tsconfig.json'), ts.sys.readFile).config as { compilerOptions: { paths: Record<string, string[]> } }
    const paths = tsconfig.compilerOptions.paths
    const expected: Record<string, string[]> = {}
    for (const [sub, target] of Object.entries(pkg.exports)) {
      if (sub === './package.json') continue
      assert.match(target, /^\.\/dist\/.*\.js$/, `${sub} points at the build`)
      expected[`hopseal${sub.slice(1)}`] = [`./${target.slice('./dist/'.length).replace(/\.js$/, '.ts')}`]
    }
    console.log(`# ${Object.keys(expected).length} exports`)
    assert.ok(Object.keys(expected).length >= 10)
    assert.deepEqual(paths, expected)
    for (const [, [src]] of Object.entries(expected)) assert.ok(existsSync(join(ROOT, src!)), `${src} exists`)
  })

  it('tsx is a dev dependency; the native packages are optional', () => {
    assert.equal(pkg.dependencies.tsx, undefined)
    assert.ok(pkg.devDependencies.tsx)
    for (const p of ['pkcs11js', 'serialport', 'i2c-bus']) {
      assert.equal(pkg.dependencies[p], undefined, p)
      assert.ok(pkg.optionalDependencies[p], p)
    }
  })
})

describe('npm pack, installed into an empty project with --omit=optional, run with plain node', () => {
  let dir = ''
  let app = ''
  let skip: string | false = false
  let tarFiles: string[] = []
  const t0 = Date.now()
  const lap = (what: string): void => console.log(`# ${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`)

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hopseal-pack-'))
    app = join(dir, 'app')
    const packed = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, timeout: 180_000, maxBuffer: 64 << 20 })
    const info = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string; files: { path: string }[]; size: number; unpackedSize: number }[]
    tarFiles = info[0]!.files.map((f) => f.path)
    lap(`npm pack (build included): ${info[0]!.filename}, ${tarFiles.length} files, ${(info[0]!.size / 1024).toFixed(0)} KiB packed, ${(info[0]!.unpackedSize / 1024).toFixed(0)} KiB unpacked`)
    const tarball = join(dir, info[0]!.filename)
    mkdirSync(app)
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'hopseal-pack-check', private: true, type: 'module' }))
    try {
      await run('npm', ['install', '--omit=optional', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], { cwd: app, timeout: 180_000 })
    } catch (e) {
      const text = String((e as { stderr?: string }).stderr ?? e)
      if (!NETWORK.test(text)) throw e
      skip = `npm could not reach the registry for the package's dependencies: ${text.split('\n').find((l) => NETWORK.test(l))?.trim()}`
      if (REQUIRE_SYSTEM) throw new Error(`${skip}; HOPSEAL_REQUIRE_SYSTEM forbids skipping`)
      console.log(`# skip: ${skip}`)
    }
    lap('npm install of the tarball')
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  const node = (args: string[], opts: { env?: NodeJS.ProcessEnv } = {}) =>
    spawnSync(process.execPath, args, { cwd: app, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NODE_OPTIONS: '', ...opts.env } })

  it('the tarball holds compiled JavaScript, declarations and source maps, and no TypeScript source, tests or hil-sim', (t) => {
    if (skip) return t.skip(skip)
    for (const f of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/index.js.map', 'dist/src/noise/index.js', 'dist/targets/node/cli.js', 'bin/hopseal.js', 'package.json']) assert.ok(tarFiles.includes(f), f)
    assert.deepEqual(tarFiles.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), [])
    assert.deepEqual(tarFiles.filter((f) => /^(dist\/)?(hil-sim|test|bench|scripts|examples|targets\/espruino)\//.test(f)), [])
    const installed = join(app, 'node_modules')
    for (const p of ['pkcs11js', 'serialport', 'i2c-bus', 'tsx', 'typescript']) assert.ok(!existsSync(join(installed, p)), `${p} not installed`)
    for (const [sub, target] of Object.entries(pkg.exports)) assert.ok(existsSync(join(installed, 'hopseal', target)), `export ${sub} -> ${target}`)
  })

  it("the README's library example runs", (t) => {
    if (skip) return t.skip(skip)
    const source = readFileSync(join(ROOT, 'examples/readme-channel.ts'), 'utf8')
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText
    assert.ok(js.includes("from 'hopseal'"), 'imports the package by name')
    writeFileSync(join(app, 'readme-channel.mjs'), js)
    const r = node(['readme-channel.mjs'])
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout.trim(), 'phone received: 72 bpm')
    lap('README example')
  })

  it("import { HandshakeState } from 'hopseal/noise' completes a handshake on the portable noble provider", (t) => {
    if (skip) return t.skip(skip)
    writeFileSync(
      join(app, 'noise.mjs'),
      `import { HandshakeState } from 'hopseal/noise'
import { cryptoProvider } from 'hopseal/crypto'
const crypto = cryptoProvider('noble')
const protocol = 'Noise_NN_25519_ChaChaPoly_SHA256'
const i = HandshakeState.create({ protocol, initiator: true, crypto })
const r = HandshakeState.create({ protocol, initiator: false, crypto })
await r.readMessage(await i.writeMessage())
await i.readMessage(await r.writeMessage())
const [a, b] = [i.finish(), r.finish()]
const sealed = a.send.encryptWithAd(new Uint8Array(0), new TextEncoder().encode('72 bpm'))
console.log(new TextDecoder().decode(b.recv.decryptWithAd(new Uint8Array(0), sealed)), sealed.length)
`,
    )
    const r = node(['noise.mjs'])
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout.trim(), '72 bpm 22')
  })

  it('the hopseal command runs from dist without tsx, and without hil-sim (no demo, no atecc608:sim=)', (t) => {
    if (skip) return t.skip(skip)
    const bin = join(app, 'node_modules/.bin/hopseal')
    const version = node([bin, '--version'])
    assert.equal(version.stdout.trim(), `hopseal ${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}`, version.stderr)
    const help = node([bin, '--help'])
    assert.match(help.stdout, /^\s+node\s/m)
    assert.doesNotMatch(help.stdout, /^\s+(demo|sim)\s/m)
    const sim = node([bin, 'vault', 'list', '--vault', `atecc608:sim=${join(dir, 'dev.json')}`])
    assert.equal(sim.status, 1)
    assert.match(sim.stderr, /VAULT_OPERATION_UNSUPPORTED: atecc608:sim= needs the simulator, hil-sim/)
  })

  it('a PKCS#11 vault fails with a typed error naming pkcs11js, from the CLI and from the library', (t) => {
    if (skip) return t.skip(skip)
    const cli = node([join(app, 'node_modules/.bin/hopseal'), 'vault', 'list', '--vault', 'pkcs11:module=/usr/lib/softhsm/libsofthsm2.so,token=x,pin-env=P'], { env: { P: '1234' } })
    assert.equal(cli.status, 1, cli.stdout + cli.stderr)
    assert.match(cli.stderr, /error VAULT_OPERATION_UNSUPPORTED: the PKCS#11 vault needs the optional native package pkcs11js.*npm install pkcs11js/)
    writeFileSync(
      join(app, 'pkcs11.mjs'),
      `import { Pkcs11Vault } from 'hopseal/vaults/pkcs11'
import { openSerialLink } from 'hopseal/transports/serial'
for (const attempt of [() => Pkcs11Vault.open({ module: '/usr/lib/softhsm/libsofthsm2.so', token: 'x', pin: '1234' }), () => openSerialLink('/dev/null')]) {
  await attempt().then(() => console.log('opened?'), (e) => console.log(e.name, e.code, e.message))
}
`,
    )
    const lib = node(['pkcs11.mjs'])
    assert.equal(lib.status, 0, lib.stderr)
    const [p11, serial] = lib.stdout.trim().split('\n')
    assert.match(p11!, /^HopsealError VAULT_OPERATION_UNSUPPORTED .*pkcs11js/)
    assert.match(serial!, /^HopsealError TRANSPORT_UNAVAILABLE .*optional package serialport.*npm install serialport/)
    lap('all checks')
  })
})
