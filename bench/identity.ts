/**
 * Identity-layer sizes (docs/identity.md §10): what first-contact XX payloads
 * carry. Ed25519 identity keys, an X25519 Noise static key, a credential with
 * two short attributes (role=monitor, site=ward-3). Sizes are deterministic;
 * times vary only the 4-to-5-byte CBOR integer width, never here (2025 dates).
 */
import { cryptoProvider } from '../targets/node/crypto/index.ts'
import { createAttestation, createIdentity, issueCredential } from '../src/identity/index.ts'
import { SoftwareVault } from '../vaults/software/index.ts'
import type { BenchModule } from './figure.ts'

const run: BenchModule = async (ctx) => {
  const crypto = cryptoProvider('node')
  const vault = await SoftwareVault.open({ crypto })
  const now = 1735689600
  const year = 365 * 86400
  const k0 = await vault.generateKey('ed25519')
  const k1 = await vault.generateKey('ed25519')
  const one = await createIdentity(vault, k0, { now, expires: now + year, crypto })
  const two = await one.rotate(vault, k0, k1, { now: now + 86400, expires: now + 2 * year, crypto })
  const noise = await vault.publicKey(await vault.generateKey('x25519'))
  const att = await createAttestation(vault, k0, one, noise, { now, expires: now + 30 * 86400, crypto })
  const issuerKey = await vault.generateKey('ed25519')
  const issuer = await createIdentity(vault, issuerKey, { now, expires: now + year, crypto })
  const cred = await issueCredential(vault, issuerKey, issuer, { subject: one.identifier, attributes: { role: 'monitor', site: 'ward-3' }, now, expires: now + 90 * 86400 })
  const p256Key = await vault.generateKey('p256')
  const p256 = await createIdentity(vault, p256Key, { now, expires: now + year, crypto })
  ctx.log(`identity: P-256 one-change identity ${p256.encoded.length} bytes (for comparison)`)
  await vault.close()
  return [
    { name: 'identity.one_change.bytes', value: one.encoded.length, unit: 'bytes', note: 'Ed25519 primary key' },
    { name: 'identity.two_changes.bytes', value: two.encoded.length, unit: 'bytes', note: 'Ed25519 → Ed25519 rotation' },
    { name: 'identity.attestation.bytes', value: att.length, unit: 'bytes', note: 'X25519 static key, Ed25519 signature' },
    { name: 'identity.credential_2attrs.bytes', value: cred.length, unit: 'bytes', note: 'role=monitor, site=ward-3' },
  ]
}
export default run
