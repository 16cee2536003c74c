export { SoftwareVault, type SoftwareKeyStore, type SoftwareVaultOptions, type StoredKey } from './software-vault.ts'
