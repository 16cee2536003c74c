/**
 * Threat model T4 (formerly gap G11): one identity key signs five kinds of
 * objects (identity changes, purpose-key attestations, credentials,
 * revocation lists, relay registrations), each under its own domain
 * (src/identity/constants.ts DOMAIN, signedMessage() in src/identity/signing.ts).
 * For every kind Y, a genuine object of kind Y is taken, and the same key is
 * made to sign exactly the bytes Y covers, but as each other kind X (a signing
 * oracle for X fed an object of kind Y: the strongest confusion an attacker
 * can hope for). Put in place of Y's signature, each one is refused by Y's own
 * verifier with Y's bad-signature code; the genuine object verifies (the test
 * can fail). Ed25519 and P-256 identity keys.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decode } from 'cborg'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { isHopsealError } from '../../src/errors.ts'
import { createAttestation, createIdentity, createRevocationList, decodeIdentity, issueCredential, verifyAttestation, verifyCredential, verifyRevocationList, type Identity } from '../../src/identity/index.ts'
import { encodeCanonical } from '../../src/identity/cbor.ts'
import { DOMAIN } from '../../src/identity/constants.ts'
import { relayRegistrationSigner, relayRegistrationVerifier, signedMessage, vaultSign } from '../../src/identity/signing.ts'
import { encodeRelayBody } from '../../src/routing/relay.ts'
import type { KeyHandle, Vault } from '../../src/vault/index.ts'
import { SoftwareVault } from '../../vaults/software/index.ts'

const crypto = cryptoProvider('node')
const T0 = 1735689600
const YEAR = 365 * 86400
type Kind = keyof typeof DOMAIN
const KINDS = Object.keys(DOMAIN) as Kind[]

/** An object of one kind: the parts its signature covers (after the domain), and how to verify it with a signature put in place. */
interface Target {
  kind: Kind
  parts: Uint8Array[]
  /** Verifies the object carrying `signature`; throws (or returns false) when refused. */
  verify(signature: Uint8Array): unknown
  refusedCode: string
}

/** Replaces field 2 (the first signature) of a signed CBOR envelope `{1: data, 2: signature, …}`. */
function withSignature(envelope: Uint8Array, signature: Uint8Array): Uint8Array {
  const m = decode(envelope, { useMaps: true }) as Map<number, Uint8Array>
  m.set(2, signature)
  return encodeCanonical(m)
}

async function targets(vault: Vault, key: KeyHandle): Promise<{ me: Identity; list: Target[] }> {
  const me = await createIdentity(vault, key, { now: T0, expires: T0 + YEAR, crypto })
  const subject = await createIdentity(vault, await vault.generateKey('ed25519'), { now: T0, expires: T0 + YEAR, crypto })
  const noise = await vault.publicKey(await vault.generateKey('x25519'))
  const att = await createAttestation(vault, key, me, noise, { now: T0, expires: T0 + 30 * 86400, crypto })
  const cred = await issueCredential(vault, key, me, { subject: subject.identifier, attributes: { role: 'monitor' }, now: T0, expires: T0 + YEAR })
  const list = await createRevocationList(vault, key, me, { sequence: 1, credentials: [], now: T0 })
  const change = (decode(me.encoded, { useMaps: true }) as Map<number, Uint8Array>[])[0]!
  const envelope = (b: Uint8Array) => (decode(b, { useMaps: true }) as Map<number, Uint8Array>).get(1)!
  const body = encodeRelayBody({ op: 'register', keyType: me.current.keyType, publicKey: me.current.publicKey, seq: 1, expires: T0 + 3600, relay: 'cloud', alias: 'monitor-7' })
  const relayVerifier = relayRegistrationVerifier(crypto)
  return {
    me,
    list: [
      {
        kind: 'change',
        parts: [change.get(1)!],
        verify: (sig) => decodeIdentity(encodeCanonical([new Map([...change, [2, sig]])]), { crypto }),
        refusedCode: 'IDENTITY_BAD_SIGNATURE',
      },
      { kind: 'attestation', parts: [me.identifierBytes, envelope(att)], verify: (sig) => verifyAttestation(me, withSignature(att, sig), { now: T0, crypto }), refusedCode: 'IDENTITY_ATTESTATION_BAD_SIGNATURE' },
      { kind: 'credential', parts: [envelope(cred)], verify: (sig) => verifyCredential(withSignature(cred, sig), { subject: subject.identifier, anchors: [me], now: T0, crypto }), refusedCode: 'CREDENTIAL_BAD_SIGNATURE' },
      { kind: 'revocation', parts: [envelope(list)], verify: (sig) => verifyRevocationList(withSignature(list, sig), me, { now: T0, crypto }), refusedCode: 'CREDENTIAL_REVOCATION_BAD_SIGNATURE' },
      {
        kind: 'relay',
        parts: [body],
        verify: (sig) => {
          if (!relayVerifier.verify(me.current.keyType, me.current.publicKey, body, sig)) throw Object.assign(new Error('relay registration refused'), { code: 'RELAY_BAD_SIGNATURE' })
          return true
        },
        refusedCode: 'RELAY_BAD_SIGNATURE',
      },
    ],
  }
}

const refused = (code: string) => (e: unknown) => (isHopsealError(e) ? e.code === code : (e as { code?: string }).code === code)

for (const type of ['ed25519', 'p256'] as const) {
  describe(`G11: a signature of one kind presented as another, ${type} identity key`, () => {
    it('each kind refuses the same key\'s signature over its exact bytes made as any other kind; its genuine signature verifies', async () => {
      const vault = await SoftwareVault.open({ crypto })
      const key = await vault.generateKey(type)
      const { list } = await targets(vault, key)
      assert.deepEqual(list.map((t) => t.kind).sort(), [...KINDS].sort(), 'every signing domain is covered')
      let refusals = 0
      for (const t of list) {
        const genuine = await vaultSign(vault, key, signedMessage(t.kind, ...t.parts))
        assert.ok(t.verify(genuine), `${t.kind}: the genuine signature verifies`)
        for (const other of KINDS.filter((k) => k !== t.kind)) {
          const confused = await vaultSign(vault, key, signedMessage(other, ...t.parts))
          assert.throws(() => t.verify(confused), refused(t.refusedCode), `${other} signature accepted as ${t.kind}`)
          refusals++
        }
        // and without any domain at all (a raw signature over the bytes)
        const raw = await vaultSign(vault, key, t.parts.length === 1 ? t.parts[0]! : new Uint8Array(t.parts.flatMap((p) => [...p])))
        assert.throws(() => t.verify(raw), refused(t.refusedCode), `a domain-less signature accepted as ${t.kind}`)
        refusals++
      }
      assert.equal(refusals, KINDS.length * KINDS.length)
      console.log(`G11 ${type}: ${refusals} cross-kind signatures refused over ${KINDS.length} kinds`)
    })

    it('the relay registration signer signs under the relay domain only: its signature passes for no identity object', async () => {
      const vault = await SoftwareVault.open({ crypto })
      const key = await vault.generateKey(type)
      const { list } = await targets(vault, key)
      const signer = await relayRegistrationSigner(vault, key)
      for (const t of list.filter((x) => x.kind !== 'relay')) {
        // the registrant is made to sign, as a relay registration body, exactly the bytes an identity object covers
        const sig = await signer.sign(t.parts.length === 1 ? t.parts[0]! : new Uint8Array(t.parts.flatMap((p) => [...p])))
        assert.throws(() => t.verify(sig), refused(t.refusedCode), `a relay signature accepted as ${t.kind}`)
      }
    })
  })
}
