/**
 * hopseal: end-to-end Noise secure channels for IoT. The curated public entry;
 * subsystems also have their own subpath exports (hopseal/noise, hopseal/crypto,
 * hopseal/vault, hopseal/vaults/*, hopseal/identity).
 */
export { HopsealError, ErrorCode, isHopsealError } from './errors.ts'
export { cryptoProvider, defaultCryptoProvider, type CryptoProvider, type ProviderName } from './crypto/index.ts'
export { HandshakeState, CipherState, softwareStaticKey, vaultStaticKey, parseProtocolName, type StaticKey, type TransportState } from './noise/index.ts'
export type { Vault, KeyHandle, KeyType, VaultCapabilities } from './vault/index.ts'
export { Node, local, address, parseRoute, TransportType, type Address, type Route } from './routing/index.ts'
export { createSecureChannel, startSecureChannelListener, knownPeers, identityAuthenticator, SecureChannel, type PeerInfo } from './channel/index.ts'
