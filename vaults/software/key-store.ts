/**
 * The software vault's key-store file (format v1, docs/software-vault.md).
 *
 * One file holds every persistent key. Each save rewrites the whole file
 * through `writeFileAtomic` (temp file, fsync, rename, fsync the directory), so
 * a process killed at any moment leaves the previous or the new file, never a
 * torn one. The file is mode 0600 and refused when group/world-accessible.
 *
 * Layout (all integers big-endian):
 *
 * ```
 * plain (protection 0)                 encrypted (protection 1)
 *  0  4 magic "HSKS"                    0  4 magic "HSKS"
 *  4  1 version = 1                     4  1 version = 1
 *  5  1 protection = 0                  5  1 protection = 1
 *  6  4 body length L                   6  1 AEAD: 1 AES-256-GCM, 2 ChaCha20-Poly1305
 * 10  L body (records)                  7  1 log2(N)   8 1 r   9 1 p   (scrypt)
 *  …  32 SHA-256(all bytes before)     10 16 salt
 *                                      26 12 nonce (fresh per save)
 *                                      38 16 passphrase verifier
 *                                      54  4 sealed length L (records + 16-byte tag)
 *                                      58  L AEAD(key, nonce, AD = bytes 0..57, records)
 *                                       …  32 SHA-256(all bytes before)
 * records: u16 count, then per key: u8 type (1 ed25519, 2 x25519, 3 p256),
 *          u8 id length + id (ASCII), u8 label length (0 = none) + label (ASCII),
 *          32-byte private key
 * ```
 *
 * The trailing SHA-256 tells a corrupted or truncated file (VAULT_STORE_CORRUPT)
 * apart from a wrong passphrase (VAULT_WRONG_PASSPHRASE, from the verifier); the
 * AEAD, with the whole header as associated data, is what protects the keys.
 * scrypt (RFC 7914) output is split with HKDF-SHA-256 into the AEAD key and the
 * verifier, so checking the verifier costs a full scrypt: no shortcut for a
 * guesser. Rejected options: a JSON body (private keys as immutable JS strings
 * cannot be wiped) and argon2id (slower in pure JS for the same memory cost).
 */
import { scryptAsync } from '@noble/hashes/scrypt.js'
import { concat, equalConstantTime, utf8, wipe } from '../../src/bytes/index.ts'
import { P256_N, bytesToBigint } from '../../src/crypto/checks.ts'
import { defaultCryptoProvider, type AeadAlgorithm, type CryptoProvider } from '../../targets/node/crypto/index.ts'
import { ErrorCode, HopsealError } from '../../src/errors.ts'
import { readStoreFile, removeStaleTemps, writeFileAtomic } from '../../targets/node/store/atomic-file.ts'
import type { KeyType } from '../../src/vault/index.ts'
import type { SoftwareKeyStore, StoredKey } from './software-vault.ts'

// ---- constants (one place, with units and reasons) ------------------------------

/** File magic: "HSKS" (hopseal key store). */
const MAGIC = Uint8Array.of(0x48, 0x53, 0x4b, 0x53)
/** Format version written and read by this module. */
export const KEY_STORE_VERSION = 1
/** Default scrypt cost: N = 2^15, r = 8, p = 1 ≈ 32 MiB and ≈ 130 ms (noble, 2-vCPU gateway) per open. */
export const DEFAULT_KDF: KdfParams = Object.freeze({ log2N: 15, r: 8, p: 1 })
/** Upper bound on scrypt memory, 128·r·N bytes, read from a file: 256 MiB (refuses a file that asks to exhaust RAM). */
const MAX_KDF_MEMORY = 256 * 1024 * 1024
/** Upper bound on r·p, the scrypt time factor (p=1, r=8 gives 8); 64 keeps a hostile file under ~10× the default time. */
const MAX_KDF_RP = 64
/** At most this many keys per store: bounds the file (≤ 4096 × 163 B ≈ 650 KiB). */
export const MAX_STORE_KEYS = 4096
/** Largest store file read or written: 1 MiB (4096 records of the largest size fit). */
export const MAX_STORE_BYTES = 1024 * 1024
/** Ids and labels: 1..64 printable ASCII bytes (labels as src/vault/checks.ts checkLabel). */
const MAX_NAME = 64
const SALT_BYTES = 16
const NONCE_BYTES = 12
const VERIFIER_BYTES = 16
const KEY_BYTES = 32
const TAG_BYTES = 16
const DIGEST_BYTES = 32
const PLAIN_HEADER = 10
const SEALED_HEADER = 58
const HKDF_INFO_KEY = utf8('hopseal key store v1 key')
const HKDF_INFO_VERIFIER = utf8('hopseal key store v1 verifier')

