/**
 * Read, Write and PrivWrite (spec A3 "Read", "Write", "Addresses", config
 * write rules; [CAL] atcah_write_auth_mac, atcah_privwrite_auth_mac,
 * atcah_decrypt for the encrypted forms).
 *
 * Addresses are parsed exactly: a reserved address bit that is set is refused
 * with 03, never masked away (so "slot 16" is not slot 0), and a 32-byte Write
 * to the last, partial block of a 36- or 72-byte slot writes the bytes that
 * fit, as the chip does.
 */
import { p256 } from '@noble/curves/nist.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { concat, equalConstantTime } from '../../src/bytes/index.ts'
import { CONFIG_SIZE, OTP_SIZE, Opcode, PRIVWRITE_ENCRYPT, WRITE_ENCRYPTED, slotSize } from '../../vaults/atecc608/constants.ts'
import { KEY_TYPE_P256 } from '../../vaults/atecc608/config.ts'
import { EXEC, OK, PARSE, type CommandEngine, type EngineResult } from './engine.ts'

/** Where an address points: `avail` bytes of `buf` from `off` (fewer than asked only for a partial last block). */
interface Location {
  buf: Uint8Array
  off: number
  avail: number
  slot?: number
}

/**
 * Parses param2 of Read/Write for a zone (spec A3 "Addresses"; [CAL]
 * ATCA_ADDRESS_MASK_CONFIG 001F, _OTP 000F; data: bit 7 and bits 12–15 are 0).
 * Returns undefined (→ 03) for a reserved bit, a word of a 32-byte access that
 * is not 0, or an address beyond the zone or slot.
 */
export function locate(e: CommandEngine, zone: number, addr: number, len: number): Location | undefined {
  const word = addr & 7
  if (len === 32 && word !== 0) return undefined
  if (zone === 0 || zone === 1) {
    if ((addr & (zone === 0 ? ~0x001f : ~0x000f)) !== 0) return undefined
    const off = (addr >> 3) * 32 + word * 4
    const buf = zone === 0 ? e.state.config : e.state.otp
    if (off + len > (zone === 0 ? CONFIG_SIZE : OTP_SIZE)) return undefined
    return { buf, off, avail: len }
  }
  if (zone === 2) {
    if ((addr & 0xf080) !== 0) return undefined
    const slot = (addr >> 3) & 0xf
    const off = (addr >> 8) * 32 + word * 4
    const size = slotSize(slot)
    if (off >= size) return undefined
    return { buf: e.state.data[slot]!, off, avail: Math.min(len, size - off), slot }
  }
  return undefined
}

// ---- Read ----
export function read(e: CommandEngine, p1: number, p2: number, data: Uint8Array): EngineResult {
  if (data.length !== 0 || (p1 & 0x7c) !== 0) return PARSE // READ_ZONE_MASK 0x83
  const len = p1 & 0x80 ? 32 : 4
  const loc = locate(e, p1 & 0x03, p2, len)
  // a 32-byte read of a partial last block: cryptoauthlib never sends one (calib_read_bytes_zone reads it in words); refused
  if (!loc || loc.avail < len) return PARSE
  const out = loc.buf.slice(loc.off, loc.off + len)
  if (loc.slot === undefined) return { data: out }
  const cfg = e.config
  const kc = cfg.keyConfig(loc.slot)
  // private keys are never readable, in any mode and lock state (lax mode included)
  if (kc.private) return EXEC
  if (!cfg.dataLocked) return e.strict ? EXEC : { data: out }
  const sc = cfg.slotConfig(loc.slot)
  if (!sc.isSecret) return { data: out }
  if (!sc.encryptRead || len !== 32) return EXEC // a secret slot is readable only encrypted, 32 bytes at a time
  // encrypted read: TempKey from GenDig over the ReadKey slot, from a random nonce ([CAL] atcah_decrypt)
  const t = e.tempKey
  if (!t.valid || t.noMacFlag || !t.genDigData || t.sourceInput || t.keyId !== sc.readKey) {
    e.invalidateTempKey()
    return EXEC
  }
  for (let i = 0; i < 32; i++) out[i]! ^= t.value[i]!
  e.invalidateTempKey()
  return { data: out }
}

/** The 32-byte MAC of an encrypted Write ([CAL] atcah_write_auth_mac): SHA-256(TempKey ‖ 12 ‖ p1 ‖ p2 ‖ SN[8] ‖ SN[0:1] ‖ 25 × 00 ‖ plaintext). */
function writeMac(e: CommandEngine, p1: number, p2: number, plain: Uint8Array): Uint8Array {
  const sn = e.serialNumber
  return sha256(concat(e.tempKey.value.subarray(0, 32), Uint8Array.of(Opcode.WRITE, p1, p2 & 0xff, p2 >> 8, sn[8]!, sn[0]!, sn[1]!), new Uint8Array(25), plain))
}

