/**
 * Optional dependencies (`serialport`, `pkcs11js`, `i2c-bus`) are loaded on
 * first use, so installing hopseal with `--omit=optional` (or where a native
 * build fails) leaves everything else working, and asking for the feature then
 * says what to install. scripts/layers.ts refuses a static import of them.
 *
 * @example
 * const { SerialPort } = await loadOptionalPackage('serialport', () => import('serialport'), ErrorCode.TRANSPORT_UNAVAILABLE, 'the serial transport')
 */
import { HopsealError, type ErrorCode } from './errors.ts'

/** True when `e` says that `name` (or its native addon) could not be loaded. */
export function isMissingPackage(e: unknown, name: string): boolean {
  const code = (e as { code?: unknown } | undefined)?.code
  const message = String((e as { message?: unknown } | undefined)?.message ?? e)
  if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(name)) return true
  // A package that installed but whose native build is missing fails to find its .node file.
  return message.includes(name) && /\.node\b|bindings|No native build/i.test(message)
}

/**
 * Runs `load` (a literal `() => import('name')`, so the import stays visible to
 * the compiler and to the layer check) and turns "not installed" into a typed
 * error naming the package.
 * @throws HopsealError with `code` when the package is missing; anything else load throws, as is.
 */
export async function loadOptionalPackage<T>(name: string, load: () => Promise<T>, code: ErrorCode, feature: string): Promise<T> {
  try {
    return await load()
  } catch (e) {
    if (!isMissingPackage(e, name)) throw e
    throw new HopsealError(code, `${feature} needs the optional package ${name}, which is not installed (fix: npm install ${name})`, { cause: e })
  }
}
