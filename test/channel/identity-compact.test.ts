/**
 * The compact identity payload (docs/identity.md §4.1, protocol.md "Handshake
 * payloads"): it rebuilds the exact full form (same identifier, same signed
 * bytes), verifies like it, fails on every tampered field with the error the
 * full form gives for that field, and any bytes decode to a value or a typed
 * error.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { decodeVarint } from '../../src/bytes/index.ts'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { isHopsealError } from '../../src/errors.ts'
import { createAttestation, createIdentity, issueCredential, parsePolicy, type Identity } from '../../src/identity/index.ts'
import { encodeCompact, expandCompact, STATIC_KEY_HINT_BYTES } from '../../src/identity/compact.ts'
import { decodeIdentityPayload, encodeCompactIdentityPayload, encodeIdentityPayload, identityAuthenticator } from '../../src/channel/identity-auth.ts'
import { SoftwareVault } from '../../vaults/software/index.ts'

const crypto = cryptoProvider('node')
const NOW = 1_800_000_000
const DAY = 86400
const policy = parsePolicy('exists subject.identifier')

interface Party {
  identity: Identity
  staticKey: Uint8Array
  attestation: Uint8Array
  vault: SoftwareVault
  key: Awaited<ReturnType<SoftwareVault['generateKey']>>
}

async function party(idType: 'ed25519' | 'p256', dh: 'x25519' | 'p256', rotate = false): Promise<Party> {
  const vault = await SoftwareVault.open()
  let key = await vault.generateKey(idType)
  let identity = await createIdentity(vault, key, { now: NOW - 30 * DAY, expires: NOW + 365 * DAY })
  if (rotate) {
    const next = await vault.generateKey(idType)
    identity = await identity.rotate(vault, key, next, { now: NOW - 10 * DAY, expires: NOW + 400 * DAY, revokeAll: true })
    key = next
  }
  const staticKey = await vault.publicKey(await vault.generateKey(dh))
  const attestation = await createAttestation(vault, key, identity, staticKey, { now: NOW - DAY, expires: NOW + 30 * DAY })
  return { identity, staticKey, attestation, vault, key }
}

let me: Party | undefined
/** A verifying side (its own identity is only what it would send). */
const verifier = async (): Promise<ReturnType<typeof identityAuthenticator>> => {
  me ??= await party('ed25519', 'x25519')
  return identityAuthenticator({ identity: me.identity, attestation: me.attestation, policy, now: () => NOW })
}

function codeOf(f: () => unknown): string {
  try {
    f()
  } catch (e) {
    if (isHopsealError(e)) return e.code
    throw e
  }
  return 'OK'
}

