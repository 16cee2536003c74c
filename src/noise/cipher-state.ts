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
const KEY_LENGTH = 32
/**
 * One nonce scratch buffer for every CipherState: AEAD calls consume the nonce
 * synchronously, and a per-state buffer + DataView costs ~400 bytes of heap
 * per state (it matters at 10 000 idle channels).
 */
const NONCE = new Uint8Array(12)
const NONCE_VIEW = new DataView(NONCE.buffer)

/**
 * Key storage. Each key lives in a 32-byte slot of a shared 4 KiB slab rather
 * than in its own Uint8Array: an own array costs ~190 bytes of heap for 32
 * bytes of key (the typed array, its ArrayBuffer and its backing store), and
 * a channel end holds at least two keys. For an AEAD call the key is copied
 * into one scratch buffer and the scratch is zero-filled right after (the
 * providers consume it synchronously, as they do the nonce).
 *
 * A slot is zero-filled when its state is destroyed; a state dropped without
 * destroy() is zero-filled and its slot reused once it is garbage-collected
 * (FinalizationRegistry), so a forgotten destroy() neither leaks the slot nor
 * leaves the key in memory for longer than an own array would. Slabs are
 * never returned: the key memory of a process stays at its peak count × 32 B.
 */
const SLOTS_PER_SLAB = 128
const SLABS: Uint8Array[] = []
const FREE_SLOTS: number[] = []
const KEY = new Uint8Array(KEY_LENGTH)
const RELEASE_DROPPED = new FinalizationRegistry<number>(releaseSlot)

function allocSlot(): number {
  const free = FREE_SLOTS.pop()
  if (free !== undefined) return free
  const first = SLABS.length * SLOTS_PER_SLAB
  SLABS.push(new Uint8Array(SLOTS_PER_SLAB * KEY_LENGTH))
  for (let i = SLOTS_PER_SLAB - 1; i > 0; i--) FREE_SLOTS.push(first + i)
  return first
}

/** The 32 bytes of `slot` inside its slab (a view, no copy). A slot is only ever made by allocSlot, so a missing slab is a bug. */
function slotBytes(slot: number): Uint8Array {
  const slab = SLABS[slot >>> 7]
  if (!slab) throw new HopsealError(ErrorCode.NOISE_WRONG_STATE, `cipher key slot ${slot} belongs to no slab`)
  const o = (slot & 127) * KEY_LENGTH
  return slab.subarray(o, o + KEY_LENGTH)
}

function releaseSlot(slot: number): void {
  slotBytes(slot).fill(0)
  FREE_SLOTS.push(slot)
}

function writeSlot(slot: number, k: Uint8Array): void {
  slotBytes(slot).set(k)
}

/** The key of `slot` in the scratch buffer (zero-fill it after use: {@link clearKey}). */
function loadKey(slot: number): Uint8Array {
  KEY.set(slotBytes(slot))
  return KEY
}

function clearKey(): void {
  KEY.fill(0)
}

/** @internal Key slots: slabs made, slots free, and the nonzero bytes in all slabs (tests check zero-filling with it). */
export function keySlotStats(): { slabs: number; free: number; nonzeroBytes: number } {
  let nonzeroBytes = 0
  for (const slab of SLABS) for (const b of slab) if (b !== 0) nonzeroBytes++
  return { slabs: SLABS.length, free: FREE_SLOTS.length, nonzeroBytes }
}

