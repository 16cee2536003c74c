export { SoftwareVault, type SoftwareKeyStore, type SoftwareVaultOptions, type StoredKey } from './software-vault.ts'
export { DEFAULT_KDF, FileKeyStore, KEY_STORE_VERSION, MAX_STORE_BYTES, MAX_STORE_KEYS, type FileKeyStoreOptions, type KdfParams } from './key-store.ts'
