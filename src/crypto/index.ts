/**
 * Crypto provider selection, and the registry platforms add their providers to.
 *
 * The core knows only the portable noble provider. A platform entry registers
 * its own on import: every Node entry of hopseal (targets/node/crypto, which the
 * CLI, the node runtime, the identity store, the MQTT and serial transports and
 * the vault backends import; `hopseal/crypto/node` for a library user)
 * registers `node` (node:crypto) as the default. So a Node process that loads
 * any of them gets node:crypto by default, and a core-only build (a browser, a
 * device bundle) gets noble without ever loading node:crypto.
 * `HOPSEAL_CRYPTO=noble` (or `node`) overrides the default where `process` exists.
 */
import { ErrorCode, HopsealError } from '../errors.ts'
import { NobleCryptoProvider } from './noble-provider.ts'
import type { CryptoProvider } from './provider.ts'

export type { AeadAlgorithm, CryptoProvider, CurveType, HashAlgorithm, KeyPair, SignatureType } from './provider.ts'
export { AEAD_NONCE_LENGTH, AEAD_TAG_LENGTH, HASH_LENGTH } from './provider.ts'
export { normalizeLowS } from './checks.ts'
export { NobleCryptoProvider }

export type ProviderName = 'node' | 'noble'

const factories = new Map<ProviderName, () => CryptoProvider>([['noble', () => new NobleCryptoProvider()]])
const cache = new Map<ProviderName, CryptoProvider>()
let platformDefault: ProviderName = 'noble'

/**
 * Adds a platform's provider under `name` (replacing an earlier registration of
 * that name); with `asDefault`, {@link defaultCryptoProvider} returns it from now on.
 *
 * @example
 * registerCryptoProvider('node', () => new NodeCryptoProvider(), { asDefault: true })
 */
export function registerCryptoProvider(name: ProviderName, create: () => CryptoProvider, opts: { asDefault?: boolean } = {}): void {
  factories.set(name, create)
  cache.delete(name)
  if (opts.asDefault) platformDefault = name
}

/**
 * Returns a registered provider by name (created once, then cached).
 *
 * @throws HopsealError UNSUPPORTED_ALGORITHM for an unknown name, or `node` when no Node entry registered it.
 */
export function cryptoProvider(name: ProviderName): CryptoProvider {
  let p = cache.get(name)
  if (p) return p
  const create = factories.get(name)
  if (!create) {
    if (name === 'node') throw new HopsealError(ErrorCode.UNSUPPORTED_ALGORITHM, "crypto provider node is not registered: import 'hopseal/crypto/node' (any Node entry of hopseal registers it), or use noble")
    throw new HopsealError(ErrorCode.UNSUPPORTED_ALGORITHM, `crypto provider ${String(name)} unknown (registered: ${[...factories.keys()].join(', ')})`)
  }
  p = create()
  cache.set(name, p)
  return p
}

/**
 * The process default: `HOPSEAL_CRYPTO` if set, otherwise the provider a
 * platform registered as default (`node` once a Node entry is loaded), otherwise noble.
 *
 * @throws HopsealError UNSUPPORTED_ALGORITHM when `HOPSEAL_CRYPTO` names no registered provider.
 */
export function defaultCryptoProvider(): CryptoProvider {
  const env = typeof process !== 'undefined' ? process.env.HOPSEAL_CRYPTO : undefined
  return cryptoProvider((env as ProviderName | undefined) ?? platformDefault)
}
