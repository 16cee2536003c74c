/**
 * The CLI opens `pkcs11:` vault specs through targets/node/vault-pkcs11.ts,
 * so the same `hopseal vault …` commands work on a SoftHSM2 token, with the
 * PIN from an environment variable or a file and never on the command line.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import '../../targets/node/vaults.ts'
import { main } from '../../targets/node/cli/main.ts'
import { openVaultSpec } from '../../targets/node/cli/vault-registry.ts'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { createSoftHsmToken, type SoftHsmToken } from '../helpers/softhsm.ts'
import { needSystem } from '../helpers/system.ts'

const run = promisify(execFile)
const skip = needSystem('softhsm2-util')
const BIN = fileURLToPath(new URL('../../bin/hopseal.js', import.meta.url))

describe('hopseal CLI with a pkcs11: vault', { skip }, () => {
  let hsm: SoftHsmToken
  let spec: string
  let env: NodeJS.ProcessEnv
  const cli = async (...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> => {
    const out: string[] = []
    const err: string[] = []
    const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), env, ctx: { env, home: hsm.dir } })
    return { code, out, err }
  }
  before(async () => {
    hsm = await createSoftHsmToken({ label: 'cli' })
    env = { ...hsm.env, TEST_PKCS11_PIN: hsm.pin, BAD_PIN: '000000' }
    spec = `pkcs11:module=${hsm.module},token=${hsm.label},pin-env=TEST_PKCS11_PIN`
  })
  after(async () => {
    await hsm?.remove()
  })

  it('keygen, list, public-key and delete work as with software:', async () => {
    const gen = await cli('vault', 'keygen', '--type', 'p256', '--label', 'gw-identity', '--vault', spec, '--json')
    assert.equal(gen.code, 0, gen.err.join('\n'))
    const made = JSON.parse(gen.out.join('\n')) as { publicKey: string; persistent: boolean; type: string }
    assert.equal(made.type, 'p256')
    assert.equal(made.persistent, true, 'CLI keys are token objects')
    assert.equal(made.publicKey.length, 66)
    assert.equal((await cli('vault', 'keygen', '--type', 'x25519', '--label', 'gw-noise', '--vault', spec)).code, 0)
    const list = await cli('vault', 'list', '--vault', spec)
    assert.equal(list.code, 0)
    assert.ok(list.out.some((l) => l.startsWith('gw-identity\tp256\t')))
    assert.ok(list.out.some((l) => l.startsWith('gw-noise\tx25519\t')))
    // the key is in the token: open it directly and sign
    const v = await openVaultSpec(spec, { env, home: hsm.dir })
    const h = await v.findKey('gw-identity')
    assert.ok(h)
    const m = new Uint8Array([1, 2, 3])
    assert.ok(cryptoProvider('node').verify('p256', Buffer.from(made.publicKey, 'hex'), m, await v.sign(h, m)))
    await v.close()
    const pk = await cli('vault', 'public-key', '--label', 'gw-identity', '--vault', spec)
    assert.equal(pk.code, 0)
    assert.ok(pk.out.join('\n').includes(made.publicKey))
    assert.equal((await cli('vault', 'delete', '--label', 'gw-identity', '--vault', spec)).code, 0)
    const after = await cli('vault', 'list', '--vault', spec)
    assert.ok(!after.out.some((l) => l.startsWith('gw-identity')))
  })

  it('identity create / rotate keep the identity keys in the token', async () => {
    const store = join(hsm.dir, 'identities.json')
    const made = await cli('identity', 'create', 'gateway', '--type', 'p256', '--vault', spec, '--store', store, '--json')
    assert.equal(made.code, 0, made.err.join('\n'))
    const id = JSON.parse(made.out.join('\n')) as { identifier: string; own: boolean }
    assert.ok(id.own)
    const rotated = await cli('identity', 'rotate', 'gateway', '--type', 'ed25519', '--vault', spec, '--store', store)
    assert.equal(rotated.code, 0, rotated.err.join('\n'))
    // both identity keys are token objects, listed by the vault and by a fresh open
    const v = await openVaultSpec(spec, { env, home: hsm.dir })
    const labels = (await v.listKeys()).map((k) => `${k.label}:${k.type}:${k.persistent}`)
    await v.close()
    assert.ok(labels.includes('hopseal-id:gateway:0:p256:true'), labels.join(','))
    assert.ok(labels.includes('hopseal-id:gateway:1:ed25519:true'), labels.join(','))
  })

  it('a wrong PIN, an absent token and a literal pin= are typed errors', async () => {
    const wrong = await cli('vault', 'list', '--vault', `pkcs11:module=${hsm.module},token=${hsm.label},pin-env=BAD_PIN`)
    assert.equal(wrong.code, 1)
    assert.match(wrong.err.join('\n'), /VAULT_WRONG_PIN: PKCS#11 .*CKR_PIN_INCORRECT/, 'the token itself refused the PIN')
    assert.ok(!wrong.err.join('\n').includes('000000'), 'the PIN is not printed')
    const absent = await cli('vault', 'list', '--vault', `pkcs11:module=${hsm.module},token=nope,pin-env=TEST_PKCS11_PIN`)
    assert.match(absent.err.join('\n'), /VAULT_TOKEN_ABSENT/)
    const literal = await cli('vault', 'list', '--vault', `pkcs11:module=${hsm.module},token=${hsm.label},pin=${hsm.pin}`)
    assert.match(literal.err.join('\n'), /INVALID_ARGUMENT/)
  })

  it('the real binary (bin/hopseal.js) opens the token with pin-file=', async () => {
    const pinFile = join(hsm.dir, 'pin')
    writeFileSync(pinFile, `${hsm.pin}\n`, { mode: 0o600 })
    const fileSpec = `pkcs11:module=${hsm.module},token=${hsm.label},pin-file=${pinFile}`
    const { stdout } = await run(process.execPath, [BIN, 'vault', 'keygen', '--type', 'ed25519', '--label', 'from-bin', '--vault', fileSpec, '--json'], { env: hsm.env, timeout: 30_000 })
    assert.equal((JSON.parse(stdout) as { type: string }).type, 'ed25519')
    const list = await cli('vault', 'list', '--vault', spec)
    assert.ok(list.out.some((l) => l.startsWith('from-bin\ted25519\t')))
  })
})
