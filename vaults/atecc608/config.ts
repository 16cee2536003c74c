/**
 * Config-zone decoding (spec A3 "Config zone map", SlotConfig and KeyConfig
 * bits) and hopseal's documented configuration (docs/hardware.md "Slot map").
 */
import { fromHex } from '../../src/bytes/index.ts'
import { ErrorCode, HopsealError } from '../../src/errors.ts'
import { CONFIG_SIZE, ConfigOffset, LOCK_UNLOCKED, SLOT_COUNT } from './constants.ts'

/** The cryptoauthlib test image `test_ecc608_configdata` (spec A3 "Reference 608 config"). */
export const REFERENCE_CONFIG = fromHex(
  '012300000000600004050607EE010100' +
    'C000A100AF2FC4448720C4F48F0F0F0F' +
    '9F8F8364C444C4640F0F0F0F0F0F0F0F' +
    '0F0F0F0FFFFFFFFF00000000FFFFFFFF' +
    '00000000FF8403BC0969760000000000' +
    '0000000000000000FFFF0E4000000000' +
    '33001C0013001C003C003A101C003300' +
    '1C001C00380030003C003C0032003000',
)

/** SlotConfig of a hopseal key slot: ReadKey 7 (ext sign, int sign, ECDH), IsSecret, WriteConfig GenKey (spec: the canonical 0x2087). */
export const KEY_SLOT_CONFIG = 0x2087
/** KeyConfig of a hopseal key slot: Private, PubInfo, KeyType P-256, Lockable (0x0033, as reference slot 0). */
export const KEY_KEY_CONFIG = 0x0033
/** SlotConfig of the slot-map slot: clear reads, not secret, writes always allowed. */
export const MAP_SLOT_CONFIG = 0x0000
/** KeyConfig of the slot-map slot: KeyType data (7), lockable. */
export const MAP_KEY_CONFIG = 0x003c
/** Slots 0–7 hold P-256 private keys; slot 8 (416 bytes) holds the slot map; 9–15 as the reference image. */
export const HOPSEAL_KEY_SLOTS = [0, 1, 2, 3, 4, 5, 6, 7] as const
export const HOPSEAL_MAP_SLOT = 8
/** The slot hopseal's configuration uses for an I/O protection key when asked for one. */
export const HOPSEAL_IO_KEY_SLOT = 9
/**
 * SlotConfig of an I/O protection key slot: WriteConfig Never (8), WriteKey F,
 * IsSecret, NoMac, ReadKey F: written once before the data lock, never read,
 * never written again, not usable by MAC.
 */
export const IO_KEY_SLOT_CONFIG = 0x8f9f
/** KeyConfig of an I/O protection key slot: KeyType SHA/data (7), not lockable. */
export const IO_KEY_KEY_CONFIG = 0x001c

export interface HopsealConfigOptions {
  /**
   * Put an I/O protection key in this slot (9–15) and enable it
   * (ChipOptions.IOProtKeyEnable): ECDH and KDF results can then cross the bus
   * encrypted. The key itself is written by provisioning.
   */
  ioProtectionKeySlot?: number
  /**
   * With an I/O protection key: ChipOptions.ECDHProt = 1, the chip encrypts
   * every ECDH output, so a shared secret never crosses the bus in clear
   * (default true). False leaves clear output allowed (ECDHProt 0).
   */
  requireEncryptedEcdh?: boolean
}

/**
 * hopseal's configuration: the reference image with slots 0–7 as GenKey-capable
 * P-256 private keys (sign + ECDH), slot 8 as a clear read/write data slot for
 * the slot map, lock bytes unlocked, revision 608A. Bytes 0–15 are factory
 * bytes and are never written. By default ChipOptions is 0 (no I/O protection
 * key: ECDH output in clear); with `ioProtectionKeySlot` the chip encrypts ECDH
 * output with that key (docs/hardware.md "I/O protection key").
 */
