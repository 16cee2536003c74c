/**
 * The command engine (spec A5 layer 3): zones, TempKey with its flags, the
 * message digest buffer, lock rules (with a strict mode for the † rules of
 * spec A3), counters, and the commands of spec A3 with real P-256 math.
 *
 * Input is a packet whose count and CRC the PacketLink already checked; the
 * output is the response payload (a status byte or data), which the link
 * wraps with count and CRC. Every rejected command changes no state.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto'
import { p256 } from '@noble/curves/nist.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { concat } from '../../src/bytes/index.ts'
import { defaultCryptoProvider, type CryptoProvider, type KeyPair } from '../../src/crypto/index.ts'
import {
  COUNTER_MAX,
  CONFIG_SIZE,
  ConfigOffset,
  LOCK_LOCKED,
  OTP_SIZE,
  Opcode,
  SLOT_COUNT,
  Status,
  VERIFY_KEY_P256,
  slotSize,
} from '../../vaults/atecc608/constants.ts'
import { atcaCrc16 } from '../../vaults/atecc608/crc.ts'
import { ConfigZone, KEY_TYPE_AES, KEY_TYPE_P256, getU16, setU16 } from '../../vaults/atecc608/config.ts'
import type { Rng } from './rng.ts'
import type { DeviceState } from './state.ts'

export interface EngineOptions {
  crypto?: CryptoProvider
  /** Random source (default: the crypto provider's CSPRNG). */
  rng?: Rng
  /** Enforce the † rules of spec A3 (GenKey needs config lock; Sign, ECDH and data reads need data lock). */
  strict?: boolean
  /** Called after every change to non-volatile state (the state file hook). */
  onPersist?: () => void
}

/** A command result: a status byte (4-byte packet) or data. */
export type EngineResult = { status: number } | { data: Uint8Array }

interface Buffer64 {
  value: Uint8Array
  valid: boolean
}

/** Fixed Random output while the config zone is unlocked (spec A3 lock-state behaviour). */
const UNLOCKED_RANDOM = (() => {
  const b = new Uint8Array(32)
  for (let i = 0; i < 32; i += 4) b.set([0xff, 0xff, 0x00, 0x00], i)
  return b
})()

const st = (status: number): EngineResult => ({ status })
const ok = (): EngineResult => ({ status: Status.SUCCESS })
const PARSE = st(Status.PARSE_ERROR)
const EXEC = st(Status.EXECUTION_ERROR)

