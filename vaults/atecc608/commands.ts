/**
 * Command builders, one per ATECC608 command the driver uses (spec A3). Each
 * returns the packet (count … CRC); the expected response length is in
 * `expectedData` so callers can reject a wrong-length answer.
 */
import { ErrorCode, HopsealError } from '../../src/errors.ts'
import {
  AesMode,
  CHECKMAC_MODE_MASK,
  CounterMode,
  DERIVE_KEY_RANDOM_FLAG,
  GenDigZone,
  GenKeyMode,
  InfoLatch,
  InfoMode,
  KdfMode,
  LockMode,
  MAC_MODE_MASK,
  MacMode,
  NONCE_CALC_TEMPKEY,
  NonceMode,
  Opcode,
  PRIVWRITE_ENCRYPT,
  SELFTEST_ALL,
  SecureBootMode,
  ShaMode,
  SignMode,
  UpdateExtraMode,
  VERIFY_KEY_P256,
  VerifyMode,
  WRITE_ENCRYPTED,
  Zone,
  ZONE_READWRITE_32,
  slotSize,
} from './constants.ts'
import { buildCommand } from './packet.ts'

export interface Command {
  readonly opcode: number
  readonly packet: Uint8Array
  /** Data bytes the success response carries; 0 means a 4-byte status; -1 any length (SHA context read). */
  readonly expectedData: number
  /** Human name for errors. */
  readonly name: string
}

function cmd(name: string, opcode: number, p1: number, p2: number, data: Uint8Array | undefined, expectedData: number): Command {
  return { name, opcode, packet: buildCommand(opcode, p1, p2, data), expectedData }
}

function checkSlot(slot: number): void {
  if (!Number.isInteger(slot) || slot < 0 || slot > 15) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `slot expected 0..15, got ${slot}`)
}
function checkLen(label: string, b: Uint8Array, ...n: number[]): void {
  if (!(b instanceof Uint8Array) || !n.includes(b.length)) throw new HopsealError(ErrorCode.INVALID_LENGTH, `${label} expected ${n.join(' or ')} bytes, got ${b instanceof Uint8Array ? b.length : typeof b}`)
}

/** Info (spec A3): revision (4 bytes) by default. */
export function info(mode = 0x00, p2 = 0x0000): Command {
  return cmd('Info', Opcode.INFO, mode, p2, undefined, 4)
}

/** Random: 32 bytes; mode 00 updates the seed. */
export function random(mode = 0x00): Command {
  return cmd('Random', Opcode.RANDOM, mode, 0, undefined, 32)
}

/** Nonce pass-through of 32 or 64 bytes into TempKey / MsgDigBuf / AltKeyBuf (spec A3 "Nonce"). */
export function noncePassthrough(value: Uint8Array, target: 'tempkey' | 'msgdigbuf' | 'altkeybuf' = 'msgdigbuf'): Command {
  checkLen('Nonce input', value, 32, 64)
  if (value.length === 64 && target === 'altkeybuf') throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'a 64-byte Nonce cannot target AltKeyBuf')
  const t = target === 'tempkey' ? NonceMode.TARGET_TEMPKEY : target === 'msgdigbuf' ? NonceMode.TARGET_MSGDIGBUF : NonceMode.TARGET_ALTKEYBUF
  return cmd('Nonce', Opcode.NONCE, NonceMode.PASSTHROUGH | t | (value.length === 64 ? NonceMode.INPUT_64 : 0), 0, value, 0)
}

/**
 * Nonce random mode: 20-byte NumIn, returns the 32-byte RandOut; TempKey becomes
 * SHA-256(RandOut ‖ NumIn ‖ 16 ‖ mode ‖ 00) (host.ts `nonceTempKey`). With
 * `calcTempKey` (param2 bit 15) the answer is the new TempKey itself.
 */
export function nonceRandom(numIn: Uint8Array, updateSeed = true, calcTempKey = false): Command {
  checkLen('Nonce NumIn', numIn, 20)
  return cmd('Nonce', Opcode.NONCE, updateSeed ? NonceMode.SEED_UPDATE : NonceMode.NO_SEED_UPDATE, calcTempKey ? NONCE_CALC_TEMPKEY : 0, numIn, 32)
}

