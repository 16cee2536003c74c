import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { ErrorCode } from '../../src/errors.ts'
import { createIdentity, createRevocationList, issueCredential, verifyCredential } from '../../src/identity/index.ts'
import { IdentityStore } from '../../targets/node/identity/store.ts'
import { crypto, DAY, memoryVault, T0, throwsCode, YEAR } from './helpers.ts'

const dir = mkdtempSync(join(tmpdir(), 'hopseal-idstore-'))
after(() => rmSync(dir, { recursive: true, force: true }))

describe('identity store', () => {
  it('persists identities, trust, credentials, revocation lists and issuer state (0600) and reloads them', async () => {
    const path = join(dir, 'a', 'identities.json')
    const vault = await memoryVault()
    const ik = await vault.generateKey('ed25519', { label: 'issuer-0' })
    const issuer = await createIdentity(vault, ik, { now: T0, expires: T0 + YEAR, crypto })
    const device = await createIdentity(vault, await vault.generateKey('p256'), { now: T0, expires: T0 + YEAR, crypto })
    const s = IdentityStore.open(path, { crypto })
    assert.equal(s.list().length, 0)
    s.add({ name: 'issuer', identity: issuer, keys: ['issuer-0'] })
    s.add({ name: 'device', identity: device })
    s.trust(issuer.identifier)
    const cred = await issueCredential(vault, ik, issuer, { subject: device.identifier, attributes: { role: 'monitor' }, now: T0, expires: T0 + YEAR })
    const d = s.addCredential(cred)
    s.addCredential(cred)
    s.revocations.accept(await createRevocationList(vault, ik, issuer, { sequence: 1, credentials: [d.id], now: T0 }), issuer, { now: T0, crypto })
    s.setIssuerState(issuer.identifier, { sequence: 1, credentials: [d.id] })
    s.save()
    assert.equal(statSync(path).mode & 0o777, 0o600)

    const r = IdentityStore.open(path, { crypto })
    assert.equal(r.get('issuer').identity.identifier, issuer.identifier)
    assert.deepEqual(r.get('issuer').keys, ['issuer-0'])
    assert.equal(r.get(device.identifier).name, 'device')
    assert.deepEqual(r.anchors().map((a) => a.identifier), [issuer.identifier])
    assert.equal(r.credentials().length, 1)
    assert.deepEqual(r.issuerState(issuer.identifier), { sequence: 1, credentials: [d.id] })
    throwsCode(() => verifyCredential(r.credential(d.id)!, { subject: device.identifier, anchors: r.anchors(), revocations: r.revocations, now: T0 + DAY, crypto }), ErrorCode.CREDENTIAL_REVOKED)
    throwsCode(() => r.add({ name: 'device', identity: device }), ErrorCode.IDENTITY_EXISTS)
    throwsCode(() => r.add({ name: 'again', identity: device }), ErrorCode.IDENTITY_EXISTS)
    throwsCode(() => r.get('nobody'), ErrorCode.IDENTITY_NOT_FOUND)
    throwsCode(() => r.add({ name: 'bad name', identity: device }), ErrorCode.INVALID_ARGUMENT)
  })

  it('a corrupt or tampered file is IDENTITY_STORE_CORRUPT; a group-readable one is refused', async () => {
    const vault = await memoryVault()
    const id = await createIdentity(vault, await vault.generateKey('ed25519'), { now: T0, expires: T0 + YEAR, crypto })
    const path = join(dir, 'b.json')
    const s = IdentityStore.open(path, { crypto })
    s.add({ name: 'me', identity: id })
    s.save()
    const good = readFileSync(path, 'utf8')
    const cases = ['not json', '{}', '{"version":2}', good.replace(/"identity": "([0-9a-f]{10})/, '"identity": "00$1'), good.replace('"me"', '"m e"'), good.replace(/"trusted": \[\]/, '"trusted": ["Ixx"]')]
    let n = 0
    for (const text of cases) {
      writeFileSync(path, text, { mode: 0o600 })
      throwsCode(() => IdentityStore.open(path, { crypto }), ErrorCode.IDENTITY_STORE_CORRUPT)
      n++
    }
    console.log(`store corruptions: ${n} passed, 0 failed`)
    writeFileSync(path, good, { mode: 0o600 })
    chmodSync(path, 0o644)
    throwsCode(() => IdentityStore.open(path, { crypto }), ErrorCode.VAULT_STORE_IO)
  })
})
