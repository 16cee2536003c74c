/**
 * `hopseal/vaults/pkcs11`: keys in any PKCS#11 token (SoftHSM2, an HSM), via pkcs11js.
 *
 * @example
 * import { Pkcs11Vault } from 'hopseal/vaults/pkcs11'
 * const vault = await Pkcs11Vault.open({ module: '/usr/lib/softhsm/libsofthsm2.so', token: 'hopseal', pinEnv: 'HOPSEAL_PKCS11_PIN' })
 */
export { Pkcs11Vault } from './pkcs11-vault.ts'
export { parsePkcs11Spec, type Pkcs11VaultOptions } from './config.ts'
export { mapPkcs11Error, type Pkcs11Op } from './errors.ts'
