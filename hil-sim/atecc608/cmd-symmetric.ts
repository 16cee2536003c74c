/**
 * The symmetric commands: GenDig, MAC, CheckMac, DeriveKey, SHA (plain, HMAC,
 * context save/restore), AES and KDF. Message layouts follow cryptoauthlib's
 * host-side twins (lib/host/atca_host.c: atcah_gen_dig, atcah_mac,
 * atcah_include_data, atcah_check_mac, atcah_derive_key(_mac)); the KDF PRF and
 * AES outputs match cryptoauthlib's test vectors (test/api_atcab/atca_tests_kdf.c).
 */
import { createCipheriv, createDecipheriv } from 'node:crypto'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { concat, equalConstantTime } from '../../src/bytes/index.ts'
import { CHECKMAC_MODE_MASK, ConfigOffset, DERIVE_KEY_RANDOM_FLAG, GenDigZone, MAC_MODE_MASK, MacMode, Opcode, Status, slotSize } from '../../vaults/atecc608/constants.ts'
import { KEY_TYPE_AES, getU16 } from '../../vaults/atecc608/config.ts'
import { readCounter } from './counters.ts'
import { EXEC, OK, PARSE, st, type CommandEngine, type EngineResult } from './engine.ts'
import { Sha256Context } from './sha256-context.ts'

const u8 = (...b: number[]): Uint8Array => Uint8Array.from(b)

/** A symmetric key slot usable as a key by MAC/CheckMac/GenDig/HMAC/KDF: not a private key; strict mode wants the data lock. */
function symmetricKeyError(e: CommandEngine, slot: number): EngineResult | undefined {
  const cfg = e.config
  if (e.strict && !cfg.dataLocked) return EXEC
  if (cfg.keyConfig(slot).private) return EXEC
  return undefined
}

// ---- GenDig ([CAL] atcah_gen_dig) ----
export function genDig(e: CommandEngine, p1: number, p2: number, data: Uint8Array): EngineResult {
  const zone = p1
  if (zone > GenDigZone.KEY_CONFIG) return PARSE
  if (zone === GenDigZone.SHARED_NONCE ? data.length !== 32 : data.length !== 0 && !(zone === GenDigZone.DATA && data.length === 4)) return PARSE
  const t = e.tempKey
  if (!t.valid) return EXEC
  const cfg = e.config
  const sn = e.serialNumber
  let input: Uint8Array
  let header = u8(Opcode.GENDIG, zone, p2 & 0xff, p2 >> 8)
  let middle = new Uint8Array(25)
  let last = t.value.subarray(0, 32)
  let noMac = false
  switch (zone) {
    case GenDigZone.CONFIG:
      if (p2 > 3) return PARSE
      input = e.state.config.subarray(p2 * 32, p2 * 32 + 32)
      break
    case GenDigZone.OTP:
      if (p2 > 1) return PARSE
      input = e.state.otp.subarray(p2 * 32, p2 * 32 + 32)
      break
    case GenDigZone.DATA: {
      if (p2 > 15) return PARSE
      const refused = symmetricKeyError(e, p2)
      if (refused) return refused
      if (cfg.keyConfig(p2).reqRandom && t.sourceInput) return EXEC
      noMac = cfg.slotConfig(p2).noMac
      if (noMac) {
        // a NoMac key: the opcode and parameter bytes come from the 4 bytes of OtherData
        if (data.length !== 4) return EXEC
        header = data.slice()
      }
      input = e.state.data[p2]!.subarray(0, 32)
      break
    }
    case GenDigZone.SHARED_NONCE:
      if ((p2 & 0x7fff) !== 0) return PARSE
      header = u8(Opcode.GENDIG, zone, 0, 0)
      if (p2 & 0x8000) {
        input = t.value.subarray(0, 32)
        last = data
      } else input = data
      break
    case GenDigZone.COUNTER: {
      if (p2 > 1) return PARSE
      const c = readCounter(e.state.config, p2 as 0 | 1)
      if (c === undefined) return EXEC
      input = new Uint8Array(32)
      middle = new Uint8Array(25)
      new DataView(middle.buffer).setUint32(1, c, true)
      break
    }
    default: {
      // KEY_CONFIG: SlotConfig, KeyConfig and the slot's SlotLocked bit of slot p2
      if (p2 > 15) return PARSE
      input = new Uint8Array(32)
      middle = new Uint8Array(25)
      const sc = getU16(e.state.config, ConfigOffset.SLOT_CONFIG + 2 * p2)
      const kc = getU16(e.state.config, ConfigOffset.KEY_CONFIG + 2 * p2)
      middle.set([0, sc & 0xff, sc >> 8, kc & 0xff, kc >> 8, cfg.slotLocked(p2) ? 0 : 1])
    }
  }
  const digest = sha256(concat(input, header, u8(sn[8]!, sn[0]!, sn[1]!), middle, last))
  const dataZone = zone === GenDigZone.DATA
  e.setTempKey(digest, { sourceInput: t.sourceInput, genKeyData: t.genKeyData, genDigData: dataZone, keyId: dataZone ? p2 : 0, noMacFlag: dataZone && noMac })
  return OK
}

