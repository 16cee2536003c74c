/**
 * GenKey, Sign, Verify, ECDH and SecureBoot: the P-256 commands (spec A3;
 * [CAL] atcah_gen_key_msg, atcah_sign_internal_msg, atcah_verify_mac,
 * atcah_io_decrypt, atcah_secureboot_enc/mac for the digests and MACs).
 */
import { p256 } from '@noble/curves/nist.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { concat } from '../../src/bytes/index.ts'
import type { KeyPair } from '../../targets/node/crypto/index.ts'
import { ConfigOffset, Opcode, SecureBootConfigMode, SecureBootMode, Status, VERIFY_KEY_P256 } from '../../vaults/atecc608/constants.ts'
import { KEY_TYPE_P256, getU16 } from '../../vaults/atecc608/config.ts'
import { EXEC, OK, PARSE, st, type CommandEngine, type EngineResult } from './engine.ts'

// ---- GenKey (spec A3; [CAL] GENKEY_MODE_*, atcah_gen_key_msg) ----
export function genKey(e: CommandEngine, p1: number, p2: number, data: Uint8Array): EngineResult {
  // mode bits: 04 private, 08 PubKey digest into TempKey; 10 (digest of a stored public key) is not modelled
  if ((p1 & ~0x0c) !== 0 || data.length !== 0) return PARSE
  const cfg = e.config
  const digest = (p1 & 0x08) !== 0
  if (digest && !e.tempKey.valid) return EXEC // the digest mixes in a nonce already in TempKey
  let kp: KeyPair
  if (p1 & 0x04) {
    if (e.strict && !cfg.configLocked) return EXEC
    if (p2 === 0xffff) {
      if (digest) return PARSE
      kp = e.newKeyPair()
      e.setTempKey(new Uint8Array(32), { privateKey: kp.privateKey })
      return { data: e.xy(kp) }
    }
    if (p2 > 15) return PARSE
    const kc = cfg.keyConfig(p2)
    const sc = cfg.slotConfig(p2)
    if (!kc.private || kc.keyType !== KEY_TYPE_P256) return EXEC
    if (cfg.dataLocked && (!sc.genKey || cfg.slotLocked(p2))) return EXEC
    kp = e.newKeyPair()
    e.storePrivateKey(p2, kp.privateKey)
    e.persist()
  } else {
    if (p2 > 15) return PARSE
    const found = e.slotKey(p2)
    if (!found) return EXEC
    // KeyConfig.PubInfo = 0: the public key can be computed only until the data lock (Coldcard secel_config.py no_pubkey)
    if (cfg.dataLocked && !cfg.keyConfig(p2).pubInfo) return EXEC
    kp = found
  }
  const xy = e.xy(kp)
  if (digest) {
    // TempKey = SHA-256(TempKey ‖ 40 ‖ mode ‖ KeyID ‖ SN[8] ‖ SN[0:1] ‖ 25 × 00 ‖ X ‖ Y) ([CAL] atcah_gen_key_msg)
    const sn = e.serialNumber
    const msg = concat(e.tempKey.value.subarray(0, 32), Uint8Array.of(Opcode.GENKEY, p1, p2 & 0xff, p2 >> 8, sn[8]!, sn[0]!, sn[1]!), new Uint8Array(25), xy)
    e.setTempKey(sha256(msg), { sourceInput: e.tempKey.sourceInput, genKeyData: true, keyId: p2 & 0xf })
  }
  return { data: xy }
}

/** The 55-byte message an internal Sign signs ([CAL] atcah_sign_internal_msg, 608 branch). */
function internalMessage(e: CommandEngine, p1: number, p2: number): Uint8Array {
  const t = e.tempKey
  const cfg = e.config
  const sn = e.serialNumber
  const msg = new Uint8Array(55)
  msg.set(t.value.subarray(0, 32), 0)
  msg.set([Opcode.SIGN, p1, p2 & 0xff, p2 >> 8], 32)
  const slotCfg = getU16(e.state.config, ConfigOffset.SLOT_CONFIG + 2 * t.keyId)
  const keyCfg = getU16(e.state.config, ConfigOffset.KEY_CONFIG + 2 * t.keyId)
  msg.set([slotCfg & 0xff, slotCfg >> 8, keyCfg & 0xff, keyCfg >> 8], 36)
  msg[40] = (t.keyId & 0xf) | (t.sourceInput ? 0x10 : 0) | (t.genDigData ? 0x20 : 0) | (t.genKeyData ? 0x40 : 0) | (t.noMacFlag ? 0x80 : 0)
  msg[43] = sn[8]!
  msg.set(sn.subarray(0, 2), 48)
  if (p1 & 0x40) {
    msg.set(sn.subarray(4, 8), 44)
    msg.set(sn.subarray(2, 4), 50)
  }
  msg[52] = cfg.slotLocked(t.keyId) ? 0x00 : 0x01
  msg[53] = p1 & 0x01 ? 0x01 : 0x00
  return msg
}

