/**
 * The software vault: Ed25519, X25519 and P-256 keys held in process memory,
 * optionally persisted to a key-store file (see ./key-store.ts).
 *
 * Private keys stay inside this module: handles carry ids, never bytes.
 */
import { defaultCryptoProvider, type CryptoProvider, type KeyPair } from '../../targets/node/crypto/index.ts'
import { ErrorCode, HopsealError, throwIfAborted } from '../../src/errors.ts'
import { wipe } from '../../src/bytes/index.ts'
import {
  checkHandle,
  checkKeyType,
  checkLabel,
  checkMessage,
  checkPeerPublicFor,
  checkRandomLength,
  type CallOptions,
  type GenerateKeyOptions,
  type KeyHandle,
  type KeyType,
  type Vault,
  type VaultCapabilities,
} from '../../src/vault/index.ts'

/** What a persistent backing store must do (the file key store implements it). */
export interface SoftwareKeyStore {
  /** Loads every persistent key. */
  load(): Promise<StoredKey[]>
  /** Atomically replaces the stored set with `keys`. */
  save(keys: StoredKey[]): Promise<void>
}

export interface StoredKey {
  id: string
  type: KeyType
  label?: string
  privateKey: Uint8Array
}

export interface SoftwareVaultOptions {
  name?: string
  crypto?: CryptoProvider
  /** Persistent keys are written here; without it, `persistent: true` is refused. */
  store?: SoftwareKeyStore
}

interface Entry {
  handle: KeyHandle
  keyPair: KeyPair
}

const CAPS: VaultCapabilities = { sign: ['ed25519', 'p256'], ecdh: ['x25519', 'p256'] }

export class SoftwareVault implements Vault {
  readonly name: string
  private readonly crypto: CryptoProvider
  private readonly store: SoftwareKeyStore | undefined
  private readonly keys = new Map<string, Entry>()
  private closed = false
  private saving: Promise<void> = Promise.resolve()

  private constructor(opts: SoftwareVaultOptions) {
    this.name = opts.name ?? 'software'
    this.crypto = opts.crypto ?? defaultCryptoProvider()
    this.store = opts.store
  }

  /** Opens a vault; with a store, loads its persistent keys. */
  static async open(opts: SoftwareVaultOptions = {}): Promise<SoftwareVault> {
    const v = new SoftwareVault(opts)
    if (v.store) {
      for (const k of await v.store.load()) {
        const keyPair = v.crypto.keyPairFromPrivate(k.type, k.privateKey)
        wipe(k.privateKey)
        v.keys.set(k.id, { handle: v.makeHandle(k.id, k.type, k.label, true), keyPair })
      }
    }
    return v
  }

  capabilities(): VaultCapabilities {
    return { sign: [...CAPS.sign], ecdh: [...CAPS.ecdh] }
  }

  async generateKey(type: KeyType, opts: GenerateKeyOptions = {}): Promise<KeyHandle> {
    this.checkOpen()
    throwIfAborted(opts.signal)
    checkKeyType(this, type)
    checkLabel(opts.label)
    if (opts.label !== undefined && this.byLabel(opts.label)) throw new HopsealError(ErrorCode.VAULT_DUPLICATE_LABEL, `a key labelled ${opts.label} exists`)
    const persistent = opts.persistent === true
    if (persistent && !this.store) throw new HopsealError(ErrorCode.VAULT_OPERATION_UNSUPPORTED, 'persistent keys need a key store (SoftwareVault.open({ store }))')
    const keyPair = this.crypto.generateKeyPair(type)
    const id = toId(this.crypto.randomBytes(12))
    const handle = this.makeHandle(id, type, opts.label, persistent)
    this.keys.set(id, { handle, keyPair })
    if (persistent) await this.persistOrUndo(() => this.forget(id, keyPair))
    return handle
  }

  /**
   * Imports a private key (tests, migration). The bytes are copied; the caller
   * should wipe its own copy.
   */
  async importKey(type: KeyType, privateKey: Uint8Array, opts: GenerateKeyOptions = {}): Promise<KeyHandle> {
    this.checkOpen()
    checkKeyType(this, type)
    checkLabel(opts.label)
    if (opts.label !== undefined && this.byLabel(opts.label)) throw new HopsealError(ErrorCode.VAULT_DUPLICATE_LABEL, `a key labelled ${opts.label} exists`)
    const persistent = opts.persistent === true
    if (persistent && !this.store) throw new HopsealError(ErrorCode.VAULT_OPERATION_UNSUPPORTED, 'persistent keys need a key store')
    const keyPair = this.crypto.keyPairFromPrivate(type, privateKey)
    const id = toId(this.crypto.randomBytes(12))
    const handle = this.makeHandle(id, type, opts.label, persistent)
    this.keys.set(id, { handle, keyPair })
    if (persistent) await this.persistOrUndo(() => this.forget(id, keyPair))
    return handle
  }