const TYPE_CODE: Record<KeyType, number> = { ed25519: 1, x25519: 2, p256: 3 }
const CODE_TYPE: Record<number, KeyType> = { 1: 'ed25519', 2: 'x25519', 3: 'p256' }
const AEAD_CODE: Record<AeadAlgorithm, number> = { 'aes-gcm': 1, 'chacha20-poly1305': 2 }
const CODE_AEAD: Record<number, AeadAlgorithm> = { 1: 'aes-gcm', 2: 'chacha20-poly1305' }

/** scrypt cost parameters (RFC 7914 §2): N = 2^log2N. */
export interface KdfParams {
  log2N: number
  r: number
  p: number
}

export interface FileKeyStoreOptions {
  /** Encrypts the store. A string is NFC-normalised and UTF-8 encoded; a Uint8Array is used as is (not wiped: the caller owns it). */
  passphrase?: string | Uint8Array
  /** Provider for the AEAD, HKDF, SHA-256 and randomness (default: the process default). */
  crypto?: CryptoProvider
  /** scrypt cost for a NEW store (default {@link DEFAULT_KDF}); an existing store keeps the parameters in its header. Tests pass a low cost. */
  kdf?: KdfParams
  /** AEAD for a new encrypted store (default AES-256-GCM). */
  aead?: AeadAlgorithm
}

/** What an encrypted store keeps between calls: the derived AEAD key (wiped by close()), never the passphrase. */
interface Sealing {
  aead: AeadAlgorithm
  kdf: KdfParams
  salt: Uint8Array
  key: Uint8Array
  verifier: Uint8Array
}

const corrupt = (path: string, why: string): HopsealError => new HopsealError(ErrorCode.VAULT_STORE_CORRUPT, `key store ${path}: ${why}`)

/**
 * A `SoftwareKeyStore` in one file, optionally passphrase-encrypted.
 *
 * @example
 * const store = await FileKeyStore.open('/var/lib/hopseal/vault.hsv', { passphrase: process.env.PW })
 * const vault = await SoftwareVault.open({ store })
 * const h = await vault.generateKey('x25519', { label: 'gateway', persistent: true })
 */
export class FileKeyStore implements SoftwareKeyStore {
  readonly path: string
  private readonly crypto: CryptoProvider
  private sealing: Sealing | undefined
  private closed = false

  private constructor(path: string, crypto: CryptoProvider, sealing: Sealing | undefined) {
    this.path = path
    this.crypto = crypto
    this.sealing = sealing
  }

  /** True when the store encrypts its file. */
  get encrypted(): boolean {
    return this.sealing !== undefined
  }