/** OTP and serial-number bytes of MAC/HMAC messages ([CAL] atcah_include_data): 20 bytes. */
function includeData(e: CommandEngine, mode: number): Uint8Array {
  const sn = e.serialNumber
  const otp = e.state.otp
  const out = new Uint8Array(20)
  if (mode & MacMode.INCLUDE_OTP_88) out.set(otp.subarray(0, 11), 0)
  else if (mode & MacMode.INCLUDE_OTP_64) out.set(otp.subarray(0, 8), 0)
  out[11] = sn[8]!
  if (mode & MacMode.INCLUDE_SN) out.set(sn.subarray(4, 8), 12)
  out.set(sn.subarray(0, 2), 16)
  if (mode & MacMode.INCLUDE_SN) out.set(sn.subarray(2, 4), 18)
  return out
}

// ---- MAC ([CAL] atcah_mac) ----
export function mac(e: CommandEngine, p1: number, p2: number, data: Uint8Array): EngineResult {
  if ((p1 & ~MAC_MODE_MASK) !== 0 || p2 > 15) return PARSE
  const block2Tk = (p1 & MacMode.BLOCK2_TEMPKEY) !== 0
  const block1Tk = (p1 & MacMode.BLOCK1_TEMPKEY) !== 0
  if (data.length !== (block2Tk ? 0 : 32)) return PARSE
  const cfg = e.config
  if (!block1Tk) {
    const refused = symmetricKeyError(e, p2)
    if (refused) return refused
    if (cfg.slotConfig(p2).noMac) return EXEC // NoMac: "key can't be used by MAC command"
    const useRefused = e.keyUseError(p2)
    if (useRefused) return useRefused
  }
  const usesTempKey = block1Tk || block2Tk
  if (usesTempKey && !e.tempKeyUsable((p1 & MacMode.SOURCE_FLAG_MATCH) !== 0)) return EXEC
  // ReqRandom: a challenge of the caller's choosing alone is not accepted
  if (!block1Tk && cfg.keyConfig(p2).reqRandom && !(usesTempKey && !e.tempKey.sourceInput)) return EXEC
  const tk = e.tempKey.value.subarray(0, 32)
  const key = block1Tk ? tk : e.state.data[p2]!.subarray(0, 32)
  const challenge = block2Tk ? tk : data
  const out = sha256(concat(key, challenge, u8(Opcode.MAC, p1, p2 & 0xff, p2 >> 8), includeData(e, p1)))
  if (usesTempKey) e.invalidateTempKey()
  if (!block1Tk) e.commitKeyUse(p2)
  return { data: out }
}