/** ECDSA with a fresh random nonce for every signature (RFC 6979 plus 32 bytes of RNG output as extra entropy), as the chip's DRBG-fed signer behaves. */
function ecdsa(e: CommandEngine, digest: Uint8Array, kp: KeyPair): Uint8Array {
  return p256.sign(digest, kp.privateKey, { prehash: false, lowS: false, extraEntropy: e.rng(32) })
}

// ---- Sign (spec A3 "Sign an external digest"; internal messages from GenDig/GenKey) ----
export function sign(e: CommandEngine, p1: number, p2: number, data: Uint8Array): EngineResult {
  if (data.length !== 0 || p2 > 15 || (p1 & 0x1e) !== 0) return PARSE // SIGN_MODE_MASK 0xE1
  const external = (p1 & 0x80) !== 0
  if (external && (p1 & 0x41) !== 0) return PARSE // include-SN and invalidate belong to internal messages
  if (!external && (p1 & 0x20) !== 0) return PARSE
  const cfg = e.config
  if (e.strict && !cfg.dataLocked) return EXEC
  const sc = cfg.slotConfig(p2)
  if (external ? !sc.extSign : !sc.intSign) return EXEC
  const kp = e.slotKey(p2)
  if (!kp) return EXEC
  const refused = e.keyUseError(p2)
  if (refused) return refused
  let digest: Uint8Array
  if (external) {
    const src = p1 & 0x20 ? e.msgDigBuf : e.tempKey
    if (!src.valid) return EXEC
    digest = src.value.slice(0, 32)
    src.valid = false // the message is consumed: a retry must reload it
  } else {
    const t = e.tempKey
    if (!t.valid || !(t.genDigData || t.genKeyData)) return EXEC
    digest = sha256(internalMessage(e, p1, p2))
    t.valid = false
  }
  e.commitKeyUse(p2) // LimitedUse: Counter[0] advances with every signature
  return { data: ecdsa(e, digest, kp) }
}

// ---- Verify (spec A3 "Verify external"; stored keys; MAC output per [CAL] atcah_verify_mac) ----
export function verify(e: CommandEngine, p1: number, p2: number, data: Uint8Array): EngineResult {
  if ((p1 & 0x58) !== 0) return PARSE // bits 3, 4 and 6 are 0
  const mode = p1 & 0x07
  const fromMsgDigBuf = (p1 & 0x20) !== 0
  const withMac = (p1 & 0x80) !== 0
  let pub: Uint8Array
  let sig: Uint8Array
  if (mode === 0x02) {
    if (p2 !== VERIFY_KEY_P256 || data.length !== 128) return PARSE
    sig = data.subarray(0, 64)
    pub = concat(Uint8Array.of(4), data.subarray(64, 128))
  } else if (mode === 0x00) {
    if (p2 > 15 || data.length !== 64) return PARSE
    const stored = e.storedPublicKey(p2)
    if (!stored) return EXEC
    pub = stored
    sig = data
  } else return PARSE // validate (01, 03) and invalidate (07) are not modelled
  const src = fromMsgDigBuf ? e.msgDigBuf : e.tempKey
  if (!src.valid) return EXEC
  let ioKey: Uint8Array | undefined
  if (withMac) {
    ioKey = e.ioProtectionKey()
    if (!ioKey || !e.msgDigBuf.valid) return EXEC // MAC output needs the I/O protection key and a system nonce in MsgDigBuf
  }
  const msg = src.value.slice(0, 32)
  let good: boolean
  try {
    good = p256.verify(sig, msg, pub, { prehash: false, lowS: false })
  } catch {
    return EXEC
  }
  src.valid = false
  if (!good) return st(Status.MISCOMPARE)
  if (!ioKey) return OK
  // MAC = SHA-256(IOKey ‖ message ‖ system nonce ‖ signature ‖ 45 ‖ mode ‖ param2); the nonce is MsgDigBuf[32:64] when the
  // message came from MsgDigBuf, else MsgDigBuf[0:32]
  const nonce = fromMsgDigBuf ? e.msgDigBuf.value.subarray(32, 64) : e.msgDigBuf.value.subarray(0, 32)
  return { data: sha256(concat(ioKey, msg, nonce, sig, Uint8Array.of(Opcode.VERIFY, p1, p2 & 0xff, p2 >> 8))) }
}