/** Info(State): TempKey flags and the authorization state (4 bytes; docs/hardware.md "Info"). */
export function infoState(): Command {
  return cmd('Info', Opcode.INFO, InfoMode.STATE, 0, undefined, 4)
}

/** Info mode 04: read the persistent latch (4 bytes, byte 0 = 1 when set), or set/clear it (status). */
export function infoLatch(op: 'read' | 'set' | 'clear'): Command {
  const p2 = op === 'read' ? InfoLatch.READ : op === 'set' ? InfoLatch.SET : InfoLatch.CLEAR
  return cmd('Info', Opcode.INFO, InfoMode.VOLATILE_KEY_PERMIT, p2, undefined, op === 'read' ? 4 : 0)
}

/** GenKey: a new private key in `slot` (or 0xFFFF = TempKey); returns X‖Y. */
export function genKeyPrivate(slot: number): Command {
  if (slot !== 0xffff) checkSlot(slot)
  return cmd('GenKey', Opcode.GENKEY, GenKeyMode.PRIVATE, slot, undefined, 64)
}

/** GenKey: the public key of the private key in `slot`; returns X‖Y. */
export function genKeyPublic(slot: number): Command {
  checkSlot(slot)
  return cmd('GenKey', Opcode.GENKEY, GenKeyMode.PUBLIC, slot, undefined, 64)
}

/**
 * GenKey with a PubKey digest (mode 08, or 0C to create the key first): also
 * leaves SHA-256(TempKey ‖ 40 ‖ mode ‖ slot ‖ SN[8] ‖ SN[0:1] ‖ 25 × 00 ‖ X ‖ Y) in
 * TempKey (GenKeyData set), the message an internal Sign signs over. Returns X‖Y.
 */
export function genKeyDigest(slot: number, createPrivate = false): Command {
  checkSlot(slot)
  return cmd('GenKey', Opcode.GENKEY, GenKeyMode.DIGEST | (createPrivate ? GenKeyMode.PRIVATE : 0), slot, undefined, 64)
}

/** Sign external: the 32-byte message in MsgDigBuf (A0, default) or TempKey (80); returns R‖S. */
export function signExternal(slot: number, source: 'msgdigbuf' | 'tempkey' = 'msgdigbuf'): Command {
  checkSlot(slot)
  return cmd('Sign', Opcode.SIGN, SignMode.EXTERNAL | (source === 'msgdigbuf' ? SignMode.SOURCE_MSGDIGBUF : 0), slot, undefined, 64)
}

/**
 * Verify external P-256 (mode 22 with the digest in MsgDigBuf): data R‖S‖X‖Y.
 * Answers a status (00 valid, 01 invalid), or with `mac` (mode A2) the 32-byte
 * validating MAC (host.ts `verifyMac`).
 */
export function verifyExternal(signature: Uint8Array, publicXY: Uint8Array, source: 'msgdigbuf' | 'tempkey' = 'msgdigbuf', opts: { mac?: boolean } = {}): Command {
  checkLen('signature', signature, 64)
  checkLen('public key X‖Y', publicXY, 64)
  const data = new Uint8Array(128)
  data.set(signature, 0)
  data.set(publicXY, 64)
  const mode = VerifyMode.EXTERNAL | (source === 'msgdigbuf' ? VerifyMode.SOURCE_MSGDIGBUF : 0) | (opts.mac ? VerifyMode.MAC : 0)
  return cmd('Verify', Opcode.VERIFY, mode, VERIFY_KEY_P256, data, opts.mac ? 32 : 0)
}

/**
 * ECDH with the peer X‖Y, output to the host: mode 0C (slot) / 0D (TempKey) in
 * clear, 32 bytes; with `encrypted`, mode 0E / 0F: the secret encrypted with
 * the I/O protection key ‖ OutNonce, 64 bytes (host.ts `ioDecrypt`).
 */
