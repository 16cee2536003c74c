/**
 * Token keys persist across processes: a key made here is found by label and
 * used in a child `node --import tsx` process, and a key the child makes is
 * found here (issue 6 "Done when"; atecc608-and-pkcs11.md §B3 "Persistence").
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { Pkcs11Vault } from '../../vaults/pkcs11/index.ts'
import { createSoftHsmToken, type SoftHsmToken } from '../helpers/softhsm.ts'
import { needSystem } from '../helpers/system.ts'

const run = promisify(execFile)
const skip = needSystem('softhsm2-util')
const node = cryptoProvider('node')
const CHILD = fileURLToPath(new URL('./fixtures/child-vault.ts', import.meta.url))

describe('pkcs11 keys persist across processes', { skip }, () => {
  let hsm: SoftHsmToken
  let vault: Pkcs11Vault
  let env: NodeJS.ProcessEnv
  const child = async (...args: string[]): Promise<Record<string, unknown>> => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', CHILD, ...args], { env, timeout: 30_000 })
    return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>
  }
  before(async () => {
    hsm = await createSoftHsmToken({ label: 'cross-process' })
    vault = await Pkcs11Vault.open({ module: hsm.module, token: hsm.label, pin: hsm.pin })
    env = { ...hsm.env, HOPSEAL_PKCS11_MODULE: hsm.module, HOPSEAL_PKCS11_TOKEN: hsm.label, HOPSEAL_PKCS11_PIN: hsm.pin }
  })
  after(async () => {
    await vault?.close()
    await hsm?.remove()
  })

  it('a persistent key made here is found and used by a child process; a session key is not', async () => {
    const h = await vault.generateKey('p256', { label: 'gateway-static', persistent: true })
    await vault.generateKey('p256', { label: 'session-only' })
    const pub = await vault.publicKey(h)
    const message = new TextEncoder().encode('signed in another process')
    const peer = node.generateKeyPair('p256')
    const out = await child('find', 'gateway-static', Buffer.from(message).toString('hex'), Buffer.from(peer.publicKey).toString('hex'))
    assert.equal(out.found, true)
    assert.equal(out.id, h.id)
    assert.equal(out.type, 'p256')
    assert.equal(out.persistent, true)
    assert.equal(out.pub, Buffer.from(pub).toString('hex'))
    assert.ok(node.verify('p256', pub, message, Buffer.from(out.sig as string, 'hex')), 'the child signed with our key')
    assert.equal(out.shared, Buffer.from(node.dh(peer, pub)).toString('hex'), 'the child derived with our key')
    const none = await child('find', 'session-only', '00', Buffer.from(peer.publicKey).toString('hex'))
    assert.equal(none.found, false, 'session objects are private to the process that made them')
  })

  it('a persistent key made by a child process is found here after it exited', async () => {
    const made = await child('create', 'made-by-child', 'p256')
    const h = await vault.findKey('made-by-child')
    assert.ok(h, 'found the child key')
    assert.equal(h.id, made.id)
    const pub = await vault.publicKey(h)
    assert.equal(Buffer.from(pub).toString('hex'), made.pub)
    const m = new TextEncoder().encode('used here')
    assert.ok(node.verify('p256', pub, m, await vault.sign(h, m)))
  })
})