// ---- ECDH (spec A3 "ECDH") ----
export function ecdh(e: CommandEngine, p1: number, p2: number, data: Uint8Array): EngineResult {
  if (data.length !== 64 || (p1 & 0xf0) !== 0) return PARSE
  const cfg = e.config
  const fromTempKey = (p1 & 0x01) !== 0
  const copy = p1 & 0x0c
  let kp: KeyPair | undefined
  let ecdhToNext = false
  if (fromTempKey) {
    if (!e.tempKey.valid || !e.tempKey.privateKey) return EXEC
    kp = e.crypto.keyPairFromPrivate('p256', e.tempKey.privateKey)
  } else {
    if (p2 > 15) return PARSE
    if (e.strict && !cfg.dataLocked) return EXEC
    const sc = cfg.slotConfig(p2)
    if (!sc.ecdh) return EXEC
    ecdhToNext = sc.ecdhToNext
    kp = e.slotKey(p2)
    if (!kp) return EXEC
    const refused = e.keyUseError(p2)
    if (refused) return refused
  }
  const toSlot = copy === 0x04 || (copy === 0x00 && ecdhToNext)
  if (toSlot && (fromTempKey || !ecdhToNext)) return EXEC // a TempKey source writing a slot (mode 05) is not modelled
  // ChipOptions.ECDHProt (bits 9:8): 0 clear output allowed, 1 output always encrypted, 2 no output (slot or TempKey only)
  const prot = (cfg.chipOptions >> 8) & 3
  const output = !toSlot && copy !== 0x08
  const encrypt = output && ((p1 & 0x02) !== 0 || prot === 1)
  const ioKey = encrypt ? e.ioProtectionKey() : undefined
  if (output && prot >= 2) return EXEC
  if (encrypt && !ioKey) return EXEC
  let secret: Uint8Array
  try {
    secret = e.crypto.dh(kp, concat(Uint8Array.of(4), data))
  } catch {
    return EXEC // peer point not on the curve
  }
  if (!fromTempKey) e.commitKeyUse(p2)
  if (toSlot) {
    const target = p2 | 1
    e.state.data[target]!.fill(0)
    e.state.data[target]!.set(secret)
    e.persist()
    return OK
  }
  if (copy === 0x08) {
    e.setTempKey(secret, { keyId: fromTempKey ? 0 : p2 })
    return OK
  }
  // encrypted output ([CAL] atcah_io_decrypt undoes it): secret ⊕ SHA-256(IOKey ‖ OutNonce[0:16]) ‖ OutNonce
  return { data: ioKey ? e.ioEncrypt(ioKey, secret) : secret }
}

// ---- SecureBoot ([CAL] SECUREBOOT_*, calib_secureboot(_mac), atcah_secureboot_enc/mac) ----
export function secureBoot(e: CommandEngine, p1: number, p2: number, data: Uint8Array): EngineResult {
  const mode = p1 & 0x07
  if ((p1 & 0x38) !== 0 || p2 !== 0 || (mode !== SecureBootMode.FULL && mode !== SecureBootMode.FULL_STORE && mode !== SecureBootMode.FULL_COPY)) return PARSE
  const withSig = mode !== SecureBootMode.FULL_STORE
  if (data.length !== (withSig ? 96 : 32)) return PARSE
  const cfg = e.config
  const sbc = getU16(e.state.config, ConfigOffset.SECURE_BOOT)
  const sbMode = sbc & 0x03
  const sigDigSlot = (sbc >> 8) & 0xf
  const pubKeySlot = (sbc >> 12) & 0xf
  if (!cfg.dataLocked || sbMode === SecureBootConfigMode.DISABLED || e.secureBootProhibited) return EXEC
  if (sbMode === SecureBootConfigMode.FULL_BOTH && mode !== SecureBootMode.FULL) return EXEC // digest and signature every time
  const digest = data.slice(0, 32)
  let hashedKey: Uint8Array | undefined
  if (p1 & SecureBootMode.ENC_MAC) {
    const ioKey = e.ioProtectionKey()
    const t = e.tempKey
    // SecureBootRandNonce (config bit 4): the nonce in TempKey must come from the RNG
    if (!ioKey || !t.valid || ((sbc & 0x10) !== 0 && t.sourceInput)) return EXEC
    hashedKey = sha256(concat(ioKey, t.value.subarray(0, 32)))
    for (let i = 0; i < 32; i++) digest[i]! ^= hashedKey[i]!
  }
  const stored = e.state.data[sigDigSlot]!
  let sig = withSig ? data.slice(32, 96) : stored.slice(0, 64)
  let good: boolean
  if (!withSig && sbMode === SecureBootConfigMode.FULL_DIG) {
    good = digest.every((b, i) => b === stored[i]) // FullStore against a stored digest
    sig = new Uint8Array(0)
  } else {
    const pub = e.storedPublicKey(pubKeySlot)
    if (!pub) return EXEC
    try {
      good = p256.verify(sig, digest, pub, { prehash: false, lowS: false })
    } catch {
      good = false
    }
  }
  if (p1 & SecureBootMode.PROHIBIT) e.secureBootProhibited = true
  if (!good) return st(Status.MISCOMPARE)
  if (mode === SecureBootMode.FULL_COPY && (sbMode === SecureBootConfigMode.FULL_DIG || sbMode === SecureBootConfigMode.FULL_SIG)) {
    // FullCopy: the verified digest (FullDig) or signature (FullSig) is stored for later FullStore boots
    stored.set(sbMode === SecureBootConfigMode.FULL_DIG ? digest : sig, 0)
    e.persist()
  }
  if (sbc & 0x08) e.latch = true // SecureBootPersistentEnable: a good boot sets the persistent latch
  if (!hashedKey) return OK
  // MAC = SHA-256(hashed key ‖ digest ‖ signature (absent for FullStore with FullDig) ‖ 80 ‖ mode ‖ param2)
  return { data: sha256(concat(hashedKey, digest, sig, Uint8Array.of(Opcode.SECUREBOOT, p1, p2 & 0xff, p2 >> 8))) }
}
