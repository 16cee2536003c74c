/** Registers every vault backend with the CLI's vault registry (one file per backend). */
import './vault-software.ts'
import './vault-pkcs11.ts'
import './vault-atecc608.ts'