// ---- Write ----
export function write(e: CommandEngine, p1: number, p2: number, data: Uint8Array): EngineResult {
  if ((p1 & 0x3c) !== 0) return PARSE // WRITE_ZONE_MASK 0xC3
  const encrypted = (p1 & WRITE_ENCRYPTED) !== 0
  const len = p1 & 0x80 ? 32 : 4
  if (data.length !== len + (encrypted ? 32 : 0)) return PARSE
  const zone = p1 & 0x03
  const loc = locate(e, zone, p2, len)
  if (!loc) return PARSE
  const cfg = e.config
  let value = data.subarray(0, len)
  if (zone === 0) {
    if (cfg.configLocked || encrypted) return EXEC
    const end = loc.off + len
    if (loc.off < 16) return EXEC // factory bytes (SN, revision) are never written
    if (loc.off < 88 && end > 84) return EXEC // UserExtra and lock bytes change only through UpdateExtra / Lock
  } else if (zone === 1) {
    if (!cfg.configLocked || cfg.dataLocked || encrypted || len !== 32) return EXEC
  } else {
    const slot = loc.slot!
    const kc = cfg.keyConfig(slot)
    const sc = cfg.slotConfig(slot)
    if (!cfg.configLocked) return EXEC
    if (kc.private) return EXEC // private keys are written only by GenKey and PrivWrite, never by Write
    if (!cfg.dataLocked) {
      if (encrypted || len !== 32) return EXEC // before the data lock: 32-byte clear writes only
    } else {
      if (cfg.slotLocked(slot)) return EXEC
      const wc = sc.writeConfig
      if (wc === 0b0000) {
        if (encrypted) return EXEC // Always: clear writes
      } else if ((wc & 0b0100) !== 0) {
        // Encrypt (x1xx): 32 bytes, XORed with a TempKey from GenDig over WriteKey, and a MAC
        const t = e.tempKey
        if (!encrypted || len !== 32 || !t.valid || t.noMacFlag || !t.genDigData || t.keyId !== sc.writeKey) {
          e.invalidateTempKey()
          return EXEC
        }
        const plain = new Uint8Array(32)
        for (let i = 0; i < 32; i++) plain[i] = data[i]! ^ t.value[i]!
        const ok = equalConstantTime(writeMac(e, p1, p2, plain), data.subarray(32, 64))
        e.invalidateTempKey()
        if (!ok) return EXEC
        value = plain
      } else return EXEC // PubInvalid (0001) and Never (001x, 10xx)
    }
  }
  loc.buf.set(value.subarray(0, loc.avail), loc.off) // a partial last block takes the bytes that fit
  e.persist()
  return OK
}

// ---- PrivWrite ([CAL] calib_priv_write, atcah_privwrite_auth_mac) ----
export function privWrite(e: CommandEngine, p1: number, p2: number, data: Uint8Array): EngineResult {
  if ((p1 !== 0x00 && p1 !== PRIVWRITE_ENCRYPT) || p2 > 15 || data.length !== 68) return PARSE
  const cfg = e.config
  const kc = cfg.keyConfig(p2)
  const sc = cfg.slotConfig(p2)
  if (!cfg.configLocked || !kc.private || kc.keyType !== KEY_TYPE_P256) return EXEC
  let plain: Uint8Array
  if (!cfg.dataLocked) {
    if (p1 !== 0x00) return EXEC // before the data lock the key goes in clear (the MAC bytes are ignored)
    plain = data.slice(0, 36)
  } else {
    if (p1 !== PRIVWRITE_ENCRYPT || !sc.privWrite || cfg.slotLocked(p2)) return EXEC
    const t = e.tempKey
    if (!t.valid || t.noMacFlag || !t.genDigData || t.keyId !== sc.writeKey) {
      e.invalidateTempKey()
      return EXEC
    }
    const k1 = t.value.subarray(0, 32)
    const k2 = sha256(k1)
    plain = new Uint8Array(36)
    for (let i = 0; i < 32; i++) plain[i] = data[i]! ^ k1[i]!
    for (let i = 0; i < 4; i++) plain[32 + i] = data[32 + i]! ^ k2[i]!
    const sn = e.serialNumber
    const mac = sha256(concat(k1, Uint8Array.of(Opcode.PRIVWRITE, p1, p2 & 0xff, p2 >> 8, sn[8]!, sn[0]!, sn[1]!), new Uint8Array(21), plain))
    const ok = equalConstantTime(mac, data.subarray(36, 68))
    e.invalidateTempKey()
    if (!ok) return EXEC
  }
  const scalar = plain.subarray(4, 36)
  // the 4 pad bytes must be zero and the scalar a valid P-256 private key (what the chip does with others is not public: refused)
  if (!plain.subarray(0, 4).every((b) => b === 0) || !p256.utils.isValidSecretKey(scalar)) return EXEC
  e.storePrivateKey(p2, scalar)
  e.persist()
  return OK
}
