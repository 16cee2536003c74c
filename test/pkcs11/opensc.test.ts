/**
 * Interoperability with opensc's pkcs11-tool on the same SoftHSM2 token:
 * keys our vault makes are listed and usable by pkcs11-tool, and keys
 * pkcs11-tool makes are found and used by our vault (issue 6 "Done when").
 */
import assert from 'node:assert/strict'
import { createPublicKey, verify } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { Pkcs11Vault } from '../../vaults/pkcs11/index.ts'
import { createSoftHsmToken, type SoftHsmToken } from '../helpers/softhsm.ts'
import { needSystem } from '../helpers/system.ts'

const skip = needSystem('softhsm2-util', 'pkcs11-tool')
const node = cryptoProvider('node')

function spkiOf(type: 'p256' | 'ed25519', pub: Uint8Array): ReturnType<typeof createPublicKey> {
  if (type === 'ed25519') return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(pub).toString('base64url') }, format: 'jwk' })
  const u = node.p256Point(pub, false)
  return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: Buffer.from(u.subarray(1, 33)).toString('base64url'), y: Buffer.from(u.subarray(33)).toString('base64url') }, format: 'jwk' })
}

describe('pkcs11 vault and opensc pkcs11-tool share keys', { skip }, () => {
  let hsm: SoftHsmToken
  let vault: Pkcs11Vault
  before(async () => {
    hsm = await createSoftHsmToken({ label: 'opensc' })
    vault = await Pkcs11Vault.open({ module: hsm.module, token: hsm.label, pin: hsm.pin })
  })
  after(async () => {
    await vault?.close()
    await hsm?.remove()
  })

  it('a P-256 key made by our vault is listed by pkcs11-tool and signs there; node:crypto verifies', async () => {
    const h = await vault.generateKey('p256', { label: 'ours-p256', persistent: true })
    const listing = await hsm.pkcs11Tool(['--list-objects', '--type', 'privkey'])
    assert.match(listing, /label:\s+ours-p256/)
    assert.ok(listing.toLowerCase().includes(h.id), 'pkcs11-tool lists our CKA_ID')
    const message = Buffer.from('signed by pkcs11-tool with a hopseal key')
    const digest = join(hsm.dir, 'digest.bin')
    const sigFile = join(hsm.dir, 'sig.bin')
    writeFileSync(digest, node.hash('sha256', message))
    await hsm.pkcs11Tool(['--sign', '--mechanism', 'ECDSA', '--id', h.id, '--input-file', digest, '--output-file', sigFile])
    const sig = readFileSync(sigFile)
    assert.equal(sig.length, 64, 'raw r||s')
    const pub = await vault.publicKey(h)
    assert.ok(verify('sha256', message, { key: spkiOf('p256', pub), dsaEncoding: 'ieee-p1363' }, sig))
    // pkcs11-tool's view of the public key is the one our vault reports
    const der = join(hsm.dir, 'pub.der')
    await hsm.pkcs11Tool(['--read-object', '--type', 'pubkey', '--id', h.id, '--output-file', der])
    const theirs = createPublicKey({ key: readFileSync(der), format: 'der', type: 'spki' }).export({ format: 'jwk' })
    assert.deepEqual(theirs, spkiOf('p256', pub).export({ format: 'jwk' }))
    await vault.deleteKey(h)
    assert.doesNotMatch(await hsm.pkcs11Tool(['--list-objects', '--type', 'privkey']), /ours-p256/, 'deleteKey removed it for pkcs11-tool too')
  })

  it('an Ed25519 key made by our vault signs through pkcs11-tool (EDDSA)', async () => {
    const h = await vault.generateKey('ed25519', { label: 'ours-ed', persistent: true })
    const message = Buffer.from('ed25519 through pkcs11-tool')
    const input = join(hsm.dir, 'ed-msg.bin')
    const sigFile = join(hsm.dir, 'ed-sig.bin')
    writeFileSync(input, message)
    await hsm.pkcs11Tool(['--sign', '--mechanism', 'EDDSA', '--id', h.id, '--input-file', input, '--output-file', sigFile])
    const sig = readFileSync(sigFile)
    assert.equal(sig.length, 64)
    assert.ok(verify(null, message, spkiOf('ed25519', await vault.publicKey(h)), sig))
    await vault.deleteKey(h)
  })

  it('keys made by pkcs11-tool are found by label and used by our vault', async () => {
    await hsm.pkcs11Tool(['--keypairgen', '--key-type', 'EC:prime256v1', '--label', 'cli-p256', '--id', '0a'])
    await hsm.pkcs11Tool(['--keypairgen', '--key-type', 'EC:edwards25519', '--label', 'cli-ed25519', '--id', '0b'])
    const p = await vault.findKey('cli-p256')
    assert.ok(p, 'found the pkcs11-tool P-256 key')
    assert.equal(p.type, 'p256')
    assert.equal(p.id, '0a')
    assert.equal(p.persistent, true)
    const pub = await vault.publicKey(p)
    const der = join(hsm.dir, 'cli.der')
    await hsm.pkcs11Tool(['--read-object', '--type', 'pubkey', '--id', '0a', '--output-file', der])
    assert.deepEqual(createPublicKey({ key: readFileSync(der), format: 'der', type: 'spki' }).export({ format: 'jwk' }), spkiOf('p256', pub).export({ format: 'jwk' }))
    const msg = new TextEncoder().encode('hopseal signs with a pkcs11-tool key')
    assert.ok(verify('sha256', msg, { key: spkiOf('p256', pub), dsaEncoding: 'ieee-p1363' }, await vault.sign(p, msg)))
    const peer = node.generateKeyPair('p256')
    assert.deepEqual(await vault.ecdh(p, peer.publicKey), node.dh(peer, pub), 'ECDH with the pkcs11-tool key')
    const e = await vault.findKey('cli-ed25519')
    assert.ok(e, 'found the pkcs11-tool Ed25519 key')
    assert.equal(e.type, 'ed25519')
    assert.ok(verify(null, msg, spkiOf('ed25519', await vault.publicKey(e)), await vault.sign(e, msg)))
    const listed = (await vault.listKeys()).map((k) => k.label).sort()
    assert.deepEqual(listed, ['cli-ed25519', 'cli-p256'])
  })
})
