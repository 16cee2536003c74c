/**
 * Crypto provider selection: chosen once per process. Default `node` on Node;
 * `HOPSEAL_CRYPTO=noble` (or an explicit name) selects the portable provider.
 */
import { ErrorCode, HopsealError } from '../errors.ts'
import { NobleCryptoProvider } from './noble-provider.ts'
import { NodeCryptoProvider } from '../../targets/node/crypto/node-provider.ts'
import type { CryptoProvider } from './provider.ts'

export type { AeadAlgorithm, CryptoProvider, CurveType, HashAlgorithm, KeyPair, SignatureType } from './provider.ts'
export { AEAD_NONCE_LENGTH, AEAD_TAG_LENGTH, HASH_LENGTH } from './provider.ts'
export { normalizeLowS } from './checks.ts'
export { NodeCryptoProvider, NobleCryptoProvider }

export type ProviderName = 'node' | 'noble'
const cache = new Map<ProviderName, CryptoProvider>()

/** Returns a provider by name (cached). */
export function cryptoProvider(name: ProviderName): CryptoProvider {
  let p = cache.get(name)
  if (!p) {
    if (name === 'node') p = new NodeCryptoProvider()
    else if (name === 'noble') p = new NobleCryptoProvider()
    else throw new HopsealError(ErrorCode.UNSUPPORTED_ALGORITHM, `crypto provider ${String(name)} unknown (expected node or noble)`)
    cache.set(name, p)
  }
  return p
}

/** The process default: `HOPSEAL_CRYPTO` if set, otherwise `node`. */
export function defaultCryptoProvider(): CryptoProvider {
  const env = typeof process !== 'undefined' ? process.env.HOPSEAL_CRYPTO : undefined
  return cryptoProvider((env as ProviderName | undefined) ?? 'node')
}
