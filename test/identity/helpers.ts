/** Shared fixtures for the identity tests: an in-memory software vault, a fixed clock, error matchers. */
import assert from 'node:assert/strict'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { isHopsealError } from '../../src/errors.ts'
import { SoftwareVault } from '../../vaults/software/index.ts'

export const crypto = cryptoProvider('node')
/** A fixed "now": 2025-01-01T00:00:00Z, seconds. */
export const T0 = 1735689600
export const DAY = 86400
export const YEAR = 365 * DAY

export async function memoryVault(): Promise<SoftwareVault> {
  return SoftwareVault.open({ crypto })
}

/** Asserts that `fn` throws (or rejects with) a HopsealError with `code`. */
export async function rejectsCode(fn: () => unknown, code: string): Promise<void> {
  try {
    await fn()
  } catch (e) {
    if (!isHopsealError(e, code)) assert.fail(`expected HopsealError ${code}, got ${e instanceof Error ? e.message : String(e)}`)
    return
  }
  assert.fail(`expected HopsealError ${code}, nothing thrown`)
}

/** Synchronous variant of {@link rejectsCode}. */
export function throwsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => {
    if (!isHopsealError(e, code)) assert.fail(`expected HopsealError ${code}, got ${e instanceof Error ? e.message : String(e)}`)
    return true
  })
}
