/**
 * A secure channel between a heart-rate monitor whose identity and Noise
 * static keys live in a (simulated) ATECC608 and a phone with a software
 * vault: Noise_XX_P256_AESGCM_SHA256 (first contact, identity attestation in
 * the payloads) or Noise_KK_P256_AESGCM_SHA256 (known peers), then one
 * transport message each way. Shared by the tests and bench/atecc608.ts.
 *
 * The identities module is not used here: the attestation is the identity
 * key's ECDSA signature over SHA-256("hopseal-attest-v0" ‖ static public key),
 * i.e. exactly one Sign of a 32-byte digest on the chip per XX handshake.
 */
import { concat, equalConstantTime } from '../../src/bytes/index.ts'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { ErrorCode, HopsealError } from '../../src/errors.ts'
import { HandshakeState, vaultStaticKey, type StaticKey } from '../../src/noise/index.ts'
import type { KeyHandle, Vault } from '../../src/vault/index.ts'

const crypto = cryptoProvider('node')
const ATTEST = new TextEncoder().encode('hopseal-attest-v0')

export interface Party {
  vault: Vault
  identity: KeyHandle
  static: KeyHandle
}

export interface ChannelResult {
  /** Plaintexts each side received. */
  monitorGot: Uint8Array
  phoneGot: Uint8Array
  handshakeHash: Uint8Array
  /** Bytes on the wire during the handshake. */
  wireBytes: number
  /** The identity public key the phone authenticated. */
  monitorIdentity: Uint8Array
}

/** payload = identity public key (33) ‖ signature (64) over SHA-256(ATTEST ‖ static public key). */
async function attestation(p: Party, staticPub: Uint8Array): Promise<Uint8Array> {
  const idPub = await p.vault.publicKey(p.identity)
  const sig = await p.vault.sign(p.identity, concat(ATTEST, staticPub))
  return concat(idPub, sig)
}

function checkAttestation(payload: Uint8Array, remoteStatic: Uint8Array | undefined): Uint8Array {
  if (payload.length !== 97 || !remoteStatic) throw new HopsealError(ErrorCode.IDENTITY_ATTESTATION_MALFORMED, 'attestation expected 97 bytes')
  const idPub = payload.subarray(0, 33)
  if (!crypto.verify('p256', idPub, concat(ATTEST, remoteStatic), payload.subarray(33))) {
    throw new HopsealError(ErrorCode.IDENTITY_ATTESTATION_BAD_SIGNATURE, 'the attested key is not the Noise-authenticated static key')
  }
  return idPub.slice()
}

/** Runs one handshake (monitor = initiator) and one transport message each way. */
export async function runChannel(pattern: 'XX' | 'KK', monitor: Party, phone: Party, opts: { monitorEphemeral?: () => Promise<StaticKey> } = {}): Promise<ChannelResult> {
  const protocol = `Noise_${pattern}_P256_AESGCM_SHA256`
  const mS = await vaultStaticKey(monitor.vault, monitor.static)
  const pS = await vaultStaticKey(phone.vault, phone.static)
  const prologue = new TextEncoder().encode('hopseal monitor demo')
  const init = HandshakeState.create({ protocol, initiator: true, s: mS, prologue, crypto, ...(pattern === 'KK' ? { rs: pS.publicKey } : {}), ...(opts.monitorEphemeral ? { e: opts.monitorEphemeral } : {}) })
  const resp = HandshakeState.create({ protocol, initiator: false, s: pS, prologue, crypto, ...(pattern === 'KK' ? { rs: mS.publicKey } : {}) })
  let wire = 0
  let monitorIdentity: Uint8Array = new Uint8Array(0)
  let att2: Uint8Array = new Uint8Array(0)
  let att3: Uint8Array = new Uint8Array(0)
  if (pattern === 'XX') {
    const m1 = await init.writeMessage()
    await resp.readMessage(m1)
    const m2 = await resp.writeMessage(await attestation(phone, pS.publicKey))
    att2 = await init.readMessage(m2)
    const m3 = await init.writeMessage(await attestation(monitor, mS.publicKey))
    att3 = await resp.readMessage(m3)
    wire = m1.length + m2.length + m3.length
  } else {
    const m1 = await init.writeMessage()
    await resp.readMessage(m1)
    const m2 = await resp.writeMessage()
    await init.readMessage(m2)
    wire = m1.length + m2.length
    monitorIdentity = await monitor.vault.publicKey(monitor.identity)
  }
  const ti = init.finish()
  const tr = resp.finish()
  if (pattern === 'XX') {
    // each side checks that the attested key is the Noise-authenticated remote static key before any data flows
    checkAttestation(att2, ti.remoteStatic)
    monitorIdentity = checkAttestation(att3, tr.remoteStatic)
  }
  if (!equalConstantTime(ti.handshakeHash, tr.handshakeHash)) throw new Error('handshake hashes differ')
  const ad = new Uint8Array(0)
  const phoneGot = tr.recv.decrypt(ad, ti.send.encrypt(ad, new TextEncoder().encode('hr=72bpm')))
  const monitorGot = ti.recv.decrypt(ad, tr.send.encrypt(ad, new TextEncoder().encode('ack')))
  return { monitorGot, phoneGot, handshakeHash: ti.handshakeHash, wireBytes: wire, monitorIdentity }
}
