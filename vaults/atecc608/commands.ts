/**
 * Command builders, one per ATECC608 command the driver uses (spec A3). Each
 * returns the packet (count … CRC); the expected response length is in
 * `expectedData` so callers can reject a wrong-length answer.
 */
import { ErrorCode, HopsealError } from '../../src/errors.ts'
import { AesMode, CounterMode, GenKeyMode, LockMode, NonceMode, Opcode, SELFTEST_ALL, ShaMode, SignMode, VERIFY_KEY_P256, VerifyMode, Zone, ZONE_READWRITE_32, slotSize } from './constants.ts'
import { buildCommand } from './packet.ts'

export interface Command {
  readonly opcode: number
  readonly packet: Uint8Array
  /** Data bytes the success response carries; 0 means a 4-byte status. */
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

/** Nonce random mode: 20-byte NumIn, returns 32-byte RandOut. */
export function nonceRandom(numIn: Uint8Array, updateSeed = true): Command {
  checkLen('Nonce NumIn', numIn, 20)
  return cmd('Nonce', Opcode.NONCE, updateSeed ? NonceMode.SEED_UPDATE : NonceMode.NO_SEED_UPDATE, 0, numIn, 32)
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

/** Sign external: the 32-byte message in MsgDigBuf (A0, default) or TempKey (80); returns R‖S. */
export function signExternal(slot: number, source: 'msgdigbuf' | 'tempkey' = 'msgdigbuf'): Command {
  checkSlot(slot)
  return cmd('Sign', Opcode.SIGN, SignMode.EXTERNAL | (source === 'msgdigbuf' ? SignMode.SOURCE_MSGDIGBUF : 0), slot, undefined, 64)
}

/** Verify external P-256 (mode 22 with the digest in MsgDigBuf): data R‖S‖X‖Y. Answers a status (00 valid, 01 invalid). */
export function verifyExternal(signature: Uint8Array, publicXY: Uint8Array, source: 'msgdigbuf' | 'tempkey' = 'msgdigbuf'): Command {
  checkLen('signature', signature, 64)
  checkLen('public key X‖Y', publicXY, 64)
  const data = new Uint8Array(128)
  data.set(signature, 0)
  data.set(publicXY, 64)
  return cmd('Verify', Opcode.VERIFY, VerifyMode.EXTERNAL | (source === 'msgdigbuf' ? VerifyMode.SOURCE_MSGDIGBUF : 0), VERIFY_KEY_P256, data, 0)
}

/** ECDH with the peer X‖Y; mode 0C (slot, clear output) or 0D (TempKey, clear output). Returns the x-coordinate. */
export function ecdh(slot: number | 'tempkey', peerXY: Uint8Array): Command {
  checkLen('ECDH peer X‖Y', peerXY, 64)
  if (slot === 'tempkey') return cmd('ECDH', Opcode.ECDH, 0x0d, 0x0000, peerXY, 32)
  checkSlot(slot)
  return cmd('ECDH', Opcode.ECDH, 0x0c, slot, peerXY, 32)
}

/** SHA start / update (64 bytes) / end (0..63 bytes, returns the digest). */
export function shaStart(): Command {
  return cmd('SHA', Opcode.SHA, ShaMode.START, 0, undefined, 0)
}
export function shaUpdate(block: Uint8Array): Command {
  checkLen('SHA update block', block, 64)
  return cmd('SHA', Opcode.SHA, ShaMode.UPDATE, 64, block, 0)
}
export function shaEnd(tail: Uint8Array): Command {
  if (!(tail instanceof Uint8Array) || tail.length > 63) throw new HopsealError(ErrorCode.INVALID_LENGTH, `SHA end expected 0..63 bytes, got ${tail?.length}`)
  return cmd('SHA', Opcode.SHA, ShaMode.END, tail.length, tail, 32)
}

/** Config/OTP address: (block << 3) | word (spec A3 "Addresses"). */
export function zoneAddress(block: number, word = 0): number {
  return (block << 3) | word
}
/** Data address: (block << 8) | (slot << 3) | word. */
export function dataAddress(slot: number, block: number, word = 0): number {
  checkSlot(slot)
  return (block << 8) | (slot << 3) | word
}

/** Read 4 or 32 bytes (spec A3 "Read"). */
export function read(zone: number, address: number, length: 4 | 32): Command {
  if (zone !== Zone.CONFIG && zone !== Zone.OTP && zone !== Zone.DATA) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `zone expected 0..2, got ${zone}`)
  return cmd('Read', Opcode.READ, zone | (length === 32 ? ZONE_READWRITE_32 : 0), address, undefined, length)
}

/** Clear write of 4 or 32 bytes. */
export function write(zone: number, address: number, data: Uint8Array): Command {
  checkLen('Write data', data, 4, 32)
  return cmd('Write', Opcode.WRITE, zone | (data.length === 32 ? ZONE_READWRITE_32 : 0), address, data, 0)
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