export class CommandEngine {
  readonly state: DeviceState
  private readonly crypto: CryptoProvider
  private readonly rng: Rng
  readonly strict: boolean
  private readonly onPersist: () => void
  /** TempKey: 64 bytes, valid flag, SourceFlag; `privateKey` when GenKey put a P-256 key there. */
  private tempKey: Buffer64 & { source: 'random' | 'input'; privateKey?: Uint8Array } = { value: new Uint8Array(64), valid: false, source: 'input' }
  private msgDigBuf: Buffer64 = { value: new Uint8Array(64), valid: false }
  private altKeyBuf: Buffer64 = { value: new Uint8Array(32), valid: false }
  private sha: ReturnType<typeof sha256.create> | undefined
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
    this.strict = opts.strict ?? false
    this.onPersist = opts.onPersist ?? (() => undefined)
  }

  get config(): ConfigZone {
    return new ConfigZone(this.state.config)
  }

  /** Sleep, watchdog expiry or power loss: every volatile buffer is cleared (spec A1 word address 01). */
  resetVolatile(): void {
    this.tempKey.value.fill(0)
    this.tempKey.privateKey?.fill(0)
    this.tempKey = { value: new Uint8Array(64), valid: false, source: 'input' }
    this.msgDigBuf.value.fill(0)
    this.msgDigBuf.valid = false
    this.altKeyBuf.value.fill(0)
    this.altKeyBuf.valid = false
    this.sha = undefined
  }

  /** Executes one command (count and CRC already checked by the link). */
  execute(opcode: number, p1: number, p2: number, data: Uint8Array): EngineResult {
    this.opCounts.set(opcode, (this.opCounts.get(opcode) ?? 0) + 1)
    const crypto = opcode === Opcode.GENKEY || opcode === Opcode.SIGN || opcode === Opcode.ECDH || opcode === Opcode.VERIFY || opcode === Opcode.RANDOM || opcode === Opcode.NONCE || opcode === Opcode.AES || opcode === Opcode.SHA
    if (this.selfTestFailed && crypto) return st(Status.SELFTEST_ERROR)
    switch (opcode) {
      case Opcode.INFO:
        return this.info(p1, p2, data)
      case Opcode.RANDOM:
        return this.random(p1, p2, data)
      case Opcode.NONCE:
        return this.nonce(p1, p2, data)
      case Opcode.GENKEY:
        return this.genKey(p1, p2, data)
      case Opcode.SIGN:
        return this.sign(p1, p2, data)
      case Opcode.VERIFY:
        return this.verify(p1, p2, data)
      case Opcode.ECDH:
        return this.ecdh(p1, p2, data)
      case Opcode.SHA:
        return this.shaCmd(p1, p2, data)
      case Opcode.READ:
        return this.read(p1, p2, data)
      case Opcode.WRITE:
        return this.write(p1, p2, data)
      case Opcode.LOCK:
        return this.lock(p1, p2, data)
      case Opcode.SELFTEST:
        return this.selfTest(p1, p2, data)
      case Opcode.COUNTER:
        return this.counter(p1, p2, data)
      case Opcode.AES:
        return this.aes(p1, p2, data)
      default:
        return PARSE // unknown opcode (spec A3: malformed opcode → 03)
    }
  }

  // ---- Info (spec A3) ----
  private info(p1: number, p2: number, data: Uint8Array): EngineResult {
    if (data.length !== 0) return PARSE
    switch (p1) {
      case 0x00:
        return { data: this.state.config.slice(ConfigOffset.REVISION, ConfigOffset.REVISION + 4) }
      case 0x01:
        if (p2 > 15) return PARSE
        return { data: Uint8Array.of(this.state.keyValid[p2] ? 1 : 0, 0, 0, 0) }
      case 0x02: {
        // State: bit 7 TempKey valid, bit 6 TempKey source random, bit 5 MsgDigBuf valid (simplified layout).
        const s = (this.tempKey.valid ? 0x80 : 0) | (this.tempKey.source === 'random' ? 0x40 : 0) | (this.msgDigBuf.valid ? 0x20 : 0)
        return { data: Uint8Array.of(s, 0, 0, 0) }
      }
      default:
        return PARSE
    }
  }

  // ---- Random (spec A3) ----
  private random(p1: number, p2: number, data: Uint8Array): EngineResult {
    if ((p1 !== 0 && p1 !== 1) || p2 !== 0 || data.length !== 0) return PARSE
    return { data: this.randomBytes32() }
  }

  private randomBytes32(): Uint8Array {
    return this.config.configLocked ? this.rng(32) : UNLOCKED_RANDOM.slice()
  }

  // ---- Nonce (spec A3 "Nonce") ----
  private nonce(p1: number, p2: number, data: Uint8Array): EngineResult {
    if (p2 !== 0) return PARSE // TempKey calculation mode (bit 15) not modelled
    if (p1 === 0x00 || p1 === 0x01) {
      if (data.length !== 20) return PARSE
      const randOut = this.randomBytes32()
      const t = sha256(concat(randOut, data, Uint8Array.of(Opcode.NONCE, p1, 0x00)))
      this.setTempKey(t, 'random')
      return { data: randOut }
    }
    const target = p1 & 0xc0
    const size = p1 & 0x20 ? 64 : 32
    if ((p1 & 0x1f) !== 0x03 || target === 0xc0 || (target === 0x80 && size === 64)) return PARSE
    if (data.length !== size) return PARSE
    if (target === 0x00) this.setTempKey(data, 'input')
    else if (target === 0x40) {
      this.msgDigBuf.value.fill(0)
      this.msgDigBuf.value.set(data)
      this.msgDigBuf.valid = true
    } else {
      this.altKeyBuf.value.set(data)
      this.altKeyBuf.valid = true
    }
    return ok()
  }

  private setTempKey(v: Uint8Array, source: 'random' | 'input', privateKey?: Uint8Array): void {
    this.tempKey.privateKey?.fill(0)
    const value = new Uint8Array(64)
    value.set(v.subarray(0, 64))
    this.tempKey = { value, valid: true, source, privateKey }
  }

  // ---- GenKey (spec A3) ----
  private genKey(p1: number, p2: number, data: Uint8Array): EngineResult {
    if (data.length !== 0 && data.length !== 3) return PARSE
    const cfg = this.config
    if (p1 === 0x04) {
      if (this.strict && !cfg.configLocked) return EXEC
      if (p2 === 0xffff) {
        const kp = this.newKeyPair()
        this.setTempKey(new Uint8Array(0), 'random', kp.privateKey)
        return { data: this.xy(kp) }
      }
      if (p2 > 15) return PARSE
      const kc = cfg.keyConfig(p2)
      const sc = cfg.slotConfig(p2)
      if (!kc.private || kc.keyType !== KEY_TYPE_P256) return EXEC
      if (cfg.dataLocked && (!sc.genKey || cfg.slotLocked(p2))) return EXEC
      const kp = this.newKeyPair()
      const slot = new Uint8Array(slotSize(p2))
      slot.set(kp.privateKey, 4)
      this.state.data[p2]!.fill(0)
      this.state.data[p2] = slot
      this.state.keyValid[p2] = true
      this.keyCache.set(p2, kp)
      this.onPersist()
      return { data: this.xy(kp) }
    }
    if (p1 === 0x00) {
      if (p2 > 15) return PARSE
      const kp = this.slotKey(p2)
      if (!kp) return EXEC
      return { data: this.xy(kp) }
    }
    return PARSE // digest / pubkey-digest / MAC modes are not modelled
  }

  private newKeyPair(): KeyPair {
    for (;;) {
      const d = this.rng(32)
      try {
        return this.crypto.keyPairFromPrivate('p256', d)
      } catch {
        // out of range (probability ~2^-32): draw again
      }
    }
  }

  private xy(kp: KeyPair): Uint8Array {
    return this.crypto.p256Point(kp.publicKey, false).slice(1)
  }

  /** The P-256 key pair in a private-key slot, or undefined. */
  private slotKey(slot: number): KeyPair | undefined {
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

  // ---- Sign external (spec A3 "Sign an external digest") ----
  private sign(p1: number, p2: number, data: Uint8Array): EngineResult {
    if (data.length !== 0 || p2 > 15) return PARSE
    if ((p1 & ~0x20) !== 0x80) return PARSE // internal-message sign (needs GenDig) and invalidate mode are not modelled
    const cfg = this.config
    if (this.strict && !cfg.dataLocked) return EXEC
    if (!cfg.slotConfig(p2).extSign) return EXEC
    const kp = this.slotKey(p2)
    if (!kp) return EXEC
    const src = p1 & 0x20 ? this.msgDigBuf : this.tempKey
    if (!src.valid) return EXEC
    const digest = src.value.slice(0, 32)
    const sig = p256.sign(digest, kp.privateKey, { prehash: false, lowS: false })
    src.valid = false // the message is consumed: a retry must reload it
    return { data: sig }
  }

  // ---- Verify (spec A3 "Verify external") ----
  private verify(p1: number, p2: number, data: Uint8Array): EngineResult {
    const mode = p1 & 0x07
    if (p1 & 0x80) return PARSE // MAC output not modelled
    const src = p1 & 0x20 ? this.msgDigBuf : this.tempKey
    let pub: Uint8Array
    let sig: Uint8Array
    if (mode === 0x02) {
      if (p2 !== VERIFY_KEY_P256 || data.length !== 128) return PARSE
      sig = data.subarray(0, 64)
      pub = concat(Uint8Array.of(4), data.subarray(64, 128))
    } else if (mode === 0x00) {
      if (p2 > 15 || data.length !== 64) return PARSE
      const kc = this.config.keyConfig(p2)
      if (kc.private || kc.keyType !== KEY_TYPE_P256 || p2 < 8) return EXEC
      const d = this.state.data[p2]!
      pub = concat(Uint8Array.of(4), d.subarray(4, 36), d.subarray(40, 72))
      sig = data
    } else return PARSE
    if (!src.valid) return EXEC
    let good = false
    try {
      good = p256.verify(sig, src.value.slice(0, 32), pub, { prehash: false, lowS: false })
    } catch {
      return EXEC
    }
    src.valid = false
    return st(good ? Status.SUCCESS : Status.MISCOMPARE)
  }

  // ---- ECDH (spec A3 "ECDH") ----
  private ecdh(p1: number, p2: number, data: Uint8Array): EngineResult {
    if (data.length !== 64 || (p1 & 0xf0) !== 0) return PARSE
    const cfg = this.config
    const fromTempKey = (p1 & 0x01) !== 0
    const encrypted = (p1 & 0x02) !== 0
    const copy = p1 & 0x0c
    if (encrypted) return EXEC // needs the I/O protection key: not modelled
    let kp: KeyPair | undefined
    let ecdhToNext = false
    if (fromTempKey) {
      if (!this.tempKey.valid || !this.tempKey.privateKey) return EXEC
      kp = this.crypto.keyPairFromPrivate('p256', this.tempKey.privateKey)
    } else {
      if (p2 > 15) return PARSE
      if (this.strict && !cfg.dataLocked) return EXEC
      const sc = cfg.slotConfig(p2)
      if (!sc.ecdh) return EXEC
      ecdhToNext = sc.ecdhToNext
      kp = this.slotKey(p2)
      if (!kp) return EXEC
    }
    let secret: Uint8Array
    try {
      secret = this.crypto.dh(kp, concat(Uint8Array.of(4), data))
    } catch {
      return EXEC // peer point not on the curve
    }
    const ecdhProt = (cfg.chipOptions >> 8) & 3
    const toSlot = copy === 0x04 || (copy === 0x00 && ecdhToNext)
    if (toSlot) {
      if (fromTempKey || !ecdhToNext) return EXEC
      const target = p2 | 1
      this.state.data[target]!.fill(0)
      this.state.data[target]!.set(secret)
      this.onPersist()
      return ok()
    }
    if (copy === 0x08) {
      this.setTempKey(secret, 'random')
      return ok()
    }
    if (ecdhProt !== 0) return EXEC // clear output forbidden by ChipOptions.ECDHProt
    return { data: secret }
  }

  // ---- SHA (spec A3) ----
  private shaCmd(p1: number, p2: number, data: Uint8Array): EngineResult {
    const mode = p1 & 0x07
    const target = p1 & 0xc0
    switch (mode) {
      case 0x00:
        if (data.length !== 0) return PARSE
        this.sha = sha256.create()
        return ok()
      case 0x01:
        if (!this.sha) return EXEC
        if (p2 !== 64 || data.length !== 64) return PARSE
        this.sha.update(data)
        return ok()
      case 0x02: {
        if (!this.sha) return EXEC
        if (p2 > 63 || data.length !== p2) return PARSE
        const d = this.sha.update(data).digest()
        this.sha = undefined
        if (target === 0x00) this.setTempKey(d, 'input')
        else if (target === 0x40) {
          this.msgDigBuf.value.fill(0)
          this.msgDigBuf.value.set(d)
          this.msgDigBuf.valid = true
        }
        return { data: d }
      }
      default:
        return PARSE // public, HMAC and context modes are not modelled
    }
  }

  // ---- Read (spec A3 "Read", "Addresses") ----
  private locate(zone: number, addr: number, len: number): { buf: Uint8Array; off: number; slot?: number } | undefined {
    const word = addr & 7
    if (len === 32 && word !== 0) return undefined
    if (zone === 0 || zone === 1) {
      const block = (addr >> 3) & 0x1f
      const off = block * 32 + word * 4
      const buf = zone === 0 ? this.state.config : this.state.otp
      if (addr > 0xff || off + len > (zone === 0 ? CONFIG_SIZE : OTP_SIZE)) return undefined
      return { buf, off }
    }
    if (zone === 2) {
      const slot = (addr >> 3) & 0xf
      const block = addr >> 8
      const off = block * 32 + word * 4
      if (off + len > slotSize(slot)) return undefined
      return { buf: this.state.data[slot]!, off, slot }
    }
    return undefined
  }

  private read(p1: number, p2: number, data: Uint8Array): EngineResult {
    if (data.length !== 0 || (p1 & 0x7c) !== 0) return PARSE
    const len = p1 & 0x80 ? 32 : 4
    const zone = p1 & 0x03
    const loc = this.locate(zone, p2, len)
    if (!loc) return PARSE
    if (loc.slot !== undefined) {
      const cfg = this.config
      if (this.strict && !cfg.dataLocked) return EXEC
      if (cfg.keyConfig(loc.slot).private) return EXEC // private keys are never readable
      const sc = cfg.slotConfig(loc.slot)
      if (sc.isSecret || sc.encryptRead) return EXEC // encrypted reads (GenDig) not modelled: refuse
    }
    return { data: loc.buf.slice(loc.off, loc.off + len) }
  }

  // ---- Write (spec A3 "Write", config write rules) ----
  private write(p1: number, p2: number, data: Uint8Array): EngineResult {
    if ((p1 & 0x3c) !== 0) return PARSE
    if (p1 & 0x40) return EXEC // encrypted writes not modelled
    const len = p1 & 0x80 ? 32 : 4
    if (data.length !== len) return PARSE
    const zone = p1 & 0x03
    const loc = this.locate(zone, p2, len)
    if (!loc) return PARSE
    const cfg = this.config
    if (zone === 0) {
      if (cfg.configLocked) return EXEC
      const end = loc.off + len
      if (loc.off < 16) return EXEC // factory bytes (SN, revision) are never written
      if (loc.off < 88 && end > 84) return EXEC // UserExtra and lock bytes change only through UpdateExtra / Lock
    } else if (zone === 1) {
      if (!cfg.configLocked || cfg.dataLocked || len !== 32) return EXEC
    } else {
      if (!cfg.configLocked) return EXEC
      const slot = loc.slot!
      if (!cfg.dataLocked) {
        if (len !== 32) return EXEC // before the data lock: 32-byte clear writes only
      } else {
        const kc = cfg.keyConfig(slot)
        const sc = cfg.slotConfig(slot)
        if (kc.private || sc.writeConfig !== 0 || cfg.slotLocked(slot)) return EXEC
      }
      if (cfg.keyConfig(slot).private) {
        this.state.keyValid[slot] = true
        this.keyCache.delete(slot)
      }
    }
    loc.buf.set(data, loc.off)
    this.onPersist()
    return ok()
  }

  // ---- Lock (spec A3 "Lock") ----
  private lock(p1: number, p2: number, data: Uint8Array): EngineResult {
    if (data.length !== 0 || (p1 & 0x40) !== 0) return PARSE
    const zone = p1 & 0x03
    const noCrc = (p1 & 0x80) !== 0
    const cfg = this.config
    if (zone === 0) {
      if ((p1 & 0x3c) !== 0) return PARSE
      if (cfg.configLocked) return EXEC
      if (!noCrc && atcaCrc16(this.state.config) !== p2) return EXEC
      this.state.config[ConfigOffset.LOCK_CONFIG] = LOCK_LOCKED
    } else if (zone === 1) {
      if ((p1 & 0x3c) !== 0) return PARSE
      if (!cfg.configLocked || cfg.dataLocked) return EXEC
      if (!noCrc && atcaCrc16(concat(...this.state.data, this.state.otp)) !== p2) return EXEC
      this.state.config[ConfigOffset.LOCK_VALUE] = LOCK_LOCKED
    } else if (zone === 2) {
      const slot = (p1 >> 2) & 0xf
      if (!cfg.dataLocked || !cfg.keyConfig(slot).lockable || cfg.slotLocked(slot)) return EXEC
      setU16(this.state.config, ConfigOffset.SLOT_LOCKED, getU16(this.state.config, ConfigOffset.SLOT_LOCKED) & ~(1 << slot))
    } else return PARSE
    this.onPersist()
    return ok()
  }

  // ---- SelfTest (spec A3) ----
  private selfTest(p1: number, p2: number, data: Uint8Array): EngineResult {
    // cryptoauthlib: RNG 01, ECDSA 02, ECDH 08, AES 10, SHA 20 (3B = all); the spec's table says ECDSA 04, so both are accepted.
    if (data.length !== 0 || p2 !== 0 || p1 === 0 || (p1 & ~0x3f) !== 0) return PARSE
    const failed = p1 & this.selfTestFailMask
    if (failed === 0) {
      this.selfTestFailed = false
    } else this.selfTestFailed = true
    return { status: failed } // one result byte in a 4-byte packet
  }

  // ---- Counter (spec A3) ----
  private counter(p1: number, p2: number, data: Uint8Array): EngineResult {
    if (data.length !== 0 || (p1 !== 0 && p1 !== 1) || (p2 !== 0 && p2 !== 1)) return PARSE
    const id = p2 as 0 | 1
    if (p1 === 1) {
      if (this.state.counters[id] >= COUNTER_MAX) return EXEC
      this.state.counters[id]++
      this.onPersist()
    }
    const out = new Uint8Array(4)
    new DataView(out.buffer).setUint32(0, this.state.counters[id], true)
    return { data: out }
  }

  // ---- AES (spec A3) ----
  private aes(p1: number, p2: number, data: Uint8Array): EngineResult {
    const mode = p1 & 0x07
    const cfg = this.config
    if (!cfg.aesEnabled) return EXEC
    if (mode === 0x03) {
      if (data.length !== 32) return PARSE
      return { data: gfmul(data.subarray(0, 16), data.subarray(16, 32)) }
    }
    if ((mode !== 0 && mode !== 1) || data.length !== 16) return PARSE
    const kb = (p1 >> 6) & 3
    let key: Uint8Array
    if (p2 === 0xffff) {
      if (!this.tempKey.valid || kb > 3) return EXEC
      key = this.tempKey.value.slice(kb * 16, kb * 16 + 16)
    } else {
      if (p2 > 15) return PARSE
      const kc = cfg.keyConfig(p2)
      if (kc.keyType !== KEY_TYPE_AES) return EXEC
      const slot = this.state.data[p2]!
      if ((kb + 1) * 16 > slot.length) return EXEC
      key = slot.slice(kb * 16, kb * 16 + 16)
    }
    const c = mode === 0 ? createCipheriv('aes-128-ecb', key, null) : createDecipheriv('aes-128-ecb', key, null)
    c.setAutoPadding(false)
    const out = new Uint8Array(Buffer.concat([c.update(data), c.final()]))
    key.fill(0)
    return { data: out }
  }

  /** Reloads every slot key (after a state-file reload). */
  clearKeyCache(): void {
    this.keyCache.clear()
  }
}

/** GF(2^128) multiply as in GCM (NIST SP 800-38D §6.3), bit 0 = MSB of byte 0. */
export function gfmul(x: Uint8Array, y: Uint8Array): Uint8Array {
  const toBig = (b: Uint8Array): bigint => b.reduce((a, v) => (a << 8n) | BigInt(v), 0n)
  const R = 0xe1n << 120n
  let z = 0n
  let v = toBig(y)
  const xb = toBig(x)
  for (let i = 127; i >= 0; i--) {
    if ((xb >> BigInt(i)) & 1n) z ^= v
    v = v & 1n ? (v >> 1n) ^ R : v >> 1n
  }
  const out = new Uint8Array(16)
  for (let i = 15; i >= 0; i--) {
    out[i] = Number(z & 0xffn)
    z >>= 8n
  }
  return out
}

export { SLOT_COUNT }