  /**
   * Opens (or prepares to create, on the first save) the store at `path`. With
   * a passphrase, derives the key now, so a wrong passphrase fails here.
   *
   * @throws VAULT_WRONG_PASSPHRASE when the passphrase is wrong, missing for an encrypted store, or given for a plain one.
   * @throws VAULT_STORE_CORRUPT when the file is truncated, altered or of an unknown version.
   * @throws VAULT_STORE_IO when the file cannot be read or is group/world-accessible.
   */
  static async open(path: string, opts: FileKeyStoreOptions = {}): Promise<FileKeyStore> {
    if (typeof path !== 'string' || path.length === 0) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'key store path expected a non-empty string')
    const crypto = opts.crypto ?? defaultCryptoProvider()
    const pass = passphraseBytes(opts.passphrase)
    removeStaleTemps(path)
    try {
      const file = readStoreFile(path, MAX_STORE_BYTES)
      if (file === undefined) {
        if (!pass) return new FileKeyStore(path, crypto, undefined)
        const kdf = opts.kdf ?? DEFAULT_KDF
        checkKdf(path, kdf, true)
        const aead = opts.aead ?? 'aes-gcm'
        if (AEAD_CODE[aead] === undefined) throw new HopsealError(ErrorCode.UNSUPPORTED_ALGORITHM, `key store AEAD ${String(aead)} not supported`)
        return new FileKeyStore(path, crypto, await deriveSealing(crypto, pass, kdf, aead, crypto.randomBytes(SALT_BYTES)))
      }
      const h = parseHeader(path, crypto, file)
      if (!h.sealed) {
        if (pass) throw new HopsealError(ErrorCode.VAULT_WRONG_PASSPHRASE, `key store ${path} is not encrypted; open it without a passphrase`)
        return new FileKeyStore(path, crypto, undefined)
      }
      if (!pass) throw new HopsealError(ErrorCode.VAULT_WRONG_PASSPHRASE, `key store ${path} is encrypted; a passphrase is required`)
      const sealing = await deriveSealing(crypto, pass, h.kdf, h.aead, h.salt)
      if (!equalConstantTime(sealing.verifier, h.verifier)) {
        wipe(sealing.key)
        throw new HopsealError(ErrorCode.VAULT_WRONG_PASSPHRASE, `wrong passphrase for key store ${path}`)
      }
      return new FileKeyStore(path, crypto, sealing)
    } finally {
      if (pass && pass !== opts.passphrase) wipe(pass)
    }
  }

  /** Reads every stored key. The caller owns (and should wipe) the returned private keys. */
  async load(): Promise<StoredKey[]> {
    this.checkOpen()
    const file = readStoreFile(this.path, MAX_STORE_BYTES)
    if (file === undefined) return []
    const h = parseHeader(this.path, this.crypto, file)
    if (!h.sealed) {
      if (this.sealing) throw new HopsealError(ErrorCode.VAULT_STORE_CORRUPT, `key store ${this.path} was opened encrypted but is now plain`)
      try {
        return decodeRecords(this.path, h.body)
      } finally {
        wipe(file)
      }
    }
    const s = this.sealing
    if (!s) throw new HopsealError(ErrorCode.VAULT_WRONG_PASSPHRASE, `key store ${this.path} is encrypted; a passphrase is required`)
    if (!equalConstantTime(s.salt, h.salt) || !equalConstantTime(s.verifier, h.verifier) || s.aead !== h.aead) {
      throw new HopsealError(ErrorCode.VAULT_WRONG_PASSPHRASE, `key store ${this.path} was re-keyed by another writer since it was opened`)
    }
    let records: Uint8Array
    try {
      records = this.crypto.aeadDecrypt(h.aead, s.key, h.nonce, h.header, h.body)
    } catch (e) {
      throw new HopsealError(ErrorCode.VAULT_STORE_CORRUPT, `key store ${this.path} failed authentication`, { cause: e })
    }
    try {
      return decodeRecords(this.path, records)
    } finally {
      wipe(records)
    }
  }

  /** Atomically replaces the stored keys with `keys` (temp file, fsync, rename). */
  async save(keys: StoredKey[]): Promise<void> {
    this.checkOpen()
    if (!Array.isArray(keys)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'keys expected an array')
    if (keys.length > MAX_STORE_KEYS) throw new HopsealError(ErrorCode.LIMIT_EXCEEDED, `key store holds at most ${MAX_STORE_KEYS} keys, got ${keys.length}`)
    const records = encodeRecords(keys)
    let file: Uint8Array
    try {
      file = this.sealing ? this.seal(records) : this.plain(records)
    } finally {
      wipe(records)
    }
    if (file.length > MAX_STORE_BYTES) throw new HopsealError(ErrorCode.LIMIT_EXCEEDED, `key store would exceed ${MAX_STORE_BYTES} bytes`)
    try {
      writeFileAtomic(this.path, file)
    } finally {
      wipe(file)
    }
  }

  /** Wipes the derived key; later calls throw VAULT_CLOSED. Idempotent. */
  close(): void {
    if (this.sealing) wipe(this.sealing.key)
    this.sealing = undefined
    this.closed = true
  }

  private plain(records: Uint8Array): Uint8Array {
    const header = new Uint8Array(PLAIN_HEADER)
    header.set(MAGIC)
    header[4] = KEY_STORE_VERSION
    header[5] = 0
    new DataView(header.buffer).setUint32(6, records.length)
    const body = concat(header, records)
    const out = concat(body, this.crypto.hash('sha256', body))
    wipe(body)
    return out
  }

  private seal(records: Uint8Array): Uint8Array {
    const s = this.sealing!
    const header = new Uint8Array(SEALED_HEADER)
    const dv = new DataView(header.buffer)
    header.set(MAGIC)
    header[4] = KEY_STORE_VERSION
    header[5] = 1
    header[6] = AEAD_CODE[s.aead]
    header[7] = s.kdf.log2N
    header[8] = s.kdf.r
    header[9] = s.kdf.p
    header.set(s.salt, 10)
    // A fresh random 96-bit nonce per save under the same key: collision odds stay below 2^-32 for 2^32 saves.
    header.set(this.crypto.randomBytes(NONCE_BYTES), 26)
    header.set(s.verifier, 38)
    dv.setUint32(54, records.length + TAG_BYTES)
    const sealed = this.crypto.aeadEncrypt(s.aead, s.key, header.subarray(26, 38), header, records)
    const body = concat(header, sealed)
    return concat(body, this.crypto.hash('sha256', body))
  }

  private checkOpen(): void {
    if (this.closed) throw new HopsealError(ErrorCode.VAULT_CLOSED, `key store ${this.path} is closed`)
  }
}

