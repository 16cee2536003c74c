/**
 * The architecture.md §4 "first contact" flow with the hopseal identities
 * module (src/identity) and the monitor's keys in the simulated ATECC608: its
 * P-256 identity key signs the identity (change history) and a purpose-key
 * attestation over its Noise static key, both on the chip; a Noise
 * XX_P256_AESGCM_SHA256 handshake against a software-vault phone carries
 * identity ‖ attestation in messages 2 and 3; each side verifies the other's
 * identity and that the attested key is the Noise-authenticated remote static
 * key; then one transport message each way. The monitor plays both roles.
 *
 * Chip commands: the identity and the attestation are signed once and reused,
 * so a handshake costs the chip no Sign and exactly one ECDH (its static key
 * is used in one DH per XX handshake: `es` as responder, `se` as initiator).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { concat } from '../../src/bytes/index.ts'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { isHopsealError } from '../../src/errors.ts'
import { createAttestation, createIdentity, verifyAttestation, verifyIdentity, type Identity } from '../../src/identity/index.ts'
import { HandshakeState, vaultStaticKey, type StaticKey } from '../../src/noise/index.ts'
import type { Vault } from '../../src/vault/index.ts'
import { SoftwareVault } from '../../vaults/software/index.ts'
import { Atecc608Vault, KitTransport } from '../../vaults/atecc608/index.ts'
import { Atecc608Sim } from '../../hil-sim/atecc608/index.ts'

const crypto = cryptoProvider('node')
const NOW = 1_760_000_000 // fixed clock (seconds)
const PROTOCOL = 'Noise_XX_P256_AESGCM_SHA256'
const SIGN = 0x41
const ECDH = 0x43

interface End {
  identity: Identity
  attestation: Uint8Array
  s: StaticKey
}

async function makeEnd(vault: Vault, name: string): Promise<End> {
  const idKey = await vault.generateKey('p256', { label: `${name}-identity` })
  const staticKey = await vault.generateKey('p256', { label: `${name}-noise-static` })
  const identity = await createIdentity(vault, idKey, { now: NOW, expires: NOW + 86_400 })
  const s = await vaultStaticKey(vault, staticKey)
  const attestation = await createAttestation(vault, idKey, identity, s.publicKey, { now: NOW, expires: NOW + 3_600 })
  return { identity, attestation, s }
}

/** u16 identity length ‖ identity ‖ attestation. */
function payloadOf(e: End): Uint8Array {
  const n = e.identity.encoded.length
  return concat(new Uint8Array([n >> 8, n & 0xff]), e.identity.encoded, e.attestation)
}

function checkPeer(payload: Uint8Array, remoteStatic: Uint8Array | undefined, expected: Identity): string {
  const n = (payload[0]! << 8) | payload[1]!
  const identity = verifyIdentity(payload.subarray(2, 2 + n), { now: NOW + 60, expected: expected.identifier })
  assert.ok(remoteStatic, 'XX authenticates the remote static key')
  return verifyAttestation(identity, payload.subarray(2 + n), { now: NOW + 60, expectedStaticKey: remoteStatic }).identifier
}

async function xx(initiator: End, responder: End, tamper?: (m3: Uint8Array) => void): Promise<void> {
  const i = HandshakeState.create({ protocol: PROTOCOL, initiator: true, s: initiator.s, crypto })
  const r = HandshakeState.create({ protocol: PROTOCOL, initiator: false, s: responder.s, crypto })
  await r.readMessage(await i.writeMessage())
  const p2 = await i.readMessage(await r.writeMessage(payloadOf(responder)))
  const m3 = await i.writeMessage(payloadOf(initiator))
  tamper?.(m3)
  const p3 = await r.readMessage(m3)
  const ti = i.finish()
  const tr = r.finish()
  assert.equal(checkPeer(p2, ti.remoteStatic, responder.identity), responder.identity.identifier)
  assert.equal(checkPeer(p3, tr.remoteStatic, initiator.identity), initiator.identity.identifier)
  assert.deepEqual(ti.handshakeHash, tr.handshakeHash)
  const ad = new Uint8Array(0)
  const up = new TextEncoder().encode('hr=72bpm')
  const down = new TextEncoder().encode('ack')
  assert.deepEqual(tr.recv.decrypt(ad, ti.send.encrypt(ad, up)), up)
  assert.deepEqual(ti.recv.decrypt(ad, tr.send.encrypt(ad, down)), down)
}

describe('identities module + Noise XX P-256 with the monitor in the simulated ATECC608', () => {
  let sim: Atecc608Sim
  let chip: Atecc608Vault
  let phoneVault: SoftwareVault
  let monitor: End
  let phone: End
  before(async () => {
    sim = Atecc608Sim.create({ seed: 'identity-module' })
    chip = await Atecc608Vault.open({ transport: await KitTransport.open(sim.kitChannel()) })
    phoneVault = await SoftwareVault.open({ name: 'phone' })
    sim.resetOpCounts()
    monitor = await makeEnd(chip, 'monitor')
    phone = await makeEnd(phoneVault, 'phone')
  })
  after(async () => {
    await chip?.close()
    await phoneVault?.close()
  })

  it('the identity and the attestation are signed on the chip (2 Sign), verifiable by anyone', () => {
    assert.equal(sim.opCounts().get(SIGN), 2, 'createIdentity and createAttestation each signed once on the chip')
    assert.equal(verifyIdentity(monitor.identity.encoded, { now: NOW + 1 }).identifier, monitor.identity.identifier)
    assert.equal(verifyAttestation(monitor.identity, monitor.attestation, { now: NOW + 1, expectedStaticKey: monitor.s.publicKey }).identifier, monitor.identity.identifier)
    assert.equal(monitor.s.publicKey.length, 33, 'P-256 static key on the wire is 33-byte compressed')
  })

  it('XX both roles: identities checked, attested key = Noise static; per handshake 0 Sign and 1 ECDH on the chip', async () => {
    sim.resetOpCounts()
    await xx(monitor, phone)
    assert.equal(sim.opCounts().get(SIGN) ?? 0, 0)
    assert.equal(sim.opCounts().get(ECDH) ?? 0, 1, 'initiator: se')
    sim.resetOpCounts()
    await xx(phone, monitor)
    assert.equal(sim.opCounts().get(SIGN) ?? 0, 0)
    assert.equal(sim.opCounts().get(ECDH) ?? 0, 1, 'responder: es')
  })

  it('an attestation for another static key is refused with a typed error', async () => {
    const other = await chip.generateKey('p256', { label: 'monitor-other-static' })
    const otherPub = await chip.publicKey(other)
    const wrongAtt = await createAttestation(chip, (await chip.findKey('monitor-identity'))!, monitor.identity, otherPub, { now: NOW, expires: NOW + 3_600 })
    await assert.rejects(
      xx({ ...monitor, attestation: wrongAtt }, phone),
      (e: unknown) => isHopsealError(e) && e.code.startsWith('IDENTITY_'),
    )
    await chip.deleteKey(other)
  })

  it('a flipped bit in message 3 fails the handshake (AEAD), never a wrong identity', async () => {
    await assert.rejects(
      xx(monitor, phone, (m3) => {
        m3[m3.length - 1]! ^= 1
      }),
      (e: unknown) => isHopsealError(e) && (e.code === 'NOISE_DECRYPT_FAILED' || e.code === 'AEAD_AUTH_FAILED'),
    )
  })
})
