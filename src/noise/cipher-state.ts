/**
 * CipherState (Noise §5.1): a key k and a 64-bit nonce n.
 *
 * Decryption is atomic: a failed decrypt leaves n unchanged. Nonce 2^64-1 is
 * reserved (§5.1); encrypting with it throws NOISE_NONCE_EXHAUSTED, as does any
 * attempt to go past it. Nonce encoding (§12.3, §12.4): 4 zero bytes then the
 * 64-bit counter, little-endian for ChaChaPoly, big-endian for AESGCM.
 *
 * The explicit-nonce methods serve the channel layer, which carries a counter
 * on the wire and reorders through a replay window.
 */
import { ErrorCode, HopsealError } from '../errors.ts'
import { wipe } from '../bytes/index.ts'
import type { AeadAlgorithm, CryptoProvider } from '../crypto/index.ts'
import { NOISE_MAX_MESSAGE_LENGTH, NOISE_MAX_NONCE, NOISE_TAG_LENGTH } from './constants.ts'

const EMPTY = new Uint8Array(0)
const ZEROS32 = new Uint8Array(32)
/**
 * One nonce scratch buffer for every CipherState: AEAD calls consume the nonce
 * synchronously, and a per-state buffer + DataView costs ~400 bytes of heap
 * per state (it matters at 10 000 idle channels).
 */
const NONCE = new Uint8Array(12)
const NONCE_VIEW = new DataView(NONCE.buffer)

export class CipherState {
  private k: Uint8Array | undefined
  private n = 0n
  private readonly littleEndian: boolean

  constructor(
    private readonly crypto: CryptoProvider,
    private readonly aead: AeadAlgorithm,
    k?: Uint8Array,
  ) {
    this.littleEndian = aead === 'chacha20-poly1305'
    if (k) this.initializeKey(k)
  }

  /** §5.1 InitializeKey: sets k (copied) and n = 0. */
  initializeKey(k: Uint8Array | undefined): void {
    wipe(this.k)
    this.k = k ? k.slice() : undefined
    this.n = 0n
  }

  hasKey(): boolean {
    return this.k !== undefined
  }

  /** §5.1 SetNonce. */
  setNonce(n: bigint): void {
    if (typeof n !== 'bigint' || n < 0n || n > NOISE_MAX_NONCE) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'nonce expected 0..2^64-1')
    this.n = n
  }

  /** The next nonce this state will use. */
  get nonce(): bigint {
    return this.n
  }

  /** §5.1 EncryptWithAd: returns plaintext unchanged when there is no key. */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (!this.k) return plaintext.slice()
    const out = this.encryptWithNonce(this.n, ad, plaintext)
    this.n++
    return out
  }

  /** §5.1 DecryptWithAd: n advances only when authentication succeeds. */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (!this.k) return ciphertext.slice()
    const out = this.decryptWithNonce(this.n, ad, ciphertext)
    this.n++
    return out
  }

  /** Alias of encryptWithAd for transport use. */
  encrypt(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    return this.encryptWithAd(ad, plaintext)
  }

  /** Alias of decryptWithAd for transport use. */
  decrypt(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    return this.decryptWithAd(ad, ciphertext)
  }

  /** Encrypts with an explicit nonce; does not touch n. The result starts with `prefix` when given. */
  encryptWithNonce(n: bigint, ad: Uint8Array, plaintext: Uint8Array, prefix?: Uint8Array): Uint8Array {
    const k = this.requireKey()
    if (n >= NOISE_MAX_NONCE) throw new HopsealError(ErrorCode.NOISE_NONCE_EXHAUSTED, 'nonce 2^64-1 is reserved: rekey or start a new session')
    if (plaintext.length + NOISE_TAG_LENGTH > NOISE_MAX_MESSAGE_LENGTH) {
      throw new HopsealError(ErrorCode.NOISE_MESSAGE_TOO_LONG, `plaintext of ${plaintext.length} bytes exceeds a 65535-byte Noise message`)
    }
    return this.crypto.aeadEncrypt(this.aead, k, this.nonceBytes(n), ad, plaintext, prefix)
  }

  /** Decrypts with an explicit nonce; does not touch n. Throws NOISE_DECRYPT_FAILED. */
  decryptWithNonce(n: bigint, ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    const k = this.requireKey()
    if (n >= NOISE_MAX_NONCE) throw new HopsealError(ErrorCode.NOISE_NONCE_EXHAUSTED, 'nonce 2^64-1 is reserved')
    if (ciphertext.length < NOISE_TAG_LENGTH) throw new HopsealError(ErrorCode.NOISE_MESSAGE_TOO_SHORT, `ciphertext of ${ciphertext.length} bytes is shorter than the tag`)
    if (ciphertext.length > NOISE_MAX_MESSAGE_LENGTH) throw new HopsealError(ErrorCode.NOISE_MESSAGE_TOO_LONG, 'ciphertext exceeds a 65535-byte Noise message')
    try {
      return this.crypto.aeadDecrypt(this.aead, k, this.nonceBytes(n), ad, ciphertext)
    } catch (e) {
      throw new HopsealError(ErrorCode.NOISE_DECRYPT_FAILED, 'decryption failed', { cause: e })
    }
  }

  /** §4.2 / §11.3 Rekey: k = ENCRYPT(k, 2^64-1, empty, zeros(32))[0:32]; n unchanged. */
  rekey(): void {
    const k = this.requireKey()
    const out = this.crypto.aeadEncrypt(this.aead, k, this.nonceBytes(NOISE_MAX_NONCE), EMPTY, ZEROS32)
    wipe(k)
    this.k = out.slice(0, 32)
    wipe(out)
  }

  /** A deep copy (used for atomic handshake processing). */
  clone(): CipherState {
    const c = new CipherState(this.crypto, this.aead, this.k)
    c.n = this.n
    return c
  }

  /** Zero-fills the key; the state can no longer encrypt. */
  destroy(): void {
    wipe(this.k)
    this.k = undefined
  }

  private requireKey(): Uint8Array {
    if (!this.k) throw new HopsealError(ErrorCode.NOISE_MISSING_KEY, 'cipher state has no key')
    return this.k
  }

  private nonceBytes(n: bigint): Uint8Array {
    NONCE_VIEW.setBigUint64(4, n, this.littleEndian)
    return NONCE
  }
}
