/**
 * Identifiers (docs/identity.md §2): the first 20 bytes of SHA-256 over the
 * first change's signed bytes, written `I` + 40 lowercase hex digits.
 *
 * Why 20 bytes: the first change is self-signed, so two colliding first
 * changes an attacker makes are both the attacker's own identity and gain
 * nothing; what matters is second-preimage resistance against someone else's
 * identifier. 160 bits leave 2^128 work even against 2^32 target identifiers
 * at once, and cost 12 bytes less than a full hash in every credential and
 * revocation entry that names a subject.
 */
import { fromHex, toHex } from '../bytes/index.ts'
import type { CryptoProvider } from '../crypto/index.ts'
import { ErrorCode, HopsealError } from '../errors.ts'
import { IDENTIFIER_LENGTH, IDENTIFIER_PREFIX } from './constants.ts'

/** An identifier in text form: `I` followed by 40 lowercase hex digits. */
export type Identifier = string

const TEXT = /^I[0-9a-f]{40}$/

/** True when `s` is a well-formed identifier in text form. */
export function isIdentifier(s: unknown): s is Identifier {
  return typeof s === 'string' && TEXT.test(s)
}

/** Text form of a 20-byte identifier. */
export function identifierToText(bytes: Uint8Array): Identifier {
  if (bytes.length !== IDENTIFIER_LENGTH) throw new HopsealError(ErrorCode.INVALID_LENGTH, `identifier expected ${IDENTIFIER_LENGTH} bytes, got ${bytes.length}`)
  return IDENTIFIER_PREFIX + toHex(bytes)
}

/**
 * The 20 identifier bytes of a text identifier.
 * @throws HopsealError INVALID_ARGUMENT when `text` is not `I` + 40 lowercase hex digits.
 */
export function identifierFromText(text: string): Uint8Array {
  if (!isIdentifier(text)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `identifier expected "I" + 40 lowercase hex digits, got ${JSON.stringify(String(text).slice(0, 50))}`)
  return fromHex(text.slice(1))
}

/** SHA-256 truncated to `length` bytes (identifiers, change links, credential ids). */
export function truncatedHash(crypto: CryptoProvider, data: Uint8Array, length: number): Uint8Array {
  return crypto.hash('sha256', data).slice(0, length)
}
