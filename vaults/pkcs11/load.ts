/**
 * Loads the PKCS#11 backend on demand. It needs the native `pkcs11js` addon,
 * an optional dependency (it builds from source with node-gyp at install, which
 * fails on machines without the Node headers): nothing else in hopseal needs
 * it, so the CLI, the demo and the other vaults work without it, and asking
 * for a PKCS#11 vault then says what is missing.
 */
import { ErrorCode, HopsealError } from '../../src/errors.ts'
import type * as Backend from './index.ts'

export type Pkcs11Backend = typeof Backend

/**
 * @throws HopsealError VAULT_OPERATION_UNSUPPORTED when pkcs11js is not installed (or its native build is missing).
 */
export async function loadPkcs11Backend(): Promise<Pkcs11Backend> {
  try {
    return await import('./index.ts')
  } catch (e) {
    const code = (e as { code?: unknown }).code
    const missing = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /pkcs11js|\.node\b/.test(String((e as Error).message))
    if (!missing) throw e
    throw new HopsealError(ErrorCode.VAULT_OPERATION_UNSUPPORTED, 'the PKCS#11 vault needs the optional native package pkcs11js, which is not installed or did not build (fix: npm install pkcs11js, with python3, make, g++ and the Node headers: apt-get install build-essential nodejs-dev)', { cause: e })
  }
}
