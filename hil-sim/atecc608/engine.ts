/**
 * The command engine (spec A5 layer 3): zones, TempKey with every flag the
 * chip reports, the message digest buffer, the alternate key buffer, a SHA
 * context, the authorization state, the persistent latch, lock rules (strict
 * by default: the † rules of spec A3), the monotonic counters in config bytes
 * 52–67, and every command of docs/hardware.md "What the simulator implements"
 * with real P-256, SHA-256, HMAC and AES.
 *
 * Input is a packet whose count and CRC the PacketLink already checked; the
 * output is the response payload (a status byte or data), which the link
 * wraps with count and CRC. A rejected command changes no non-volatile state
 * (checks first, then commit); it may invalidate TempKey where the chip does.
 *
 * Commands live in ./cmd-*.ts, one file per family; this file holds the state
 * they share and the rules they share (key use, I/O protection key, TempKey).
 */
import { p256 } from '@noble/curves/nist.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { concat } from '../../src/bytes/index.ts'
import { defaultCryptoProvider, type CryptoProvider, type KeyPair } from '../../targets/node/crypto/index.ts'
import { COUNTER_MAX, Opcode, SLOT_COUNT, Status } from '../../vaults/atecc608/constants.ts'
import { ConfigZone, KEY_TYPE_P256 } from '../../vaults/atecc608/config.ts'
import { aes, checkMac, deriveKey, genDig, kdf, mac, sha } from './cmd-symmetric.ts'
import { counter, info, lock, nonce, random, selfTest, updateExtra } from './cmd-basic.ts'
import { ecdh, genKey, secureBoot, sign, verify } from './cmd-ecc.ts'
import { privWrite, read, write } from './cmd-zones.ts'
import { readCounter, writeCounter } from './counters.ts'
import type { Rng } from './rng.ts'
import type { Sha256Context } from './sha256-context.ts'
import type { DeviceState } from './state.ts'

export interface EngineOptions {
  crypto?: CryptoProvider
  /** Random source (default: the crypto provider's CSPRNG). */
  rng?: Rng
  /**
   * Enforce the † rules of spec A3: GenKey needs the config lock; Sign, ECDH,
   * GenDig/MAC/HMAC on data slots and data reads need the data lock. Default
   * true (what silicon does); false only for tests of hosts that cut corners.
   */
  strict?: boolean
  /** Called after every change to non-volatile state (the state file hook). */
  onPersist?: () => void
}

/** A command result: a status byte (4-byte packet) or data. */
export type EngineResult = { status: number } | { data: Uint8Array }

/**
 * TempKey and its flags, as Info(State) reports them (byte 0: NoMacFlag,
 * GenKeyData, GenDigData, SourceFlag, KeyID; byte 1: Valid) — the layout
 * cryptoauthlib hosts and Coldcard read.
 */
export interface TempKey {
  value: Uint8Array
  valid: boolean
  /** SourceFlag: 0 = made from the internal RNG (random Nonce), 1 = from input (pass-through, CheckMac, …). */
  sourceInput: boolean
  keyId: number
  genDigData: boolean
  genKeyData: boolean
  noMacFlag: boolean
  is64: boolean
  /** A P-256 private key that GenKey(04, FFFF) put there (ECDH modes 0D/0F/09). */
  privateKey?: Uint8Array
}

export interface Buffer64 {
  value: Uint8Array
  valid: boolean
}

/** Fixed Random output while the config zone is unlocked (spec A3 lock-state behaviour). */
const UNLOCKED_RANDOM = (() => {
  const b = new Uint8Array(32)
  for (let i = 0; i < 32; i += 4) b.set([0xff, 0xff, 0x00, 0x00], i)
  return b
})()

export const st = (status: number): EngineResult => ({ status })
export const OK: EngineResult = { status: Status.SUCCESS }
export const PARSE: EngineResult = { status: Status.PARSE_ERROR }
export const EXEC: EngineResult = { status: Status.EXECUTION_ERROR }

