/**
 * Noise Protocol Framework (revision 34), spec-shaped. Portable: Uint8Array
 * only, no Node built-ins; crypto comes from an injected CryptoProvider.
 */
export { CipherState } from './cipher-state.ts'
export { SymmetricState } from './symmetric-state.ts'
export { HandshakeState, type HandshakeOptions, type TransportState } from './handshake-state.ts'
export { parseProtocolName, type NoiseProtocol, type NoiseDh, type NoiseCipher, type NoiseHash } from './protocol.ts'
export { resolvePattern, PATTERN_NAMES, type HandshakePattern, type Token } from './patterns.ts'
export { softwareStaticKey, vaultStaticKey, wipeKeyPair, type StaticKey } from './static-key.ts'
export { NOISE_MAX_MESSAGE_LENGTH, NOISE_MAX_NONCE, NOISE_PSK_LENGTH, NOISE_TAG_LENGTH } from './constants.ts'
