/**
 * The endpoints of a scenario: each device and app gets a vault (software, or
 * the simulated ATECC608 over its KIT protocol), a Noise static key in that
 * vault and, for XX first contact, a hopseal identity whose key lives in the
 * same vault plus a purpose-key attestation over the static key. KK uses the
 * static keys only (provisioned out of band): no identity bytes travel.
 */
import { identityAuthenticator } from '../../src/channel/identity-auth.ts'
import { knownPeers, type ChannelAuthenticator } from '../../src/channel/secure-channel.ts'
import { allowList, createAttestation, createIdentity, type Identity } from '../../src/identity/index.ts'
import { vaultStaticKey, type StaticKey } from '../../src/noise/index.ts'
import type { Vault } from '../../src/vault/index.ts'
import { SoftwareVault } from '../../vaults/software/index.ts'
import { Atecc608Vault, KitTransport } from '../../vaults/atecc608/index.ts'
import { Atecc608Sim } from '../atecc608/index.ts'
import { processSoftHsmToken, softHsmAvailable } from '../softhsm.ts'
import { loadPkcs11Backend } from '../../vaults/pkcs11/load.ts'
import type { VaultKind } from './spec.ts'
import { sha256 } from '@noble/hashes/sha2.js'

export interface Party {
  name: string
  vaultKind: VaultKind
  vault: Vault
  /** The simulated secure element, when the vault is one. */
  sim?: Atecc608Sim
  /** Its I/O protection key (every ECDH output crosses the bus encrypted with it); the board holds it too. */
  ioKey?: Uint8Array
  s: StaticKey
  identity?: Identity
  attestation?: Uint8Array
}

/** Identity lifetimes are fixed relative to `now` so runs are reproducible. */
const DAY = 86_400

export interface OpenedVault {
  vault: Vault
  sim?: Atecc608Sim
  ioKey?: Uint8Array
  /** What the vault really is: `softhsm` falls back to `software` where SoftHSM2 is not installed. */
  used: 'software' | 'atecc608-sim' | 'softhsm'
}

/**
 * Opens a party's vault. `softhsm` is a PKCS#11 vault on a SoftHSM2 token
 * (one per process, created on first use) when SoftHSM2 is installed, and a
 * software vault otherwise, so the demo runs with no system packages.
 */
export async function openVault(kind: VaultKind, name: string, seed: string): Promise<OpenedVault> {
  if (kind === 'atecc608-sim') {
    // Provisioned as production chips should be: an I/O protection key, so no ECDH secret crosses the bus in clear.
    const ioProtectionKey = sha256(new TextEncoder().encode(`${seed}/${name}/io-protection-key`))
    const sim = Atecc608Sim.create({ seed: `${seed}/${name}`, ioProtectionKey })
    const vault = await Atecc608Vault.open({ transport: await KitTransport.open(sim.kitChannel()), ioProtectionKey })
    return { vault, sim, ioKey: ioProtectionKey, used: kind }
  }
  // SoftHSM2 needs the system package and the optional native pkcs11js addon; without either the party uses a software vault.
  const pkcs11 = kind === 'softhsm' && softHsmAvailable() ? await loadPkcs11Backend().catch(() => undefined) : undefined
  if (pkcs11) {
    const t = await processSoftHsmToken()
    return { vault: await pkcs11.Pkcs11Vault.open({ module: t.module, token: t.label, pin: t.pin, name: `softhsm:${name}`, sessions: 2 }), used: 'softhsm' }
  }
  return { vault: await SoftwareVault.open({ name }), used: 'software' }
}

/** Key labels stay unique when runs in one process share a SoftHSM2 token. */
let runCounter = 0

/** Creates a party: static key (P-256 whenever any party of the scenario uses a secure element), identity for XX. */
export async function makeParty(name: string, kind: VaultKind, opened: { vault: Vault; sim?: Atecc608Sim; ioKey?: Uint8Array }, dh: 'p256' | 'x25519', mode: 'kk' | 'xx', nowSec: number): Promise<Party> {
  const { vault, sim, ioKey } = opened
  const run = ++runCounter
  const sh = await vault.generateKey(dh, { label: `${name}-noise-static-${run}` })
  const s = await vaultStaticKey(vault, sh)
  const party: Party = { name, vaultKind: kind, vault, s, ...(sim ? { sim } : {}), ...(ioKey ? { ioKey } : {}) }
  if (mode === 'xx') {
    const idType = kind === 'software' ? 'ed25519' : 'p256'
    const idKey = await vault.generateKey(idType, { label: `${name}-identity-${run}` })
    party.identity = await createIdentity(vault, idKey, { now: nowSec - DAY, expires: nowSec + 365 * DAY })
    party.attestation = await createAttestation(vault, idKey, party.identity, s.publicKey, { now: nowSec - DAY, expires: nowSec + 30 * DAY })
  }
  return party
}

/** How `self` authenticates its peers: the known static keys (KK) or identities on an allow-list (XX). */
export function authFor(self: Party, peers: Party[], mode: 'kk' | 'xx', nowSec: number): ChannelAuthenticator {
  if (mode === 'kk') return knownPeers(peers.map((p) => ({ staticKey: p.s.publicKey, identifier: p.name })))
  return identityAuthenticator({
    identity: self.identity!,
    attestation: self.attestation!,
    policy: allowList(peers.map((p) => p.identity!.identifier)),
    now: () => nowSec,
  })
}