export function ecdh(slot: number | 'tempkey', peerXY: Uint8Array, opts: { encrypted?: boolean } = {}): Command {
  checkLen('ECDH peer X‖Y', peerXY, 64)
  const enc = opts.encrypted === true ? 0x02 : 0x00
  const n = enc ? 64 : 32
  if (slot === 'tempkey') return cmd('ECDH', Opcode.ECDH, 0x0d | enc, 0x0000, peerXY, n)
  checkSlot(slot)
  return cmd('ECDH', Opcode.ECDH, 0x0c | enc, slot, peerXY, n)
}

/** Sign an internal message (TempKey made by GenDig or GenKey digest): mode 00, or 40 with the full serial number. */
export function signInternal(slot: number, includeSerial = false): Command {
  checkSlot(slot)
  return cmd('Sign', Opcode.SIGN, includeSerial ? SignMode.INCLUDE_SN : SignMode.INTERNAL, slot, undefined, 64)
}

/** Verify with a public key stored in a slot (mode 00, or 20 with the message in MsgDigBuf); `mac` asks for the 32-byte validating MAC (mode bit 80). */
export function verifyStored(slot: number, signature: Uint8Array, opts: { source?: 'msgdigbuf' | 'tempkey'; mac?: boolean } = {}): Command {
  checkSlot(slot)
  checkLen('signature', signature, 64)
  const mode = VerifyMode.STORED | ((opts.source ?? 'msgdigbuf') === 'msgdigbuf' ? VerifyMode.SOURCE_MSGDIGBUF : 0) | (opts.mac ? VerifyMode.MAC : 0)
  return cmd('Verify', Opcode.VERIFY, mode, slot, signature, opts.mac ? 32 : 0)
}

/** SHA start / update (64 bytes) / end (0..63 bytes, returns the digest). */
export function shaStart(): Command {
  return cmd('SHA', Opcode.SHA, ShaMode.START, 0, undefined, 0)
}
/** SHA update: 0..64 bytes (the 608 keeps a partial block in its context). */
export function shaUpdate(block: Uint8Array): Command {
  if (!(block instanceof Uint8Array) || block.length > 64) throw new HopsealError(ErrorCode.INVALID_LENGTH, `SHA update expected 0..64 bytes, got ${block?.length}`)
  return cmd('SHA', Opcode.SHA, ShaMode.UPDATE, block.length, block, 0)
}
/** SHA end (also HMAC end on the 608): 0..64 bytes; the digest is returned and also kept in TempKey (default) or MsgDigBuf. */
export function shaEnd(tail: Uint8Array, target: 'tempkey' | 'msgdigbuf' | 'output' = 'tempkey'): Command {
  if (!(tail instanceof Uint8Array) || tail.length > 64) throw new HopsealError(ErrorCode.INVALID_LENGTH, `SHA end expected 0..64 bytes, got ${tail?.length}`)
  const t = target === 'tempkey' ? ShaMode.TARGET_TEMPKEY : target === 'msgdigbuf' ? ShaMode.TARGET_MSGDIGBUF : ShaMode.TARGET_OUTPUT
  return cmd('SHA', Opcode.SHA, ShaMode.END | t, tail.length, tail, 32)
}
/** SHA HMAC start with the key in `slot` (or 0xFFFF: TempKey); then shaUpdate…, shaEnd gives HMAC-SHA256. */
export function shaHmacStart(slot: number): Command {
  if (slot !== 0xffff) checkSlot(slot)
  return cmd('SHA', Opcode.SHA, ShaMode.HMAC_START, slot, undefined, 0)
}
/** SHA context read (mode 06): the running SHA-256 context, opaque bytes of variable length. */
export function shaReadContext(): Command {
  return cmd('SHA', Opcode.SHA, ShaMode.READ_CONTEXT, 0, undefined, -1)
}
/** SHA context write (mode 07): restores a context that shaReadContext returned. */
export function shaWriteContext(context: Uint8Array): Command {
  if (!(context instanceof Uint8Array) || context.length === 0 || context.length > 128) throw new HopsealError(ErrorCode.INVALID_LENGTH, `SHA context expected 1..128 bytes, got ${context?.length}`)
  return cmd('SHA', Opcode.SHA, ShaMode.WRITE_CONTEXT, context.length, context, 0)
}

