/**
 * Host-side computations that a host must do to talk to an ATECC608 in its
 * authenticated and encrypted modes: the TempKey a Nonce or GenDig leaves, the
 * digests MAC and CheckMac compute, the key DeriveKey writes, encrypted Write
 * and PrivWrite payloads, encrypted reads, the I/O protection key decryption
 * of ECDH and KDF output, the validating MACs of Verify and SecureBoot.
 *
 * These are the formulas of cryptoauthlib's lib/host/atca_host.c (the public
 * reference for the chip's internal messages), written out here from those
 * layouts; the simulator computes the device side independently
 * (hil-sim/atecc608/cmd-*.ts), and the golden tests pin both to literal bytes.
 * Pure functions of bytes: no device I/O.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { ErrorCode, HopsealError } from '../../src/errors.ts'
import { GenDigZone, MacMode, Opcode } from './constants.ts'

const u8 = (...b: number[]): Uint8Array => Uint8Array.from(b)

function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

function need(label: string, b: Uint8Array | undefined, n: number): Uint8Array {
  if (!(b instanceof Uint8Array) || b.length !== n) throw new HopsealError(ErrorCode.INVALID_LENGTH, `${label} expected ${n} bytes, got ${b instanceof Uint8Array ? b.length : typeof b}`)
  return b
}

/** The 9-byte serial number from a config zone (bytes 0–3 and 8–12). */
export function serialFromConfig(config: Uint8Array): Uint8Array {
  need('config zone', config, 128)
  return cat(config.subarray(0, 4), config.subarray(8, 13))
}

/** TempKey after Nonce mode 00/01: SHA-256(RandOut ‖ NumIn ‖ 16 ‖ mode ‖ 00) ([CAL] atcah_nonce). */
export function nonceTempKey(randOut: Uint8Array, numIn: Uint8Array, mode = 0x00): Uint8Array {
  return sha256(cat(need('RandOut', randOut, 32), need('NumIn', numIn, 20), u8(Opcode.NONCE, mode, 0x00)))
}

export interface GenDigInput {
  tempKey: Uint8Array
  zone: number
  keyId: number
  sn: Uint8Array
  /** Config/OTP block, data slot's first 32 bytes (zones 0–2). */
  stored?: Uint8Array
  /** 4 bytes replacing opcode‖zone‖KeyID for a NoMac data slot; 32 bytes for the shared-nonce zone. */
  otherData?: Uint8Array
  noMacSlot?: boolean
  /** Counter zone: the counter's value. */
  counter?: number
  /** Key-config zone: SlotConfig, KeyConfig and the SlotLocked bit (1 = unlocked). */
  slotConfig?: number
  keyConfig?: number
  slotLockedBit?: number
}

/** TempKey after GenDig ([CAL] atcah_gen_dig). */
export function genDigTempKey(p: GenDigInput): Uint8Array {
  const tk = need('TempKey', p.tempKey, 32)
  const sn = need('serial number', p.sn, 9)
  let first: Uint8Array
  let header = u8(Opcode.GENDIG, p.zone, p.keyId & 0xff, p.keyId >> 8)
  const middle = new Uint8Array(25)
  let last = tk
  if (p.zone === GenDigZone.SHARED_NONCE) {
    const other = need('OtherData', p.otherData, 32)
    header = u8(Opcode.GENDIG, p.zone, p.keyId & 0xff, 0)
    first = p.keyId & 0x8000 ? tk : other
    if (p.keyId & 0x8000) last = other
  } else if (p.zone === GenDigZone.COUNTER) {
    first = new Uint8Array(32)
    new DataView(middle.buffer).setUint32(1, p.counter ?? 0, true)
  } else if (p.zone === GenDigZone.KEY_CONFIG) {
    first = new Uint8Array(32)
    const sc = p.slotConfig ?? 0
    const kc = p.keyConfig ?? 0
    middle.set([0, sc & 0xff, sc >> 8, kc & 0xff, kc >> 8, p.slotLockedBit ?? 1])
  } else {
    first = need('stored value', p.stored?.subarray(0, 32), 32)
    if (p.zone === GenDigZone.DATA && p.noMacSlot) header = need('OtherData', p.otherData, 4)
  }
  return sha256(cat(first, header, u8(sn[8]!, sn[0]!, sn[1]!), middle, last))
}

/** The 20 OTP / serial-number bytes of a MAC message ([CAL] atcah_include_data). */
function includeData(mode: number, sn: Uint8Array, otp?: Uint8Array): Uint8Array {
  const out = new Uint8Array(20)
  if (mode & (MacMode.INCLUDE_OTP_88 | MacMode.INCLUDE_OTP_64)) {
    const o = need('OTP', otp?.subarray(0, 11), 11)
    out.set(mode & MacMode.INCLUDE_OTP_88 ? o : o.subarray(0, 8), 0)
  }
  out[11] = sn[8]!
  if (mode & MacMode.INCLUDE_SN) out.set(sn.subarray(4, 8), 12)
  out.set(sn.subarray(0, 2), 16)
  if (mode & MacMode.INCLUDE_SN) out.set(sn.subarray(2, 4), 18)
  return out
}

