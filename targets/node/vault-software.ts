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
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { wipe } from '../../src/bytes/index.ts'
import { ErrorCode, HopsealError } from '../../src/errors.ts'
import { registerVaultFactory, type VaultFactoryContext } from './cli/vault-registry.ts'
import { readStoreFile } from './store/atomic-file.ts'
import type { Vault } from '../../src/vault/index.ts'
import { FileKeyStore, SoftwareVault } from '../../vaults/software/index.ts'

/** The key-store file name inside HOPSEAL_HOME. */
export const DEFAULT_STORE_FILE = 'vault.hsv'
/** A passphrase file larger than this is refused (it is one line of text). */
const MAX_PASSPHRASE_FILE = 4096

/**
 * The key-store file a `software:` spec names (undefined for `software:memory`
 * and for other kinds), for checks that do not open the vault.
 */
export function softwareStorePath(spec: string, home: string): string | undefined {
  const i = spec.indexOf(':')
  const kind = i < 0 ? spec : spec.slice(0, i)
  const args = i < 0 ? '' : spec.slice(i + 1)
  if (kind !== 'software' || args === 'memory') return undefined
  const named = args.split(',').find((p) => p !== '' && (p.startsWith('path=') || !/^[a-z-]+=/.test(p)))
  return resolve(named ? named.replace(/^path=/, '') : join(home, DEFAULT_STORE_FILE))
}

/**
 * Opens the software vault a spec's arguments (the part after `software:`) describe.
 * @throws HopsealError VAULT_STORE_IO when the store does not exist and `ctx.create` is not set (a typo in a path is not an empty vault).
 */
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
  if (!ctx.create && !existsSync(file)) {
    throw new HopsealError(ErrorCode.VAULT_STORE_IO, `no key store at ${file} (fix: check the path; hopseal vault keygen --vault software:${file} creates one)`)
  }
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
