// Placeholder: the pkcs11 issue registers its vault factory here
// (registerVaultFactory('pkcs11', ...) from src/cli/vault-registry.ts).
export {}
