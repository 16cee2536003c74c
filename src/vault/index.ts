export type { CallOptions, GenerateKeyOptions, KeyHandle, KeyType, Vault, VaultCapabilities } from './types.ts'
export { KEY_USAGE } from './types.ts'
export { checkHandle, checkKeyType, checkLabel, checkMessage, checkPeerPublicFor, checkRandomLength } from './checks.ts'
