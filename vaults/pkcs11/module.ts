/**
 * One loaded, initialised PKCS#11 library per module path, shared by every
 * vault in the process and reference-counted.
 *
 * Cryptoki is initialised once per process and library: a second C_Initialize
 * gives CKR_CRYPTOKI_ALREADY_INITIALIZED, and one vault's C_Finalize would
 * kill the sessions of all others. So vaults `acquire` and `release`, and the
 * last release finalises.
 *
 * Always `CKF_OS_LOCKING_OK`: without it SoftHSM disables its own locking
 * (atecc608-and-pkcs11.md §B3 gotcha 1), and the `*Async` calls run on libuv
 * threads concurrently.
 */
import { pkcs11js, type Pkcs11jsModule } from './native.ts'
import { ErrorCode, HopsealError } from '../../src/errors.ts'
import { ckrName, mapPkcs11Error } from './errors.ts'

export type Pkcs11 = InstanceType<Pkcs11jsModule['PKCS11']>

interface Loaded {
  p11: Pkcs11
  refs: number
  initialized: boolean
  /** False when someone else in the process initialised the library: then we never finalise it. */
  ownsInit: boolean
}

const loaded = new Map<string, Loaded>()

/** Loads (once) and initialises (when needed) the module at `path`. */
export function acquireModule(path: string): Pkcs11 {
  let l = loaded.get(path)
  if (!l) {
    const p11 = new (pkcs11js().PKCS11)()
    try {
      p11.load(path)
    } catch (e) {
      throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `PKCS#11 module ${path} cannot be loaded: ${(e as Error).message.split('\n')[0]}`, { cause: e })
    }
    l = { p11, refs: 0, initialized: false, ownsInit: false }
    loaded.set(path, l)
  }
  if (!l.initialized) initialize(l)
  l.refs++
  return l.p11
}

/** Re-initialises after the library reported CKR_CRYPTOKI_NOT_INITIALIZED (someone finalised it). */
export function reinitializeModule(path: string): void {
  const l = loaded.get(path)
  if (!l) throw new HopsealError(ErrorCode.VAULT_SESSION_LOST, `PKCS#11 module ${path} is not loaded`)
  l.initialized = false
  initialize(l)
}

/** Drops one reference; the last one calls C_Finalize (the library stays mapped for a later acquire). */
export function releaseModule(path: string): void {
  const l = loaded.get(path)
  if (!l || l.refs === 0) return
  l.refs--
  if (l.refs > 0 || !l.initialized) return
  l.initialized = false
  if (!l.ownsInit) return
  try {
    l.p11.C_Finalize()
  } catch {
    /* already finalised: nothing to release */
  }
}

function initialize(l: Loaded): void {
  try {
    l.p11.C_Initialize({ flags: pkcs11js().CKF_OS_LOCKING_OK })
    l.ownsInit = true
  } catch (e) {
    if (ckrName(e) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') throw mapPkcs11Error(e, 'open')
    l.ownsInit = false
  }
  l.initialized = true
}