// ---- CheckMac ([CAL] atcah_check_mac): data = ClientChal(32) ‖ ClientResp(32) ‖ OtherData(13) ----
export function checkMac(e: CommandEngine, p1: number, p2: number, data: Uint8Array): EngineResult {
  if ((p1 & ~CHECKMAC_MODE_MASK) !== 0 || p2 > 15 || data.length !== 77) return PARSE
  const block2Tk = (p1 & MacMode.BLOCK2_TEMPKEY) !== 0
  const block1Tk = (p1 & MacMode.BLOCK1_TEMPKEY) !== 0
  if (!block1Tk) {
    const refused = symmetricKeyError(e, p2)
    if (refused) return refused
    const useRefused = e.keyUseError(p2)
    if (useRefused) return useRefused
  }
  const usesTempKey = block1Tk || block2Tk
  if (usesTempKey && !e.tempKeyUsable((p1 & MacMode.SOURCE_FLAG_MATCH) !== 0)) return EXEC
  const sn = e.serialNumber
  const other = data.subarray(64, 77)
  const tk = e.tempKey.value.subarray(0, 32)
  const msg = new Uint8Array(88)
  msg.set(block1Tk ? tk : e.state.data[p2]!.subarray(0, 32), 0)
  msg.set(block2Tk ? tk : data.subarray(0, 32), 32)
  msg.set(other.subarray(0, 4), 64)
  if (p1 & MacMode.INCLUDE_OTP_64) msg.set(e.state.otp.subarray(0, 8), 68)
  msg.set(other.subarray(4, 7), 76)
  msg[79] = sn[8]!
  msg.set(other.subarray(7, 11), 80)
  msg.set(sn.subarray(0, 2), 84)
  msg.set(other.subarray(11, 13), 86)
  const match = equalConstantTime(sha256(msg), data.subarray(32, 64))
  if (usesTempKey) e.invalidateTempKey()
  if (!block1Tk) e.commitKeyUse(p2)
  // a match authorizes KeyConfig.ReqAuth keys whose AuthKey is this slot (Info(State) AuthValid/AuthKeyID)
  e.auth = match ? { valid: true, keyId: p2 } : { valid: false, keyId: 0 }
  return st(match ? Status.SUCCESS : Status.MISCOMPARE)
}

// ---- DeriveKey ([CAL] atcah_derive_key, atcah_derive_key_mac) ----
export function deriveKey(e: CommandEngine, p1: number, p2: number, data: Uint8Array): EngineResult {
  if ((p1 & ~DERIVE_KEY_RANDOM_FLAG) !== 0 || p2 > 15 || (data.length !== 0 && data.length !== 32)) return PARSE
  const cfg = e.config
  if (!cfg.dataLocked) return EXEC
  const kc = cfg.keyConfig(p2)
  const sc = cfg.slotConfig(p2)
  // SlotConfig[target]: bit 13 DeriveKey allowed, bit 12 Create (parent = WriteKey) or Roll (parent = the target), bit 15 a MAC is required
  if (kc.private || (sc.raw & 0x2000) === 0 || cfg.slotLocked(p2)) return EXEC
  const create = (sc.raw & 0x1000) !== 0
  const parent = create ? sc.writeKey : p2
  const parentKey = e.state.data[parent]!.subarray(0, 32)
  const sn = e.serialNumber
  const params = u8(Opcode.DERIVE_KEY, p1, p2 & 0xff, p2 >> 8, sn[8]!, sn[0]!, sn[1]!)
  if (sc.raw & 0x8000) {
    if (data.length !== 32 || !equalConstantTime(sha256(concat(parentKey, params)), data)) return EXEC
  }
  const authSlot = create ? parent : p2
  const authKc = cfg.keyConfig(authSlot)
  if (authKc.reqAuth && !(e.auth.valid && e.auth.keyId === authKc.authKey)) return EXEC
  // LimitedUse counts only when a parent key takes part (create or MAC); the target's own LimitedUse is ignored
  const parentUsed = create || (sc.raw & 0x8000) !== 0
  if (parentUsed && cfg.slotConfig(parent).limitedUse) {
    const refused = e.keyUseError(parent)
    if (refused) return refused
  }
  if (!e.tempKeyUsable((p1 & DERIVE_KEY_RANDOM_FLAG) !== 0)) return EXEC
  if (cfg.keyConfig(parent).reqRandom && e.tempKey.sourceInput) return EXEC
  const derived = sha256(concat(parentKey, params, new Uint8Array(25), e.tempKey.value.subarray(0, 32)))
  e.invalidateTempKey()
  if (parentUsed) e.commitKeyUse(parent)
  e.state.data[p2]!.set(derived, 0)
  e.persist()
  return OK
}

