/**
 * Proofs against a real SoftHSM2 token (issue 6 "Done when"): private keys
 * cannot be read out, signatures verify with node:crypto, CKR_* failures map to
 * stable codes (wrong PIN, absent token, GCM tag mismatch), the session pool
 * bounds and queues work, and lost sessions / logouts are recovered.
 */
import assert from 'node:assert/strict'
import { createPublicKey, verify } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import pkcs11js from 'pkcs11js'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { isHopsealError } from '../../src/errors.ts'
import type { KeyHandle } from '../../src/vault/index.ts'
import { Pkcs11Vault, mapPkcs11Error } from '../../vaults/pkcs11/index.ts'
import { createSoftHsmToken, type SoftHsmToken } from '../helpers/softhsm.ts'
import { needSystem } from '../helpers/system.ts'
import { openRaw } from './raw.ts'

const skip = needSystem('softhsm2-util')
const node = cryptoProvider('node')
const msg = new TextEncoder().encode('hopseal pkcs11 proof')

async function rejectsCode(p: Promise<unknown>, code: string, notIn?: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isHopsealError(e), `expected HopsealError, got ${String(e)}`)
    assert.equal(e.code, code)
    if (notIn !== undefined) assert.ok(!e.message.includes(notIn), 'error message must not carry the PIN')
    return true
  })
}

function b64url(b: Uint8Array): string {
  return Buffer.from(b).toString('base64url')
}

/** node:crypto verification, independent of hopseal's providers. */
function nodeVerify(type: 'p256' | 'ed25519', pub: Uint8Array, message: Uint8Array, sig: Uint8Array): boolean {
  if (type === 'ed25519') {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(pub) }, format: 'jwk' })
    return verify(null, message, key, sig)
  }
  const u = node.p256Point(pub, false)
  const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: b64url(u.subarray(1, 33)), y: b64url(u.subarray(33)) }, format: 'jwk' })
  return verify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, sig)
}

