/**
 * CKA_EC_PARAMS and CKA_EC_POINT encodings (atecc608-and-pkcs11.md §B3).
 *
 * - CKA_EC_PARAMS: a DER OID (P-256 `06 08 2A 86 48 CE 3D 03 01 07`, Ed25519
 *   `06 03 2B 65 70`, X25519 `06 03 2B 65 6E`) or, on some tokens, a
 *   PrintableString curve name (`13 0C "edwards25519"`).
 * - CKA_EC_POINT: a DER OCTET STRING around the point (`04 41 04‖X‖Y` for
 *   P-256, `04 20 ‖ 32 bytes` for the 25519 curves); some tokens return the
 *   raw point, so both are accepted.
 */
import { equalConstantTime } from '../../src/bytes/index.ts'
import { ErrorCode, HopsealError } from '../../src/errors.ts'
import type { KeyType } from '../../src/vault/index.ts'
import { CKK_EC_EDWARDS, CKK_EC_MONTGOMERY, EC_PARAMS_ED25519, EC_PARAMS_P256, EC_PARAMS_X25519 } from './constants.ts'

const CKK_EC = 3

const NAMES: Record<string, KeyType> = {
  prime256v1: 'p256',
  secp256r1: 'p256',
  edwards25519: 'ed25519',
  ed25519: 'ed25519',
  curve25519: 'x25519',
  x25519: 'x25519',
}

/** The hopseal key type of a token key, from CKA_KEY_TYPE and CKA_EC_PARAMS; undefined for keys we cannot use. */
export function keyTypeOf(ckk: number, params: Uint8Array): KeyType | undefined {
  const curve = curveOf(params)
  if (ckk === CKK_EC) return curve === 'p256' ? 'p256' : undefined
  // SoftHSM 2.6.1 reports X25519 keys made with CKM_EC_EDWARDS_KEY_PAIR_GEN as CKK_EC_EDWARDS (§B1): the params decide.
  if (ckk === CKK_EC_EDWARDS) return curve === 'ed25519' || curve === 'x25519' ? curve : undefined
  if (ckk === CKK_EC_MONTGOMERY) return curve === 'x25519' ? 'x25519' : undefined
  return undefined
}

function curveOf(params: Uint8Array): KeyType | undefined {
  if (same(params, EC_PARAMS_P256)) return 'p256'
  if (same(params, EC_PARAMS_ED25519)) return 'ed25519'
  if (same(params, EC_PARAMS_X25519)) return 'x25519'
  // PrintableString (0x13) curve name, short form length
  if (params.length >= 2 && params[0] === 0x13 && params[1] === params.length - 2) {
    return NAMES[new TextDecoder().decode(params.subarray(2))]
  }
  return undefined
}

/** CKA_EC_PARAMS to put in a template for a new key. */
export function ecParamsFor(type: KeyType): Uint8Array {
  return type === 'p256' ? EC_PARAMS_P256 : type === 'ed25519' ? EC_PARAMS_ED25519 : EC_PARAMS_X25519
}

/**
 * The raw point inside CKA_EC_POINT: 65 bytes `04‖X‖Y` for P-256, 32 bytes for
 * the 25519 curves. Throws VAULT_DEVICE_ERROR for anything else.
 */
export function rawPoint(type: KeyType, ecPoint: Uint8Array): Uint8Array {
  const want = type === 'p256' ? 65 : 32
  if (ecPoint.length === want + 2 && ecPoint[0] === 0x04 && ecPoint[1] === want) return ecPoint.slice(2)
  if (ecPoint.length === want && (type !== 'p256' || ecPoint[0] === 0x04)) return ecPoint.slice()
  throw new HopsealError(ErrorCode.VAULT_DEVICE_ERROR, `token returned a ${ecPoint.length}-byte CKA_EC_POINT for a ${type} key`)
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && equalConstantTime(a, b)
}

/** CK_ULONG attribute values come back as 8-byte (or 4-byte) little-endian buffers. */
export function readUlong(b: Uint8Array): number {
  let n = 0
  for (let i = Math.min(b.length, 6) - 1; i >= 0; i--) n = n * 256 + b[i]!
  return n
}
