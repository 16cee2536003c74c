import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { concat } from '../../src/bytes/index.ts'
import { ErrorCode } from '../../src/errors.ts'
import { createAttestation, createIdentity, decodeAttestation, decodeIdentity, verifyAttestation, verifyIdentity } from '../../src/identity/index.ts'
import { crypto, DAY, memoryVault, rejectsCode, T0, throwsCode, YEAR } from './helpers.ts'

describe('purpose-key attestations', () => {
  it('binds an X25519 static key to the identity; the verifier gets the identifier back', async () => {
    const vault = await memoryVault()
    const idKey = await vault.generateKey('ed25519')
    const noise = await vault.generateKey('x25519')
    const id = await createIdentity(vault, idKey, { now: T0, expires: T0 + YEAR, crypto })
    const staticKey = await vault.publicKey(noise)
    const att = await createAttestation(vault, idKey, id, staticKey, { now: T0, expires: T0 + 30 * DAY, crypto })
    const v = verifyAttestation(id, att, { expectedStaticKey: staticKey, now: T0 + DAY, crypto })
    assert.equal(v.identifier, id.identifier)
    assert.equal(v.staticKeyType, 'x25519')
    assert.deepEqual(v.staticKey, staticKey)
    assert.equal(v.expires, T0 + 30 * DAY)
    assert.equal(decodeAttestation(att).changeIndex, 0)
  })

  it('attested key != Noise remote static key is IDENTITY_MISBINDING', async () => {
    const vault = await memoryVault()
    const idKey = await vault.generateKey('ed25519')
    const id = await createIdentity(vault, idKey, { now: T0, expires: T0 + YEAR, crypto })
    const mine = await vault.publicKey(await vault.generateKey('x25519'))
    const theirs = await vault.publicKey(await vault.generateKey('x25519'))
    const att = await createAttestation(vault, idKey, id, mine, { now: T0, expires: T0 + DAY, crypto })
    throwsCode(() => verifyAttestation(id, att, { expectedStaticKey: theirs, now: T0, crypto }), ErrorCode.IDENTITY_MISBINDING)
  })

  it('P-256 static keys: 33-byte compressed on the wire; a 65-byte remote key compares equal', async () => {
    const vault = await memoryVault()
    const idKey = await vault.generateKey('p256')
    const id = await createIdentity(vault, idKey, { now: T0, expires: T0 + YEAR, crypto })
    const stat = await vault.publicKey(await vault.generateKey('p256'))
    const att = await createAttestation(vault, idKey, id, crypto.p256Point(stat, false), { now: T0, expires: T0 + DAY, crypto })
    const v = verifyAttestation(id, att, { expectedStaticKey: crypto.p256Point(stat, false), now: T0, crypto })
    assert.equal(v.staticKeyType, 'p256')
    assert.deepEqual(v.staticKey, stat)
  })

  it('expired attestations, attestations of another identity and forged signatures are refused', async () => {
    const vault = await memoryVault()
    const k = await vault.generateKey('ed25519')
    const id = await createIdentity(vault, k, { now: T0, expires: T0 + YEAR, crypto })
    const other = await createIdentity(vault, await vault.generateKey('ed25519'), { now: T0, expires: T0 + YEAR, crypto })
    const stat = await vault.publicKey(await vault.generateKey('x25519'))
    const att = await createAttestation(vault, k, id, stat, { now: T0, expires: T0 + DAY, crypto })
    throwsCode(() => verifyAttestation(id, att, { now: T0 + DAY, crypto }), ErrorCode.IDENTITY_ATTESTATION_EXPIRED)
    throwsCode(() => verifyAttestation(other, att, { now: T0, crypto }), ErrorCode.IDENTITY_ATTESTATION_BAD_SIGNATURE)
    const bad = att.slice()
    bad[bad.length - 1]! ^= 0x80
    throwsCode(() => verifyAttestation(id, bad, { now: T0, crypto }), ErrorCode.IDENTITY_ATTESTATION_BAD_SIGNATURE)
    throwsCode(() => verifyAttestation(id, att.subarray(0, 20), { now: T0, crypto }), ErrorCode.IDENTITY_ATTESTATION_MALFORMED)
    throwsCode(() => verifyAttestation(id, concat(att, new Uint8Array(1)), { now: T0, crypto }), ErrorCode.IDENTITY_ATTESTATION_MALFORMED)
    await rejectsCode(() => createAttestation(vault, k, id, stat, { now: T0, expires: T0 + 2 * YEAR, crypto }), ErrorCode.INVALID_ARGUMENT)
    await rejectsCode(() => createAttestation(vault, k, id, new Uint8Array(31), { now: T0, expires: T0 + DAY, crypto }), ErrorCode.INVALID_LENGTH)
  })

  it('done-when: a P-256 identity in a vault handle rotates; old attestations survive a plain rotation and are refused after revoke-all', async () => {
    const vault = await memoryVault()
    const k0 = await vault.generateKey('p256', { label: 'device-id-0' })
    const noise0 = await vault.generateKey('p256')
    const s0 = await vault.publicKey(noise0)
    const id0 = await createIdentity(vault, k0, { now: T0, expires: T0 + YEAR, crypto })
    const att0 = await createAttestation(vault, k0, id0, s0, { now: T0, expires: T0 + 90 * DAY, crypto })
    assert.equal(verifyAttestation(id0, att0, { expectedStaticKey: s0, now: T0 + DAY, crypto }).identifier, id0.identifier)

    // plain rotation: earlier attestations stay valid until they expire (graceful roll-over)…
    const k1 = await vault.generateKey('p256', { label: 'device-id-1' })
    const id1 = await id0.rotate(vault, k0, k1, { now: T0 + DAY, expires: T0 + YEAR + DAY, crypto })
    assert.equal(verifyAttestation(id1, att0, { expectedStaticKey: s0, now: T0 + 2 * DAY, crypto }).changeIndex, 0)
    // …unless the verifier insists on the current key
    throwsCode(() => verifyAttestation(id1, att0, { now: T0 + 2 * DAY, crypto, requireCurrentKey: true }), ErrorCode.IDENTITY_ATTESTATION_REVOKED)
    // the old key can no longer attest through the API
    await rejectsCode(() => createAttestation(vault, k0, id1, s0, { now: T0 + 2 * DAY, expires: T0 + 30 * DAY, crypto }), ErrorCode.INVALID_ARGUMENT)

    // revoke-all rotation: everything signed by k0 and k1 is refused
    const k2 = await vault.generateKey('p256', { label: 'device-id-2' })
    const att1 = await createAttestation(vault, k1, id1, s0, { now: T0 + 2 * DAY, expires: T0 + 90 * DAY, crypto })
    const id2 = await id1.rotate(vault, k1, k2, { now: T0 + 3 * DAY, expires: T0 + YEAR + 3 * DAY, revokeAll: true, crypto })
    const peerView = verifyIdentity(id2.encoded, { now: T0 + 4 * DAY, crypto, expected: id0.identifier })
    throwsCode(() => verifyAttestation(peerView, att0, { expectedStaticKey: s0, now: T0 + 4 * DAY, crypto }), ErrorCode.IDENTITY_ATTESTATION_REVOKED)
    throwsCode(() => verifyAttestation(peerView, att1, { expectedStaticKey: s0, now: T0 + 4 * DAY, crypto }), ErrorCode.IDENTITY_ATTESTATION_REVOKED)
    // a fresh attestation by the new key is accepted
    const noise2 = await vault.generateKey('p256')
    const s2 = await vault.publicKey(noise2)
    const att2 = await createAttestation(vault, k2, id2, s2, { now: T0 + 4 * DAY, expires: T0 + 90 * DAY, crypto })
    const v = verifyAttestation(peerView, att2, { expectedStaticKey: s2, now: T0 + 5 * DAY, crypto, requireCurrentKey: true })
    assert.equal(v.identifier, id0.identifier)
    assert.equal(v.changeIndex, 2)
    // a verifier with a stale copy of the history cannot check it and says so
    const stale = decodeIdentity(id1.encoded, { crypto })
    throwsCode(() => verifyAttestation(stale, att2, { now: T0 + 5 * DAY, crypto }), ErrorCode.IDENTITY_UNKNOWN_CHANGE)
  })
})
