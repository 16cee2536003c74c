/**
 * The Vault interface (architecture.md §3): keys are handles, never bytes.
 *
 * No method returns private key material. Software, PKCS#11 and ATECC608
 * backends implement it; every backend runs the shared compliance suite
 * (`hopseal/vault/compliance`).
 *
 * Formats:
 * - `publicKey`: ed25519 / x25519 32 bytes; p256 33-byte compressed SEC1.
 * - `sign`: ed25519 64 bytes; p256 ECDSA over SHA-256(message), raw r||s, low-S.
 * - `ecdh`: x25519 32 bytes (all-zero results rejected); p256 the 32-byte
 *   x-coordinate; `peerPublic` p256 may be 33 or 65 bytes.
 */
export type KeyType = 'ed25519' | 'x25519' | 'p256'

export interface KeyHandle {
  /** Name of the vault that owns the key. */
  readonly vault: string
  /** Backend-specific stable identifier (a store id, a CKA_ID in hex, a slot number). */
  readonly id: string
  readonly type: KeyType
  readonly label?: string
  readonly persistent: boolean
}

export interface VaultCapabilities {
  /** Key types this vault can sign with. */
  sign: KeyType[]
  /** Key types this vault can do ECDH with. */
  ecdh: KeyType[]
}

export interface CallOptions {
  /** Aborts a call that waits on hardware or I/O. */
  signal?: AbortSignal
}

export interface GenerateKeyOptions extends CallOptions {
  label?: string
  /** Survives process restarts (store file, token object, device slot). Default false. */
  persistent?: boolean
}

export interface Vault {
  readonly name: string
  capabilities(): VaultCapabilities
  generateKey(type: KeyType, opts?: GenerateKeyOptions): Promise<KeyHandle>
  /** Finds a key by label, e.g. in another process; undefined when absent. */
  findKey(label: string, opts?: CallOptions): Promise<KeyHandle | undefined>
  /** Lists the keys this vault can address. */
  listKeys(opts?: CallOptions): Promise<KeyHandle[]>
  publicKey(h: KeyHandle, opts?: CallOptions): Promise<Uint8Array>
  sign(h: KeyHandle, message: Uint8Array, opts?: CallOptions): Promise<Uint8Array>
  ecdh(h: KeyHandle, peerPublic: Uint8Array, opts?: CallOptions): Promise<Uint8Array>
  deleteKey(h: KeyHandle, opts?: CallOptions): Promise<void>
  random(n: number, opts?: CallOptions): Promise<Uint8Array>
  close(): Promise<void>
}

/** Which operations a key type supports at all (a vault may support fewer). */
export const KEY_USAGE: Record<KeyType, { sign: boolean; ecdh: boolean }> = {
  ed25519: { sign: true, ecdh: false },
  x25519: { sign: false, ecdh: true },
  p256: { sign: true, ecdh: true },
}