export function hopsealConfig(opts: HopsealConfigOptions = {}): Uint8Array {
  const c = REFERENCE_CONFIG.slice()
  c.set([0x00, 0x00, 0x60, 0x02], ConfigOffset.REVISION)
  for (const s of HOPSEAL_KEY_SLOTS) {
    setU16(c, ConfigOffset.SLOT_CONFIG + 2 * s, KEY_SLOT_CONFIG)
    setU16(c, ConfigOffset.KEY_CONFIG + 2 * s, KEY_KEY_CONFIG)
  }
  setU16(c, ConfigOffset.SLOT_CONFIG + 2 * HOPSEAL_MAP_SLOT, MAP_SLOT_CONFIG)
  setU16(c, ConfigOffset.KEY_CONFIG + 2 * HOPSEAL_MAP_SLOT, MAP_KEY_CONFIG)
  let chipOptions = 0x0000
  const io = opts.ioProtectionKeySlot
  if (io !== undefined) {
    if (!Number.isInteger(io) || io < 9 || io > 15) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `ioProtectionKeySlot expected 9..15, got ${io}`)
    setU16(c, ConfigOffset.SLOT_CONFIG + 2 * io, IO_KEY_SLOT_CONFIG)
    setU16(c, ConfigOffset.KEY_CONFIG + 2 * io, IO_KEY_KEY_CONFIG)
    chipOptions = (io << 12) | 0x0002 | (opts.requireEncryptedEcdh === false ? 0 : 0x0100)
  }
  setU16(c, ConfigOffset.CHIP_OPTIONS, chipOptions)
  c[ConfigOffset.LOCK_VALUE] = LOCK_UNLOCKED
  c[ConfigOffset.LOCK_CONFIG] = LOCK_UNLOCKED
  setU16(c, ConfigOffset.SLOT_LOCKED, 0xffff)
  return c
}

export function getU16(b: Uint8Array, off: number): number {
  return b[off]! | (b[off + 1]! << 8)
}
export function setU16(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff
  b[off + 1] = (v >> 8) & 0xff
}

/** Decoded SlotConfig (spec A3 "SlotConfig bits"). */
export interface SlotConfig {
  raw: number
  readKey: number
  noMac: boolean
  limitedUse: boolean
  encryptRead: boolean
  isSecret: boolean
  writeKey: number
  writeConfig: number
  /** Private-key slots: ReadKey bits 0..3. */
  extSign: boolean
  intSign: boolean
  ecdh: boolean
  ecdhToNext: boolean
  /** WriteConfig bit 1 (SlotConfig bit 13): GenKey allowed. */
  genKey: boolean
  /** WriteConfig bit 2 (SlotConfig bit 14): PrivWrite allowed. */
  privWrite: boolean
}

export function decodeSlotConfig(raw: number): SlotConfig {
  const readKey = raw & 0xf
  const writeConfig = (raw >> 12) & 0xf
  return {
    raw,
    readKey,
    noMac: (raw & 0x10) !== 0,
    limitedUse: (raw & 0x20) !== 0,
    encryptRead: (raw & 0x40) !== 0,
    isSecret: (raw & 0x80) !== 0,
    writeKey: (raw >> 8) & 0xf,
    writeConfig,
    extSign: (readKey & 1) !== 0,
    intSign: (readKey & 2) !== 0,
    ecdh: (readKey & 4) !== 0,
    ecdhToNext: (readKey & 8) !== 0,
    genKey: (raw & 0x2000) !== 0,
    privWrite: (raw & 0x4000) !== 0,
  }
}

/** Decoded KeyConfig (spec A3 "KeyConfig bits"). KeyType 4 = P-256, 6 = AES, 7 = SHA/data. */
export interface KeyConfig {
  raw: number
  private: boolean
  pubInfo: boolean
  keyType: number
  lockable: boolean
  reqRandom: boolean
  reqAuth: boolean
  authKey: number
  persistentDisable: boolean
}

