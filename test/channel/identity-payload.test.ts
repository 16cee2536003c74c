import assert from 'node:assert/strict'
import { it } from 'node:test'
import fc from 'fast-check'
import { isHopsealError } from '../../src/errors.ts'
import { decodeIdentityPayload, encodeIdentityPayload, MAX_CREDENTIALS } from '../../src/channel/identity-auth.ts'

it('identity payload: round-trips, and any bytes give a value or a typed error (10 000 cases)', () => {
  const id = Uint8Array.of(1, 2, 3)
  const att = Uint8Array.of(4, 5)
  const creds = [Uint8Array.of(6), Uint8Array.of(7, 8)]
  const enc = encodeIdentityPayload(id, att, creds)
  assert.deepEqual(decodeIdentityPayload(enc), { identity: id, attestation: att, credentials: creds, misbound: false })
  assert.throws(() => decodeIdentityPayload(enc.subarray(0, enc.length - 1)), (e: unknown) => isHopsealError(e, 'DECODE_ERROR'))
  assert.throws(() => decodeIdentityPayload(Uint8Array.of(...enc, 0)), (e: unknown) => isHopsealError(e, 'DECODE_ERROR'))
  assert.throws(() => decodeIdentityPayload(Uint8Array.of(1, 9, 0, MAX_CREDENTIALS + 1)), (e: unknown) => isHopsealError(e, 'LIMIT_EXCEEDED'))
  // A leading 00 is the compact form (identity-compact.test.ts): it needs the remote static key.
  assert.throws(() => decodeIdentityPayload(Uint8Array.of(0, 0, 0)), (e: unknown) => isHopsealError(e, 'DECODE_ERROR'))
  assert.throws(() => decodeIdentityPayload(new Uint8Array(5000)), (e: unknown) => isHopsealError(e, 'LIMIT_EXCEEDED'))
  let decoded = 0
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      try {
        const v = decodeIdentityPayload(b)
        assert.deepEqual(encodeIdentityPayload(v.identity, v.attestation, v.credentials), b)
        decoded++
      } catch (e) {
        if (!isHopsealError(e)) throw e
      }
    }),
    { numRuns: 10000 },
  )
  console.log(`identity payload fuzz: 10000 cases, ${decoded} decoded (and re-encoded identically), the rest typed errors`)
})