/** Commands that need the crypto engines: in self-test failure mode they answer 07 (spec A2). */
const CRYPTO_OPCODES = new Set<number>([
  Opcode.GENKEY,
  Opcode.SIGN,
  Opcode.ECDH,
  Opcode.VERIFY,
  Opcode.RANDOM,
  Opcode.NONCE,
  Opcode.AES,
  Opcode.SHA,
  Opcode.KDF,
  Opcode.MAC,
  Opcode.CHECKMAC,
  Opcode.GENDIG,
  Opcode.DERIVE_KEY,
  Opcode.PRIVWRITE,
  Opcode.SECUREBOOT,
])

export class CommandEngine {
  readonly state: DeviceState
  readonly crypto: CryptoProvider
  readonly rng: Rng
  readonly strict: boolean
  private readonly onPersist: () => void
  tempKey: TempKey = blankTempKey()
  readonly msgDigBuf: Buffer64 = { value: new Uint8Array(64), valid: false }
  readonly altKeyBuf: Buffer64 = { value: new Uint8Array(32), valid: false }
  /** The SHA command's running context; `hmacKey` when it was started in HMAC mode. */
  sha: { ctx: Sha256Context; hmacKey?: Uint8Array } | undefined
  /** AuthValid / AuthKeyID of Info(State): set by a matching CheckMac (the authorization ReqAuth keys need). */
  auth = { valid: false, keyId: 0 }
  /** The persistent latch: cleared at power-up only, kept through idle and sleep. */
  latch = false
  /** SecureBoot with the prohibit flag ran: further SecureBoot commands fail until power-up. */
  secureBootProhibited = false
  private keyCache = new Map<number, KeyPair>()
  /** Self-test failure mode: crypto commands answer 07 until a passing SelfTest. */
  selfTestFailed = false
  /** Bits a SelfTest reports as failed (fault injection); cleared by a passing run. */
  selfTestFailMask = 0
  /** Counts of executed commands by opcode (for the bench's ops-per-handshake). */
  readonly opCounts = new Map<number, number>()

  constructor(state: DeviceState, opts: EngineOptions = {}) {
    this.state = state
    this.crypto = opts.crypto ?? defaultCryptoProvider()
    this.rng = opts.rng ?? ((n) => this.crypto.randomBytes(n))
    this.strict = opts.strict ?? true
    this.onPersist = opts.onPersist ?? (() => undefined)
  }

  get config(): ConfigZone {
    return new ConfigZone(this.state.config)
  }

  /** The 9-byte serial number: config bytes 0–3 and 8–12 (spec A3 config map). */
  get serialNumber(): Uint8Array {
    return this.config.serialNumber
  }

  /** Sleep, watchdog expiry: every volatile buffer is cleared (spec A1 word address 01); the persistent latch stays. */
  resetVolatile(): void {
    this.tempKey.value.fill(0)
    this.tempKey.privateKey?.fill(0)
    this.tempKey = blankTempKey()
    this.msgDigBuf.value.fill(0)
    this.msgDigBuf.valid = false
    this.altKeyBuf.value.fill(0)
    this.altKeyBuf.valid = false
    this.sha = undefined
    this.auth = { valid: false, keyId: 0 }
  }

  /** Power-up: volatile state cleared, the persistent latch and the SecureBoot prohibition too. */
  powerOn(): void {
    this.resetVolatile()
    this.latch = false
    this.secureBootProhibited = false
  }

