/**
 * CKR_* return values → stable HopsealError codes.
 *
 * pkcs11js throws a `Pkcs11Error` whose `message` is the CKR name and whose
 * `code` is its number (atecc608-and-pkcs11.md §B3 gotcha 9). The mapping
 * depends a little on the operation: SoftHSM 2.6.1 reports an off-curve ECDH
 * peer point and a GCM tag mismatch both as CKR_GENERAL_ERROR (§B3 results and
 * gotcha 6), so `op` decides what a general error means there.
 */
import { ErrorCode, HopsealError, isHopsealError } from '../../src/errors.ts'

/** What the vault was doing when the token failed. */
export type Pkcs11Op = 'open' | 'login' | 'generate' | 'find' | 'public-key' | 'sign' | 'ecdh' | 'delete' | 'random' | 'aead-decrypt' | 'probe'

const WRONG_PIN = new Set(['CKR_PIN_INCORRECT', 'CKR_PIN_INVALID', 'CKR_PIN_LEN_RANGE', 'CKR_PIN_EXPIRED', 'CKR_PIN_LOCKED'])
const TOKEN_ABSENT = new Set(['CKR_TOKEN_NOT_PRESENT', 'CKR_DEVICE_REMOVED', 'CKR_SLOT_ID_INVALID', 'CKR_TOKEN_NOT_RECOGNIZED'])
const UNSUPPORTED = new Set([
  'CKR_MECHANISM_INVALID',
  'CKR_MECHANISM_PARAM_INVALID',
  'CKR_FUNCTION_NOT_SUPPORTED',
  'CKR_KEY_TYPE_INCONSISTENT',
  'CKR_KEY_FUNCTION_NOT_PERMITTED',
  'CKR_CURVE_NOT_SUPPORTED',
  'CKR_DOMAIN_PARAMS_INVALID',
  'CKR_TEMPLATE_INCONSISTENT',
  'CKR_ATTRIBUTE_VALUE_INVALID',
  'CKR_ATTRIBUTE_SENSITIVE',
  'CKR_ATTRIBUTE_READ_ONLY',
])
const KEY_NOT_FOUND = new Set(['CKR_OBJECT_HANDLE_INVALID', 'CKR_KEY_HANDLE_INVALID'])
/** The session, the login or the library went away: reopen, log in again, retry once. */
const SESSION_LOST = new Set(['CKR_SESSION_HANDLE_INVALID', 'CKR_SESSION_CLOSED', 'CKR_USER_NOT_LOGGED_IN', 'CKR_CRYPTOKI_NOT_INITIALIZED'])

/** The CKR_* name of a pkcs11js error, or undefined for anything else. */
export function ckrName(e: unknown): string | undefined {
  if (!(e instanceof Error)) return undefined
  const m = /\b(CKR_[A-Z0-9_]+)\b/.exec(e.message)
  return m?.[1]
}

/** True when the failure means "reopen the session (or the library) and log in again". */
export function isSessionLost(ckr: string | undefined): boolean {
  return ckr !== undefined && (SESSION_LOST.has(ckr) || TOKEN_ABSENT.has(ckr) || ckr === 'CKR_DEVICE_ERROR')
}

/** True when the object handle went stale (deleted elsewhere, or the library was re-initialised). */
export function isStaleObject(ckr: string | undefined): boolean {
  return ckr !== undefined && KEY_NOT_FOUND.has(ckr)
}

/**
 * Maps a pkcs11js failure to a HopsealError. Already-typed errors pass
 * through. The message names the CKR and the operation, never a PIN or key.
 */
export function mapPkcs11Error(e: unknown, op: Pkcs11Op): HopsealError {
  if (isHopsealError(e)) return e
  const ckr = ckrName(e)
  const what = `PKCS#11 ${op} failed: ${ckr ?? (e instanceof Error ? e.message : String(e))}`
  const code = codeFor(ckr, op)
  return new HopsealError(code, what, { cause: e })
}

function codeFor(ckr: string | undefined, op: Pkcs11Op): string {
  if (ckr === undefined) return ErrorCode.VAULT_DEVICE_ERROR
  if (WRONG_PIN.has(ckr)) return ErrorCode.VAULT_WRONG_PIN
  if (TOKEN_ABSENT.has(ckr)) return ErrorCode.VAULT_TOKEN_ABSENT
  if (KEY_NOT_FOUND.has(ckr)) return ErrorCode.VAULT_KEY_NOT_FOUND
  if (SESSION_LOST.has(ckr)) return ErrorCode.VAULT_SESSION_LOST
  if (op === 'aead-decrypt' && (ckr === 'CKR_GENERAL_ERROR' || ckr === 'CKR_ENCRYPTED_DATA_INVALID' || ckr === 'CKR_ENCRYPTED_DATA_LEN_RANGE')) {
    return ErrorCode.AEAD_AUTH_FAILED // §B3 gotcha 6: SoftHSM 2.6.1 reports a bad GCM tag as CKR_GENERAL_ERROR
  }
  if (op === 'ecdh' && (ckr === 'CKR_GENERAL_ERROR' || ckr === 'CKR_ARGUMENTS_BAD' || ckr === 'CKR_MECHANISM_PARAM_INVALID' || ckr === 'CKR_DOMAIN_PARAMS_INVALID')) {
    return ErrorCode.INVALID_POINT // §B3: an off-curve peer point gives CKR_GENERAL_ERROR
  }
  if (UNSUPPORTED.has(ckr)) return ErrorCode.VAULT_OPERATION_UNSUPPORTED
  if (ckr === 'CKR_DATA_LEN_RANGE' || ckr === 'CKR_DATA_INVALID' || ckr === 'CKR_ARGUMENTS_BAD') return ErrorCode.INVALID_ARGUMENT
  return ErrorCode.VAULT_DEVICE_ERROR
}