/** The digest the MAC command returns ([CAL] atcah_mac). `key` or TempKey in block 1, `challenge` or TempKey in block 2. */
export function macDigest(p: { mode: number; keyId: number; sn: Uint8Array; key?: Uint8Array; challenge?: Uint8Array; tempKey?: Uint8Array; otp?: Uint8Array }): Uint8Array {
  const sn = need('serial number', p.sn, 9)
  const b1 = p.mode & MacMode.BLOCK1_TEMPKEY ? need('TempKey', p.tempKey, 32) : need('key', p.key, 32)
  const b2 = p.mode & MacMode.BLOCK2_TEMPKEY ? need('TempKey', p.tempKey, 32) : need('challenge', p.challenge, 32)
  return sha256(cat(b1, b2, u8(Opcode.MAC, p.mode, p.keyId & 0xff, p.keyId >> 8), includeData(p.mode, sn, p.otp)))
}

/** The client response CheckMac compares with ([CAL] atcah_check_mac; `otherData` is 13 bytes). */
export function checkMacResponse(p: { mode: number; sn: Uint8Array; otherData: Uint8Array; key?: Uint8Array; challenge?: Uint8Array; tempKey?: Uint8Array; otp?: Uint8Array }): Uint8Array {
  const sn = need('serial number', p.sn, 9)
  const other = need('OtherData', p.otherData, 13)
  const msg = new Uint8Array(88)
  msg.set(p.mode & MacMode.BLOCK1_TEMPKEY ? need('TempKey', p.tempKey, 32) : need('key', p.key, 32), 0)
  msg.set(p.mode & MacMode.BLOCK2_TEMPKEY ? need('TempKey', p.tempKey, 32) : need('challenge', p.challenge, 32), 32)
  msg.set(other.subarray(0, 4), 64)
  if (p.mode & MacMode.INCLUDE_OTP_64) msg.set(need('OTP', p.otp?.subarray(0, 8), 8), 68)
  msg.set(other.subarray(4, 7), 76)
  msg[79] = sn[8]!
  msg.set(other.subarray(7, 11), 80)
  msg.set(sn.subarray(0, 2), 84)
  msg.set(other.subarray(11, 13), 86)
  return sha256(msg)
}

/** The key DeriveKey writes ([CAL] atcah_derive_key): SHA-256(parent ‖ 1C ‖ mode ‖ target ‖ SN[8] ‖ SN[0:1] ‖ 25 × 00 ‖ TempKey). */
export function deriveKeyValue(p: { parent: Uint8Array; mode: number; target: number; sn: Uint8Array; tempKey: Uint8Array }): Uint8Array {
  const sn = need('serial number', p.sn, 9)
  return sha256(cat(need('parent key', p.parent, 32), u8(Opcode.DERIVE_KEY, p.mode, p.target & 0xff, p.target >> 8, sn[8]!, sn[0]!, sn[1]!), new Uint8Array(25), need('TempKey', p.tempKey, 32)))
}

/** The input MAC DeriveKey requires when SlotConfig[target] bit 15 is set ([CAL] atcah_derive_key_mac). */
export function deriveKeyMac(p: { parent: Uint8Array; mode: number; target: number; sn: Uint8Array }): Uint8Array {
  const sn = need('serial number', p.sn, 9)
  return sha256(cat(need('parent key', p.parent, 32), u8(Opcode.DERIVE_KEY, p.mode, p.target & 0xff, p.target >> 8, sn[8]!, sn[0]!, sn[1]!)))
}

/** An encrypted Write: ciphertext = data ⊕ TempKey and its MAC ([CAL] atcah_write_auth_mac); `param1` includes bits 80 and 40. */
export function encryptWrite(p: { tempKey: Uint8Array; param1: number; address: number; sn: Uint8Array; data: Uint8Array }): { cipher: Uint8Array; mac: Uint8Array } {
  const tk = need('TempKey', p.tempKey, 32)
  const data = need('data', p.data, 32)
  const sn = need('serial number', p.sn, 9)
  const cipher = data.map((b, i) => b ^ tk[i]!)
  const mac = sha256(cat(tk, u8(Opcode.WRITE, p.param1, p.address & 0xff, p.address >> 8, sn[8]!, sn[0]!, sn[1]!), new Uint8Array(25), data))
  return { cipher, mac }
}

/** An encrypted PrivWrite of 36 bytes (4 × 00 ‖ scalar) and its MAC ([CAL] atcah_privwrite_auth_mac). */
export function encryptPrivWrite(p: { tempKey: Uint8Array; slot: number; sn: Uint8Array; value: Uint8Array }): { cipher: Uint8Array; mac: Uint8Array } {
  const tk = need('TempKey', p.tempKey, 32)
  const value = need('private key value', p.value, 36)
  const sn = need('serial number', p.sn, 9)
  const k2 = sha256(tk)
  const cipher = value.map((b, i) => b ^ (i < 32 ? tk[i]! : k2[i - 32]!))
  const mac = sha256(cat(tk, u8(Opcode.PRIVWRITE, 0x40, p.slot & 0xff, p.slot >> 8, sn[8]!, sn[0]!, sn[1]!), new Uint8Array(21), value))
  return { cipher, mac }
}

