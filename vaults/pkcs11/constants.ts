/**
 * PKCS#11 numbers and hopseal defaults for the PKCS#11 vault, in one place.
 *
 * pkcs11js 2.1.7 has no constants for the Edwards/Montgomery mechanisms or the
 * session states (atecc608-and-pkcs11.md §B3 gotcha 9), so the values are
 * copied here from PKCS#11 v3.0 (pkcs11t.h).
 */

/** CKM_EC_EDWARDS_KEY_PAIR_GEN (v3.0): Ed25519; SoftHSM 2.6.1 also makes X25519 keys with it (§B1). */
export const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055
/** CKM_EC_MONTGOMERY_KEY_PAIR_GEN (v3.0): X25519 on tokens that implement it (SoftHSM 2.6.1 does not). */
export const CKM_EC_MONTGOMERY_KEY_PAIR_GEN = 0x1056
/** CKM_EDDSA (v3.0): pure Ed25519 when no parameter is given. */
export const CKM_EDDSA = 0x1057
/** CKK_EC_EDWARDS / CKK_EC_MONTGOMERY (v3.0). */
export const CKK_EC_EDWARDS = 0x40
export const CKK_EC_MONTGOMERY = 0x41
/** CKS_RW_USER_FUNCTIONS / CKS_RO_USER_FUNCTIONS: the session sees a logged-in user. */
export const CKS_RO_USER_FUNCTIONS = 1
export const CKS_RW_USER_FUNCTIONS = 3
/** PKCS#11 v2.40 §3.1/§5.6 values the session pool uses, so it runs (and is tested) without loading the pkcs11js addon. */
export const CKU_USER = 1
export const CKF_RW_SESSION = 2
export const CKF_SERIAL_SESSION = 4

/** DER OID of prime256v1 / secp256r1 (1.2.840.10045.3.1.7). A PrintableString "prime256v1" gives CKR_GENERAL_ERROR on SoftHSM (§B3). */
export const EC_PARAMS_P256 = Uint8Array.from([0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07])
/** DER OID id-Ed25519 (1.3.101.112), RFC 8410. */
export const EC_PARAMS_ED25519 = Uint8Array.from([0x06, 0x03, 0x2b, 0x65, 0x70])
/** DER OID id-X25519 (1.3.101.110), RFC 8410. */
export const EC_PARAMS_X25519 = Uint8Array.from([0x06, 0x03, 0x2b, 0x65, 0x6e])

/**
 * Sessions in the pool by default. One operation runs per session (§B3 gotcha 2);
 * 4 sessions kept a 2-vCPU machine saturated with async ECDSA (22 000 signs/s
 * total, §B3 timings) while staying far below any HSM's session limit.
 */
export const DEFAULT_SESSIONS = 4
/** Upper bound on the configured pool size: HSMs limit sessions per application, and each costs token memory. */
export const MAX_SESSIONS = 64
/** CKA_ID length for keys we create: 16 random bytes (hex in the handle: 32 characters). */
export const KEY_ID_BYTES = 16
/** Objects fetched per C_FindObjects call when listing. */
export const FIND_BATCH = 64
/** Keys listed at most (a bound, so a crowded token cannot make listKeys unbounded). */
export const MAX_LISTED_KEYS = 4096
/** Largest random() request (matches checkRandomLength's default). */
export const MAX_RANDOM_BYTES = 1024
/** PIN file size limit: a PIN is short; refuse to read a large file by mistake. */
export const MAX_PIN_FILE_BYTES = 256
