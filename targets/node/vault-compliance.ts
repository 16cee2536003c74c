/**
 * The Node adapter for the vault compliance suite (`src/vault/compliance.ts`),
 * exported as `hopseal/vault/compliance/node`:
 * `node:test` registers the tests and `node:assert/strict` checks them. The
 * suite itself is portable and takes any `ComplianceRunner`.
 *
 * @example
 * runVaultCompliance({ name: 'software (memory)', open: () => SoftwareVault.open() }, nodeTestRunner)
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { ComplianceRunner } from '../../src/vault/compliance.ts'
// Registers node:crypto as the process default: the suite's reference provider beside noble.
import './crypto/index.ts'

export const nodeTestRunner: ComplianceRunner = {
  describe: (name, body) => describe(name, body),
  it: (name, body) => it(name, body),
  before: (hook) => before(hook),
  after: (hook) => after(hook),
  assert,
}