/** Decrypts a 32-byte encrypted Read: data ⊕ TempKey (TempKey from GenDig over the slot's ReadKey; [CAL] atcah_decrypt). */
export function decryptRead(tempKey: Uint8Array, cipher: Uint8Array): Uint8Array {
  const tk = need('TempKey', tempKey, 32)
  return need('ciphertext', cipher, 32).map((b, i) => b ^ tk[i]!)
}

/**
 * Decrypts ECDH or KDF output encrypted with the I/O protection key: 32-byte
 * block i is XORed with SHA-256(IOKey ‖ OutNonce[16i .. 16i+16]) ([CAL] atcah_io_decrypt).
 */
export function ioDecrypt(ioKey: Uint8Array, outNonce: Uint8Array, data: Uint8Array): Uint8Array {
  need('I/O protection key', ioKey, 32)
  need('OutNonce', outNonce, 32)
  if (!(data instanceof Uint8Array) || (data.length !== 32 && data.length !== 64)) throw new HopsealError(ErrorCode.INVALID_LENGTH, `encrypted data expected 32 or 64 bytes, got ${data?.length}`)
  const out = data.slice()
  for (let b = 0; b * 32 < out.length; b++) {
    const k = sha256(cat(ioKey, outNonce.subarray(b * 16, b * 16 + 16)))
    for (let i = 0; i < 32; i++) out[b * 32 + i]! ^= k[i]!
  }
  return out
}

/** The validating MAC of Verify with mode bit 80 ([CAL] atcah_verify_mac). */
export function verifyMac(p: { ioKey: Uint8Array; message: Uint8Array; systemNonce: Uint8Array; signature: Uint8Array; mode: number; keyId: number }): Uint8Array {
  return sha256(cat(need('I/O protection key', p.ioKey, 32), need('message', p.message, 32), need('system nonce', p.systemNonce, 32), need('signature', p.signature, 64), u8(Opcode.VERIFY, p.mode, p.keyId & 0xff, p.keyId >> 8)))
}

/** SecureBoot with an encrypted digest: hashed key = SHA-256(IOKey ‖ TempKey), digest ⊕ hashed key ([CAL] atcah_secureboot_enc). */
export function secureBootEncrypt(ioKey: Uint8Array, tempKey: Uint8Array, digest: Uint8Array): { hashedKey: Uint8Array; digestEnc: Uint8Array } {
  const hashedKey = sha256(cat(need('I/O protection key', ioKey, 32), need('TempKey', tempKey, 32)))
  return { hashedKey, digestEnc: need('digest', digest, 32).map((b, i) => b ^ hashedKey[i]!) }
}

/** The MAC SecureBoot returns on success ([CAL] atcah_secureboot_mac); `signature` is omitted for FullStore with a stored digest. */
export function secureBootMac(p: { hashedKey: Uint8Array; digest: Uint8Array; signature?: Uint8Array; mode: number; param2?: number }): Uint8Array {
  const p2 = p.param2 ?? 0
  return sha256(cat(need('hashed key', p.hashedKey, 32), need('digest', p.digest, 32), p.signature ? need('signature', p.signature, 64) : new Uint8Array(0), u8(Opcode.SECUREBOOT, p.mode, p2 & 0xff, p2 >> 8)))
}

/** Info(State) decoded: TempKey's flags and the authorization state. */
export interface InfoState {
  tempKeyValid: boolean
  /** TempKey.SourceFlag: 'random' (0: a random Nonce) or 'input' (1: pass-through and other fixed input). */
  source: 'random' | 'input'
  keyId: number
  genDigData: boolean
  genKeyData: boolean
  noMacFlag: boolean
  authValid: boolean
  authKeyId: number
}

/**
 * Decodes the 4 bytes of Info(State): byte 0 = NoMacFlag(7) GenKeyData(6)
 * GenDigData(5) SourceFlag(4) KeyID(3:0); byte 1 = TempKey.Valid(7)
 * AuthKeyID(6:3) AuthValid(2). This is the layout cryptoauthlib-based hosts
 * and Coldcard's firmware read (`I_TempKey_Valid(n) = (n >> 7) & 1` on byte 1).
 */
export function decodeInfoState(b: Uint8Array): InfoState {
  need('Info(State)', b, 4)
  return {
    tempKeyValid: (b[1]! & 0x80) !== 0,
    source: b[0]! & 0x10 ? 'input' : 'random',
    keyId: b[0]! & 0x0f,
    genDigData: (b[0]! & 0x20) !== 0,
    genKeyData: (b[0]! & 0x40) !== 0,
    noMacFlag: (b[0]! & 0x80) !== 0,
    authValid: (b[1]! & 0x04) !== 0,
    authKeyId: (b[1]! >> 3) & 0x0f,
  }
}
