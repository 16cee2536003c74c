/**
 * The Node crypto entry (`hopseal/crypto/node`): importing it registers the
 * node:crypto provider as `node` and as the process default, then re-exports
 * the core's crypto API and NodeCryptoProvider. Every Node entry of hopseal
 * imports it, so a Node process gets node:crypto by default (OpenSSL: several
 * times faster than noble for X25519, P-256 and AEAD).
 *
 * @example
 * import { defaultCryptoProvider } from 'hopseal/crypto/node'
 * defaultCryptoProvider().name // 'node'
 */
import { registerCryptoProvider } from '../../../src/crypto/index.ts'
import { NodeCryptoProvider } from './node-provider.ts'

registerCryptoProvider('node', () => new NodeCryptoProvider(), { asDefault: true })

export * from '../../../src/crypto/index.ts'
export { NodeCryptoProvider }
