/**
 * Info, Random, Nonce, Counter, Lock, SelfTest and UpdateExtra (spec A3;
 * docs/hardware.md "What the simulator implements").
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { concat } from '../../src/bytes/index.ts'
import { COUNTER_MAX, ConfigOffset, InfoLatch, LOCK_LOCKED, NONCE_CALC_TEMPKEY, Opcode } from '../../vaults/atecc608/constants.ts'
import { getU16, setU16 } from '../../vaults/atecc608/config.ts'
import { atcaCrc16 } from '../../vaults/atecc608/crc.ts'
import { readCounter, writeCounter } from './counters.ts'
import { EXEC, OK, PARSE, type CommandEngine, type EngineResult } from './engine.ts'

// ---- Info (spec A3; modes per [CAL] INFO_MODE_*) ----
export function info(e: CommandEngine, p1: number, p2: number, data: Uint8Array): EngineResult {
  if (data.length !== 0) return PARSE
  switch (p1) {
    case 0x00:
      return { data: e.state.config.slice(ConfigOffset.REVISION, ConfigOffset.REVISION + 4) }
    case 0x01:
      if (p2 > 15) return PARSE
      return { data: Uint8Array.of(e.state.keyValid[p2] && e.config.keyConfig(p2).private ? 1 : 0, 0, 0, 0) }
    case 0x02: {
      if (p2 !== 0) return PARSE
      // byte 0: NoMacFlag(7) GenKeyData(6) GenDigData(5) SourceFlag(4) KeyID(3:0); byte 1: Valid(7) AuthKeyID(6:3) AuthValid(2);
      // on the 608 bits 1:0 of byte 1 read 0 (Coldcard secel_config.py InfoState_608); bytes 2–3 are 0.
      const t = e.tempKey
      const b0 = (t.keyId & 0xf) | (t.sourceInput ? 0x10 : 0) | (t.genDigData ? 0x20 : 0) | (t.genKeyData ? 0x40 : 0) | (t.noMacFlag ? 0x80 : 0)
      const b1 = (t.valid ? 0x80 : 0) | ((e.auth.keyId & 0xf) << 3) | (e.auth.valid ? 0x04 : 0)
      return { data: Uint8Array.of(b0, b1, 0, 0) }
    }
    case 0x04: {
      // VolatileKeyPermit: read (0000), clear (0002) or set (0003) the persistent latch ([CAL] calib_info_get/set_latch)
      if (p2 === InfoLatch.READ) return { data: Uint8Array.of(e.latch ? 1 : 0, 0, 0, 0) }
      if (p2 !== InfoLatch.CLEAR && p2 !== InfoLatch.SET) return PARSE
      if ((e.state.config[ConfigOffset.VOLATILE_KEY_PERMISSION]! & 0x80) === 0) return EXEC // VolatileKeyPermission not enabled
      e.latch = p2 === InfoLatch.SET
      return OK
    }
    default:
      return PARSE // 03 GPIO belongs to single-wire parts; not modelled
  }
}

// ---- Random (spec A3) ----
export function random(e: CommandEngine, p1: number, p2: number, data: Uint8Array): EngineResult {
  if ((p1 !== 0 && p1 !== 1) || p2 !== 0 || data.length !== 0) return PARSE
  return { data: e.randomBytes32() }
}

// ---- Nonce (spec A3 "Nonce"; [CAL] atcah_nonce) ----
export function nonce(e: CommandEngine, p1: number, p2: number, data: Uint8Array): EngineResult {
  if (p1 === 0x00 || p1 === 0x01) {
    if (data.length !== 20 || (p2 !== 0 && p2 !== NONCE_CALC_TEMPKEY)) return PARSE
    const randOut = e.randomBytes32()
    const t = sha256(concat(randOut, data, Uint8Array.of(Opcode.NONCE, p1, 0x00)))
    if (p2 === NONCE_CALC_TEMPKEY) {
      // TempKey calculation mode: the new TempKey itself is returned as RandOut and the flags stay
      // ([CAL] atcah_nonce: "TempKey flags aren't changed"); how the chip mixes the old TempKey in is not public.
      const old = e.tempKey
      e.setTempKey(t, { sourceInput: old.sourceInput, keyId: old.keyId, genDigData: old.genDigData, genKeyData: old.genKeyData, noMacFlag: old.noMacFlag })
      return { data: t.slice() }
    }
    e.setTempKey(t, { sourceInput: false })
    return { data: randOut }
  }
  if (p2 !== 0) return PARSE
  const target = p1 & 0xc0
  const size = p1 & 0x20 ? 64 : 32
  if ((p1 & 0x1f) !== 0x03 || target === 0xc0 || (target === 0x80 && size === 64)) return PARSE
  if (data.length !== size) return PARSE
  if (target === 0x00) {
    e.setTempKey(data, { sourceInput: true })
    return OK
  }
  const buf = target === 0x40 ? e.msgDigBuf : e.altKeyBuf
  buf.value.fill(0)
  buf.value.set(data)
  buf.valid = true
  // [CAL] atcah_nonce: a pass-through into MsgDigBuf or AltKeyBuf also sets TempKey.SourceFlag = input and clears TempKey.Valid
  e.tempKey.sourceInput = true
  e.tempKey.keyId = 0
  e.tempKey.genDigData = false
  e.tempKey.noMacFlag = false
  e.tempKey.valid = false
  return OK
}

// ---- Counter (spec A3): the value lives in config bytes 52–67 (./counters.ts) ----
export function counter(e: CommandEngine, p1: number, p2: number, data: Uint8Array): EngineResult {
  if (data.length !== 0 || (p1 !== 0 && p1 !== 1) || (p2 !== 0 && p2 !== 1)) return PARSE
  const id = p2 as 0 | 1
  let v = readCounter(e.state.config, id)
  if (v === undefined) return EXEC
  if (p1 === 1) {
    if (v >= COUNTER_MAX) return EXEC
    v++
    writeCounter(e.state.config, id, v)
    e.persist()
  }
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, v, true)
  return { data: out }
}

// ---- Lock (spec A3 "Lock") ----
export function lock(e: CommandEngine, p1: number, p2: number, data: Uint8Array): EngineResult {
  if (data.length !== 0 || (p1 & 0x40) !== 0) return PARSE // LOCK_ZONE_MASK 0xBF
  const zone = p1 & 0x03
  const noCrc = (p1 & 0x80) !== 0
  const cfg = e.config
  if (zone === 0) {
    if ((p1 & 0x3c) !== 0) return PARSE
    if (cfg.configLocked) return EXEC
    if (!noCrc && atcaCrc16(e.state.config) !== p2) return EXEC
    e.state.config[ConfigOffset.LOCK_CONFIG] = LOCK_LOCKED
  } else if (zone === 1) {
    if ((p1 & 0x3c) !== 0) return PARSE
    if (!cfg.configLocked || cfg.dataLocked) return EXEC
    if (!noCrc && atcaCrc16(concat(...e.state.data, e.state.otp)) !== p2) return EXEC
    e.state.config[ConfigOffset.LOCK_VALUE] = LOCK_LOCKED
  } else if (zone === 2) {
    const slot = (p1 >> 2) & 0xf
    if (!cfg.dataLocked || !cfg.keyConfig(slot).lockable || cfg.slotLocked(slot)) return EXEC
    setU16(e.state.config, ConfigOffset.SLOT_LOCKED, getU16(e.state.config, ConfigOffset.SLOT_LOCKED) & ~(1 << slot))
  } else return PARSE
  e.persist()
  return OK
}

// ---- SelfTest (spec A3) ----
export function selfTest(e: CommandEngine, p1: number, p2: number, data: Uint8Array): EngineResult {
  // cryptoauthlib: RNG 01, ECDSA 02, ECDH 08, AES 10, SHA 20 (3B = all); the spec's table says ECDSA 04, so both are accepted.
  if (data.length !== 0 || p2 !== 0 || p1 === 0 || (p1 & ~0x3f) !== 0) return PARSE
  const failed = p1 & e.selfTestFailMask
  e.selfTestFailed = failed !== 0
  return { status: failed } // one result byte in a 4-byte packet
}

// ---- UpdateExtra ([CAL] UPDATE_MODE_*): UserExtra (byte 84) or UserExtraAdd (byte 85), once each ----
export function updateExtra(e: CommandEngine, p1: number, p2: number, data: Uint8Array): EngineResult {
  // mode 02 (decrement a limited-use counter) belongs to the ATECC108A
  if (data.length !== 0 || (p1 !== 0 && p1 !== 1) || p2 > 0xff) return PARSE
  if (!e.config.configLocked) return EXEC
  const off = p1 === 0 ? ConfigOffset.USER_EXTRA : ConfigOffset.USER_EXTRA_ADD
  // "This byte can be updated just once" (TNGLoRaWAN data sheet 2.1.1): only while it still reads 00
  if (e.state.config[off] !== 0x00) return EXEC
  e.state.config[off] = p2
  e.persist()
  return OK
}
