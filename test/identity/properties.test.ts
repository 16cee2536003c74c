/**
 * Property tests (issue 3 "Bad input"): every decoder is total (any bytes →
 * a value or a HopsealError, ≥ 10 000 cases each), and any single-byte
 * mutation of an encoded identity, attestation, credential or revocation list
 * fails verification (10 000 cases each, node provider).
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import fc from 'fast-check'
import { encode, rfc8949EncodeOptions } from 'cborg'
import { HopsealError } from '../../src/errors.ts'
import {
  createAttestation,
  createIdentity,
  createRevocationList,
  decodeAttestation,
  decodeCredential,
  decodeIdentity,
  decodeRevocationList,
  issueCredential,
  parsePolicy,
  verifyAttestation,
  verifyCredential,
  verifyIdentity,
  verifyRevocationList,
  type Identity,
} from '../../src/identity/index.ts'
import { crypto, DAY, memoryVault, T0, YEAR } from './helpers.ts'

const RUNS = 10_000
const NOW = T0 + DAY

interface Fixture {
  identity: Identity
  identityBytes: Uint8Array
  attestation: Uint8Array
  staticKey: Uint8Array
  credential: Uint8Array
  revocation: Uint8Array
  issuer: Identity
}
let fx: Fixture

before(async () => {
  const vault = await memoryVault()
  const k0 = await vault.generateKey('p256')
  const k1 = await vault.generateKey('ed25519')
  const id0 = await createIdentity(vault, k0, { now: T0, expires: T0 + YEAR, crypto })
  const identity = await id0.rotate(vault, k0, k1, { now: T0 + 1, expires: T0 + YEAR, revokeAll: true, crypto })
  const staticKey = await vault.publicKey(await vault.generateKey('x25519'))
  const attestation = await createAttestation(vault, k1, identity, staticKey, { now: T0 + 1, expires: T0 + 30 * DAY, crypto })
  const ik = await vault.generateKey('ed25519')
  const issuer = await createIdentity(vault, ik, { now: T0, expires: T0 + YEAR, crypto })
  const credential = await issueCredential(vault, ik, issuer, { subject: identity.identifier, attributes: { role: 'monitor', site: 'ward-3' }, now: T0, expires: T0 + YEAR })
  const revocation = await createRevocationList(vault, ik, issuer, { sequence: 7, credentials: ['00'.repeat(16), 'ff'.repeat(16)], now: T0 })
  fx = { identity, identityBytes: identity.encoded, attestation, staticKey, credential, revocation, issuer }
})

/** Arbitrary CBOR-ish values with small integer map keys, so the fuzz reaches the schema checks, not only the CBOR parser. */
const cborValue = fc.letrec((tie) => ({
  leaf: fc.oneof(fc.integer({ min: -10, max: 2 ** 41 }), fc.uint8Array({ maxLength: 70 }), fc.string({ maxLength: 12 }), fc.boolean(), fc.constant(null)),
  node: fc.oneof({ depthSize: 'small' }, tie('leaf'), fc.array(tie('node'), { maxLength: 5 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 7 }), tie('node')), { maxLength: 6 }).map((e) => new Map(e))),
})).node

function inputs(valid: () => Uint8Array): fc.Arbitrary<Uint8Array> {
  const edits = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete')), { minLength: 1, maxLength: 4 })
  return fc.oneof(
    fc.uint8Array({ maxLength: 400 }),
    cborValue.map((v) => encode(v, rfc8949EncodeOptions)),
    cborValue.map((v) => encode(new Map<number, unknown>([[1, encode(v, rfc8949EncodeOptions)], [2, new Uint8Array(64)]]), rfc8949EncodeOptions)),
    edits.map((es) => {
      const b = Array.from(valid())
      for (const [pos, val, op] of es) {
        const i = pos % (b.length + 1)
        if (op === 'set' && i < b.length) b[i] = val
        else if (op === 'insert') b.splice(i, 0, val)
        else b.splice(i, 1)
      }
      return Uint8Array.from(b)
    }),
  )
}

function total(decoder: (b: Uint8Array) => unknown): (b: Uint8Array) => void {
  return (b) => {
    try {
      decoder(b)
    } catch (e) {
      if (!(e instanceof HopsealError)) throw new Error(`decoder threw a non-HopsealError: ${String(e)}`)
    }
  }
}

