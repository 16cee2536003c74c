/**
 * PKCS#11 vault figures (issue 6): complete Noise_XX_P256_AESGCM_SHA256
 * handshakes per second, both ends in this process, with one end's static key
 * in SoftHSM2 (every static DH is a C_DeriveKey in the token) against the same
 * handshake with that key in the software vault, measured in the same run.
 * Also the single operations behind it: ECDH derive and ECDSA sign.
 *
 * Without SoftHSM2 (softhsm2-util and /usr/lib/softhsm/libsofthsm2.so) it says
 * why and returns no figures.
 */
import { existsSync } from 'node:fs'
import { cryptoProvider } from '../targets/node/crypto/index.ts'
import { HandshakeState, vaultStaticKey, type StaticKey } from '../src/noise/index.ts'
import type { Vault } from '../src/vault/index.ts'
import { Pkcs11Vault } from '../vaults/pkcs11/index.ts'
import { SoftwareVault } from '../vaults/software/index.ts'
import { createSoftHsmToken, SOFTHSM_MODULE } from '../test/helpers/softhsm.ts'
import { which } from '../test/helpers/system.ts'
import { opsPerSecond, type BenchModule, type Figure } from './figure.ts'

const PROTOCOL = 'Noise_XX_P256_AESGCM_SHA256'
const EMPTY = new Uint8Array(0)
const crypto = cryptoProvider('node')

async function xx(si: StaticKey, sr: StaticKey): Promise<void> {
  const i = HandshakeState.create({ protocol: PROTOCOL, initiator: true, s: si, crypto })
  const r = HandshakeState.create({ protocol: PROTOCOL, initiator: false, s: sr, crypto })
  await r.readMessage(await i.writeMessage(EMPTY))
  await i.readMessage(await r.writeMessage(EMPTY))
  await r.readMessage(await i.writeMessage(EMPTY))
  if (!i.isFinished() || !r.isFinished()) throw new Error('handshake did not finish')
  i.finish()
  r.finish()
}

async function staticIn(vault: Vault): Promise<StaticKey> {
  return vaultStaticKey(vault, await vault.generateKey('p256'))
}

const run: BenchModule = async (ctx) => {
  if (!which('softhsm2-util') || !existsSync(SOFTHSM_MODULE)) {
    ctx.log(`# pkcs11: skipped: SoftHSM2 is not installed (softhsm2-util and ${SOFTHSM_MODULE}; apt-get install softhsm2)`)
    return []
  }
  const ms = ctx.quick ? 300 : 2000
  const hsm = await createSoftHsmToken({ label: `bench-${process.pid}` })
  const token = await Pkcs11Vault.open({ module: hsm.module, token: hsm.label, pin: hsm.pin })
  const soft = await SoftwareVault.open({ crypto })
  try {
    const peer = await staticIn(soft) // the other end: always software
    const inToken = await staticIn(token)
    const inSoftware = await staticIn(soft)
    // alternate roles so the token key is initiator half the time (XX uses it in se or es)
    let n = 0
    const alternate = (mine: StaticKey) => () => (n++ % 2 === 0 ? xx(mine, peer) : xx(peer, mine))
    const hsmRate = await opsPerSecond(alternate(inToken), ms)
    const softRate = await opsPerSecond(alternate(inSoftware), ms)
    ctx.log(`# pkcs11: XX P-256 ${hsmRate.toFixed(0)}/s with one static key in SoftHSM2 (${token.sessions} sessions), ${softRate.toFixed(0)}/s in software`)

    const pub = crypto.generateKeyPair('p256').publicKey
    const tk = await token.generateKey('p256')
    const sk = await soft.generateKey('p256')
    const msg = new Uint8Array(64)
    const ecdhToken = await opsPerSecond(() => token.ecdh(tk, pub), ms)
    const ecdhSoft = await opsPerSecond(() => soft.ecdh(sk, pub), ms)
    const signToken = await opsPerSecond(() => token.sign(tk, msg), ms)
    const signSoft = await opsPerSecond(() => soft.sign(sk, msg), ms)
    const figures: Figure[] = [
      {
        name: 'pkcs11.xx_p256.handshakes_per_s',
        value: Math.round(hsmRate),
        unit: 'handshakes/s',
        baseline: { name: 'software.xx_p256.handshakes_per_s', value: Math.round(softRate) },
        note: 'complete XX handshakes, both ends in one process; one static key in SoftHSM2 vs in the software vault',
      },
      { name: 'pkcs11.p256.ecdh_per_s', value: Math.round(ecdhToken), unit: 'ops/s', baseline: { name: 'software.p256.ecdh_per_s', value: Math.round(ecdhSoft) } },
      { name: 'pkcs11.p256.sign_per_s', value: Math.round(signToken), unit: 'ops/s', baseline: { name: 'software.p256.sign_per_s', value: Math.round(signSoft) } },
    ]
    return figures
  } finally {
    await token.close()
    await soft.close()
    await hsm.remove()
  }
}
export default run