describe('pkcs11 vault against SoftHSM2', { skip }, () => {
  let hsm: SoftHsmToken
  let vault: Pkcs11Vault
  const open = (extra: Partial<Parameters<typeof Pkcs11Vault.open>[0]> = {}): Promise<Pkcs11Vault> =>
    Pkcs11Vault.open({ module: hsm.module, token: hsm.label, pin: hsm.pin, ...extra })

  before(async () => {
    hsm = await createSoftHsmToken({ label: 'proofs' })
  })
  after(async () => {
    await vault?.close()
    await hsm?.remove()
  })

  // PKCS#11 login state belongs to the process, so the PIN checks run before any vault is logged in.
  it('a wrong PIN gives VAULT_WRONG_PIN and the PIN is not in the message', async () => {
    await rejectsCode(open({ pin: '987654' }), 'VAULT_WRONG_PIN', '987654')
  })

  it('PIN sources: a missing variable, an empty file and a good file', async () => {
    await rejectsCode(open({ pin: undefined, pinEnv: 'HOPSEAL_TEST_PIN_UNSET_XYZ', env: {} }), 'VAULT_WRONG_PIN')
    const empty = join(hsm.dir, 'empty.pin')
    writeFileSync(empty, '\n')
    await rejectsCode(open({ pin: undefined, pinFile: empty }), 'VAULT_WRONG_PIN')
    const file = join(hsm.dir, 'user.pin')
    writeFileSync(file, `${hsm.pin}\n`, { mode: 0o600 })
    const v = await open({ pin: undefined, pinFile: file })
    assert.ok(v.capabilities().sign.includes('p256'))
    await v.close()
    const e = await open({ pin: undefined, pinEnv: 'HOPSEAL_TEST_PIN', env: { HOPSEAL_TEST_PIN: hsm.pin } })
    assert.equal((await e.random(8)).length, 8)
    await e.close()
  })

  it('an absent token, a missing module and bad options give typed codes', async () => {
    await rejectsCode(open({ token: 'no-such-token' }), 'VAULT_TOKEN_ABSENT')
    await rejectsCode(open({ module: join(hsm.dir, 'missing.so') }), 'INVALID_ARGUMENT')
    await rejectsCode(open({ sessions: 0 }), 'INVALID_ARGUMENT')
    await rejectsCode(open({ pinEnv: 'X' }), 'INVALID_ARGUMENT') // pin and pinEnv together
  })

  it('opens, probes the mechanisms and reports them', async () => {
    vault = await open({ sessions: 2 })
    const caps = vault.capabilities()
    assert.deepEqual([...caps.sign].sort(), ['ed25519', 'p256'])
    assert.deepEqual([...caps.ecdh].sort(), ['p256', 'x25519'])
    assert.equal(vault.sessions, 2)
  })

  it('private keys are sensitive and never extractable; reading CKA_VALUE fails', async () => {
    const raw = openRaw(hsm.module, hsm.label, hsm.pin)
    let checked = 0
    try {
      for (const type of ['p256', 'ed25519', 'x25519'] as const) {
        for (const persistent of [true, false]) {
          const h = await vault.generateKey(type, { label: `sensitive-${type}-${persistent}`, persistent })
          const objs = raw.privateKeys(h.id)
          assert.equal(objs.length, 1, `${type}: one private key object`)
          const obj = objs[0]!
          assert.throws(() => raw.p11.C_GetAttributeValue(raw.session, obj, [{ type: pkcs11js.CKA_VALUE }]), /CKR_ATTRIBUTE_SENSITIVE/)
          const [sens, extr, never, always, tok] = raw.p11
            .C_GetAttributeValue(raw.session, obj, [
              { type: pkcs11js.CKA_SENSITIVE },
              { type: pkcs11js.CKA_EXTRACTABLE },
              { type: pkcs11js.CKA_NEVER_EXTRACTABLE },
              { type: pkcs11js.CKA_ALWAYS_SENSITIVE },
              { type: pkcs11js.CKA_TOKEN },
            ])
            .map((a) => a.value[0])
          assert.deepEqual([sens, extr, never, always, tok], [1, 0, 1, 1, persistent ? 1 : 0], `${type} attributes`)
          assert.throws(() => raw.p11.C_SetAttributeValue(raw.session, obj, [{ type: pkcs11js.CKA_EXTRACTABLE, value: true }]), /CKR_ATTRIBUTE_READ_ONLY/)
          await vault.deleteKey(h)
          checked++
        }
      }
    } finally {
      raw.close()
    }
    assert.equal(checked, 6)
  })

  it('signatures verify with node:crypto (P-256 raw r||s low-S over SHA-256, Ed25519)', async () => {
    let n = 0
    for (const type of ['p256', 'ed25519'] as const) {
      const h = await vault.generateKey(type)
      const pub = await vault.publicKey(h)
      for (let i = 0; i < 8; i++) {
        const m = new TextEncoder().encode(`message ${i}`)
        const sig = await vault.sign(h, m)
        assert.ok(nodeVerify(type, pub, m, sig), `${type} signature ${i} verifies with node:crypto`)
        assert.equal(nodeVerify(type, pub, msg, sig), false, 'and not for another message')
        n++
      }
      await vault.deleteKey(h)
    }
    assert.equal(n, 16)
  })

  it('ECDH accepts 33- and 65-byte peers and matches node:crypto; an X25519 low-order peer is refused', async () => {
    const h = await vault.generateKey('p256')
    const pub = await vault.publicKey(h)
    assert.equal(pub.length, 33)
    const peer = node.generateKeyPair('p256')
    const a = await vault.ecdh(h, peer.publicKey)
    const b = await vault.ecdh(h, node.p256Point(peer.publicKey, false))
    assert.deepEqual(a, b)
    assert.deepEqual(a, node.dh(peer, pub))
    await vault.deleteKey(h)
    const x = await vault.generateKey('x25519')
    const order8 = Buffer.from('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', 'hex') // RFC 7748 low-order point
    await assert.rejects(vault.ecdh(x, new Uint8Array(order8)), (e: unknown) => isHopsealError(e) && ['WEAK_SHARED_SECRET', 'INVALID_POINT'].includes(e.code))
    await vault.deleteKey(x)
  })

  it('a GCM tag mismatch (CKR_GENERAL_ERROR in SoftHSM 2.6.1) maps to AEAD_AUTH_FAILED', () => {
    const raw = openRaw(hsm.module, hsm.label, hsm.pin)
    try {
      const key = raw.p11.C_GenerateKey(raw.session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
        { type: pkcs11js.CKA_TOKEN, value: false },
        { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
        { type: pkcs11js.CKA_ENCRYPT, value: true },
        { type: pkcs11js.CKA_DECRYPT, value: true },
      ])
      const mech = { mechanism: pkcs11js.CKM_AES_GCM, parameter: { type: pkcs11js.CK_PARAMS_AES_GCM, iv: Buffer.alloc(12, 1), aad: Buffer.alloc(0), ivBits: 96, tagBits: 128 } }
      raw.p11.C_EncryptInit(raw.session, mech, key)
      const ct = raw.p11.C_Encrypt(raw.session, Buffer.from(msg), Buffer.alloc(msg.length + 16))
      ct[ct.length - 1]! ^= 1
      raw.p11.C_DecryptInit(raw.session, mech, key)
      let caught: unknown
      try {
        raw.p11.C_Decrypt(raw.session, ct, Buffer.alloc(ct.length))
      } catch (e) {
        caught = e
      }
      assert.ok(caught, 'tampered ciphertext must fail')
      assert.equal(mapPkcs11Error(caught, 'aead-decrypt').code, 'AEAD_AUTH_FAILED')
      raw.p11.C_DestroyObject(raw.session, key)
    } finally {
      raw.close()
    }
  })

  it('the session pool runs more operations than sessions, and a queued call can be aborted', async () => {
    const h = await vault.generateKey('p256')
    const pub = await vault.publicKey(h)
    const msgs = Array.from({ length: 24 }, (_, i) => new TextEncoder().encode(`pool ${i}`))
    const sigs = await Promise.all(msgs.map((m) => vault.sign(h, m)))
    assert.equal(sigs.filter((s, i) => nodeVerify('p256', pub, msgs[i]!, s)).length, 24)
    // two sessions: the first two calls hold them, the third waits and is aborted
    const ac = new AbortController()
    const p1 = vault.sign(h, msg)
    const p2 = vault.sign(h, msg)
    const p3 = vault.sign(h, msg, { signal: ac.signal })
    ac.abort()
    await rejectsCode(p3, 'ABORTED')
    assert.ok(nodeVerify('p256', pub, msg, await p1))
    assert.ok(nodeVerify('p256', pub, msg, await p2))
    await vault.deleteKey(h)
  })

  it('recovers from lost sessions and from a logout; session keys die with their sessions', async () => {
    const tokenKey = await vault.generateKey('p256', { label: 'survivor', persistent: true })
    const sessionKey = await vault.generateKey('p256', { label: 'ephemeral' })
    const pub = await vault.publicKey(tokenKey)
    // count the recoveries on the shared module instance
    const raw = openRaw(hsm.module, hsm.label)
    const calls = { open: 0, login: 0 }
    const p11 = raw.p11 as unknown as Record<string, (...a: unknown[]) => unknown>
    const realOpen = p11.C_OpenSession!.bind(p11)
    const realLogin = p11.C_Login!.bind(p11)
    p11.C_OpenSession = (...a) => (calls.open++, realOpen(...a))
    p11.C_Login = (...a) => (calls.login++, realLogin(...a))
    // something else in the process closes every session on the token (PKCS#11 C_CloseAllSessions)
    raw.p11.C_CloseAllSessions(raw.slot)
    raw.close()
    assert.ok(nodeVerify('p256', pub, msg, await vault.sign(tokenKey, msg)), 'token key usable after the sessions were lost')
    assert.ok(calls.open >= 1 && calls.login >= 1, `a new session was opened and logged in (${JSON.stringify(calls)})`)
    const before = calls.login
    await rejectsCode(vault.sign(sessionKey, msg), 'VAULT_KEY_NOT_FOUND')
    // …and then logs the application out (C_Logout is per application, not per session)
    const raw2 = openRaw(hsm.module, hsm.label)
    raw2.p11.C_Logout(raw2.session)
    raw2.close()
    const peer = node.generateKeyPair('p256')
    assert.deepEqual(await vault.ecdh(tokenKey, peer.publicKey), node.dh(peer, pub), 'ECDH after re-login')
    assert.ok(calls.login > before, 'the vault logged in again after the logout')
    p11.C_OpenSession = realOpen
    p11.C_Login = realLogin
    assert.ok(nodeVerify('p256', pub, msg, await vault.sign(tokenKey, msg)))
    const found = await vault.findKey('survivor')
    assert.equal(found?.id, tokenKey.id)
    await vault.deleteKey(tokenKey)
  })

  it('recovers after the library was finalised elsewhere in the process (CKR_CRYPTOKI_NOT_INITIALIZED)', async () => {
    const h = await vault.generateKey('p256', { label: 'after-finalize', persistent: true })
    const pub = await vault.publicKey(h)
    const raw = openRaw(hsm.module, hsm.label)
    raw.p11.C_Finalize()
    raw.close()
    assert.ok(nodeVerify('p256', pub, msg, await vault.sign(h, msg)), 'signs after re-initialisation and re-login')
    assert.equal((await vault.findKey('after-finalize'))?.id, h.id)
    await vault.deleteKey(h)
  })

  it('keys of another type or a forged id are not found', async () => {
    const h = await vault.generateKey('ed25519')
    await rejectsCode(vault.sign({ ...h, type: 'p256' } as KeyHandle, msg), 'VAULT_KEY_NOT_FOUND')
    await rejectsCode(vault.publicKey({ ...h, id: 'zz' }), 'VAULT_KEY_NOT_FOUND')
    await rejectsCode(vault.ecdh(h, new Uint8Array(32)), 'VAULT_OPERATION_UNSUPPORTED')
    await rejectsCode(vault.generateKey('p256', { label: 'dup' }).then(() => vault.generateKey('p256', { label: 'dup' })), 'VAULT_DUPLICATE_LABEL')
    await vault.deleteKey(h)
  })
})
