/**
 * Atecc608Vault: the Vault interface on an ATECC608A/B (spec A3 "Commands
 * used by the Vault"). P-256 only. Keys are made inside the chip (GenKey) in
 * the configured private-key slots and never leave it:
 *
 * - generateKey → GenKey(04, free slot); deleteKey → GenKey again over the
 *   slot (the old key is destroyed) and the slot is released in the slot map;
 * - sign → SHA-256 on the host, Random(00) (cryptoauthlib's seed refresh),
 *   Nonce(43) pass-through into the message digest buffer, Sign(A0);
 * - ecdh → ECDH(0C) with clear output, or ECDH(0E) with output encrypted by
 *   the I/O protection key when the chip has one and the vault was given it
 *   (`ioProtectionKey`): the shared secret then never crosses the bus in
 *   clear; `ephemeralKey()` → GenKey(04, FFFF) and ECDH(0D / 0F) with the
 *   private key in TempKey;
 * - publicKey → GenKey(00) (cached); random → Random(00);
 * - nextCounter → Counter(01, 0001): the chip's monotonic Counter 1, one
 *   step up (a persistent counter for replay protection across reboots).
 *
 * Persistent keys are recorded in the slot map on the device (./slot-map.ts);
 * session keys only in memory, and are destroyed on close().
 */
import { wipe } from '../../src/bytes/index.ts'
import { defaultCryptoProvider, normalizeLowS, type CryptoProvider } from '../../targets/node/crypto/index.ts'
import { ErrorCode, HopsealError, throwIfAborted } from '../../src/errors.ts'
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
import { COUNTER_MAX, Status, Zone, slotSize } from './constants.ts'
import * as C from './commands.ts'
import { ConfigZone } from './config.ts'
import { Atecc608Device, type DeviceOptions } from './device.ts'
import { ioDecrypt } from './host.ts'
import { DeviceStatusError } from './packet.ts'
import { decodeSlotMap, encodeSlotMap, type SlotMapEntry } from './slot-map.ts'
import type { Transport } from './transport.ts'

export interface Atecc608VaultOptions extends DeviceOptions {
  transport: Transport
  name?: string
  crypto?: CryptoProvider
  /** Slot holding the slot map (default 8, when it is a clear data slot). */
  mapSlot?: number
  /** Destroy a deleted key by running GenKey over its slot (default true). */
  shredOnDelete?: boolean
  /**
   * The chip's I/O protection key (32 bytes, the one provisioning wrote). With
   * it, on a chip whose configuration enables the key, ECDH output crosses the
   * bus encrypted (mode 0E / 0F) and is decrypted here. Required when the chip
   * encrypts every ECDH output (ChipOptions.ECDHProt = 1).
   */
  ioProtectionKey?: Uint8Array
  signal?: AbortSignal
}

/** A P-256 key living in TempKey (structurally a Noise StaticKey): valid until the next ephemeral or a device sleep. */
export interface TempKeyEphemeral {
  readonly type: 'p256'
  readonly publicKey: Uint8Array
  dh(peerPublic: Uint8Array): Promise<Uint8Array>
}

interface Entry {
  handle: KeyHandle
  entry: SlotMapEntry
  publicKey?: Uint8Array
}

const CAPS: VaultCapabilities = { sign: ['p256'], ecdh: ['p256'] }

export class Atecc608Vault implements Vault {
  readonly name: string
  readonly device: Atecc608Device
  readonly config: ConfigZone
  private readonly crypto: CryptoProvider
  private readonly keySlots: number[]
  private readonly mapSlot: number | undefined
  private readonly shred: boolean
  private readonly keys = new Map<number, Entry>()
  /** The map image currently on the device (to write only changed blocks). */
  private mapImage: Uint8Array
  private closed = false
  private ephemeralGen = 0
  /** The I/O protection key when ECDH output is to be encrypted on the bus. */
  private readonly ioKey: Uint8Array | undefined

