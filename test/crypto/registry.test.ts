/**
 * The crypto provider registry (src/crypto/index.ts): the core alone knows
 * only noble and defaults to it; importing the Node crypto entry
 * (targets/node/crypto/index.ts, `hopseal/crypto/node`) registers node:crypto as
 * `node` and makes it the default; each Node entry of hopseal imports that
 * entry. Each case runs in a fresh process, since this test process has
 * already loaded Node entries.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { describe, it } from 'node:test'

const ROOT = resolve(import.meta.dirname, '../..')

/** Runs an ESM snippet through tsx in a fresh process (HOPSEAL_CRYPTO unset) and returns its stdout lines. */
function fresh(code: string): string[] {
  const env = { ...process.env }
  delete env.HOPSEAL_CRYPTO
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env })
  assert.equal(r.status, 0, r.stderr)
  return r.stdout.trim().split('\n')
}

const probe = `
const { cryptoProvider, defaultCryptoProvider } = await import('./src/crypto/index.ts')
const tryNode = () => { try { return cryptoProvider('node').name } catch (e) { return e.code + ': ' + e.message } }
console.log(defaultCryptoProvider().name)
console.log(tryNode())
`

describe('crypto provider registry', () => {
  it('the core alone: noble is the default, node is not registered (typed error naming the entry to import)', () => {
    const [def, node] = fresh(probe)
    assert.equal(def, 'noble')
    assert.match(node!, /^UNSUPPORTED_ALGORITHM: .*crypto provider node is not registered: import 'hopseal\/crypto\/node'/)
  })

  it('hopseal/crypto/node registers node:crypto as node and as the default', () => {
    const [def, node] = fresh(`await import('./targets/node/crypto/index.ts')\n${probe}`)
    assert.deepEqual([def, node], ['node', 'node'])
  })

  for (const entry of ['targets/node/cli/main.ts', 'targets/node/runtime/runtime.ts', 'targets/node/identity/store.ts', 'targets/node/transports/mqtt/index.ts', 'targets/node/transports/serial/index.ts', 'vaults/software/index.ts', 'vaults/pkcs11/index.ts', 'vaults/atecc608/index.ts']) {
    it(`the Node entry ${entry} makes node:crypto the default`, () => {
      assert.deepEqual(fresh(`await import('./${entry}')\n${probe}`), ['node', 'node'])
    })
  }

  it('HOPSEAL_CRYPTO=noble still overrides a registered default', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `await import('./targets/node/crypto/index.ts')\n${probe}`], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, HOPSEAL_CRYPTO: 'noble' } })
    assert.equal(r.status, 0, r.stderr)
    assert.deepEqual(r.stdout.trim().split('\n'), ['noble', 'node'])
  })
})
