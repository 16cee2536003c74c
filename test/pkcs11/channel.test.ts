/**
 * A secure channel with one end's identity key and Noise static key inside
 * SoftHSM2 (issue 6 "Done when"): a complete Noise XX handshake against a
 * software-vault peer, with identities and purpose-key attestations in the
 * message 2 / message 3 payloads (architecture.md §4 "first contact"), then one
 * transport message each way. Runs Noise_XX_P256_AESGCM_SHA256, and the 25519
 * suite when the token has X25519; the HSM end plays each role once.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { concat } from '../../src/bytes/index.ts'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { createAttestation, createIdentity, verifyAttestation, verifyIdentity, type Identity } from '../../src/identity/index.ts'
import { HandshakeState, vaultStaticKey, type StaticKey } from '../../src/noise/index.ts'
import type { KeyHandle, Vault } from '../../src/vault/index.ts'
import { Pkcs11Vault } from '../../vaults/pkcs11/index.ts'
import { SoftwareVault } from '../../vaults/software/index.ts'
import { createSoftHsmToken, type SoftHsmToken } from '../helpers/softhsm.ts'
import { needSystem } from '../helpers/system.ts'

const skip = needSystem('softhsm2-util')
const crypto = cryptoProvider('node')
const NOW = 1_760_000_000 // fixed clock (seconds)

interface End {
  name: string
  vault: Vault
  identity: Identity
  attestation: Uint8Array
  s: StaticKey
  staticHandle: KeyHandle
  /** DH calls that went through the vault. */
  dhCalls: { n: number }
}

async function makeEnd(name: string, vault: Vault, idType: 'p256' | 'ed25519', dhType: 'p256' | 'x25519'): Promise<End> {
  const idKey = await vault.generateKey(idType, { label: `${name}-identity-${dhType}` })
  const staticHandle = await vault.generateKey(dhType, { label: `${name}-noise-${dhType}` })
  const identity = await createIdentity(vault, idKey, { now: NOW, expires: NOW + 86_400 })
  const base = await vaultStaticKey(vault, staticHandle)
  const attestation = await createAttestation(vault, idKey, identity, base.publicKey, { now: NOW, expires: NOW + 3_600 })
  const dhCalls = { n: 0 }
  const s: StaticKey = { type: base.type, publicKey: base.publicKey, dh: (peer) => (dhCalls.n++, base.dh(peer)) }
  return { name, vault, identity, attestation, s, staticHandle, dhCalls }
}

/** Payload of messages 2 and 3: u16 identity length ‖ identity ‖ attestation. */
function payloadOf(e: End): Uint8Array {
  const len = new Uint8Array([e.identity.encoded.length >> 8, e.identity.encoded.length & 0xff])
  return concat(len, e.identity.encoded, e.attestation)
}

/** Checks the peer's identity and that its attestation binds the Noise-authenticated static key. */
function checkPeer(payload: Uint8Array, remoteStatic: Uint8Array | undefined, expected: Identity): string {
  const n = (payload[0]! << 8) | payload[1]!
  const identity = verifyIdentity(payload.subarray(2, 2 + n), { now: NOW + 60, expected: expected.identifier })
  assert.ok(remoteStatic, 'XX authenticates the remote static key')
  return verifyAttestation(identity, payload.subarray(2 + n), { now: NOW + 60, expectedStaticKey: remoteStatic }).identifier
}

async function xx(protocol: string, initiator: End, responder: End): Promise<void> {
  const i = HandshakeState.create({ protocol, initiator: true, s: initiator.s, crypto })
  const r = HandshakeState.create({ protocol, initiator: false, s: responder.s, crypto })
  await r.readMessage(await i.writeMessage())
  const p2 = await i.readMessage(await r.writeMessage(payloadOf(responder)))
  const p3 = await r.readMessage(await i.writeMessage(payloadOf(initiator)))
  assert.ok(i.isFinished() && r.isFinished())
  const ti = i.finish()
  const tr = r.finish()
  assert.equal(checkPeer(p2, ti.remoteStatic, responder.identity), responder.identity.identifier)
  assert.equal(checkPeer(p3, tr.remoteStatic, initiator.identity), initiator.identity.identifier)
  assert.deepEqual(ti.handshakeHash, tr.handshakeHash)
  const ad = new Uint8Array(0)
  const up = new TextEncoder().encode(`heart rate 72 (${protocol})`)
  const down = new TextEncoder().encode('ack')
  const c1 = ti.send.encrypt(ad, up)
  assert.deepEqual(tr.recv.decrypt(ad, c1), up)
  const c2 = tr.send.encrypt(ad, down)
  assert.deepEqual(ti.recv.decrypt(ad, c2), down)
  // a tampered transport message is refused
  c1[0]! ^= 1
  assert.throws(() => tr.recv.decrypt(ad, c1))
}

describe('Noise XX with one end in SoftHSM2', { skip }, () => {
  let hsm: SoftHsmToken
  let token: Pkcs11Vault
  let soft: SoftwareVault
  before(async () => {
    hsm = await createSoftHsmToken({ label: 'channel' })
    token = await Pkcs11Vault.open({ module: hsm.module, token: hsm.label, pin: hsm.pin })
    soft = await SoftwareVault.open()
  })
  after(async () => {
    await token?.close()
    await soft?.close()
    await hsm?.remove()
  })

  it('Noise_XX_P256_AESGCM_SHA256: identity and static key in the token, both roles', async () => {
    const gw = await makeEnd('gateway', token, 'p256', 'p256')
    const phone = await makeEnd('phone', soft, 'ed25519', 'p256')
    await xx('Noise_XX_P256_AESGCM_SHA256', phone, gw)
    await xx('Noise_XX_P256_AESGCM_SHA256', gw, phone)
    // XX uses each static key in exactly one DH per handshake (es as responder, se as initiator): two handshakes, two token derives
    assert.equal(gw.dhCalls.n, 2, 'static-key DH went through the PKCS#11 vault')
    assert.equal(gw.s.publicKey.length, 33, 'P-256 static key on the wire is 33-byte compressed')
  })

  it('Noise_XX_25519_AESGCM_SHA256 with an X25519 static key and an Ed25519 identity in the token', async (t) => {
    if (!token.capabilities().ecdh.includes('x25519') || !token.capabilities().sign.includes('ed25519')) {
      t.skip('token has no X25519 / Ed25519')
      return
    }
    const gw = await makeEnd('gateway', token, 'ed25519', 'x25519')
    const phone = await makeEnd('phone', soft, 'p256', 'x25519')
    await xx('Noise_XX_25519_AESGCM_SHA256', phone, gw)
    await xx('Noise_XX_25519_ChaChaPoly_SHA256', gw, phone)
    assert.equal(gw.dhCalls.n, 2, 'X25519 DH went through the PKCS#11 vault')
  })
})
