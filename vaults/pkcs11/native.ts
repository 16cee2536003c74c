/**
 * The optional native addon `pkcs11js`, loaded on first use: importing
 * hopseal/vaults/pkcs11 does not need it; opening a vault does, and without
 * it fails with a HopsealError that names the package and the fix (the build
 * needs a compiler and the Node headers). The other modules of this backend
 * import only its types, and take the module from {@link pkcs11js} once a
 * vault has loaded it.
 */
import type * as Pkcs11jsNamespace from 'pkcs11js'
import { ErrorCode, HopsealError } from '../../src/errors.ts'
import { isMissingPackage } from '../../src/optional-package.ts'

export type Pkcs11jsModule = typeof Pkcs11jsNamespace

let loaded: Pkcs11jsModule | undefined

/** What a missing pkcs11js says: the package, and what its build needs. */
export const PKCS11JS_MISSING = 'the PKCS#11 vault needs the optional native package pkcs11js, which is not installed or did not build (fix: npm install pkcs11js, with python3, make, g++ and the Node headers: apt-get install build-essential nodejs-dev)'

/**
 * Loads pkcs11js once.
 * @throws HopsealError VAULT_OPERATION_UNSUPPORTED naming pkcs11js when it is not installed or its native build is missing.
 */
export async function loadPkcs11js(): Promise<Pkcs11jsModule> {
  if (loaded) return loaded
  let m: unknown
  try {
    m = await import('pkcs11js')
  } catch (e) {
    if (!isMissingPackage(e, 'pkcs11js')) throw e
    throw new HopsealError(ErrorCode.VAULT_OPERATION_UNSUPPORTED, PKCS11JS_MISSING, { cause: e })
  }
  loaded = ((m as { default?: Pkcs11jsModule }).default ?? m) as Pkcs11jsModule
  return loaded
}

/** The module, after {@link loadPkcs11js} (every vault is opened through it). @throws Error when called before. */
export function pkcs11js(): Pkcs11jsModule {
  if (!loaded) throw new Error('pkcs11js used before loadPkcs11js(): open vaults with Pkcs11Vault.open')
  return loaded
}
