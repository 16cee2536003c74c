/**
 * PKCS#11 configuration and error mapping, without a token: the CLI spec
 * parser, pool sizing, and the CKR_* → HopsealError table.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isHopsealError } from '../../src/errors.ts'
import { parsePkcs11Spec, poolSize } from '../../vaults/pkcs11/config.ts'
import { ckrName, isSessionLost, mapPkcs11Error, type Pkcs11Op } from '../../vaults/pkcs11/errors.ts'

const M = '/usr/lib/softhsm/libsofthsm2.so'

function code(f: () => unknown): string {
  try {
    f()
  } catch (e) {
    assert.ok(isHopsealError(e), `expected HopsealError, got ${String(e)}`)
    return e.code
  }
  assert.fail('expected a throw')
}

describe('pkcs11 vault spec (CLI)', () => {
  it('parses module, token, PIN source, sessions and name', () => {
    const o = parsePkcs11Spec(`module=${M},token=hopseal,pin-env=MY_PIN,sessions=8,name=gw`, {})
    assert.deepEqual({ ...o, env: undefined }, { module: M, token: 'hopseal', pinEnv: 'MY_PIN', sessions: 8, name: 'gw', env: undefined })
    assert.equal(parsePkcs11Spec(`module=${M},token=t,pin-file=/run/secrets/pin`, {}).pinFile, '/run/secrets/pin')
  })

  it('takes defaults from HOPSEAL_PKCS11_MODULE / _TOKEN / _PIN', () => {
    const o = parsePkcs11Spec('', { HOPSEAL_PKCS11_MODULE: M, HOPSEAL_PKCS11_TOKEN: 'envtok', HOPSEAL_PKCS11_PIN: 'x' })
    assert.equal(o.module, M)
    assert.equal(o.token, 'envtok')
    assert.equal(o.pinEnv, 'HOPSEAL_PKCS11_PIN')
    assert.equal(o.pin, undefined, 'the PIN itself is not copied into the options')
  })

  it('refuses a literal pin, unknown keys, duplicates and bad values with INVALID_ARGUMENT', () => {
    const cases = [
      `module=${M},token=t,pin=1234`,
      `module=${M},token=t,slot=0`,
      `module=${M},token=t,token=u`,
      `module=${M},token=t,sessions=0`,
      `module=${M},token=t,sessions=lots`,
      `module=${M},token=t,pin-env=A,pin-file=/x`,
      `module=${M},token=t,pin-env=1BAD`,
      `token=t`,
      `module=${M}`,
      `module=${M},token=${'x'.repeat(33)}`,
    ]
    for (const c of cases) assert.equal(code(() => parsePkcs11Spec(c, {})), 'INVALID_ARGUMENT', c)
    // the refusal of a literal PIN must not echo it
    try {
      parsePkcs11Spec(`module=${M},token=t,pin=s3cr3t`, {})
    } catch (e) {
      assert.ok(!(e as Error).message.includes('s3cr3t'))
    }
    console.log(`pkcs11 spec refusals: ${cases.length} passed, 0 failed`)
  })

  it('sizes the pool within the token limit', () => {
    assert.equal(poolSize(undefined, 0), 4)
    assert.equal(poolSize(16, 0xffffffffffff), 16) // CK_UNAVAILABLE_INFORMATION: no stated limit
    assert.equal(poolSize(16, 2), 2)
    assert.equal(poolSize(undefined, 1), 1)
  })
})

describe('CKR_* → HopsealError codes', () => {
  const table: [string, Pkcs11Op, string][] = [
    ['CKR_PIN_INCORRECT', 'login', 'VAULT_WRONG_PIN'],
    ['CKR_PIN_LOCKED', 'login', 'VAULT_WRONG_PIN'],
    ['CKR_PIN_LEN_RANGE', 'login', 'VAULT_WRONG_PIN'],
    ['CKR_TOKEN_NOT_PRESENT', 'sign', 'VAULT_TOKEN_ABSENT'],
    ['CKR_DEVICE_REMOVED', 'sign', 'VAULT_TOKEN_ABSENT'],
    ['CKR_SLOT_ID_INVALID', 'open', 'VAULT_TOKEN_ABSENT'],
    ['CKR_MECHANISM_INVALID', 'sign', 'VAULT_OPERATION_UNSUPPORTED'],
    ['CKR_KEY_FUNCTION_NOT_PERMITTED', 'sign', 'VAULT_OPERATION_UNSUPPORTED'],
    ['CKR_FUNCTION_NOT_SUPPORTED', 'generate', 'VAULT_OPERATION_UNSUPPORTED'],
    ['CKR_OBJECT_HANDLE_INVALID', 'public-key', 'VAULT_KEY_NOT_FOUND'],
    ['CKR_KEY_HANDLE_INVALID', 'sign', 'VAULT_KEY_NOT_FOUND'],
    ['CKR_SESSION_HANDLE_INVALID', 'sign', 'VAULT_SESSION_LOST'],
    ['CKR_SESSION_CLOSED', 'ecdh', 'VAULT_SESSION_LOST'],
    ['CKR_USER_NOT_LOGGED_IN', 'sign', 'VAULT_SESSION_LOST'],
    ['CKR_CRYPTOKI_NOT_INITIALIZED', 'sign', 'VAULT_SESSION_LOST'],
    ['CKR_GENERAL_ERROR', 'aead-decrypt', 'AEAD_AUTH_FAILED'],
    ['CKR_ENCRYPTED_DATA_INVALID', 'aead-decrypt', 'AEAD_AUTH_FAILED'],
    ['CKR_GENERAL_ERROR', 'ecdh', 'INVALID_POINT'],
    ['CKR_GENERAL_ERROR', 'sign', 'VAULT_DEVICE_ERROR'],
    ['CKR_DATA_LEN_RANGE', 'sign', 'INVALID_ARGUMENT'],
    ['CKR_DEVICE_MEMORY', 'generate', 'VAULT_DEVICE_ERROR'],
  ]
  it('maps each CKR name to its stable code, naming the CKR in the message', () => {
    for (const [ckr, op, want] of table) {
      // pkcs11js errors carry the CKR name as the message (atecc608-and-pkcs11.md §B3 gotcha 9)
      const e = mapPkcs11Error(Object.assign(new Error(ckr), { code: 1 }), op)
      assert.equal(e.code, want, `${ckr} during ${op}`)
      assert.ok(e.message.includes(ckr))
    }
    console.log(`CKR mapping: ${table.length} passed, 0 failed`)
  })

  it('knows which failures are worth one reopen-and-retry', () => {
    assert.equal(ckrName(new Error('CKR_SESSION_CLOSED')), 'CKR_SESSION_CLOSED')
    assert.equal(ckrName(new Error('ENOENT')), undefined)
    for (const c of ['CKR_SESSION_HANDLE_INVALID', 'CKR_USER_NOT_LOGGED_IN', 'CKR_DEVICE_REMOVED', 'CKR_CRYPTOKI_NOT_INITIALIZED']) assert.ok(isSessionLost(c), c)
    for (const c of ['CKR_PIN_INCORRECT', 'CKR_MECHANISM_INVALID', 'CKR_GENERAL_ERROR', undefined]) assert.equal(isSessionLost(c), false, String(c))
  })

  it('a non-PKCS#11 failure becomes VAULT_DEVICE_ERROR; HopsealErrors pass through', () => {
    assert.equal(mapPkcs11Error(new TypeError('boom'), 'sign').code, 'VAULT_DEVICE_ERROR')
    const typed = mapPkcs11Error(new Error('CKR_PIN_INCORRECT'), 'login')
    assert.equal(mapPkcs11Error(typed, 'sign'), typed)
  })
})