export class CipherState {
  /** The key's slot (-1: no key). */
  private slot = -1
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
    if (k && k.length !== KEY_LENGTH) throw new HopsealError(ErrorCode.INVALID_LENGTH, `cipher key expected ${KEY_LENGTH} bytes, got ${k.length}`)
    if (k) {
      if (this.slot < 0) {
        this.slot = allocSlot()
        RELEASE_DROPPED.register(this, this.slot, this)
      }
      writeSlot(this.slot, k)
    } else this.destroy()
    this.n = 0n
  }

  hasKey(): boolean {
    return this.slot >= 0
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
    if (this.slot < 0) return plaintext.slice()
    const out = this.encryptWithNonce(this.n, ad, plaintext)
    this.n++
    return out
  }

  /** §5.1 DecryptWithAd: n advances only when authentication succeeds. */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (this.slot < 0) return ciphertext.slice()
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

  /**
   * Encrypts with an explicit nonce (a bigint, or a number up to 2^53 - 1
   * for callers that count in numbers); does not touch n. The result starts
   * with `prefix` when given.
   */
  encryptWithNonce(n: bigint | number, ad: Uint8Array, plaintext: Uint8Array, prefix?: Uint8Array): Uint8Array {
    const slot = this.requireKey()
    if (typeof n === 'bigint' && n >= NOISE_MAX_NONCE) throw new HopsealError(ErrorCode.NOISE_NONCE_EXHAUSTED, 'nonce 2^64-1 is reserved: rekey or start a new session')
    if (plaintext.length + NOISE_TAG_LENGTH > NOISE_MAX_MESSAGE_LENGTH) {
      throw new HopsealError(ErrorCode.NOISE_MESSAGE_TOO_LONG, `plaintext of ${plaintext.length} bytes exceeds a 65535-byte Noise message`)
    }
    try {
      return this.crypto.aeadEncrypt(this.aead, loadKey(slot), this.nonceBytes(n), ad, plaintext, prefix)
    } finally {
      clearKey()
    }
  }

  /** Decrypts with an explicit nonce (bigint, or a number up to 2^53 - 1); does not touch n. Throws NOISE_DECRYPT_FAILED. */
  decryptWithNonce(n: bigint | number, ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    const slot = this.requireKey()
    if (typeof n === 'bigint' && n >= NOISE_MAX_NONCE) throw new HopsealError(ErrorCode.NOISE_NONCE_EXHAUSTED, 'nonce 2^64-1 is reserved')
    if (ciphertext.length < NOISE_TAG_LENGTH) throw new HopsealError(ErrorCode.NOISE_MESSAGE_TOO_SHORT, `ciphertext of ${ciphertext.length} bytes is shorter than the tag`)
    if (ciphertext.length > NOISE_MAX_MESSAGE_LENGTH) throw new HopsealError(ErrorCode.NOISE_MESSAGE_TOO_LONG, 'ciphertext exceeds a 65535-byte Noise message')
    try {
      return this.crypto.aeadDecrypt(this.aead, loadKey(slot), this.nonceBytes(n), ad, ciphertext)
    } catch (e) {
      throw new HopsealError(ErrorCode.NOISE_DECRYPT_FAILED, 'decryption failed', { cause: e })
    } finally {
      clearKey()
    }
  }

  /** §4.2 / §11.3 Rekey: k = ENCRYPT(k, 2^64-1, empty, zeros(32))[0:32]; n unchanged. */
  rekey(): void {
    const slot = this.requireKey()
    let out: Uint8Array
    try {
      out = this.crypto.aeadEncrypt(this.aead, loadKey(slot), this.nonceBytes(NOISE_MAX_NONCE), EMPTY, ZEROS32)
    } finally {
      clearKey()
    }
    writeSlot(slot, out.subarray(0, KEY_LENGTH))
    wipe(out)
  }

  /** A deep copy (used for atomic handshake processing). */
  clone(): CipherState {
    const c = new CipherState(this.crypto, this.aead)
    if (this.slot >= 0) {
      try {
        c.initializeKey(loadKey(this.slot))
      } finally {
        clearKey()
      }
    }
    c.n = this.n
    return c
  }

  /** Zero-fills the key; the state can no longer encrypt. */
  destroy(): void {
    if (this.slot < 0) return
    RELEASE_DROPPED.unregister(this)
    releaseSlot(this.slot)
    this.slot = -1
  }

  /**
   * @internal A copy of the key, for scripts/protocol-example.ts, which prints
   * the session keys of the worked examples (fixed test keys). Nothing in
   * src reads it.
   */
  private get k(): Uint8Array | undefined {
    if (this.slot < 0) return undefined
    try {
      return loadKey(this.slot).slice()
    } finally {
      clearKey()
    }
  }

  private requireKey(): number {
    if (this.slot < 0) throw new HopsealError(ErrorCode.NOISE_MISSING_KEY, 'cipher state has no key')
    return this.slot
  }

  private nonceBytes(n: bigint | number): Uint8Array {
    if (typeof n === 'number') {
      if (!Number.isSafeInteger(n) || n < 0) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `nonce expected an integer 0..2^53-1, got ${n}`)
      // A number nonce: 0..2^53-1, split into two 32-bit halves.
      const hi = Math.floor(n / 0x1_0000_0000)
      const lo = n >>> 0
      if (this.littleEndian) {
        NONCE_VIEW.setUint32(4, lo, true)
        NONCE_VIEW.setUint32(8, hi, true)
      } else {
        NONCE_VIEW.setUint32(4, hi)
        NONCE_VIEW.setUint32(8, lo)
      }
      return NONCE
    }
    NONCE_VIEW.setBigUint64(4, n, this.littleEndian)
    return NONCE
  }
}