  async findKey(label: string, opts: CallOptions = {}): Promise<KeyHandle | undefined> {
    this.checkOpen()
    throwIfAborted(opts.signal)
    return this.byLabel(label)?.handle
  }

  async listKeys(opts: CallOptions = {}): Promise<KeyHandle[]> {
    this.checkOpen()
    throwIfAborted(opts.signal)
    return [...this.keys.values()].map((e) => e.handle)
  }

  async publicKey(h: KeyHandle, opts: CallOptions = {}): Promise<Uint8Array> {
    return this.entry(h, opts).keyPair.publicKey.slice()
  }

  async sign(h: KeyHandle, message: Uint8Array, opts: CallOptions = {}): Promise<Uint8Array> {
    checkHandle(this, h, 'sign')
    checkMessage('message', message)
    return this.crypto.sign(this.entry(h, opts).keyPair, message)
  }

  async ecdh(h: KeyHandle, peerPublic: Uint8Array, opts: CallOptions = {}): Promise<Uint8Array> {
    checkHandle(this, h, 'ecdh')
    const e = this.entry(h, opts)
    checkPeerPublicFor(e.keyPair.type, peerPublic)
    return this.crypto.dh(e.keyPair, peerPublic)
  }

  async deleteKey(h: KeyHandle, opts: CallOptions = {}): Promise<void> {
    const e = this.entry(h, opts)
    this.keys.delete(e.handle.id)
    // Wipe only once the deletion is saved: a failed save puts the key back, usable.
    if (e.handle.persistent) await this.persistOrUndo(() => this.keys.set(e.handle.id, e))
    wipe(e.keyPair.privateKey)
  }

  async random(n: number, opts: CallOptions = {}): Promise<Uint8Array> {
    this.checkOpen()
    throwIfAborted(opts.signal)
    checkRandomLength(n)
    return this.crypto.randomBytes(n)
  }

  async close(): Promise<void> {
    if (this.closed) return
    await this.saving
    this.closed = true
    for (const e of this.keys.values()) wipe(e.keyPair.privateKey)
    this.keys.clear()
  }

  private makeHandle(id: string, type: KeyType, label: string | undefined, persistent: boolean): KeyHandle {
    return Object.freeze(label === undefined ? { vault: this.name, id, type, persistent } : { vault: this.name, id, type, label, persistent })
  }

  private byLabel(label: string): Entry | undefined {
    for (const e of this.keys.values()) if (e.handle.label === label) return e
    return undefined
  }

  private entry(h: KeyHandle, opts: CallOptions): Entry {
    this.checkOpen()
    throwIfAborted(opts.signal)
    checkHandle(this, h)
    const e = this.keys.get(h.id)
    if (!e || e.handle.type !== h.type) throw new HopsealError(ErrorCode.VAULT_KEY_NOT_FOUND, `no ${h.type} key with id ${h.id} in vault ${this.name}`)
    return e
  }

  private checkOpen(): void {
    if (this.closed) throw new HopsealError(ErrorCode.VAULT_CLOSED, `vault ${this.name} is closed`)
  }

  /** Atomic processing: when the save fails, `undo` restores the in-memory state and the error propagates. */
  private async persistOrUndo(undo: () => void): Promise<void> {
    try {
      await this.persist()
    } catch (e) {
      undo()
      throw e
    }
  }

  private forget(id: string, keyPair: KeyPair): void {
    this.keys.delete(id)
    wipe(keyPair.privateKey)
  }

  /** Serialises saves so concurrent generateKey calls never interleave writes. */
  private persist(): Promise<void> {
    const store = this.store!
    const snapshot = (): StoredKey[] =>
      [...this.keys.values()]
        .filter((e) => e.handle.persistent)
        .map((e) => ({ id: e.handle.id, type: e.handle.type, label: e.handle.label, privateKey: e.keyPair.privateKey }))
    const next = this.saving.then(() => store.save(snapshot()))
    this.saving = next.catch(() => undefined)
    return next
  }
}

function toId(b: Uint8Array): string {
  let s = ''
  for (const x of b) s += x.toString(16).padStart(2, '0')
  return s
}