export function decodeKeyConfig(raw: number): KeyConfig {
  return {
    raw,
    private: (raw & 1) !== 0,
    pubInfo: (raw & 2) !== 0,
    keyType: (raw >> 2) & 7,
    lockable: (raw & 0x20) !== 0,
    reqRandom: (raw & 0x40) !== 0,
    reqAuth: (raw & 0x80) !== 0,
    authKey: (raw >> 8) & 0xf,
    persistentDisable: (raw & 0x1000) !== 0,
  }
}

export const KEY_TYPE_P256 = 4
export const KEY_TYPE_AES = 6
export const KEY_TYPE_DATA = 7

/** A read-only view of a 128-byte config zone. */
export class ConfigZone {
  readonly bytes: Uint8Array
  constructor(bytes: Uint8Array) {
    if (!(bytes instanceof Uint8Array) || bytes.length !== CONFIG_SIZE) throw new HopsealError(ErrorCode.INVALID_LENGTH, `config zone expected ${CONFIG_SIZE} bytes, got ${bytes?.length}`)
    this.bytes = bytes
  }
  slotConfig(slot: number): SlotConfig {
    return decodeSlotConfig(getU16(this.bytes, ConfigOffset.SLOT_CONFIG + 2 * slot))
  }
  keyConfig(slot: number): KeyConfig {
    return decodeKeyConfig(getU16(this.bytes, ConfigOffset.KEY_CONFIG + 2 * slot))
  }
  get configLocked(): boolean {
    return this.bytes[ConfigOffset.LOCK_CONFIG] !== LOCK_UNLOCKED
  }
  get dataLocked(): boolean {
    return this.bytes[ConfigOffset.LOCK_VALUE] !== LOCK_UNLOCKED
  }
  /** SlotLocked: bit n = 1 means slot n is unlocked. */
  slotLocked(slot: number): boolean {
    return (getU16(this.bytes, ConfigOffset.SLOT_LOCKED) & (1 << slot)) === 0
  }
  get revision(): Uint8Array {
    return this.bytes.slice(ConfigOffset.REVISION, ConfigOffset.REVISION + 4)
  }
  get serialNumber(): Uint8Array {
    const sn = new Uint8Array(9)
    sn.set(this.bytes.subarray(0, 4), 0)
    sn.set(this.bytes.subarray(8, 13), 4)
    return sn
  }
  get chipOptions(): number {
    return getU16(this.bytes, ConfigOffset.CHIP_OPTIONS)
  }
  get watchdogLong(): boolean {
    return (this.bytes[ConfigOffset.CHIP_MODE]! & 0x04) !== 0
  }
  get aesEnabled(): boolean {
    return (this.bytes[ConfigOffset.AES_ENABLE]! & 1) !== 0
  }
  /** The I/O protection key slot when ChipOptions.IOProtKeyEnable (bit 1) is set, else undefined. */
  get ioProtectionKeySlot(): number | undefined {
    return this.chipOptions & 0x02 ? (this.chipOptions >> 12) & 0xf : undefined
  }
  /** ChipOptions.ECDHProt (bits 9:8): 0 clear ECDH output allowed, 1 always encrypted, 2 never output. */
  get ecdhProtection(): number {
    return (this.chipOptions >> 8) & 3
  }
  /** Slots usable as vault keys: P-256 private, GenKey allowed, ext sign or ECDH, not locked. */
  keySlots(): number[] {
    const out: number[] = []
    for (let s = 0; s < SLOT_COUNT; s++) {
      const k = this.keyConfig(s)
      const c = this.slotConfig(s)
      if (k.private && k.keyType === KEY_TYPE_P256 && c.genKey && (c.extSign || c.ecdh) && !this.slotLocked(s)) out.push(s)
    }
    return out
  }
  /** A data slot readable and writable in clear after the data lock (a slot-map candidate). */
  isClearDataSlot(slot: number): boolean {
    const k = this.keyConfig(slot)
    const c = this.slotConfig(slot)
    return !k.private && !c.isSecret && !c.encryptRead && c.writeConfig === 0 && !this.slotLocked(slot)
  }
}