// ---- SHA (spec A3; 608 modes: start, update 0–64 bytes, end 0–64 bytes, HMAC start, read/write context) ----
export function sha(e: CommandEngine, p1: number, p2: number, data: Uint8Array): EngineResult {
  const mode = p1 & 0x07
  const target = p1 & 0xc0
  if ((p1 & 0x38) !== 0 || (mode !== 0x02 && target !== 0)) return PARSE // the target bits belong to End
  switch (mode) {
    case 0x00:
      if (data.length !== 0 || p2 !== 0) return PARSE
      e.sha = { ctx: new Sha256Context() }
      return OK
    case 0x04: {
      if (data.length !== 0) return PARSE
      let key: Uint8Array
      if (p2 === 0xffff) {
        if (!e.tempKey.valid) return EXEC
        key = e.tempKey.value.slice(0, 32)
      } else {
        if (p2 > 15) return PARSE
        const refused = symmetricKeyError(e, p2) ?? e.keyUseError(p2)
        if (refused) return refused
        key = e.state.data[p2]!.slice(0, 32)
        e.commitKeyUse(p2)
      }
      // HMAC-SHA256 with a 32-byte key: inner hash starts with (key ‖ 32 × 00) ⊕ ipad
      const block = new Uint8Array(64)
      block.set(key)
      e.sha = { ctx: new Sha256Context().update(block.map((b) => b ^ 0x36)), hmacKey: key }
      return OK
    }
    case 0x01:
      if (p2 !== data.length || data.length > 64) return PARSE
      if (!e.sha) return EXEC
      e.sha.ctx.update(data)
      return OK
    case 0x02: {
      if (p2 !== data.length || data.length > 64 || target === 0x80) return PARSE
      if (!e.sha) return EXEC
      const { ctx, hmacKey } = e.sha
      e.sha = undefined
      let d = ctx.update(data).digest()
      if (hmacKey) {
        const block = new Uint8Array(64)
        block.set(hmacKey)
        d = sha256(concat(block.map((b) => b ^ 0x5c), d))
        hmacKey.fill(0)
      }
      if (target === 0x00) e.setTempKey(d, { sourceInput: true })
      else if (target === 0x40) {
        e.msgDigBuf.value.fill(0)
        e.msgDigBuf.value.set(d)
        e.msgDigBuf.valid = true
      }
      return { data: d }
    }
    case 0x06:
      // context read: SHA-256 only ([CAL] calib_sha_read_context: "HMAC not supported")
      if (data.length !== 0 || p2 !== 0) return PARSE
      if (!e.sha || e.sha.hmacKey) return EXEC
      return { data: e.sha.ctx.exportContext() }
    case 0x07: {
      if (p2 !== data.length) return PARSE
      const ctx = Sha256Context.importContext(data)
      if (!ctx) return PARSE
      e.sha = { ctx }
      return OK
    }
    default:
      return PARSE // 03 (add a stored public key) and 05 (the 508's HMAC end) are not modelled
  }
}