function checkWord(word: number): void {
  if (!Number.isInteger(word) || word < 0 || word > 7) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `word expected 0..7, got ${word}`)
}

/** Config/OTP address: (block << 3) | word (spec A3 "Addresses"); config blocks 0–3 (OTP uses 0–1). */
export function zoneAddress(block: number, word = 0): number {
  if (!Number.isInteger(block) || block < 0 || block > 3) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `config/OTP block expected 0..3, got ${block}`)
  checkWord(word)
  return (block << 3) | word
}
/** Data address: (block << 8) | (slot << 3) | word; the block must lie in the slot (36, 416 or 72 bytes). */
export function dataAddress(slot: number, block: number, word = 0): number {
  checkSlot(slot)
  checkWord(word)
  if (!Number.isInteger(block) || block < 0 || block * 32 >= slotSize(slot)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `slot ${slot} has blocks 0..${slotBlocks(slot) - 1}, got ${block}`)
  return (block << 8) | (slot << 3) | word
}

/**
 * Refuses an address with reserved bits set ([CAL] ATCA_ADDRESS_MASK_CONFIG
 * 001F, _OTP 000F; data: bit 7 and bits 12–15). The chip answers such an
 * address with a parse error; it never aliases it to another slot.
 */
function checkAddress(zone: number, address: number, length: number): void {
  if (zone !== Zone.CONFIG && zone !== Zone.OTP && zone !== Zone.DATA) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `zone expected 0..2, got ${zone}`)
  const reserved = zone === Zone.CONFIG ? ~0x001f : zone === Zone.OTP ? ~0x000f : 0xf080
  if (!Number.isInteger(address) || address < 0 || address > 0xffff || (address & reserved) !== 0) {
    throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `address 0x${Number(address).toString(16)} has reserved bits set for zone ${zone}`)
  }
  if (length === 32 && (address & 7) !== 0) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, '32-byte access needs word 0')
}

/** Read 4 or 32 bytes (spec A3 "Read"). */
export function read(zone: number, address: number, length: 4 | 32): Command {
  checkAddress(zone, address, length)
  return cmd('Read', Opcode.READ, zone | (length === 32 ? ZONE_READWRITE_32 : 0), address, undefined, length)
}

/** Clear write of 4 or 32 bytes (32 bytes to a partial last block: the chip writes the bytes that fit). */
export function write(zone: number, address: number, data: Uint8Array): Command {
  checkLen('Write data', data, 4, 32)
  checkAddress(zone, address, data.length)
  return cmd('Write', Opcode.WRITE, zone | (data.length === 32 ? ZONE_READWRITE_32 : 0), address, data, 0)
}

/** Encrypted write of 32 bytes (zone | 80 | 40): `cipher` = data ⊕ TempKey, `mac` from host.ts `encryptWrite`. */
export function writeEncrypted(zone: number, address: number, cipher: Uint8Array, mac: Uint8Array): Command {
  checkAddress(zone, address, 32)
  checkLen('Write ciphertext', cipher, 32)
  checkLen('Write MAC', mac, 32)
  const data = new Uint8Array(64)
  data.set(cipher)
  data.set(mac, 32)
  return cmd('Write', Opcode.WRITE, zone | ZONE_READWRITE_32 | WRITE_ENCRYPTED, address, data, 0)
}

/** PrivWrite: 36 bytes (4 zero bytes ‖ scalar) in clear before the data lock, or encrypted with a MAC after it (host.ts `encryptPrivWrite`). */
export function privWrite(slot: number, value: Uint8Array, mac?: Uint8Array): Command {
  checkSlot(slot)
  checkLen('PrivWrite value', value, 36)
  const data = new Uint8Array(68)
  data.set(value)
  if (mac) {
    checkLen('PrivWrite MAC', mac, 32)
    data.set(mac, 36)
  }
  return cmd('PrivWrite', Opcode.PRIVWRITE, mac ? PRIVWRITE_ENCRYPT : 0x00, slot, data, 0)
}

