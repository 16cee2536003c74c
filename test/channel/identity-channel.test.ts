/**
 * First contact (XX) with real identities: attestation bound to the Noise
 * static key, credentials, trust policy; misbinding, expiry and denial are
 * refused silently on the wire and counted; the worker sees the peer's
 * identifier and verified attributes.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { utf8 } from '../../src/bytes/index.ts'
import { createAttestation, createIdentity, issueCredential, parsePolicy, allowList, type Identity } from '../../src/identity/index.ts'
import { vaultStaticKey, type StaticKey } from '../../src/noise/index.ts'
import { address, local, Node, TransportType, type IncomingMeta } from '../../src/routing/index.ts'
import { MemoryNetwork } from '../../src/transports/memory.ts'
import { createSecureChannel, startSecureChannelListener } from '../../src/channel/secure-channel.ts'
import { identityAuthenticator } from '../../src/channel/identity-auth.ts'
import { SoftwareVault } from '../../vaults/software/index.ts'

const mem = (n: string) => address(TransportType.MEMORY, n)
const tick = () => new Promise((r) => setTimeout(r, 5))
const NOW = 1_800_000_000
const DAY = 86400

interface Party {
  vault: SoftwareVault
  identity: Identity
  s: StaticKey
  attestation: Uint8Array
  key: Awaited<ReturnType<SoftwareVault['generateKey']>>
}

async function party(type: 'ed25519' | 'p256', dh: 'x25519' | 'p256', attExpires = NOW + 30 * DAY): Promise<Party> {
  const vault = await SoftwareVault.open()
  const key = await vault.generateKey(type)
  const identity = await createIdentity(vault, key, { now: NOW - 30 * DAY, expires: NOW + 365 * DAY })
  const sh = await vault.generateKey(dh)
  const s = await vaultStaticKey(vault, sh)
  const attestation = await createAttestation(vault, key, identity, s.publicKey, { now: NOW - 30 * DAY, expires: attExpires })
  return { vault, identity, s, attestation, key }
}

function net() {
  const n = new MemoryNetwork()
  const taps: Uint8Array[] = []
  n.tap((_f, _t, b) => taps.push(b))
  const mk = (name: string) => {
    const x = new Node({ name })
    x.registerTransport(n.endpoint(name))
    return x
  }
  const dev = mk('dev'), relay = mk('relay'), app = mk('app')
  relay.startWorker('f', (ctx, m) => ctx.forward(m))
  return { dev, relay, app, taps, route: [mem('relay'), local('f'), mem('app'), local('l')] }
}

describe('XX first contact with identities', () => {
  for (const [idType, dh] of [['ed25519', 'x25519'], ['p256', 'p256']] as const) {
    it(`${idType} identities, ${dh} statics: credentials and policy; the worker sees identifier and attributes`, async () => {
      const protocol = `Noise_XX_${dh === 'x25519' ? '25519' : 'P256'}_AESGCM_SHA256`
      const issuer = await party(idType, dh)
      const monitor = await party(idType, dh)
      const phone = await party(idType, dh)
      const cred = await issueCredential(issuer.vault, issuer.key, issuer.identity, { subject: monitor.identity.identifier, attributes: { role: 'monitor', site: 'ward-3' }, now: NOW, expires: NOW + 30 * DAY })
      const { dev, app, taps, route } = net()
      const seen: IncomingMeta[] = []
      app.startWorker('w', (_c, _m, meta) => void seen.push(meta))
      startSecureChannelListener(app, 'l', {
        protocol, s: phone.s, deliverTo: local('w'),
        auth: identityAuthenticator({ identity: phone.identity, attestation: phone.attestation, anchors: [issuer.identity], policy: parsePolicy('subject.role = "monitor" and subject.site in ["ward-3", "ward-4"]'), now: () => NOW }),
      })
      const ch = await createSecureChannel(dev, route, {
        protocol, s: monitor.s,
        auth: identityAuthenticator({ identity: monitor.identity, attestation: monitor.attestation, credentials: [cred], policy: allowList([phone.identity.identifier]), now: () => NOW }),
      })
      assert.equal(ch.peer.identifier, phone.identity.identifier)
      await ch.send(utf8('bpm=71'))
      for (let i = 0; i < 20 && seen.length === 0; i++) await tick()
      assert.equal(seen[0]?.peer?.identifier, monitor.identity.identifier)
      assert.equal(seen[0]?.peer?.attributes?.role, 'monitor')
      assert.equal(seen[0]?.peer?.attributes?.site, 'ward-3')
      // identities travel encrypted: no identifier bytes or identity encoding on the wire
      const idBytes = monitor.identity.identifierBytes
      for (const t of taps) for (let i = 0; i + idBytes.length <= t.length; i++) assert.ok(!idBytes.every((b, j) => t[i + j] === b), 'identifier visible on the wire')
    })
  }

  async function refused(setup: (p: { monitor: Party; phone: Party; issuer: Party }) => Promise<{ listenerAuth: Parameters<typeof identityAuthenticator>[0]; initiatorAuth: Parameters<typeof identityAuthenticator>[0] }>, expectCode: string) {
    const issuer = await party('ed25519', 'x25519')
    const monitor = await party('ed25519', 'x25519')
    const phone = await party('ed25519', 'x25519')
    const { listenerAuth, initiatorAuth } = await setup({ monitor, phone, issuer })
    const { dev, app, route } = net()
    const delivered: string[] = []
    app.startWorker('w', (_c, m) => void delivered.push(new TextDecoder().decode(m.payload)))
    startSecureChannelListener(app, 'l', { protocol: 'Noise_XX_25519_AESGCM_SHA256', s: phone.s, deliverTo: local('w'), auth: identityAuthenticator(listenerAuth) })
    // XX: the initiator finishes after sending message 3 and cannot learn that the
    // responder refused it (silent on the wire); nothing it sends is delivered.
    const ch = await createSecureChannel(dev, route, { protocol: 'Noise_XX_25519_AESGCM_SHA256', s: monitor.s, auth: identityAuthenticator(initiatorAuth) })
    await ch.send(utf8('should never arrive'))
    for (let i = 0; i < 10; i++) await tick()
    assert.ok((app.counters.get(`handshake.failed.${expectCode.toLowerCase()}`) ?? 0) >= 1, `listener counted ${expectCode}: ${JSON.stringify([...app.counters])}`)
    assert.deepEqual(delivered, [])
  }

  it('identity misbinding: a valid attestation of another identity is refused', async () => {
    await refused(async ({ monitor, phone }) => {
      // The attacker controls monitor.s but presents phone's identity with phone's (valid) attestation.
      return {
        listenerAuth: { identity: phone.identity, attestation: phone.attestation, policy: parsePolicy('exists subject.identifier'), now: () => NOW },
        initiatorAuth: { identity: phone.identity, attestation: phone.attestation, policy: parsePolicy('exists subject.identifier'), now: () => NOW },
      }
      void monitor
    }, 'IDENTITY_MISBINDING')
  })

  it('an expired attestation is refused', async () => {
    await refused(async ({ monitor, phone }) => {
      const att = await createAttestation(monitor.vault, monitor.key, monitor.identity, monitor.s.publicKey, { now: NOW - 10 * DAY, expires: NOW - DAY })
      return {
        listenerAuth: { identity: phone.identity, attestation: phone.attestation, policy: parsePolicy('exists subject.identifier'), now: () => NOW },
        initiatorAuth: { identity: monitor.identity, attestation: att, policy: parsePolicy('exists subject.identifier'), now: () => NOW },
      }
    }, 'IDENTITY_ATTESTATION_EXPIRED')
  })

  it('a policy denial is refused (credential says role=gateway, policy wants monitor)', async () => {
    await refused(async ({ monitor, phone, issuer }) => {
      const cred = await issueCredential(issuer.vault, issuer.key, issuer.identity, { subject: monitor.identity.identifier, attributes: { role: 'gateway' }, now: NOW, expires: NOW + DAY })
      return {
        listenerAuth: { identity: phone.identity, attestation: phone.attestation, anchors: [issuer.identity], policy: parsePolicy('subject.role = "monitor"'), now: () => NOW },
        initiatorAuth: { identity: monitor.identity, attestation: monitor.attestation, credentials: [cred], policy: parsePolicy('exists subject.identifier'), now: () => NOW },
      }
    }, 'POLICY_DENIED')
  })

  it('an expired credential is refused', async () => {
    await refused(async ({ monitor, phone, issuer }) => {
      const cred = await issueCredential(issuer.vault, issuer.key, issuer.identity, { subject: monitor.identity.identifier, attributes: { role: 'monitor' }, now: NOW - 2 * DAY, notBefore: NOW - 2 * DAY, expires: NOW - DAY })
      return {
        listenerAuth: { identity: phone.identity, attestation: phone.attestation, anchors: [issuer.identity], policy: parsePolicy('subject.role = "monitor"'), now: () => NOW },
        initiatorAuth: { identity: monitor.identity, attestation: monitor.attestation, credentials: [cred], policy: parsePolicy('exists subject.identifier'), now: () => NOW },
      }
    }, 'CREDENTIAL_EXPIRED')
  })
})
