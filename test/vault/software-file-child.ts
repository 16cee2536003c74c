/**
 * Child process for the crash test in software-file.test.ts: opens the file key
 * store and generates persistent keys in a loop, printing one line per key
 * AFTER its save returned:
 *   saved <label> <public key hex>
 * The parent kills it with SIGKILL at random moments.
 *
 * argv: <store path> <first index> [passphrase]
 * (low scrypt cost: the test is about atomicity, not the KDF)
 */
import { writeSync } from 'node:fs'
import { toHex } from '../../src/bytes/index.ts'
import { FileKeyStore, SoftwareVault } from '../../vaults/software/index.ts'

const [path, first, passphrase] = process.argv.slice(2)
if (!path || first === undefined) throw new Error('usage: software-file-child.ts <path> <first index> [passphrase]')
const store = await FileKeyStore.open(path, passphrase ? { passphrase, kdf: { log2N: 4, r: 8, p: 1 } } : {})
const vault = await SoftwareVault.open({ store })
const types = ['ed25519', 'x25519', 'p256'] as const
writeSync(1, 'ready\n')
for (let i = Number(first); ; i++) {
  const label = `k${i}`
  const h = await vault.generateKey(types[i % 3]!, { label, persistent: true })
  // Synchronous write: the line is out before the next save starts.
  writeSync(1, `saved ${label} ${toHex(await vault.publicKey(h))}\n`)
}
