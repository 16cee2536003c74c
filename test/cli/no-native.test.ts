/**
 * hopseal without the optional native addon pkcs11js (issue 19 item 9: its
 * node-gyp build fails where the Node headers cannot be fetched): the README's
 * first command, the heart-rate demo, runs with the phone's keys in a software
 * vault, and asking for a PKCS#11 vault says what is missing. A preload hook
 * makes `pkcs11js` unresolvable, as after a failed build.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'

const HOOK = './test/helpers/without-pkcs11js.mjs'
const node = (args: string[]) => spawnSync(process.execPath, ['--import', HOOK, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, HOPSEAL_HOME: '/nonexistent-hopseal-home' } })

describe('without the native pkcs11js addon', () => {
  it('pkcs11js is an optional dependency, and the hook really hides it', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string>; optionalDependencies: Record<string, string> }
    assert.equal(pkg.dependencies.pkcs11js, undefined)
    assert.ok(pkg.optionalDependencies.pkcs11js)
    const r = node(['-e', "import('pkcs11js').then(() => process.exit(0), (e) => { console.error(e.code); process.exit(3) })"])
    assert.equal(r.status, 3)
    assert.match(r.stderr, /ERR_MODULE_NOT_FOUND/)
  })

  it('the demo runs and passes every check, the phone in a software vault', () => {
    const r = node(['bin/hopseal.js', 'demo', '--duration', '2s', '--json'])
    assert.equal(r.status, 0, r.stderr)
    const s = JSON.parse(r.stdout) as { ok: boolean; vaults: Record<string, string>; readings: { sent: number; received: number } }
    assert.equal(s.ok, true)
    assert.equal(s.vaults.phone, 'software')
    assert.ok(s.readings.sent > 0 && s.readings.received === s.readings.sent)
  })

  it('a PKCS#11 vault spec fails with VAULT_OPERATION_UNSUPPORTED naming pkcs11js and the fix', () => {
    const r = node(['bin/hopseal.js', 'vault', 'list', '--vault', 'pkcs11:module=/usr/lib/softhsm/libsofthsm2.so,token=x,pin-env=P'])
    assert.equal(r.status, 1, r.stdout + r.stderr)
    assert.match(r.stderr, /VAULT_OPERATION_UNSUPPORTED: the PKCS#11 vault needs the optional native package pkcs11js.*fix: npm install pkcs11js/)
  })
})