  /** Executes one command (count and CRC already checked by the link). */
  execute(opcode: number, p1: number, p2: number, data: Uint8Array): EngineResult {
    this.opCounts.set(opcode, (this.opCounts.get(opcode) ?? 0) + 1)
    if (this.selfTestFailed && CRYPTO_OPCODES.has(opcode)) return st(Status.SELFTEST_ERROR)
    switch (opcode) {
      case Opcode.INFO:
        return info(this, p1, p2, data)
      case Opcode.RANDOM:
        return random(this, p1, p2, data)
      case Opcode.NONCE:
        return nonce(this, p1, p2, data)
      case Opcode.GENKEY:
        return genKey(this, p1, p2, data)
      case Opcode.SIGN:
        return sign(this, p1, p2, data)
      case Opcode.VERIFY:
        return verify(this, p1, p2, data)
      case Opcode.ECDH:
        return ecdh(this, p1, p2, data)
      case Opcode.SHA:
        return sha(this, p1, p2, data)
      case Opcode.READ:
        return read(this, p1, p2, data)
      case Opcode.WRITE:
        return write(this, p1, p2, data)
      case Opcode.PRIVWRITE:
        return privWrite(this, p1, p2, data)
      case Opcode.LOCK:
        return lock(this, p1, p2, data)
      case Opcode.SELFTEST:
        return selfTest(this, p1, p2, data)
      case Opcode.COUNTER:
        return counter(this, p1, p2, data)
      case Opcode.AES:
        return aes(this, p1, p2, data)
      case Opcode.GENDIG:
        return genDig(this, p1, p2, data)
      case Opcode.MAC:
        return mac(this, p1, p2, data)
      case Opcode.CHECKMAC:
        return checkMac(this, p1, p2, data)
      case Opcode.DERIVE_KEY:
        return deriveKey(this, p1, p2, data)
      case Opcode.KDF:
        return kdf(this, p1, p2, data)
      case Opcode.UPDATE_EXTRA:
        return updateExtra(this, p1, p2, data)
      case Opcode.SECUREBOOT:
        return secureBoot(this, p1, p2, data)
      default:
        // unknown opcode, and HMAC (0x11) / Pause (0x01), which the 608 does not have ([CAL] 608 execution-time table)
        return PARSE
    }
  }

  // ---- shared helpers for the command modules ----

  persist(): void {
    this.onPersist()
  }

  /** 32 RNG bytes, or the fixed pattern while the config zone is unlocked. */
  randomBytes32(): Uint8Array {
    return this.config.configLocked ? this.rng(32) : UNLOCKED_RANDOM.slice()
  }

  /** Replaces TempKey (value of 32 or 64 bytes) with the given flags; unnamed flags are cleared. */
  setTempKey(v: Uint8Array, flags: Partial<Omit<TempKey, 'value' | 'valid' | 'is64'>> = {}): void {
    this.tempKey.value.fill(0)
    this.tempKey.privateKey?.fill(0)
    const value = new Uint8Array(64)
    value.set(v.subarray(0, 64))
    this.tempKey = {
      value,
      valid: true,
      sourceInput: flags.sourceInput ?? false,
      keyId: flags.keyId ?? 0,
      genDigData: flags.genDigData ?? false,
      genKeyData: flags.genKeyData ?? false,
      noMacFlag: flags.noMacFlag ?? false,
      is64: v.length > 32,
      privateKey: flags.privateKey,
    }
  }

  invalidateTempKey(): void {
    this.tempKey.valid = false
  }

  /**
   * The usual checks on TempKey before a command uses it: valid, NoMacFlag
   * clear, and (when given) SourceFlag equal to the mode's "source flag match"
   * bit. A failed check invalidates TempKey, as cryptoauthlib's host model
   * (`atcah_mac`, `atcah_derive_key`) says the chip does.
   */
  tempKeyUsable(requireSourceInput?: boolean): boolean {
    const t = this.tempKey
    if (!t.valid || t.noMacFlag || (requireSourceInput !== undefined && t.sourceInput !== requireSourceInput)) {
      t.valid = false
      return false
    }
    return true
  }

  newKeyPair(): KeyPair {
    for (;;) {
      const d = this.rng(32)
      try {
        return this.crypto.keyPairFromPrivate('p256', d)
      } catch {
        // out of range (probability ~2^-32): draw again
      }
    }
  }

  /** X‖Y of a key pair (the 64 bytes GenKey answers). */
  xy(kp: KeyPair): Uint8Array {
    return this.crypto.p256Point(kp.publicKey, false).slice(1)
  }

  /** The P-256 key pair in a private-key slot, or undefined. */
  slotKey(slot: number): KeyPair | undefined {
    const kc = this.config.keyConfig(slot)
    if (!kc.private || kc.keyType !== KEY_TYPE_P256 || !this.state.keyValid[slot]) return undefined
    let kp = this.keyCache.get(slot)
    if (!kp) {
      try {
        kp = this.crypto.keyPairFromPrivate('p256', this.state.data[slot]!.slice(4, 36))
      } catch {
        return undefined
      }
      this.keyCache.set(slot, kp)
    }
    return kp
  }

