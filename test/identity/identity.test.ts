import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decode, encode, rfc8949EncodeOptions } from 'cborg'
import { concat, fromHex, utf8 } from '../../src/bytes/index.ts'
import { ErrorCode } from '../../src/errors.ts'
import { createIdentity, decodeIdentity, identifierFromText, isIdentifier, verifyIdentity, type Identity } from '../../src/identity/index.ts'
import { crypto, DAY, memoryVault, T0, throwsCode, YEAR, rejectsCode } from './helpers.ts'

const enc = (v: unknown): Uint8Array => encode(v, rfc8949EncodeOptions)
const dec = (b: Uint8Array): unknown => decode(b, { useMaps: true })
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n

/** Re-signs a raw change (Map of data bytes) with chosen vault keys, to build histories the API refuses to make. */
async function signChange(vault: Awaited<ReturnType<typeof memoryVault>>, data: Map<number, unknown>, own: Parameters<typeof vault.sign>[0], prev?: Parameters<typeof vault.sign>[0]): Promise<Map<number, Uint8Array>> {
  const d = enc(data)
  const msg = concat(utf8('hopseal identity change v1'), new Uint8Array([0]), d)
  const m = new Map<number, Uint8Array>([
    [1, d],
    [2, await vault.sign(own, msg)],
  ])
  if (prev) m.set(3, await vault.sign(prev, msg))
  return m
}

function changesOf(id: Identity): Map<number, Uint8Array>[] {
  return dec(id.encoded) as Map<number, Uint8Array>[]
}

describe('identity: create, decode, verify', () => {
  for (const type of ['ed25519', 'p256'] as const) {
    it(`${type}: a one-change identity round-trips and its identifier is I + 40 hex of SHA-256(first change data)`, async () => {
      const vault = await memoryVault()
      const key = await vault.generateKey(type)
      const id = await createIdentity(vault, key, { now: T0, expires: T0 + YEAR, crypto })
      assert.ok(isIdentifier(id.identifier), id.identifier)
      assert.equal(id.identifier.length, 41)
      assert.deepEqual(identifierFromText(id.identifier), crypto.hash('sha256', id.changes[0]!.data).slice(0, 20))
      assert.equal(id.current.keyType, type)
      assert.deepEqual(id.current.publicKey, await vault.publicKey(key))
      const again = verifyIdentity(id.encoded, { now: T0 + 10, crypto, expected: id.identifier })
      assert.equal(again.identifier, id.identifier)
      assert.deepEqual(again.encoded, id.encoded)
      assert.equal(id.describe().changes.length, 1)
    })
  }

  it('refuses x25519 keys as identity keys', async () => {
    const vault = await memoryVault()
    const x = await vault.generateKey('x25519')
    await rejectsCode(() => createIdentity(vault, x, { now: T0, expires: T0 + YEAR }), ErrorCode.VAULT_KEY_TYPE_UNSUPPORTED)
  })

  it('expired, not-yet-created and unexpected identities are refused', async () => {
    const vault = await memoryVault()
    const id = await createIdentity(vault, await vault.generateKey('ed25519'), { now: T0, expires: T0 + DAY, crypto })
    throwsCode(() => verifyIdentity(id.encoded, { now: T0 + DAY, crypto }), ErrorCode.IDENTITY_EXPIRED)
    throwsCode(() => verifyIdentity(id.encoded, { now: T0 - 3600, crypto }), ErrorCode.IDENTITY_BAD_CHANGE)
    const other = await createIdentity(vault, await vault.generateKey('ed25519'), { now: T0, expires: T0 + DAY, crypto })
    throwsCode(() => verifyIdentity(id.encoded, { now: T0, crypto, expected: other.identifier }), ErrorCode.IDENTITY_MISMATCH)
  })

  it('malformed, truncated and non-canonical encodings are IDENTITY_MALFORMED', async () => {
    const vault = await memoryVault()
    const id = await createIdentity(vault, await vault.generateKey('ed25519'), { now: T0, expires: T0 + YEAR, crypto })
    let n = 0
    for (let len = 0; len < id.encoded.length; len++, n++) throwsCode(() => decodeIdentity(id.encoded.subarray(0, len), { crypto }), ErrorCode.IDENTITY_MALFORMED)
    throwsCode(() => decodeIdentity(concat(id.encoded, new Uint8Array([0])), { crypto }), ErrorCode.IDENTITY_MALFORMED)
    // indefinite-length array around the same change
    throwsCode(() => decodeIdentity(concat(new Uint8Array([0x9f]), id.encoded.subarray(1), new Uint8Array([0xff])), { crypto }), ErrorCode.IDENTITY_MALFORMED)
    // non-minimal array header (0x98 0x01 instead of 0x81)
    throwsCode(() => decodeIdentity(concat(new Uint8Array([0x98, 0x01]), id.encoded.subarray(1)), { crypto }), ErrorCode.IDENTITY_MALFORMED)
    // unsorted map keys inside the change (2 before 1), otherwise the same bytes
    const [ch] = changesOf(id)
    const unsorted = concat(new Uint8Array([0x81, 0xa2, 0x02]), enc(ch!.get(2)), new Uint8Array([0x01]), enc(ch!.get(1)))
    throwsCode(() => decodeIdentity(unsorted, { crypto }), ErrorCode.IDENTITY_MALFORMED)
    // an unknown field
    const extra = new Map<number, unknown>(ch!)
    extra.set(9, 1)
    throwsCode(() => decodeIdentity(enc([extra]), { crypto }), ErrorCode.IDENTITY_MALFORMED)
    // not a Uint8Array at all
    throwsCode(() => decodeIdentity('hello' as unknown as Uint8Array, { crypto }), ErrorCode.IDENTITY_MALFORMED)
    console.log(`identity truncations: ${n} passed, 0 failed`)
  })

  it('a bad self-signature is IDENTITY_BAD_SIGNATURE; a high-S P-256 twin too', async () => {
    const vault = await memoryVault()
    const id = await createIdentity(vault, await vault.generateKey('p256'), { now: T0, expires: T0 + YEAR, crypto })
    const [ch] = changesOf(id)
    const sig = ch!.get(2)!
    const flipped = sig.slice()
    flipped[10]! ^= 1
    throwsCode(() => decodeIdentity(enc([new Map([[1, ch!.get(1)!], [2, flipped]])]), { crypto }), ErrorCode.IDENTITY_BAD_SIGNATURE)
    let s = 0n
    for (const b of sig.subarray(32)) s = (s << 8n) | BigInt(b)
    const highS = sig.slice()
    highS.set(fromHex((P256_N - s).toString(16).padStart(64, '0')), 32)
    assert.ok(crypto.verify('p256', id.current.publicKey, concat(utf8('hopseal identity change v1'), new Uint8Array([0]), ch!.get(1)!), highS), 'the high-S twin is a mathematically valid signature')
    throwsCode(() => decodeIdentity(enc([new Map([[1, ch!.get(1)!], [2, highS]])]), { crypto }), ErrorCode.IDENTITY_BAD_SIGNATURE)
  })
})