// ---- header, records, KDF -------------------------------------------------------

type Header =
  | { sealed: false; body: Uint8Array }
  | { sealed: true; header: Uint8Array; aead: AeadAlgorithm; kdf: KdfParams; salt: Uint8Array; nonce: Uint8Array; verifier: Uint8Array; body: Uint8Array }

/** Checks magic, version, lengths and the trailing digest; total: any bytes give a Header or VAULT_STORE_CORRUPT. */
function parseHeader(path: string, crypto: CryptoProvider, file: Uint8Array): Header {
  if (file.length < PLAIN_HEADER + DIGEST_BYTES) throw corrupt(path, `truncated (${file.length} bytes)`)
  for (let i = 0; i < MAGIC.length; i++) if (file[i] !== MAGIC[i]) throw corrupt(path, 'not a hopseal key store (bad magic)')
  if (file[4] !== KEY_STORE_VERSION) throw corrupt(path, `format version ${file[4]} not supported (this build reads version ${KEY_STORE_VERSION})`)
  const content = file.subarray(0, file.length - DIGEST_BYTES)
  if (!equalConstantTime(crypto.hash('sha256', content), file.subarray(file.length - DIGEST_BYTES))) throw corrupt(path, 'checksum mismatch (truncated or altered)')
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength)
  const protection = file[5]
  if (protection === 0) {
    const len = dv.getUint32(6)
    if (PLAIN_HEADER + len !== content.length) throw corrupt(path, 'body length mismatch')
    return { sealed: false, body: content.subarray(PLAIN_HEADER) }
  }
  if (protection !== 1) throw corrupt(path, `unknown protection ${protection}`)
  if (content.length < SEALED_HEADER + TAG_BYTES) throw corrupt(path, 'truncated encrypted header')
  const aead = CODE_AEAD[file[6]!]
  if (!aead) throw corrupt(path, `unknown AEAD ${file[6]}`)
  const kdf = { log2N: file[7]!, r: file[8]!, p: file[9]! }
  checkKdf(path, kdf, false)
  const len = dv.getUint32(54)
  if (SEALED_HEADER + len !== content.length) throw corrupt(path, 'sealed length mismatch')
  return {
    sealed: true,
    header: content.subarray(0, SEALED_HEADER),
    aead,
    kdf,
    salt: content.slice(10, 26),
    nonce: content.subarray(26, 38),
    verifier: content.slice(38, 54),
    body: content.subarray(SEALED_HEADER),
  }
}

/** Bounds scrypt parameters: `forWrite` errors are INVALID_ARGUMENT, a file's are VAULT_STORE_CORRUPT. */
function checkKdf(path: string, k: KdfParams, forWrite: boolean): void {
  const ok =
    k !== null &&
    typeof k === 'object' &&
    [k.log2N, k.r, k.p].every((v) => Number.isInteger(v) && v >= 1 && v <= 255) &&
    k.log2N <= 30 &&
    128 * k.r * 2 ** k.log2N <= MAX_KDF_MEMORY &&
    k.r * k.p <= MAX_KDF_RP
  if (ok) return
  const why = `scrypt parameters out of bounds (1 ≤ log2N, r, p; 128·r·N ≤ ${MAX_KDF_MEMORY} bytes; r·p ≤ ${MAX_KDF_RP})`
  if (forWrite) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, why)
  throw corrupt(path, why)
}

async function deriveSealing(crypto: CryptoProvider, pass: Uint8Array, kdf: KdfParams, aead: AeadAlgorithm, salt: Uint8Array): Promise<Sealing> {
  const master = await scryptAsync(pass, salt, { N: 2 ** kdf.log2N, r: kdf.r, p: kdf.p, dkLen: 32, maxmem: MAX_KDF_MEMORY + 1024 * 1024 })
  try {
    return {
      aead,
      kdf: { ...kdf },
      salt,
      key: crypto.hkdfSha256(master, salt, HKDF_INFO_KEY, KEY_BYTES),
      verifier: crypto.hkdfSha256(master, salt, HKDF_INFO_VERIFIER, VERIFIER_BYTES),
    }
  } finally {
    wipe(master)
  }
}

