// Placeholder: the atecc608 issue registers its vault factory here
// (registerVaultFactory('atecc608', ...) from src/cli/vault-registry.ts).
export {}