describe('identity: rotation', () => {
  it('a rotation signed by both keys keeps the identifier and makes the new key current', async () => {
    const vault = await memoryVault()
    const k0 = await vault.generateKey('p256')
    const k1 = await vault.generateKey('ed25519')
    const id0 = await createIdentity(vault, k0, { now: T0, expires: T0 + YEAR, crypto })
    const id1 = await id0.rotate(vault, k0, k1, { now: T0 + DAY, expires: T0 + 2 * YEAR, revokeAll: true, crypto })
    assert.equal(id1.identifier, id0.identifier)
    assert.equal(id1.changes.length, 2)
    assert.equal(id1.current.keyType, 'ed25519')
    assert.equal(id1.current.revokeAll, true)
    assert.deepEqual(id1.current.previous, id0.current.hash)
    assert.equal(id0.changes.length, 1, 'rotate returns a new identity; the old object is unchanged')
    const again = verifyIdentity(id1.encoded, { now: T0 + YEAR + DAY, crypto, expected: id0.identifier })
    assert.equal(again.expires, T0 + 2 * YEAR)
    await rejectsCode(() => id1.rotate(vault, k0, k1, { now: T0 + 2 * DAY, expires: T0 + YEAR, crypto }), ErrorCode.INVALID_ARGUMENT)
    await rejectsCode(() => id1.rotate(vault, k1, k1, { now: T0 + 2 * DAY, expires: T0 + YEAR, crypto }), ErrorCode.INVALID_ARGUMENT)
  })

  it('a change signed by only one of the two keys is refused', async () => {
    const vault = await memoryVault()
    const k0 = await vault.generateKey('ed25519')
    const k1 = await vault.generateKey('ed25519')
    const stranger = await vault.generateKey('ed25519')
    const id0 = await createIdentity(vault, k0, { now: T0, expires: T0 + YEAR, crypto })
    const [first] = changesOf(id0)
    const data = new Map<number, unknown>([
      [1, id0.current.hash],
      [2, 0],
      [3, await vault.publicKey(k1)],
      [4, T0 + DAY],
      [5, T0 + YEAR],
    ])
    const good = await signChange(vault, data, k1, k0)
    assert.equal(decodeIdentity(enc([first, good]), { crypto }).changes.length, 2, 'control: both signatures verify')
    // only the new key signed (no previous signature)
    const onlyNew = await signChange(vault, data, k1)
    throwsCode(() => decodeIdentity(enc([first, onlyNew]), { crypto }), ErrorCode.IDENTITY_BAD_SIGNATURE)
    // the new key signed twice
    const twice = await signChange(vault, data, k1, k1)
    throwsCode(() => decodeIdentity(enc([first, twice]), { crypto }), ErrorCode.IDENTITY_BAD_SIGNATURE)
    // only the old key signed (own signature by the old key)
    const onlyOld = await signChange(vault, data, k0, k0)
    throwsCode(() => decodeIdentity(enc([first, onlyOld]), { crypto }), ErrorCode.IDENTITY_BAD_SIGNATURE)
    // previous signature by a stranger
    const strangerPrev = await signChange(vault, data, k1, stranger)
    throwsCode(() => decodeIdentity(enc([first, strangerPrev]), { crypto }), ErrorCode.IDENTITY_BAD_SIGNATURE)
  })

  it('broken links, same-key rotations and out-of-lifetime rotations are IDENTITY_BAD_CHANGE', async () => {
    const vault = await memoryVault()
    const k0 = await vault.generateKey('ed25519')
    const k1 = await vault.generateKey('ed25519')
    const id0 = await createIdentity(vault, k0, { now: T0, expires: T0 + YEAR, crypto })
    const [first] = changesOf(id0)
    const base = (over: [number, unknown][]): Map<number, unknown> =>
      new Map<number, unknown>([
        [1, id0.current.hash],
        [2, 0],
        [3, id0.current.publicKey],
        [4, T0 + DAY],
        [5, T0 + YEAR],
        ...over,
      ])
    const wrongLink = await signChange(vault, base([[1, new Uint8Array(20)], [3, await vault.publicKey(k1)]]), k1, k0)
    throwsCode(() => decodeIdentity(enc([first, wrongLink]), { crypto }), ErrorCode.IDENTITY_BAD_CHANGE)
    const sameKey = await signChange(vault, base([]), k0, k0)
    throwsCode(() => decodeIdentity(enc([first, sameKey]), { crypto }), ErrorCode.IDENTITY_BAD_CHANGE)
    const afterExpiry = await signChange(vault, base([[3, await vault.publicKey(k1)], [4, T0 + YEAR], [5, T0 + 2 * YEAR]]), k1, k0)
    throwsCode(() => decodeIdentity(enc([first, afterExpiry]), { crypto }), ErrorCode.IDENTITY_BAD_CHANGE)
    const firstWithRevokeAll = await signChange(vault, new Map<number, unknown>([[2, 0], [3, id0.current.publicKey], [4, T0], [5, T0 + YEAR], [6, true]]), k0)
    throwsCode(() => decodeIdentity(enc([firstWithRevokeAll]), { crypto }), ErrorCode.IDENTITY_MALFORMED)
  })

  it('an expired current key cannot sign a rotation', async () => {
    const vault = await memoryVault()
    const k0 = await vault.generateKey('ed25519')
    const id0 = await createIdentity(vault, k0, { now: T0, expires: T0 + DAY, crypto })
    await rejectsCode(() => id0.rotate(vault, k0, k0, { now: T0 + DAY, expires: T0 + YEAR, crypto }), ErrorCode.INVALID_ARGUMENT)
    const k1 = await vault.generateKey('ed25519')
    await rejectsCode(() => id0.rotate(vault, k0, k1, { now: T0 + DAY, expires: T0 + YEAR, crypto }), ErrorCode.IDENTITY_EXPIRED)
  })
})