  private constructor(device: Atecc608Device, config: ConfigZone, mapImage: Uint8Array, opts: Atecc608VaultOptions) {
    this.device = device
    this.config = config
    this.name = opts.name ?? 'atecc608'
    this.crypto = opts.crypto ?? defaultCryptoProvider()
    this.keySlots = config.keySlots()
    this.mapSlot = opts.mapSlot ?? (config.isClearDataSlot(8) ? 8 : undefined)
    this.shred = opts.shredOnDelete ?? true
    this.mapImage = mapImage
    this.ioKey = config.ioProtectionKeySlot !== undefined && opts.ioProtectionKey ? opts.ioProtectionKey.slice() : undefined
  }

  /**
   * Opens the vault: reads the config zone, checks the device is provisioned
   * (config and data zones locked), reads the slot map.
   * @throws VAULT_DEVICE_ERROR when the device is not provisioned; VAULT_STORE_CORRUPT for a foreign map slot.
   */
  static async open(opts: Atecc608VaultOptions): Promise<Atecc608Vault> {
    const device = new Atecc608Device(opts.transport, opts)
    const config = new ConfigZone(await readConfigZone(device, opts.signal))
    if (!config.configLocked || !config.dataLocked) {
      throw new HopsealError(ErrorCode.VAULT_DEVICE_ERROR, 'ATECC608 is not provisioned (config and data zones must be locked): run the provisioning command first')
    }
    if (opts.ioProtectionKey !== undefined && (!(opts.ioProtectionKey instanceof Uint8Array) || opts.ioProtectionKey.length !== 32)) {
      throw new HopsealError(ErrorCode.INVALID_LENGTH, 'ioProtectionKey expected 32 bytes')
    }
    if (config.ioProtectionKeySlot !== undefined && config.ecdhProtection === 1 && opts.ioProtectionKey === undefined) {
      throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `this ATECC608 encrypts every ECDH output with its I/O protection key (slot ${config.ioProtectionKeySlot}): pass ioProtectionKey`)
    }
    const mapSlot = opts.mapSlot ?? (config.isClearDataSlot(8) ? 8 : undefined)
    if (mapSlot !== undefined && !config.isClearDataSlot(mapSlot)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `slot ${mapSlot} cannot hold the slot map (needs clear reads and writes)`)
    let image: Uint8Array = new Uint8Array(0)
    let entries: SlotMapEntry[] = []
    if (mapSlot !== undefined) {
      image = await readMapImage(device, mapSlot, opts.signal)
      entries = decodeSlotMap(image)
    }
    const v = new Atecc608Vault(device, config, image, opts)
    for (const e of entries) {
      if (!v.keySlots.includes(e.slot)) throw new HopsealError(ErrorCode.VAULT_STORE_CORRUPT, `slot map names slot ${e.slot}, which is not a key slot`)
      v.keys.set(e.slot, { entry: e, handle: v.makeHandle(e, true) })
    }
    return v
  }

  capabilities(): VaultCapabilities {
    // ECDHProt 2: the chip never hands an ECDH result to the host
    return { sign: [...CAPS.sign], ecdh: this.config.ecdhProtection >= 2 ? [] : [...CAPS.ecdh] }
  }

  /** True when ECDH results cross the bus encrypted with the I/O protection key. */
  get ecdhEncrypted(): boolean {
    return this.ioKey !== undefined
  }

  /** Runs an ECDH command, encrypted on the bus when the vault has the I/O protection key. */
  private async runEcdh(s: { run(c: C.Command): Promise<Uint8Array> }, slot: number | 'tempkey', xy: Uint8Array): Promise<Uint8Array> {
    if (!this.ioKey) return s.run(C.ecdh(slot, xy))
    const r = await s.run(C.ecdh(slot, xy, { encrypted: true }))
    const secret = ioDecrypt(this.ioKey, r.subarray(32, 64), r.subarray(0, 32))
    wipe(r)
    return secret
  }

  /** Number of configured key slots and how many are free. */
  slotUsage(): { total: number; free: number } {
    return { total: this.keySlots.length, free: this.keySlots.filter((s) => !this.keys.has(s)).length }
  }

  async generateKey(type: KeyType, opts: GenerateKeyOptions = {}): Promise<KeyHandle> {
    this.checkOpen()
    throwIfAborted(opts.signal)
    checkKeyType(this, type)
    checkLabel(opts.label)
    const persistent = opts.persistent === true
    if (persistent && this.mapSlot === undefined) throw new HopsealError(ErrorCode.VAULT_OPERATION_UNSUPPORTED, 'persistent keys need a slot-map slot in the device configuration')
    return this.device.transaction(
      async (s) => {
        if (opts.label !== undefined && this.byLabel(opts.label)) throw new HopsealError(ErrorCode.VAULT_DUPLICATE_LABEL, `a key labelled ${opts.label} exists`)
        const slot = this.keySlots.find((x) => !this.keys.has(x))
        if (slot === undefined) throw new HopsealError(ErrorCode.LIMIT_EXCEEDED, `all ${this.keySlots.length} ATECC608 key slots are in use`)
        const entry: SlotMapEntry = opts.label === undefined ? { slot, tag: this.newTag() } : { slot, tag: this.newTag(), label: opts.label }
        if (persistent) encodeSlotMap([...this.persistentEntries(), entry]) // fails early (LIMIT_EXCEEDED) before touching the chip
        const xy = await s.run(C.genKeyPrivate(slot))
        const e: Entry = { entry, handle: this.makeHandle(entry, persistent), publicKey: this.compress(xy) }
        this.keys.set(slot, e)
        if (persistent) {
          try {
            await this.writeMap(s)
          } catch (err) {
            this.keys.delete(slot)
            throw err
          }
        }
        return e.handle
      },
      { signal: opts.signal },
    )
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
    const e = this.entry(h, opts)
    if (!e.publicKey) {
      const xy = await this.device.transaction((s) => s.run(C.genKeyPublic(e.entry.slot)), { signal: opts.signal })
      e.publicKey = this.compress(xy)
    }
    return e.publicKey.slice()
  }

  async sign(h: KeyHandle, message: Uint8Array, opts: CallOptions = {}): Promise<Uint8Array> {
    checkHandle(this, h, 'sign')
    checkMessage('message', message)
    const e = this.entry(h, opts)
    const digest = this.crypto.hash('sha256', message)
    const pub = await this.publicKey(h, opts)
    return this.device.transaction(
      async (s) => {
        this.entry(h, opts) // deleted while queued?
        // spec A3 "Sign an external digest": Random(00) to refresh the seed, Nonce(43) into MsgDigBuf, Sign(A0)
        await s.run(C.random(0x00))
        await s.run(C.noncePassthrough(digest, 'msgdigbuf'))
        const sig = normalizeLowS(await s.run(C.signExternal(e.entry.slot, 'msgdigbuf')))
        // a chip fault must not hand out a bad signature: check it (74 µs with node)
        if (!this.crypto.verify('p256', pub, message, sig)) throw new HopsealError(ErrorCode.VAULT_DEVICE_ERROR, 'ATECC608 returned a signature that does not verify')
        return sig
      },
      { signal: opts.signal, retryOnExecutionError: true },
    )
  }

  async ecdh(h: KeyHandle, peerPublic: Uint8Array, opts: CallOptions = {}): Promise<Uint8Array> {
    checkHandle(this, h, 'ecdh')
    const e = this.entry(h, opts)
    checkPeerPublicFor('p256', peerPublic)
    const xy = this.crypto.p256Point(peerPublic, false).slice(1) // INVALID_POINT for anything off the curve
    if (this.config.ecdhProtection >= 2) throw new HopsealError(ErrorCode.VAULT_OPERATION_UNSUPPORTED, 'this ATECC608 never outputs an ECDH result (ChipOptions.ECDHProt = 2)')
    return this.device.transaction(
      async (s) => {
        this.entry(h, opts)
        return this.runEcdh(s, e.entry.slot, xy)
      },
      { signal: opts.signal },
    )
  }

  /**
   * A P-256 ephemeral key generated inside the chip, in TempKey (GenKey 04 FFFF);
   * DH with ECDH mode 0D (0F encrypted). Usable as a Noise `e` factory. Invalid
   * once another ephemeral is made, the device sleeps, or a command replaces or
   * invalidates TempKey — a Sign does, because its Nonce into the message
   * digest buffer clears TempKey.Valid (cryptoauthlib's `atcah_nonce`): dh then
   * throws VAULT_KEY_NOT_FOUND.
   */
  async ephemeralKey(opts: CallOptions = {}): Promise<TempKeyEphemeral> {
    this.checkOpen()
    const gen = ++this.ephemeralGen
    const xy = await this.device.transaction((s) => s.run(C.genKeyPrivate(0xffff)), { signal: opts.signal })
    const publicKey = this.compress(xy)
    return {
      type: 'p256',
      publicKey,
      dh: async (peer) => {
        this.checkOpen()
        checkPeerPublicFor('p256', peer)
        const pxy = this.crypto.p256Point(peer, false).slice(1)
        return this.device.transaction(async (s) => {
          if (gen !== this.ephemeralGen) throw new HopsealError(ErrorCode.VAULT_KEY_NOT_FOUND, 'the TempKey ephemeral was replaced by a newer one')
          try {
            return await this.runEcdh(s, 'tempkey', pxy)
          } catch (err) {
            if (err instanceof DeviceStatusError && err.status === Status.EXECUTION_ERROR) {
              throw new HopsealError(ErrorCode.VAULT_KEY_NOT_FOUND, 'the TempKey ephemeral is gone (the chip slept, or a later command such as a Sign replaced TempKey)', { cause: err })
            }
            throw err
          }
        })
      },
    }
  }

  async deleteKey(h: KeyHandle, opts: CallOptions = {}): Promise<void> {
    const e = this.entry(h, opts)
    await this.device.transaction(
      async (s) => {
        if (this.keys.get(e.entry.slot) !== e) return
        if (this.shred) await s.run(C.genKeyPrivate(e.entry.slot)) // overwrite: the old private key is gone
        this.keys.delete(e.entry.slot)
        if (e.handle.persistent) await this.writeMap(s)
      },
      { signal: opts.signal },
    )
  }

  async random(n: number, opts: CallOptions = {}): Promise<Uint8Array> {
    this.checkOpen()
    throwIfAborted(opts.signal)
    checkRandomLength(n)
    const out = new Uint8Array(n)
    if (n === 0) return out
    await this.device.transaction(
      async (s) => {
        for (let o = 0; o < n; o += 32) {
          const r = await s.run(C.random(0x00))
          out.set(r.subarray(0, Math.min(32, n - o)), o)
          wipe(r)
        }
      },
      { signal: opts.signal },
    )
    return out
  }

  /**
   * Increments the chip's monotonic Counter 1 (Counter, mode 01 increment,
   * KeyID 0001; spec A3) and returns its new value. The counter lives in the
   * chip's EEPROM (config bytes 60–67), so it survives power cycles and host
   * restarts and never goes back; a value is never returned twice. A command
   * re-run after a corrupted answer may have incremented already, so values
   * can skip, never repeat. Counter 0 (which LimitedUse keys consume) is left
   * alone.
   * @throws LIMIT_EXCEEDED when the counter is at its maximum (2 097 151); VAULT_DEVICE_ERROR, VAULT_DEVICE_TIMEOUT, ABORTED, VAULT_CLOSED
   * @example
   * const n = await vault.nextCounter() // 1, then 2, … across restarts
   */
  async nextCounter(opts: CallOptions = {}): Promise<number> {
    this.checkOpen()
    throwIfAborted(opts.signal)
    return this.device.transaction(
      async (s) => {
        let r: Uint8Array
        try {
          r = await s.run(C.counter(1, true))
        } catch (e) {
          // 0F: the chip refuses an increment at the maximum; say so when that is the reason
          if (e instanceof DeviceStatusError && e.status === Status.EXECUTION_ERROR && readU32(await s.run(C.counter(1, false))) >= COUNTER_MAX) {
            throw new HopsealError(ErrorCode.LIMIT_EXCEEDED, `ATECC608 Counter 1 is at its maximum (${COUNTER_MAX})`, { cause: e })
          }
          throw e
        }
        const v = readU32(r)
        if (v > COUNTER_MAX) throw new HopsealError(ErrorCode.VAULT_DEVICE_ERROR, `ATECC608 Counter 1 answered ${v}, above its maximum ${COUNTER_MAX}`)
        return v
      },
      { signal: opts.signal },
    )
  }

  /** Destroys session keys (GenKey over their slots), puts the device to sleep, closes the transport. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const session = [...this.keys.values()].filter((e) => !e.handle.persistent)
    for (const e of session) {
      this.keys.delete(e.entry.slot)
      if (this.shred) await this.device.transaction((s) => s.run(C.genKeyPrivate(e.entry.slot))).catch(() => undefined)
    }
    this.keys.clear()
    await this.device.sleep()
    await this.device.transport.close()
  }

  private persistentEntries(): SlotMapEntry[] {
    return [...this.keys.values()].filter((e) => e.handle.persistent).map((e) => e.entry)
  }

  /** Writes the changed 32-byte blocks of the slot map (spec A3: data address (block << 8) | (slot << 3)). */
  private async writeMap(s: { run(c: C.Command): Promise<Uint8Array> }): Promise<void> {
    const slot = this.mapSlot!
    const enc = encodeSlotMap(this.persistentEntries())
    const img = new Uint8Array(Math.max(this.mapImage.length, Math.ceil(enc.length / 32) * 32))
    img.set(enc)
    for (let b = 0; b * 32 < img.length; b++) {
      const block = img.subarray(b * 32, b * 32 + 32)
      const old = this.mapImage.subarray(b * 32, b * 32 + 32)
      if (old.length === 32 && block.every((x, i) => x === old[i])) continue
      await s.run(C.write(Zone.DATA, C.dataAddress(slot, b), block.slice()))
    }
    this.mapImage = img
  }

  private newTag(): string {
    const b = this.crypto.randomBytes(4)
    return [...b].map((x) => x.toString(16).padStart(2, '0')).join('')
  }

  private compress(xy: Uint8Array): Uint8Array {
    const u = new Uint8Array(65)
    u[0] = 4
    u.set(xy, 1)
    return this.crypto.p256Point(u, true)
  }

  private makeHandle(e: SlotMapEntry, persistent: boolean): KeyHandle {
    const id = `slot${e.slot}-${e.tag}`
    return Object.freeze(e.label === undefined ? { vault: this.name, id, type: 'p256' as const, persistent } : { vault: this.name, id, type: 'p256' as const, label: e.label, persistent })
  }

  private byLabel(label: string): Entry | undefined {
    for (const e of this.keys.values()) if (e.entry.label === label) return e
    return undefined
  }

  private entry(h: KeyHandle, opts: CallOptions): Entry {
    this.checkOpen()
    throwIfAborted(opts.signal)
    checkHandle(this, h)
    const m = /^slot(\d{1,2})-([0-9a-f]{8})$/.exec(h.id)
    const e = m ? this.keys.get(Number(m[1])) : undefined
    if (!e || e.entry.tag !== m![2] || h.type !== 'p256') throw new HopsealError(ErrorCode.VAULT_KEY_NOT_FOUND, `no p256 key with id ${h.id} in vault ${this.name}`)
    return e
  }

  private checkOpen(): void {
    if (this.closed) throw new HopsealError(ErrorCode.VAULT_CLOSED, `vault ${this.name} is closed`)
  }
}

