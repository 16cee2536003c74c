/**
 * Registers the software vault with the CLI's vault registry.
 *
 * Specs:
 * - `software:memory`: keys in process memory only (gone at exit).
 * - `software:` or `software`: the key store `$HOPSEAL_HOME/vault.hsv`.
 * - `software:PATH` (or `software:path=PATH`): the key store at PATH.
 * - `,passphrase-file=FILE` after either form: the passphrase is the first line of
 *   FILE (mode 0600 required); otherwise `HOPSEAL_VAULT_PASSPHRASE` if set;
 *   otherwise the store is unencrypted. docs/software-vault.md has the format.
 */
import { join, resolve } from 'node:path'
import { wipe } from '../../src/bytes/index.ts'
import { ErrorCode, HopsealError } from '../../src/errors.ts'
import { registerVaultFactory, type VaultFactoryContext } from '../../src/cli/vault-registry.ts'
import { readStoreFile } from '../../src/store/atomic-file.ts'
import type { Vault } from '../../src/vault/index.ts'
import { FileKeyStore, SoftwareVault } from '../../vaults/software/index.ts'

/** The key-store file name inside HOPSEAL_HOME. */
export const DEFAULT_STORE_FILE = 'vault.hsv'
/** A passphrase file larger than this is refused (it is one line of text). */
const MAX_PASSPHRASE_FILE = 4096

/** Opens the software vault a spec's arguments (the part after `software:`) describe. */
export async function openSoftwareVault(args: string, ctx: VaultFactoryContext): Promise<Vault> {
  if (args === 'memory') return SoftwareVault.open()
  let path: string | undefined
  let passFile: string | undefined
  for (const part of args.split(',')) {
    if (part === '') continue
    if (part.startsWith('path=')) path = setOnce(path, part.slice(5))
    else if (part.startsWith('passphrase-file=')) passFile = part.slice(16)
    else if (/^[a-z-]+=/.test(part)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `software vault option ${part.split('=')[0]} unknown (expected a path, path= or passphrase-file=)`)
    else path = setOnce(path, part)
  }
  const file = resolve(path ?? join(ctx.home, DEFAULT_STORE_FILE))
  const passphrase = passFile !== undefined ? readPassphraseFile(passFile) : ctx.env.HOPSEAL_VAULT_PASSPHRASE || undefined
  let store: FileKeyStore
  try {
    store = await FileKeyStore.open(file, passphrase === undefined ? {} : { passphrase })
  } finally {
    if (passphrase instanceof Uint8Array) wipe(passphrase)
  }
  const vault = await SoftwareVault.open({ store })
  // Closing the vault also wipes the store's derived key.
  const closeVault = vault.close.bind(vault)
  vault.close = async () => {
    await closeVault()
    store.close()
  }
  return vault
}

function setOnce(prev: string | undefined, next: string): string {
  if (prev !== undefined) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `software vault spec names two paths: ${prev} and ${next}`)
  return next
}

/** The first line of a 0600 file, as bytes (the caller wipes them). */
function readPassphraseFile(path: string): Uint8Array {
  const b = readStoreFile(resolve(path), MAX_PASSPHRASE_FILE)
  if (b === undefined) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `passphrase file ${path} does not exist`)
  let end = b.indexOf(0x0a)
  if (end < 0) end = b.length
  if (end > 0 && b[end - 1] === 0x0d) end--
  const line = b.slice(0, end)
  wipe(b)
  if (line.length === 0) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `passphrase file ${path} is empty`)
  return line
}

registerVaultFactory('software', openSoftwareVault, 'software:memory | software:[PATH][,passphrase-file=FILE] (default $HOPSEAL_HOME/vault.hsv; passphrase also from HOPSEAL_VAULT_PASSPHRASE)')
