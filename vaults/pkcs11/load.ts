/**
 * Loads the PKCS#11 backend on demand. It needs the native `pkcs11js` addon,
 * an optional dependency (it builds from source with node-gyp at install, which
 * fails on machines without the Node headers): nothing else in hopseal needs
 * it, so the CLI, the demo and the other vaults work without it, and asking
 * for a PKCS#11 vault then says what is missing.
 */
import { loadPkcs11js } from './native.ts'
import type * as Backend from './index.ts'

export type Pkcs11Backend = typeof Backend

/**
 * @throws HopsealError VAULT_OPERATION_UNSUPPORTED when pkcs11js is not installed (or its native build is missing).
 */
export async function loadPkcs11Backend(): Promise<Pkcs11Backend> {
  await loadPkcs11js()
  return import('./index.ts')
}