/**
 * GenDig: TempKey = SHA-256 over a stored value and TempKey (host.ts `genDigTempKey`).
 * `otherData` is 4 bytes for a data slot (used when the slot is NoMac) or 32 for the shared-nonce zone.
 */
export function genDig(zone: number, keyId: number, otherData?: Uint8Array): Command {
  if (!Number.isInteger(zone) || zone < GenDigZone.CONFIG || zone > GenDigZone.KEY_CONFIG) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `GenDig zone expected 0..5, got ${zone}`)
  if (otherData) checkLen('GenDig OtherData', otherData, zone === GenDigZone.SHARED_NONCE ? 32 : 4)
  return cmd('GenDig', Opcode.GENDIG, zone, keyId, otherData, 0)
}

/** MAC: SHA-256 over a key and a challenge (32 bytes, or TempKey with mode bit 0); answers the 32-byte digest (host.ts `macDigest`). */
export function mac(mode: number, slot: number, challenge?: Uint8Array): Command {
  if ((mode & ~MAC_MODE_MASK) !== 0) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `MAC mode 0x${mode.toString(16)} has reserved bits`)
  checkSlot(slot)
  const needChallenge = (mode & MacMode.BLOCK2_TEMPKEY) === 0
  if (needChallenge) checkLen('MAC challenge', challenge as Uint8Array, 32)
  return cmd('MAC', Opcode.MAC, mode, slot, needChallenge ? challenge : undefined, 32)
}

/** CheckMac: the device checks a client's response; answers 00 (match) or 01 (miscompare) via runStatus. */
export function checkMac(mode: number, slot: number, challenge: Uint8Array, response: Uint8Array, otherData: Uint8Array): Command {
  if ((mode & ~CHECKMAC_MODE_MASK) !== 0) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `CheckMac mode 0x${mode.toString(16)} has reserved bits`)
  checkSlot(slot)
  checkLen('CheckMac challenge', challenge, 32)
  checkLen('CheckMac response', response, 32)
  checkLen('CheckMac OtherData', otherData, 13)
  const data = new Uint8Array(77)
  data.set(challenge)
  data.set(response, 32)
  data.set(otherData, 64)
  return cmd('CheckMac', Opcode.CHECKMAC, mode, slot, data, 0)
}

/** DeriveKey: the target slot becomes SHA-256(parent ‖ … ‖ TempKey) (host.ts `deriveKeyValue`); `mac` when the slot requires one. */
export function deriveKey(target: number, randomNonce: boolean, mac?: Uint8Array): Command {
  checkSlot(target)
  if (mac) checkLen('DeriveKey MAC', mac, 32)
  return cmd('DeriveKey', Opcode.DERIVE_KEY, randomNonce ? 0x00 : DERIVE_KEY_RANDOM_FLAG, target, mac, 0)
}

/** UpdateExtra: writes config byte 84 (UserExtra) or 85 (UserExtraAdd) once, after the config lock. */
export function updateExtra(which: 'user-extra' | 'user-extra-add', value: number): Command {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `UpdateExtra value expected a byte, got ${value}`)
  return cmd('UpdateExtra', Opcode.UPDATE_EXTRA, which === 'user-extra' ? UpdateExtraMode.USER_EXTRA : UpdateExtraMode.USER_EXTRA_ADD, value, undefined, 0)
}

/**
 * KDF (608): PRF, AES or HKDF from a source key to a target. `details` is the
 * 4-byte details word; for PRF and HKDF its top byte is the message length.
 * The answer is 32 or 64 bytes for an output target (plus a 32-byte OutNonce
 * when encrypted), or a status.
 */
