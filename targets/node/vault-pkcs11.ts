/**
 * Registers the PKCS#11 vault with the CLI's vault registry, so every command
 * that takes `--vault software:…` also takes a token.
 *
 * Spec: `pkcs11:module=PATH,token=LABEL[,pin-env=VAR|pin-file=FILE][,sessions=N][,name=NAME]`
 * - `module` defaults to `$HOPSEAL_PKCS11_MODULE`, `token` to `$HOPSEAL_PKCS11_TOKEN`;
 * - the PIN comes from `pin-env` / `pin-file`, else from `$HOPSEAL_PKCS11_PIN`;
 *   a literal `pin=` is refused (shell history, `ps`). docs/vaults.md has details.
 *
 * @example
 * HOPSEAL_PKCS11_PIN=1234 hopseal vault keygen --type p256 --label gw \
 *   --vault pkcs11:module=/usr/lib/softhsm/libsofthsm2.so,token=hopseal,pin-env=HOPSEAL_PKCS11_PIN
 */
import { registerVaultFactory, type VaultFactoryContext } from './cli/vault-registry.ts'
import type { Vault } from '../../src/vault/index.ts'
import { loadPkcs11Backend } from '../../vaults/pkcs11/load.ts'

/**
 * Opens the PKCS#11 vault a spec's arguments (the part after `pkcs11:`) describe.
 * @throws HopsealError VAULT_OPERATION_UNSUPPORTED when the optional pkcs11js addon is missing.
 */
export async function openPkcs11Vault(args: string, ctx: VaultFactoryContext): Promise<Vault> {
  const { Pkcs11Vault, parsePkcs11Spec } = await loadPkcs11Backend()
  return Pkcs11Vault.open(parsePkcs11Spec(args, ctx.env))
}

registerVaultFactory(
  'pkcs11',
  openPkcs11Vault,
  'pkcs11:module=PATH,token=LABEL[,pin-env=VAR|pin-file=FILE][,sessions=N] (module/token/PIN also from HOPSEAL_PKCS11_MODULE/_TOKEN/_PIN)',
)