/** A Counter answer: uint32 little-endian (spec A3). */
function readU32(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true)
}

/** Reads the 128-byte config zone (4 × 32-byte reads, spec A3 "Read"). */
export async function readConfigZone(device: Atecc608Device, signal?: AbortSignal): Promise<Uint8Array> {
  return device.transaction(
    async (s) => {
      const out = new Uint8Array(128)
      for (let b = 0; b < 4; b++) out.set(await s.run(C.read(Zone.CONFIG, C.zoneAddress(b), 32)), b * 32)
      return out
    },
    { signal },
  )
}

async function readMapImage(device: Atecc608Device, slot: number, signal?: AbortSignal): Promise<Uint8Array> {
  return device.transaction(
    async (s) => {
      const size = slotSize(slot)
      const first = await s.run(C.read(Zone.DATA, C.dataAddress(slot, 0), 32))
      // header: magic(4) count(1); an entry is ≤ 71 bytes: read only the blocks the map can occupy
      let need = 32
      if (!first.subarray(0, 5).every((b) => b === 0)) need = Math.min(Math.floor(size / 32) * 32, 5 + first[4]! * 71 + 2)
      const img = new Uint8Array(Math.ceil(need / 32) * 32)
      img.set(first)
      for (let b = 1; b * 32 < img.length; b++) img.set(await s.run(C.read(Zone.DATA, C.dataAddress(slot, b), 32)), b * 32)
      return img
    },
    { signal },
  )
}
