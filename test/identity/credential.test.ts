import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ErrorCode } from '../../src/errors.ts'
import {
  createIdentity,
  createRevocationList,
  decodeCredential,
  issueCredential,
  RevocationRegistry,
  verifyCredential,
  verifyRevocationList,
  type Identity,
} from '../../src/identity/index.ts'
import type { KeyHandle } from '../../src/vault/index.ts'
import { crypto, DAY, memoryVault, rejectsCode, T0, throwsCode, YEAR } from './helpers.ts'

async function setup(): Promise<{ vault: Awaited<ReturnType<typeof memoryVault>>; issuerKey: KeyHandle; issuer: Identity; device: Identity; other: Identity }> {
  const vault = await memoryVault()
  const issuerKey = await vault.generateKey('ed25519')
  const issuer = await createIdentity(vault, issuerKey, { now: T0, expires: T0 + YEAR, crypto })
  const device = await createIdentity(vault, await vault.generateKey('p256'), { now: T0, expires: T0 + YEAR, crypto })
  const other = await createIdentity(vault, await vault.generateKey('ed25519'), { now: T0, expires: T0 + YEAR, crypto })
  return { vault, issuerKey, issuer, device, other }
}

describe('credentials', () => {
  it('issue and verify: attributes, issuer, subject, times and id come back', async () => {
    const { vault, issuerKey, issuer, device } = await setup()
    const cred = await issueCredential(vault, issuerKey, issuer, { subject: device.identifier, attributes: { role: 'monitor', site: 'ward-3', fw: new Uint8Array([1, 2]) }, now: T0, expires: T0 + 90 * DAY })
    const v = verifyCredential(cred, { subject: device.identifier, anchors: [issuer], now: T0 + DAY, crypto })
    assert.equal(v.issuer, issuer.identifier)
    assert.equal(v.subject, device.identifier)
    assert.equal(v.attributes.get('role'), 'monitor')
    assert.equal(v.attributes.get('site'), 'ward-3')
    assert.deepEqual(v.attributes.get('fw'), new Uint8Array([1, 2]))
    assert.equal(v.notBefore, T0)
    assert.equal(v.id, decodeCredential(cred).id)
    assert.match(v.id, /^[0-9a-f]{32}$/)
  })

  it('returned bytes are never changed by later encodes or verifications (cborg pooled-buffer regression)', async () => {
    const { vault, issuerKey, issuer, device } = await setup()
    const cred = await issueCredential(vault, issuerKey, issuer, { subject: device.identifier, attributes: { role: 'monitor' }, now: T0, expires: T0 + DAY })
    const snapshot = cred.slice()
    for (let i = 0; i < 3; i++) verifyCredential(cred, { subject: device.identifier, anchors: [issuer], now: T0, crypto })
    await createRevocationList(vault, issuerKey, issuer, { sequence: 1, credentials: [], now: T0 })
    assert.deepEqual(cred, snapshot)
    assert.equal(cred.byteOffset, 0, 'a fresh buffer, not a view into shared memory')
  })

  it('another subject, an untrusted issuer, not-yet-valid and expired credentials are refused', async () => {
    const { vault, issuerKey, issuer, device, other } = await setup()
    const cred = await issueCredential(vault, issuerKey, issuer, { subject: device.identifier, attributes: { role: 'monitor' }, notBefore: T0 + DAY, now: T0, expires: T0 + 10 * DAY })
    throwsCode(() => verifyCredential(cred, { subject: other.identifier, anchors: [issuer], now: T0 + 2 * DAY, crypto }), ErrorCode.CREDENTIAL_WRONG_SUBJECT)
    throwsCode(() => verifyCredential(cred, { subject: device.identifier, anchors: [other], now: T0 + 2 * DAY, crypto }), ErrorCode.CREDENTIAL_UNTRUSTED_ISSUER)
    throwsCode(() => verifyCredential(cred, { subject: device.identifier, anchors: [], now: T0 + 2 * DAY, crypto }), ErrorCode.CREDENTIAL_UNTRUSTED_ISSUER)
    throwsCode(() => verifyCredential(cred, { subject: device.identifier, anchors: [issuer], now: T0, crypto }), ErrorCode.CREDENTIAL_NOT_YET_VALID)
    throwsCode(() => verifyCredential(cred, { subject: device.identifier, anchors: [issuer], now: T0 + 10 * DAY, crypto }), ErrorCode.CREDENTIAL_EXPIRED)
    assert.equal(verifyCredential(cred, { subject: device.identifier, anchors: [issuer], now: T0 + DAY, crypto }).subject, device.identifier)
  })

  it('bad attributes are refused at issue time', async () => {
    const { vault, issuerKey, issuer, device } = await setup()
    const base = { subject: device.identifier, now: T0, expires: T0 + DAY }
    await rejectsCode(() => issueCredential(vault, issuerKey, issuer, { ...base, attributes: { identifier: device.identifier } }), ErrorCode.INVALID_ARGUMENT)
    await rejectsCode(() => issueCredential(vault, issuerKey, issuer, { ...base, attributes: { 'a b': 'x' } }), ErrorCode.INVALID_ARGUMENT)
    await rejectsCode(() => issueCredential(vault, issuerKey, issuer, { ...base, attributes: { a: 'x'.repeat(513) } }), ErrorCode.INVALID_ARGUMENT)
    await rejectsCode(() => issueCredential(vault, issuerKey, issuer, { ...base, attributes: { a: 5 as unknown as string } }), ErrorCode.INVALID_ARGUMENT)
    const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`a${i}`, 'v']))
    await rejectsCode(() => issueCredential(vault, issuerKey, issuer, { ...base, attributes: many }), ErrorCode.LIMIT_EXCEEDED)
    await rejectsCode(() => issueCredential(vault, issuerKey, issuer, { ...base, subject: 'Ixyz', attributes: {} }), ErrorCode.INVALID_ARGUMENT)
  })

  it('revocation: a revoked credential is refused, an older list cannot be replayed, a rejected list changes nothing', async () => {
    const { vault, issuerKey, issuer, device, other } = await setup()
    const c1 = await issueCredential(vault, issuerKey, issuer, { subject: device.identifier, attributes: { role: 'monitor' }, now: T0, expires: T0 + YEAR })
    const c2 = await issueCredential(vault, issuerKey, issuer, { subject: device.identifier, attributes: { role: 'gateway' }, now: T0, expires: T0 + YEAR })
    const id1 = decodeCredential(c1).id
    const reg = new RevocationRegistry()
    const opts = (now: number) => ({ subject: device.identifier, anchors: [issuer], revocations: reg, now, crypto })
    const list1 = await createRevocationList(vault, issuerKey, issuer, { sequence: 1, credentials: [], now: T0 + DAY })
    const list2 = await createRevocationList(vault, issuerKey, issuer, { sequence: 2, credentials: [id1], now: T0 + 2 * DAY })
    reg.accept(list1, issuer, { now: T0 + DAY, crypto })
    assert.equal(verifyCredential(c1, opts(T0 + DAY)).id, id1)
    reg.accept(list2, issuer, { now: T0 + 2 * DAY, crypto })
    throwsCode(() => verifyCredential(c1, opts(T0 + 2 * DAY)), ErrorCode.CREDENTIAL_REVOKED)
    assert.equal(verifyCredential(c2, opts(T0 + 2 * DAY)).attributes.get('role'), 'gateway')
    // replaying the older list over the newer one
    throwsCode(() => reg.accept(list1, issuer, { now: T0 + 3 * DAY, crypto }), ErrorCode.CREDENTIAL_REVOCATION_STALE)
    assert.equal(reg.latest(issuer.identifier)?.sequence, 2)
    throwsCode(() => verifyCredential(c1, opts(T0 + 3 * DAY)), ErrorCode.CREDENTIAL_REVOKED)
    // a different list with the same number is also refused; the identical one is a no-op
    const list2b = await createRevocationList(vault, issuerKey, issuer, { sequence: 2, credentials: [], now: T0 + 2 * DAY })
    throwsCode(() => reg.accept(list2b, issuer, { now: T0 + 3 * DAY, crypto }), ErrorCode.CREDENTIAL_REVOCATION_STALE)
    assert.equal(reg.accept(list2, issuer, { now: T0 + 3 * DAY, crypto }).sequence, 2)
    // a list that is not the issuer's, or tampered, is refused and changes nothing
    throwsCode(() => reg.accept(list2, other, { now: T0 + 3 * DAY, crypto }), ErrorCode.CREDENTIAL_REVOCATION_BAD_SIGNATURE)
    const tampered = (await createRevocationList(vault, issuerKey, issuer, { sequence: 9, credentials: [], now: T0 + 3 * DAY })).slice()
    tampered[tampered.length - 3]! ^= 1
    throwsCode(() => reg.accept(tampered, issuer, { now: T0 + 3 * DAY, crypto }), ErrorCode.CREDENTIAL_REVOCATION_BAD_SIGNATURE)
    assert.equal(reg.latest(issuer.identifier)?.sequence, 2)
    // revoking a whole subject
    const list3 = await createRevocationList(vault, issuerKey, issuer, { sequence: 3, credentials: [id1], subjects: [device.identifier], now: T0 + 4 * DAY })
    assert.equal(verifyRevocationList(list3, issuer, { now: T0 + 4 * DAY, crypto }).subjects.size, 1)
    reg.accept(list3, issuer, { now: T0 + 4 * DAY, crypto })
    throwsCode(() => verifyCredential(c2, opts(T0 + 4 * DAY)), ErrorCode.CREDENTIAL_REVOKED)
  })

  it('credentials and revocation lists signed by an issuer key retired by revoke-all are refused', async () => {
    const { vault, issuerKey, issuer, device } = await setup()
    const cred = await issueCredential(vault, issuerKey, issuer, { subject: device.identifier, attributes: { role: 'monitor' }, now: T0, expires: T0 + YEAR })
    const oldList = await createRevocationList(vault, issuerKey, issuer, { sequence: 1, credentials: [], now: T0 })
    const k1 = await vault.generateKey('ed25519')
    const plain = await issuer.rotate(vault, issuerKey, k1, { now: T0 + DAY, expires: T0 + YEAR, crypto })
    assert.equal(verifyCredential(cred, { subject: device.identifier, anchors: [plain], now: T0 + 2 * DAY, crypto }).changeIndex, 0)
    const k2 = await vault.generateKey('ed25519')
    const rotated = await plain.rotate(vault, k1, k2, { now: T0 + 2 * DAY, expires: T0 + YEAR, revokeAll: true, crypto })
    throwsCode(() => verifyCredential(cred, { subject: device.identifier, anchors: [rotated], now: T0 + 3 * DAY, crypto }), ErrorCode.CREDENTIAL_REVOKED)
    throwsCode(() => verifyRevocationList(oldList, rotated, { now: T0 + 3 * DAY, crypto }), ErrorCode.CREDENTIAL_REVOCATION_BAD_SIGNATURE)
    const fresh = await issueCredential(vault, k2, rotated, { subject: device.identifier, attributes: { role: 'monitor' }, now: T0 + 3 * DAY, expires: T0 + YEAR })
    assert.equal(verifyCredential(fresh, { subject: device.identifier, anchors: [rotated], now: T0 + 3 * DAY, crypto }).changeIndex, 2)
    await rejectsCode(() => issueCredential(vault, issuerKey, rotated, { subject: device.identifier, attributes: {}, now: T0 + 3 * DAY, expires: T0 + YEAR }), ErrorCode.INVALID_ARGUMENT)
  })
})