describe('compact identity payload', () => {
  for (const [idType, dh, rotate] of [['ed25519', 'x25519', false], ['p256', 'p256', false], ['ed25519', 'x25519', true], ['p256', 'x25519', true]] as const) {
    it(`${idType} identity${rotate ? ' after a revoke-all rotation' : ''}, ${dh} static key: rebuilds the exact full form; both forms verify to the same peer`, async () => {
      const p = await party(idType, dh, rotate)
      const compact = encodeCompact(p.identity, p.attestation)
      assert.ok(compact, 'expressible')
      const x = expandCompact(compact, 0, p.staticKey, crypto)
      assert.deepEqual(x.identity, p.identity.encoded, 'the same identity bytes: the same identifier')
      assert.deepEqual(x.attestation, p.attestation, 'the same attestation bytes')
      assert.equal(x.misbound, false)
      assert.equal(x.end, compact.length)
      const full = encodeIdentityPayload(p.identity.encoded, p.attestation)
      const small = encodeCompactIdentityPayload(p.identity, p.attestation)
      const v = await verifier()
      const a = v.verify(p.staticKey, full) as { identifier?: string }
      const b = v.verify(p.staticKey, small) as { identifier?: string }
      assert.deepEqual(b, a)
      assert.equal(b.identifier, p.identity.identifier)
      const saved = full.length - small.length
      console.log(`${idType}${rotate ? ' rotated' : ''}/${dh}: full ${full.length} B, compact ${small.length} B (−${saved})`)
      assert.ok(saved >= (dh === 'x25519' ? 60 : 61) + (rotate ? 20 : 0), `compact saves ${saved} bytes`)
    })
  }

  it('a one-change Ed25519 identity with an X25519 attestation and no credentials: 179 bytes instead of 240', async () => {
    const p = await party('ed25519', 'x25519')
    assert.equal(encodeIdentityPayload(p.identity.encoded, p.attestation).length, 240)
    assert.equal(encodeCompactIdentityPayload(p.identity, p.attestation).length, 179)
  })

  it('credentials travel in both forms and verify the same', async () => {
    const p = await party('ed25519', 'x25519')
    const issuerVault = await SoftwareVault.open()
    const ik = await issuerVault.generateKey('ed25519')
    const issuer = await createIdentity(issuerVault, ik, { now: NOW - 30 * DAY, expires: NOW + 365 * DAY })
    const cred = await issueCredential(issuerVault, ik, issuer, { subject: p.identity.identifier, attributes: { role: 'monitor' }, now: NOW - DAY, expires: NOW + 30 * DAY })
    const v = identityAuthenticator({ identity: p.identity, attestation: p.attestation, policy: parsePolicy('subject.role = "monitor"'), anchors: [issuer], now: () => NOW })
    const full = encodeIdentityPayload(p.identity.encoded, p.attestation, [cred])
    const small = encodeCompactIdentityPayload(p.identity, p.attestation, [cred])
    assert.equal(small.length, full.length - 61)
    assert.deepEqual(v.verify(p.staticKey, small), v.verify(p.staticKey, full))
    assert.equal((v.verify(p.staticKey, small) as { attributes?: Record<string, string> }).attributes?.role, 'monitor')
  })

  it('an attestation the compact form cannot express (outliving its signing key) is sent in the full form', async () => {
    const p = await party('ed25519', 'x25519')
    // Hand-made: the attestation's expiry after the key's (createAttestation refuses to make one).
    const { encodeCanonical } = await import('../../src/identity/cbor.ts')
    const { signedMessage } = await import('../../src/identity/signing.ts')
    const data = encodeCanonical(new Map<number, unknown>([[1, 0], [2, p.staticKey], [3, p.identity.current.expires + 1]]))
    const sig = await p.vault.sign(p.key, signedMessage('attestation', p.identity.identifierBytes, data))
    const att = encodeCanonical(new Map<number, Uint8Array>([[1, data], [2, sig]]))
    assert.equal(encodeCompact(p.identity, att), undefined)
    assert.deepEqual(encodeCompactIdentityPayload(p.identity, att), encodeIdentityPayload(p.identity.encoded, att))
  })

  it('each tampered field fails with the error the full form gives for the same field', async () => {
    const p = await party('ed25519', 'x25519', true)
    const v = await verifier()
    const full = encodeIdentityPayload(p.identity.encoded, p.attestation)
    const compact = encodeCompactIdentityPayload(p.identity, p.attestation)
    assert.equal(codeOf(() => v.verify(p.staticKey, compact)), 'OK')
    // Offsets of the fields in the compact payload: 00 ‖ header ‖ change 0 ‖ change 1 ‖ attestation.
    let o = 2
    const at: Record<string, number> = {}
    for (let i = 0; i < 2; i++) {
      o += 1 // flags
      at[`change ${i} public key`] = o
      o += 32
      at[`change ${i} created`] = o
      o += decodeVarint(compact, o).length
      at[`change ${i} lifetime`] = o
      o += decodeVarint(compact, o).length
      at[`change ${i} signature`] = o
      o += 64
      if (i > 0) {
        at[`change ${i} previous signature`] = o
        o += 64
      }
    }
    at['attestation expiry'] = o
    o += decodeVarint(compact, o).length
    at['attestation key bytes'] = o
    o += STATIC_KEY_HINT_BYTES
    at['attestation signature'] = o
    // The same fields in the full form, found by value.
    const find = (hay: Uint8Array, needle: Uint8Array): number => {
      for (let i = 0; i + needle.length <= hay.length; i++) if (needle.every((b, j) => hay[i + j] === b)) return i
      throw new Error('not found')
    }
    const c0 = p.identity.changes[0]!
    const c1 = p.identity.changes[1]!
    const att = (await import('../../src/identity/attestation.ts')).decodeAttestation(p.attestation)
    const be32 = (n: number): Uint8Array => Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255)
    const inFull: Record<string, number> = {
      'change 0 public key': find(full, c0.publicKey),
      'change 1 public key': find(full, c1.publicKey),
      'change 0 created': find(full, Uint8Array.of(0x04, 0x1a, ...be32(c0.created))) + 5,
      'change 1 created': find(full, Uint8Array.of(0x04, 0x1a, ...be32(c1.created))) + 5,
      'change 0 lifetime': find(full, Uint8Array.of(0x05, 0x1a, ...be32(c0.expires))) + 5,
      'change 1 lifetime': find(full, Uint8Array.of(0x05, 0x1a, ...be32(c1.expires))) + 5,
      'change 0 signature': find(full, c0.signature),
      'change 1 signature': find(full, c1.signature),
      'change 1 previous signature': find(full, c1.previousSignature!),
      'attestation expiry': find(full, Uint8Array.of(0x03, 0x1a, ...be32(att.expires))) + 5,
      'attestation key bytes': find(full, p.staticKey) + 31,
      'attestation signature': find(full, att.signature),
    }
    const flip = (b: Uint8Array, i: number): Uint8Array => {
      const c = b.slice()
      c[i]! ^= 1
      return c
    }
    let checked = 0
    for (const [field, i] of Object.entries(at)) {
      const want = codeOf(() => v.verify(p.staticKey, flip(full, inFull[field]!)))
      const got = codeOf(() => v.verify(p.staticKey, flip(compact, i)))
      assert.notEqual(want, 'OK', `${field}: the full form refuses the change`)
      assert.equal(got, want, `${field}: compact ${got}, full ${want}`)
      checked++
    }
    // The attestation's signing change (header's low nibble): a change this history lacks.
    const header = compact.slice()
    header[1] = (header[1]! & 0xf0) | 5
    assert.equal(codeOf(() => v.verify(p.staticKey, header)), 'IDENTITY_UNKNOWN_CHANGE')
    console.log(`compact tamper: ${checked} fields, each the full form's error`)
    assert.equal(checked, 12)
  })

  it('an attestation of another static key is IDENTITY_MISBINDING in both forms', async () => {
    const p = await party('ed25519', 'x25519')
    const other = await p.vault.publicKey(await p.vault.generateKey('x25519'))
    const v = await verifier()
    assert.equal(codeOf(() => v.verify(other, encodeIdentityPayload(p.identity.encoded, p.attestation))), 'IDENTITY_MISBINDING')
    assert.equal(codeOf(() => v.verify(other, encodeCompactIdentityPayload(p.identity, p.attestation))), 'IDENTITY_MISBINDING')
  })

  it('a compact payload needs the remote static key to decode, and is refused without it', async () => {
    const p = await party('ed25519', 'x25519')
    assert.equal(codeOf(() => decodeIdentityPayload(encodeCompactIdentityPayload(p.identity, p.attestation))), 'DECODE_ERROR')
  })

  it('any bytes after the compact mark decode to a value or a typed error (10 000 cases)', async () => {
    const p = await party('ed25519', 'x25519')
    const valid = encodeCompactIdentityPayload(p.identity, p.attestation)
    let decoded = 0
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 260 }), fc.nat(valid.length), (tail, cut) => {
        for (const b of [Uint8Array.of(0, ...tail), Uint8Array.of(...valid.subarray(0, cut), ...tail.subarray(0, 8))]) {
          try {
            decodeIdentityPayload(b, p.staticKey, crypto)
            decoded++
          } catch (e) {
            if (!isHopsealError(e)) throw e
          }
        }
      }),
      { numRuns: 10000 },
    )
    console.log(`compact identity payload fuzz: 20000 inputs, ${decoded} decoded, the rest typed errors`)
  })
})
