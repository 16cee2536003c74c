/**
 * Loads the Wycheproof v1 files copied verbatim into test/vectors/wycheproof/
 * (origin and commit in test/vectors/README.md) and holds the per-file counts
 * the suites must reach, so a truncated or swapped file fails loudly.
 */
import { readFileSync } from 'node:fs'
import { fromHex } from '../../src/bytes/index.ts'

export interface WycheproofCase {
  tcId: number
  comment: string
  flags: string[]
  result: 'valid' | 'invalid' | 'acceptable'
  [field: string]: unknown
}

export interface WycheproofGroup {
  type: string
  tests: WycheproofCase[]
  [param: string]: unknown
}

export interface WycheproofFile {
  algorithm: string
  schema: string
  numberOfTests: number
  notes: Record<string, unknown>
  testGroups: WycheproofGroup[]
}

const DIR = new URL('../vectors/wycheproof/', import.meta.url)

/** Reads `<name>_test.json`; checks that the header count matches the cases present. */
export function loadWycheproof(name: string): WycheproofFile {
  const file = JSON.parse(readFileSync(new URL(`${name}_test.json`, DIR), 'utf8')) as WycheproofFile
  const n = file.testGroups.reduce((a, g) => a + g.tests.length, 0)
  if (n !== file.numberOfTests) throw new Error(`${name}: numberOfTests ${file.numberOfTests} but ${n} cases present`)
  return file
}

/** A hex field of a test case (or group) as bytes. */
export function hexField(obj: Record<string, unknown>, field: string): Uint8Array {
  const v = obj[field]
  if (typeof v !== 'string') throw new Error(`field ${field} is not a hex string`)
  return fromHex(v)
}

/**
 * The number of cases each file must run after its filter (from the upstream
 * headers, test/vectors/README.md). aes_gcm: only the ivSize 96 / tagSize 128
 * groups, the Noise AESGCM parameters; every other file runs in full.
 */
export const EXPECTED_CASES: Record<string, number> = {
  x25519: 518,
  ecdh_secp256r1_ecpoint: 355,
  ecdsa_secp256r1_sha256_p1363: 262,
  ed25519: 151,
  aes_gcm: 197,
  chacha20_poly1305: 325,
  hkdf_sha256: 86,
  hmac_sha256: 174,
}