describe('decoders are total (fast-check)', () => {
  const decoders: [string, () => Uint8Array, (b: Uint8Array) => unknown][] = [
    ['decodeIdentity', () => fx.identityBytes, (b) => decodeIdentity(b, { crypto })],
    ['decodeAttestation', () => fx.attestation, decodeAttestation],
    ['decodeCredential', () => fx.credential, (b) => decodeCredential(b, { crypto })],
    ['decodeRevocationList', () => fx.revocation, decodeRevocationList],
  ]
  for (const [name, valid, decoder] of decoders) {
    it(`${name}: ${RUNS} generated inputs give a value or a HopsealError`, () => {
      let n = 0
      fc.assert(
        fc.property(inputs(valid), (b) => {
          n++
          total(decoder)(b)
        }),
        { numRuns: RUNS },
      )
      assert.equal(n, RUNS)
      console.log(`${name} fuzz: ${n} passed, 0 failed`)
    })
  }

  it(`parsePolicy: ${RUNS} generated strings parse or give a HopsealError`, () => {
    const tokens = fc.constantFrom('subject.role', 'resource.x', '"a"', '(', ')', '[', ']', ',', '=', '!=', 'and', 'or', 'not', 'in', 'exists', 'true', '"\\"', '!', '#', ' ')
    let n = 0
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.array(tokens, { maxLength: 30 }).map((t) => t.join(' '))), (s) => {
        n++
        try {
          const p = parsePolicy(s)
          assert.equal(typeof p.evaluate({ subject: { role: 'x' }, resource: {} }), 'boolean')
        } catch (e) {
          if (!(e instanceof HopsealError)) throw e
        }
      }),
      { numRuns: RUNS },
    )
    console.log(`parsePolicy fuzz: ${n} passed, 0 failed`)
  })
})

describe('any single-byte mutation fails verification (fast-check)', () => {
  const cases: [string, () => Uint8Array, (b: Uint8Array) => unknown][] = [
    ['identity (2 changes)', () => fx.identityBytes, (b) => verifyIdentity(b, { now: NOW, crypto })],
    ['attestation', () => fx.attestation, (b) => verifyAttestation(fx.identity, b, { expectedStaticKey: fx.staticKey, now: NOW, crypto })],
    ['credential', () => fx.credential, (b) => verifyCredential(b, { subject: fx.identity.identifier, anchors: [fx.issuer], now: NOW, crypto })],
    ['revocation list', () => fx.revocation, (b) => verifyRevocationList(b, fx.issuer, { now: NOW, crypto })],
  ]
  for (const [name, valid, verify] of cases) {
    it(`${name}: control verifies; ${RUNS} mutated copies are refused with a HopsealError`, () => {
      verify(valid())
      let n = 0
      const codes = new Map<string, number>()
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 1, max: 255 }), (pos, delta) => {
          const b = valid().slice()
          const i = pos % b.length
          b[i] = (b[i]! + delta) & 0xff
          n++
          assert.throws(() => verify(b), (e: unknown) => {
            if (!(e instanceof HopsealError)) return false
            codes.set(e.code, (codes.get(e.code) ?? 0) + 1)
            return true
          }, `mutation at ${i} (+${delta}) still verifies`)
        }),
        { numRuns: RUNS },
      )
      console.log(`${name} mutations: ${n} passed, 0 failed (${[...codes].map(([c, k]) => `${c} ${k}`).join(', ')})`)
    })

    it(`${name}: exhaustive sweep, every byte position × deltas 1, 0x80, 0xff`, () => {
      const v = valid()
      let n = 0
      for (let i = 0; i < v.length; i++) {
        for (const delta of [1, 0x80, 0xff]) {
          const b = v.slice()
          b[i] = (b[i]! + delta) & 0xff
          assert.throws(() => verify(b), HopsealError, `mutation at ${i} (+${delta}) still verifies`)
          n++
        }
      }
      assert.equal(n, 3 * v.length)
      console.log(`${name} exhaustive mutations (${v.length} bytes): ${n} passed, 0 failed`)
    })
  }
})