// ---- AES (spec A3) ----
export function aes(e: CommandEngine, p1: number, p2: number, data: Uint8Array): EngineResult {
  if ((p1 & 0x38) !== 0) return PARSE // AES_MODE_MASK 0xC7
  const mode = p1 & 0x07
  const cfg = e.config
  if (!cfg.aesEnabled) return EXEC
  if (mode === 0x03) {
    if (data.length !== 32) return PARSE
    return { data: gfmul(data.subarray(0, 16), data.subarray(16, 32)) }
  }
  if ((mode !== 0 && mode !== 1) || data.length !== 16) return PARSE
  const kb = (p1 >> 6) & 3
  let key: Uint8Array
  if (p2 === 0xffff) {
    if (!e.tempKey.valid) return EXEC
    key = e.tempKey.value.slice(kb * 16, kb * 16 + 16)
  } else {
    if (p2 > 15) return PARSE
    if (cfg.keyConfig(p2).keyType !== KEY_TYPE_AES) return EXEC
    const refused = e.keyUseError(p2)
    if (refused) return refused
    const slot = e.state.data[p2]!
    if ((kb + 1) * 16 > slot.length) return EXEC
    key = slot.slice(kb * 16, kb * 16 + 16)
    e.commitKeyUse(p2)
  }
  const out = aesEcb(mode === 1, key, data)
  key.fill(0)
  return { data: out }
}

function aesEcb(decrypt: boolean, key: Uint8Array, block: Uint8Array): Uint8Array {
  const c = decrypt ? createDecipheriv('aes-128-ecb', key, null) : createCipheriv('aes-128-ecb', key, null)
  c.setAutoPadding(false)
  return new Uint8Array(Buffer.concat([c.update(block), c.final()]))
}

/** TLS 1.2 PRF P_SHA256 (RFC 5246 §5): what KDF's PRF mode computes; checked against cryptoauthlib's kdf_prf_output vector. */
function pSha256(secret: Uint8Array, seed: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n)
  let a = seed
  for (let o = 0; o < n; o += 32) {
    a = hmac(sha256, secret, a)
    out.set(hmac(sha256, secret, concat(a, seed)).subarray(0, Math.min(32, n - o)), o)
  }
  return out
}

