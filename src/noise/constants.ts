/** Noise protocol constants (Noise rev 34). */

/** §3: every Noise message is at most 65535 bytes. */
export const NOISE_MAX_MESSAGE_LENGTH = 65535
/** §5.1: nonce 2^64-1 is reserved (used by Rekey); encrypting with it is an error. */
export const NOISE_MAX_NONCE = 0xffffffffffffffffn
/** §4.2: AEAD tag length for both ciphers. */
export const NOISE_TAG_LENGTH = 16
/** §5.3: pre-shared keys are 32 bytes. */
export const NOISE_PSK_LENGTH = 32