  /** Stores a private key (36 bytes: 4 zero pad ‖ scalar) in a slot and marks it valid. */
  storePrivateKey(slot: number, scalar: Uint8Array): void {
    const img = new Uint8Array(this.state.data[slot]!.length)
    img.set(scalar, 4)
    this.state.data[slot]!.fill(0)
    this.state.data[slot] = img
    this.state.keyValid[slot] = true
    this.keyCache.delete(slot)
  }

  /**
   * The uncompressed public key (65 bytes) stored in a public-key slot: a
   * 72-byte slot (8–15), not private, KeyType P-256, padded layout
   * `00000000 ‖ X ‖ 00000000 ‖ Y` (spec A3 zone sizes).
   */
  storedPublicKey(slot: number): Uint8Array | undefined {
    const kc = this.config.keyConfig(slot)
    if (slot < 8 || kc.private || kc.keyType !== KEY_TYPE_P256) return undefined
    const d = this.state.data[slot]!
    const pub = concat(Uint8Array.of(4), d.subarray(4, 36), d.subarray(40, 72))
    try {
      p256.Point.fromBytes(pub)
    } catch {
      return undefined
    }
    return pub
  }

  /**
   * The I/O protection key: the first 32 bytes of the slot ChipOptions names
   * (bits 15:12), when ChipOptions.IOProtKeyEnable (bit 1) is set.
   */
  ioProtectionKey(): Uint8Array | undefined {
    const co = this.config.chipOptions
    if ((co & 0x02) === 0) return undefined
    return this.state.data[(co >> 12) & 0xf]!.slice(0, 32)
  }

  /**
   * Encrypts output with the I/O protection key as `atcah_io_decrypt` undoes
   * it: a fresh 32-byte OutNonce; 32-byte block i is XORed with
   * SHA-256(IOKey ‖ OutNonce[16i .. 16i+16]). Returns data ‖ OutNonce.
   */
  ioEncrypt(ioKey: Uint8Array, data: Uint8Array): Uint8Array {
    const outNonce = this.rng(32)
    const enc = data.slice()
    for (let b = 0; b * 32 < enc.length; b++) {
      const k = sha256(concat(ioKey, outNonce.subarray(b * 16, b * 16 + 16)))
      for (let i = 0; i < 32 && b * 32 + i < enc.length; i++) enc[b * 32 + i]! ^= k[i]!
    }
    return concat(enc, outNonce)
  }

  /**
   * Whether the key in `slot` may be used now (not for GenKey): KeyConfig
   * PersistentDisable needs the persistent latch, ReqAuth needs a valid
   * authorization with AuthKey, and a LimitedUse slot needs Counter[0] below
   * its maximum. Returns an error result, or undefined when usable.
   */
  keyUseError(slot: number): EngineResult | undefined {
    const kc = this.config.keyConfig(slot)
    if (kc.persistentDisable && !this.latch) return EXEC
    if (kc.reqAuth && !(this.auth.valid && this.auth.keyId === kc.authKey)) return EXEC
    if (this.config.slotConfig(slot).limitedUse) {
      const c = readCounter(this.state.config, 0)
      if (c === undefined || c >= COUNTER_MAX) return EXEC
    }
    return undefined
  }

  /** Records one use of the key in `slot`: a LimitedUse slot advances Counter[0] (call after keyUseError said yes). */
  commitKeyUse(slot: number): void {
    if (!this.config.slotConfig(slot).limitedUse) return
    const c = readCounter(this.state.config, 0)!
    writeCounter(this.state.config, 0, c + 1)
    this.persist()
  }

  /** Reloads every slot key (after a state-file reload). */
  clearKeyCache(): void {
    this.keyCache.clear()
  }
}

function blankTempKey(): TempKey {
  return { value: new Uint8Array(64), valid: false, sourceInput: false, keyId: 0, genDigData: false, genKeyData: false, noMacFlag: false, is64: false }
}

export { SLOT_COUNT }