// ---- KDF ([CAL] KDF_MODE_*, KDF_DETAILS_*; calib_kdf) ----
export function kdf(e: CommandEngine, p1: number, p2: number, data: Uint8Array): EngineResult {
  const alg = p1 & 0x60
  const src = p1 & 0x03
  const tgt = p1 & 0x1c
  if ((p1 & 0x80) !== 0 || alg === 0x60 || tgt > 0x14 || data.length < 4) return PARSE
  const details = new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true)
  const msgLen = alg === 0x20 ? 16 : details >>> 24
  if (data.length !== 4 + msgLen) return PARSE
  const message = data.subarray(4)
  const cfg = e.config
  const co = cfg.chipOptions
  // ---- the source key ----
  let source: Uint8Array
  const srcSlot = p2 & 0xff
  if (src === 0x00 || src === 0x01) {
    if (!e.tempKey.valid) return EXEC
    source = src === 0x00 ? e.tempKey.value : e.tempKey.value.subarray(32, 64)
  } else if (src === 0x02) {
    if (srcSlot > 15) return PARSE
    const refused = symmetricKeyError(e, srcSlot) ?? e.keyUseError(srcSlot)
    if (refused) return refused
    source = e.state.data[srcSlot]!
  } else {
    if (!e.altKeyBuf.valid) return EXEC
    source = e.altKeyBuf.value
  }
  // ---- the computation ----
  let result: Uint8Array
  let aeadSecondHalf = false
  if (alg === 0x00) {
    if ((details & 0x00fff8fc) !== 0) return PARSE
    const keyLen = 16 * ((details & 3) + 1)
    const outLen = details & 0x100 ? 64 : 32
    const aead = (details >> 9) & 3
    if (aead > 1 || (aead === 1 && outLen !== 64) || keyLen > source.length) return PARSE
    result = pSha256(source.subarray(0, keyLen), message, outLen)
    aeadSecondHalf = aead === 1
  } else if (alg === 0x20) {
    // KDF-AES needs ChipOptions bit 2 and AES enabled; the key is 16-byte block `details[1:0]` of the source
    if ((details & ~3) !== 0) return PARSE
    if ((co & 0x04) === 0 || !cfg.aesEnabled) return EXEC
    const loc = details & 3
    if ((loc + 1) * 16 > source.length) return PARSE
    result = concat(aesEcb(false, source.slice(loc * 16, loc * 16 + 16), message), new Uint8Array(16))
  } else {
    // HKDF: one HMAC-SHA256(key, message); key = the source (or 32 zero bytes), message per details[1:0]
    if ((details & 0x00fffff8) !== 0) return PARSE
    const key = details & 4 ? new Uint8Array(32) : source.subarray(0, 32)
    const loc = details & 3
    let msg: Uint8Array
    if (loc === 0x1) {
      if (!e.tempKey.valid || msgLen > 64) return EXEC
      msg = e.tempKey.value.subarray(0, msgLen) // the message is TempKey; the command's message bytes are ignored
    } else if (loc === 0x2) msg = message
    else if (loc === 0x3) {
      // special IV function: the input must carry KdfIvStr (config 73–74) at KdfIvLoc (config 72)
      const at = e.state.config[ConfigOffset.KDF_IV_LOC]!
      const want = e.state.config.subarray(ConfigOffset.KDF_IV_STR, ConfigOffset.KDF_IV_STR + 2)
      if (at + 2 > message.length || message[at] !== want[0] || message[at + 1] !== want[1]) return EXEC
      msg = message
    } else return EXEC // message in a slot: which slot is not public
    result = hmac(sha256, key, msg)
  }
  // ---- the target ----
  const toOutput = tgt === 0x10 || tgt === 0x14
  if (aeadSecondHalf && toOutput) return PARSE
  // ChipOptions.KDFProt (bits 11:10): 0 output allowed, 1 output only encrypted, 2 no output
  const prot = (co >> 10) & 3
  if ((toOutput || aeadSecondHalf) && prot >= 2) return EXEC
  if ((tgt === 0x10 || aeadSecondHalf) && prot === 1) return EXEC
  const ioKey = tgt === 0x14 ? e.ioProtectionKey() : undefined
  if (tgt === 0x14 && !ioKey) return EXEC
  const first = aeadSecondHalf ? result.subarray(0, 32) : result
  const tgtSlot = p2 >> 8
  if (tgt === 0x08) {
    if (tgtSlot > 15) return PARSE
    if (!cfg.dataLocked || cfg.keyConfig(tgtSlot).private || cfg.slotLocked(tgtSlot)) return EXEC
  }
  if (tgt === 0x04 && (first.length !== 32 || !e.tempKey.valid)) return EXEC
  if (src === 0x02) e.commitKeyUse(srcSlot)
  switch (tgt) {
    case 0x00:
      e.setTempKey(first, { sourceInput: e.tempKey.sourceInput })
      break
    case 0x04:
      e.tempKey.value.set(first, 32)
      e.tempKey.is64 = true
      break
    case 0x08:
      e.state.data[tgtSlot]!.set(first.subarray(0, Math.min(first.length, slotSize(tgtSlot))), 0)
      e.persist()
      break
    case 0x0c:
      e.altKeyBuf.value.set(first.subarray(0, 32))
      e.altKeyBuf.valid = true
      break
    case 0x10:
      return { data: result }
    default:
      return { data: e.ioEncrypt(ioKey!, result) }
  }
  return aeadSecondHalf ? { data: result.slice(32, 64) } : OK
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
