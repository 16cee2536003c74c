import { runVaultCompliance } from '../../src/vault/compliance.ts'
import { nodeTestRunner } from '../../targets/node/vault-compliance.ts'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { SoftwareVault } from '../../vaults/software/index.ts'

runVaultCompliance({ name: 'software, in memory, node provider', open: () => SoftwareVault.open() }, nodeTestRunner)
runVaultCompliance({ name: 'software, in memory, noble provider', open: () => SoftwareVault.open({ name: 'software-noble', crypto: cryptoProvider('noble') }) }, nodeTestRunner)