function passphraseBytes(p: string | Uint8Array | undefined): Uint8Array | undefined {
  if (p === undefined) return undefined
  if (typeof p === 'string') {
    if (p.length === 0) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'passphrase must not be empty')
    return utf8(p.normalize('NFC'))
  }
  if (p instanceof Uint8Array) {
    if (p.length === 0) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'passphrase must not be empty')
    return p
  }
  throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'passphrase expected a string or Uint8Array')
}

function isName(s: unknown): s is string {
  return typeof s === 'string' && s.length >= 1 && s.length <= MAX_NAME && /^[\x20-\x7e]+$/.test(s)
}

/** Serialises the records (caller wipes the result: it holds private keys). */
function encodeRecords(keys: StoredKey[]): Uint8Array {
  let size = 2
  for (const k of keys) {
    if (!k || typeof k !== 'object' || TYPE_CODE[k.type] === undefined) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `stored key type ${String(k?.type)} unknown`)
    if (!isName(k.id)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'stored key id expected 1..64 printable ASCII characters')
    if (k.label !== undefined && !isName(k.label)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'stored key label expected 1..64 printable ASCII characters')
    if (!(k.privateKey instanceof Uint8Array) || k.privateKey.length !== KEY_BYTES) throw new HopsealError(ErrorCode.INVALID_KEY, `stored ${k.type} private key expected ${KEY_BYTES} bytes`)
    size += 3 + k.id.length + (k.label?.length ?? 0) + KEY_BYTES
  }
  const out = new Uint8Array(size)
  new DataView(out.buffer).setUint16(0, keys.length)
  let o = 2
  const put = (s: string): void => {
    out[o++] = s.length
    for (let i = 0; i < s.length; i++) out[o++] = s.charCodeAt(i)
  }
  for (const k of keys) {
    out[o++] = TYPE_CODE[k.type]
    put(k.id)
    put(k.label ?? '')
    out.set(k.privateKey, o)
    o += KEY_BYTES
  }
  return out
}

/** Parses the records; total (VAULT_STORE_CORRUPT on any inconsistency). Returned private keys are fresh copies. */
function decodeRecords(path: string, b: Uint8Array): StoredKey[] {
  if (b.length < 2) throw corrupt(path, 'records truncated')
  const count = (b[0]! << 8) | b[1]!
  if (count > MAX_STORE_KEYS) throw corrupt(path, `${count} keys exceed the limit of ${MAX_STORE_KEYS}`)
  const keys: StoredKey[] = []
  const ids = new Set<string>()
  const labels = new Set<string>()
  let o = 2
  const name = (what: string, optional: boolean): string | undefined => {
    if (o >= b.length) throw corrupt(path, `${what} truncated`)
    const n = b[o++]!
    if (n === 0 && optional) return undefined
    if (n === 0 || n > MAX_NAME || o + n > b.length) throw corrupt(path, `${what} length ${n} invalid`)
    let s = ''
    for (let i = 0; i < n; i++) s += String.fromCharCode(b[o++]!)
    if (!isName(s)) throw corrupt(path, `${what} is not printable ASCII`)
    return s
  }
  try {
    for (let i = 0; i < count; i++) {
      if (o >= b.length) throw corrupt(path, 'records truncated')
      const type = CODE_TYPE[b[o++]!]
      if (!type) throw corrupt(path, `unknown key type code ${b[o - 1]}`)
      const id = name('key id', false)!
      const label = name('key label', true)
      if (o + KEY_BYTES > b.length) throw corrupt(path, 'private key truncated')
      if (ids.has(id)) throw corrupt(path, `duplicate key id ${id}`)
      if (label !== undefined && labels.has(label)) throw corrupt(path, `duplicate label ${label}`)
      const privateKey = b.slice(o, o + KEY_BYTES)
      o += KEY_BYTES
      if (type === 'p256') {
        const d = bytesToBigint(privateKey)
        if (d === 0n || d >= P256_N) {
          wipe(privateKey)
          throw corrupt(path, `P-256 key ${id} out of range`)
        }
      }
      ids.add(id)
      if (label !== undefined) labels.add(label)
      keys.push(label === undefined ? { id, type, privateKey } : { id, type, label, privateKey })
    }
    if (o !== b.length) throw corrupt(path, `${b.length - o} trailing bytes after the records`)
    return keys
  } catch (e) {
    for (const k of keys) wipe(k.privateKey)
    throw e
  }
}