export function kdf(mode: number, keyId: number, details: number, message: Uint8Array): Command {
  const alg = mode & 0x60
  const tgt = mode & 0x1c
  const msgLen = alg === KdfMode.ALG_AES ? 16 : details >>> 24
  checkLen('KDF message', message, msgLen)
  const d = new Uint8Array(4 + message.length)
  new DataView(d.buffer).setUint32(0, details >>> 0, true)
  d.set(message, 4)
  const outLen = alg === KdfMode.ALG_PRF && details & 0x100 ? 64 : 32
  const expected = tgt === KdfMode.TARGET_OUTPUT ? outLen : tgt === KdfMode.TARGET_OUTPUT_ENC ? outLen + 32 : alg === KdfMode.ALG_PRF && details & 0x200 ? 32 : 0
  return cmd('KDF', Opcode.KDF, mode, keyId, d, expected)
}

/**
 * SecureBoot: modes 05 Full and 07 FullCopy (digest ‖ signature), 06 FullStore
 * (digest only); flag 40 prohibits SecureBoot until power-up, flag 80 sends the
 * digest encrypted and asks for a 32-byte MAC (host.ts `secureBootEncrypt`).
 */
export function secureBoot(mode: number, digest: Uint8Array, signature?: Uint8Array): Command {
  const m = mode & 0x07
  if (m !== SecureBootMode.FULL && m !== SecureBootMode.FULL_STORE && m !== SecureBootMode.FULL_COPY) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `SecureBoot mode expected 5, 6 or 7, got ${m}`)
  checkLen('SecureBoot digest', digest, 32)
  const withSig = m !== SecureBootMode.FULL_STORE
  if (withSig) checkLen('SecureBoot signature', signature as Uint8Array, 64)
  return cmd('SecureBoot', Opcode.SECUREBOOT, mode, 0, withSig ? concatBytes(digest, signature!) : digest, mode & SecureBootMode.ENC_MAC ? 32 : 0)
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

/** Lock the config zone (with the summary CRC, or without when `crc` is undefined). */
export function lockConfig(crc?: number): Command {
  return cmd('Lock', Opcode.LOCK, crc === undefined ? LockMode.CONFIG | LockMode.NO_CRC : LockMode.CONFIG, crc ?? 0, undefined, 0)
}
/** Lock the data and OTP zones. */
export function lockData(crc?: number): Command {
  return cmd('Lock', Opcode.LOCK, crc === undefined ? LockMode.DATA | LockMode.NO_CRC : LockMode.DATA, crc ?? 0, undefined, 0)
}
/** Lock one slot: mode `02 | slot << 2`. */
export function lockSlot(slot: number): Command {
  checkSlot(slot)
  return cmd('Lock', Opcode.LOCK, LockMode.SLOT | (slot << 2), 0, undefined, 0)
}

/** SelfTest; the response is one result byte (00 = pass). */
export function selfTest(mask = SELFTEST_ALL): Command {
  return cmd('SelfTest', Opcode.SELFTEST, mask, 0, undefined, 0)
}

/** Counter read / increment (counter 0 or 1); returns uint32 LE. */
export function counter(id: 0 | 1, increment: boolean): Command {
  return cmd('Counter', Opcode.COUNTER, increment ? CounterMode.INCREMENT : CounterMode.READ, id, undefined, 4)
}

/** AES-ECB encrypt/decrypt one block with key block `keyBlock` (0..3) of `slot` (or 0xFFFF TempKey). */
export function aes(decrypt: boolean, slot: number, block: Uint8Array, keyBlock = 0): Command {
  checkLen('AES block', block, 16)
  if (slot !== 0xffff) checkSlot(slot)
  return cmd('AES', Opcode.AES, (decrypt ? AesMode.DECRYPT : AesMode.ENCRYPT) | ((keyBlock & 3) << 6), slot, block, 16)
}

/** AES GFM: H(16) ‖ input(16) → H·input in GF(2^128). */
export function aesGfm(h: Uint8Array, input: Uint8Array): Command {
  checkLen('GFM H', h, 16)
  checkLen('GFM input', input, 16)
  const d = new Uint8Array(32)
  d.set(h)
  d.set(input, 16)
  return cmd('AES', Opcode.AES, AesMode.GFM, 0, d, 16)
}

/** Number of 32-byte blocks in a data slot (the last may be partial: read it in words). */
export function slotBlocks(slot: number): number {
  return Math.ceil(slotSize(slot) / 32)
}
