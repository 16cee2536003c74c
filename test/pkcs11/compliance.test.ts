/**
 * The shared vault compliance suite, unchanged, against a throw-away SoftHSM2
 * token (persistent: keys survive close + reopen as token objects).
 */
import { runVaultCompliance } from '../../src/vault/compliance.ts'
import { nodeTestRunner } from '../../targets/node/vault-compliance.ts'
import { Pkcs11Vault } from '../../vaults/pkcs11/index.ts'
import { createSoftHsmToken, type SoftHsmToken } from '../helpers/softhsm.ts'
import { needSystem } from '../helpers/system.ts'
import { describe, it } from 'node:test'

const skip = needSystem('softhsm2-util')
if (skip) {
  describe('vault compliance: pkcs11 (SoftHSM2)', () => {
    it('runs against SoftHSM2', { skip }, () => {})
  })
} else {
  let hsm: SoftHsmToken | undefined
  runVaultCompliance({
    name: 'pkcs11 (SoftHSM2)',
    persistent: true,
    concurrency: 16,
    open: async () => {
      hsm ??= await createSoftHsmToken({ label: 'compliance' })
      return Pkcs11Vault.open({ module: hsm.module, token: hsm.label, pin: hsm.pin })
    },
    cleanup: async () => {
      await hsm?.remove()
    },
  }, nodeTestRunner)
}
