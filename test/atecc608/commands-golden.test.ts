/**
 * The commands issue 16 found missing (GenDig, UpdateExtra, PrivWrite, MAC,
 * CheckMac, DeriveKey, KDF, SecureBoot, SHA HMAC and short updates with context
 * save/restore, Verify with MAC output, ECDH encrypted output, Info mode 4, and
 * the encrypted Read/Write of the I/O-protection path), from both sides:
 * the driver's packets byte for byte, the simulator's answers byte for byte
 * where they are deterministic, and every digest checked against the
 * host-side twin (vaults/atecc608/host.ts) or node:crypto. The KDF PRF and AES
 * answers are cryptoauthlib's own test vectors (test/api_atcab/atca_tests_kdf.c).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createCipheriv, createHash, createHmac } from 'node:crypto'
import { p256 } from '@noble/curves/nist.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { concat } from '../../src/bytes/index.ts'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import * as C from '../../vaults/atecc608/commands.ts'
import { hopsealConfig } from '../../vaults/atecc608/config.ts'
import { ConfigOffset } from '../../vaults/atecc608/constants.ts'
import * as H from '../../vaults/atecc608/host.ts'
import { buildCommand } from '../../vaults/atecc608/packet.ts'
import { Atecc608Sim } from '../../hil-sim/atecc608/index.ts'
import { EXEC, HEX, IO_KEY, LIMITED_KEY, MISCOMPARE, OK, PARSE, PRIV6, ROLL_KEY, SYM_KEY, TEST_SN, h, talk, talkData, talkHex, testDevice } from './sim-helpers.ts'

const node = cryptoProvider('node')
const TK = h('000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f')
const MSG16 = TK.subarray(0, 16)
const CH = h('C0C1C2C3C4C5C6C7C8C9CACBCCCDCECFD0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF')
const NUMIN = h('000102030405060708090A0B0C0D0E0F10111213')
const ABC = new TextEncoder().encode('abc')
const DIG = TK

/** Driver side: every new builder, byte for byte. */
const PACKETS: [string, () => Uint8Array, string][] = [
  ['GenDig data slot 11 with OtherData', () => C.genDig(2, 11, h('15020B00')).packet, '0B15020B0015020B00224C'],
  ['GenDig config block 1', () => C.genDig(0, 1).packet, '07150001003A0D'],
  ['MAC mode 00 slot 11 + challenge', () => C.mac(0x00, 11, CH).packet, '2708000B00C0C1C2C3C4C5C6C7C8C9CACBCCCDCECFD0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF64E5'],
  ['MAC mode 45 slot 11 (TempKey, SN)', () => C.mac(0x45, 11).packet, '0708450B00A285'],
  ['DeriveKey roll slot 12', () => C.deriveKey(12, true).packet, '071C000C000AED'],
  ['UpdateExtra UserExtra 42', () => C.updateExtra('user-extra', 0x42).packet, '07200042000571'],
  ['UpdateExtra UserExtraAdd C2', () => C.updateExtra('user-extra-add', 0xc2).packet, '072001C200057D'],
  ['KDF PRF TempKey → output', () => C.kdf(0x10, 0x1234, 0x10000101, MSG16).packet, '1B5610341201010010000102030405060708090A0B0C0D0E0FB01D'],
  ['KDF AES TempKey → output', () => C.kdf(0x30, 0x1234, 0, MSG16).packet, '1B5630341200000000000102030405060708090A0B0C0D0E0F3FF4'],
  ['KDF HKDF TempKey → output', () => C.kdf(0x50, 0x0000, 0x10000002, MSG16).packet, '1B5650000002000010000102030405060708090A0B0C0D0E0F664D'],
  ['SHA HMAC start slot 11', () => C.shaHmacStart(11).packet, '0747040B00A1E7'],
  ['SHA HMAC start TempKey', () => C.shaHmacStart(0xffff).packet, '074704FFFFA087'],
  ['SHA update "abc" (short)', () => C.shaUpdate(ABC).packet, '0A47010300616263BC53'],
  ['SHA end, output only', () => C.shaEnd(new Uint8Array(0), 'output').packet, '0747C200001100'],
  ['SHA read context', () => C.shaReadContext().packet, '0747060000AE82'],
  ['Info latch read', () => C.infoLatch('read').packet, '073004000080DF'],
  ['Info latch set', () => C.infoLatch('set').packet, '07300403008FDF'],
  ['Info latch clear', () => C.infoLatch('clear').packet, '0730040200865F'],
  ['Sign internal slot 2', () => C.signInternal(2).packet, '07410002003905'],
  ['Nonce random, TempKey calculation mode', () => C.nonceRandom(NUMIN, true, true).packet, '1B16000080000102030405060708090A0B0C0D0E0F10111213404C'],
  ['SecureBoot FullStore', () => C.secureBoot(0x06, DIG).packet, '2780060000000102030405060708090A0B0C0D0E0F000102030405060708090A0B0C0D0E0FB4D3'],
  // count ‖ opcode ‖ mode ‖ param2 LE ‖ data ‖ CRC, the layouts written out
  ['CheckMac mode 01 slot 11', () => C.checkMac(0x01, 11, CH, new Uint8Array(32).fill(0x5a), h('08000B00000000000000000000')).packet, '5428010B00' + HEX(CH) + '5A'.repeat(32) + '08000B00000000000000000000' + 'F640'],
  ['Verify external A2 (MsgDigBuf, MAC output)', () => C.verifyExternal(new Uint8Array(64).fill(0x11), new Uint8Array(64).fill(0x22), 'msgdigbuf', { mac: true }).packet, '8745A20400' + '11'.repeat(64) + '22'.repeat(64) + '6E82'],
  ['ECDH 0E slot 2, encrypted output', () => C.ecdh(2, new Uint8Array(64).fill(0x22), { encrypted: true }).packet, '47430E0200' + '22'.repeat(64) + '06D6'],
  ['ECDH 0F TempKey, encrypted output', () => C.ecdh('tempkey', new Uint8Array(64).fill(0x22), { encrypted: true }).packet, '47430F0000' + '22'.repeat(64) + '2EFB'],
  ['PrivWrite 40 slot 6, encrypted with a MAC', () => C.privWrite(6, concat(new Uint8Array(4), new Uint8Array(32).fill(0x33)), new Uint8Array(32).fill(0x5a)).packet, '4B46400600' + '00000000' + '33'.repeat(32) + '5A'.repeat(32) + 'E222'],
]

/** AES-128-ECB of one block with node:crypto (to look at a TempKey through the AES command). */
function aesEcb(key: Uint8Array, block: Uint8Array): string {
  const c = createCipheriv('aes-128-ecb', key, null)
  c.setAutoPadding(false)
  return c.update(block).toString('hex').toUpperCase()
}
/** What AES(TempKey, 0¹²⁸) answers: the first 16 bytes of TempKey seen through AES-ECB (AES with key FFFF). */
const peekTempKey = (sim: Atecc608Sim): string => HEX(talkData(sim, C.aes(false, 0xffff, new Uint8Array(16)).packet))

describe('ATECC608 new commands: driver packets', () => {
  it('builds every packet byte for byte', () => {
    for (const [name, build, want] of PACKETS) assert.equal(HEX(build()), want, name)
    console.log(`ATECC608 new-command packets: ${PACKETS.length} passed, 0 failed`)
  })
})

describe('ATECC608 GenDig (host twin: genDigTempKey)', () => {
  it('data slot 11: TempKey flags GenDig/KeyID 11, value as the twin computes it (seen through AES)', () => {
    const { sim } = testDevice()
    assert.equal(talkHex(sim, C.noncePassthrough(TK, 'tempkey').packet), OK)
    assert.equal(talkHex(sim, h('0B 15 02 0B 00 15 02 0B 00 22 4C')), OK)
    assert.equal(talkHex(sim, C.infoState().packet), '073B800000309D')
    const twin = H.genDigTempKey({ tempKey: TK, zone: 2, keyId: 11, sn: TEST_SN, stored: SYM_KEY })
    assert.equal(peekTempKey(sim), '87800FC98B75003767310E6AF7CBB215')
    assert.equal(aesEcb(twin.subarray(0, 16), new Uint8Array(16)), '87800FC98B75003767310E6AF7CBB215')
  })

  it('config, OTP, counter, key-config and shared-nonce zones match the twin', () => {
    const { sim, config } = testDevice()
    const cases: [string, Uint8Array, Parameters<typeof H.genDigTempKey>[0]][] = [
      ['config block 1', C.genDig(0, 1).packet, { tempKey: TK, zone: 0, keyId: 1, sn: TEST_SN, stored: config.subarray(32, 64) }],
      ['OTP block 0', C.genDig(1, 0).packet, { tempKey: TK, zone: 1, keyId: 0, sn: TEST_SN, stored: new Uint8Array(32) }],
      ['counter 1', C.genDig(4, 1).packet, { tempKey: TK, zone: 4, keyId: 1, sn: TEST_SN, counter: 0 }],
      ['key config slot 11', C.genDig(5, 11).packet, { tempKey: TK, zone: 5, keyId: 11, sn: TEST_SN, slotConfig: 0x4bcb, keyConfig: 0x001c, slotLockedBit: 1 }],
      ['shared nonce, OtherData first', C.genDig(3, 0x0000, CH).packet, { tempKey: TK, zone: 3, keyId: 0, sn: TEST_SN, otherData: CH }],
      ['shared nonce, TempKey first', C.genDig(3, 0x8000, CH).packet, { tempKey: TK, zone: 3, keyId: 0x8000, sn: TEST_SN, otherData: CH }],
    ]
    for (const [name, pkt, twin] of cases) {
      assert.equal(talkHex(sim, C.noncePassthrough(TK, 'tempkey').packet), OK)
      assert.equal(talkHex(sim, pkt), OK, name)
      assert.equal(peekTempKey(sim), aesEcb(H.genDigTempKey(twin).subarray(0, 16), new Uint8Array(16)), name)
    }
  })

  it('refuses: no TempKey (0F), a private-key slot (0F), zone 6 (03), a NoMac slot without OtherData (0F; with it: NoMacFlag set)', () => {
    const { sim } = testDevice()
    assert.equal(talkHex(sim, C.genDig(2, 11).packet), EXEC)
    assert.equal(talkHex(sim, C.noncePassthrough(TK, 'tempkey').packet), OK)
    assert.equal(talkHex(sim, C.genDig(2, 2).packet), EXEC)
    assert.equal(talkHex(sim, buildCommand(0x15, 6, 0)), PARSE)
    assert.equal(talkHex(sim, C.genDig(2, 9).packet), EXEC) // slot 9 (the I/O key) is NoMac
    assert.equal(talkHex(sim, C.genDig(2, 9, h('15020900')).packet), OK)
    assert.equal(H.decodeInfoState(talkData(sim, C.infoState().packet)).noMacFlag, true)
  })
})

describe('ATECC608 MAC and CheckMac (host twins: macDigest, checkMacResponse)', () => {
  it('MAC answers the digest byte for byte, with the serial number when asked, and with TempKey as the challenge', () => {
    const { sim } = testDevice()
    const r = talkData(sim, C.mac(0x00, 11, CH).packet)
    assert.equal(HEX(r), 'E0B0B97FCFC806526D364E1B40F7B4517F9718FAF68D13E891F947CA3AE02C2A')
    assert.deepEqual(r, H.macDigest({ mode: 0x00, keyId: 11, sn: TEST_SN, key: SYM_KEY, challenge: CH }))
    assert.equal(HEX(talkData(sim, C.mac(0x40, 11, CH).packet)), 'CDDEFA26DF86A4CC0ED0B1FC60845CACEDA374CEEA0F169869171E558F4A7C05')
    assert.equal(talkHex(sim, C.noncePassthrough(TK, 'tempkey').packet), OK)
    const t = talkData(sim, h('07 08 45 0B 00 A2 85'))
    assert.equal(HEX(t), '04C3FF9E77EF8B8498AB166D67FED4B72AFE6597C6C0BFACADCB9AE5EF1D4F7F')
    assert.deepEqual(t, H.macDigest({ mode: 0x45, keyId: 11, sn: TEST_SN, key: SYM_KEY, tempKey: TK }))
    assert.equal(H.decodeInfoState(talkData(sim, C.infoState().packet)).tempKeyValid, false, 'MAC consumes TempKey')
  })

  it('MAC refuses a NoMac slot, a private key, reserved mode bits, and a SourceFlag mismatch (which also invalidates TempKey)', () => {
    const { sim } = testDevice()
    assert.equal(talkHex(sim, C.mac(0x00, 9, CH).packet), EXEC)
    assert.equal(talkHex(sim, C.mac(0x00, 2, CH).packet), EXEC)
    assert.equal(talkHex(sim, buildCommand(0x08, 0x08, 11, CH)), PARSE)
    assert.equal(talkHex(sim, C.noncePassthrough(TK, 'tempkey').packet), OK)
    assert.equal(talkHex(sim, C.mac(0x01, 11).packet), EXEC) // bit 2 clear but TempKey.SourceFlag = input
    assert.equal(H.decodeInfoState(talkData(sim, C.infoState().packet)).tempKeyValid, false)
  })

  it('MAC with a LimitedUse key advances Counter 0', () => {
    const { sim } = testDevice()
    assert.deepEqual(talkData(sim, C.mac(0x00, 14, CH).packet), H.macDigest({ mode: 0, keyId: 14, sn: TEST_SN, key: LIMITED_KEY, challenge: CH }))
    assert.equal(talkHex(sim, C.counter(0, false).packet), '07010000003C2D')
  })

  it('CheckMac: 00 for the right response, 01 for a wrong one; a match authorizes ReqAuth keys (AuthKey 11) until a miss', () => {
    const { sim } = testDevice()
    const other = h('08000000 00000000 000000 00 00'.replace(/ /g, ''))
    const resp = H.checkMacResponse({ mode: 0, sn: TEST_SN, otherData: other, key: SYM_KEY, challenge: CH })
    const pkt = C.checkMac(0, 11, CH, resp, other).packet
    assert.equal(HEX(resp), '6C78759357043C374D799ED7495CACB95648938435DB4737B1B3B8B80124EDC2')
    assert.equal(HEX(pkt), '5428000B00' + HEX(CH) + HEX(resp) + '08000000000000000000000000' + '2445')
    talkData(sim, C.genKeyPrivate(4).packet)
    assert.equal(talkHex(sim, C.noncePassthrough(TK, 'msgdigbuf').packet), OK)
    assert.equal(talkHex(sim, C.signExternal(4).packet), EXEC) // slot 4: KeyConfig ReqAuth, AuthKey 11
    assert.equal(talkHex(sim, pkt), OK)
    assert.equal(talkHex(sim, C.infoState().packet).slice(4, 6), '5C') // AuthKeyID 11, AuthValid
    assert.equal(talkData(sim, C.signExternal(4).packet).length, 64)
    const bad = resp.slice()
    bad[0]! ^= 1
    assert.equal(talkHex(sim, C.checkMac(0, 11, CH, bad, other).packet), MISCOMPARE)
    assert.equal(talkHex(sim, C.noncePassthrough(TK, 'msgdigbuf').packet), OK)
    assert.equal(talkHex(sim, C.signExternal(4).packet), EXEC)
  })
})

describe('ATECC608 DeriveKey (host twins: deriveKeyValue, deriveKeyMac)', () => {
  it('rolls slot 12 with a random nonce and creates slot 13 from parent 11 with a MAC; MACs with the new keys match the twin', () => {
    const { sim } = testDevice()
    const randOut = talkData(sim, C.nonceRandom(NUMIN).packet)
    const tk = H.nonceTempKey(randOut, NUMIN, 0x00)
    assert.equal(talkHex(sim, h('07 1C 00 0C 00 0A ED')), OK)
    const rolled = H.deriveKeyValue({ parent: ROLL_KEY, mode: 0x00, target: 12, sn: TEST_SN, tempKey: tk })
    assert.deepEqual(talkData(sim, C.mac(0x00, 12, CH).packet), H.macDigest({ mode: 0, keyId: 12, sn: TEST_SN, key: rolled, challenge: CH }))
    // create: TempKey from a pass-through nonce, so mode bit 2 (SourceFlag = input) is set
    assert.equal(talkHex(sim, C.noncePassthrough(TK, 'tempkey').packet), OK)
    const mac = H.deriveKeyMac({ parent: SYM_KEY, mode: 0x04, target: 13, sn: TEST_SN })
    const bad = mac.slice()
    bad[31]! ^= 0x80
    assert.equal(talkHex(sim, C.deriveKey(13, false, bad).packet), EXEC)
    assert.equal(talkHex(sim, C.deriveKey(13, false, mac).packet), OK)
    const created = H.deriveKeyValue({ parent: SYM_KEY, mode: 0x04, target: 13, sn: TEST_SN, tempKey: TK })
    assert.deepEqual(talkData(sim, C.mac(0x00, 13, CH).packet), H.macDigest({ mode: 0, keyId: 13, sn: TEST_SN, key: created, challenge: CH }))
  })

  it('refuses: a SourceFlag mismatch, a slot without the DeriveKey bit, a missing MAC', () => {
    const { sim } = testDevice()
    assert.equal(talkHex(sim, C.noncePassthrough(TK, 'tempkey').packet), OK)
    assert.equal(talkHex(sim, C.deriveKey(12, true).packet), EXEC) // random flag clear, TempKey from input
    assert.equal(talkHex(sim, C.noncePassthrough(TK, 'tempkey').packet), OK)
    assert.equal(talkHex(sim, C.deriveKey(11, false).packet), EXEC) // slot 11: WriteConfig 4 (no DeriveKey)
    assert.equal(talkHex(sim, C.deriveKey(13, false).packet), EXEC) // slot 13 needs a MAC
  })
})

describe('ATECC608 encrypted Write, encrypted Read and PrivWrite (the I/O-protection path; host twins)', () => {
  /** Random nonce, then GenDig over `slot` with OtherData: returns the TempKey the host computes. */
  function genDigRandom(sim: Atecc608Sim, slot: number, stored: Uint8Array): Uint8Array {
    const randOut = talkData(sim, C.nonceRandom(NUMIN).packet)
    const other = Uint8Array.of(0x15, 0x02, slot, 0x00)
    assert.equal(talkHex(sim, C.genDig(2, slot, other).packet), OK)
    return H.genDigTempKey({ tempKey: H.nonceTempKey(randOut, NUMIN), zone: 2, keyId: slot, sn: TEST_SN, stored, otherData: other })
  }

  it('writes slot 11 encrypted under its own key, refuses a clear read, reads it back encrypted', () => {
    const { sim } = testDevice()
    const NEW = sha256(new TextEncoder().encode('new slot 11 key'))
    let tk = genDigRandom(sim, 11, SYM_KEY)
    const addr = C.dataAddress(11, 0)
    const { cipher, mac } = H.encryptWrite({ tempKey: tk, param1: 0xc2, address: addr, sn: TEST_SN, data: NEW })
    const badMac = mac.slice()
    badMac[0]! ^= 1
    assert.equal(talkHex(sim, C.writeEncrypted(2, addr, cipher, badMac).packet), EXEC)
    tk = genDigRandom(sim, 11, SYM_KEY)
    const w = H.encryptWrite({ tempKey: tk, param1: 0xc2, address: addr, sn: TEST_SN, data: NEW })
    assert.equal(HEX(C.writeEncrypted(2, addr, w.cipher, w.mac).packet).slice(0, 10), '47 12 C2 58 00'.replace(/ /g, ''))
    assert.equal(talkHex(sim, C.writeEncrypted(2, addr, w.cipher, w.mac).packet), OK)
    assert.equal(talkHex(sim, C.write(2, addr, NEW).packet), EXEC) // WriteConfig Encrypt: no clear writes
    assert.equal(talkHex(sim, C.read(2, addr, 32).packet), EXEC) // IsSecret + EncryptRead: no clear reads
    tk = genDigRandom(sim, 11, NEW)
    const enc = talkData(sim, C.read(2, addr, 32).packet)
    assert.notDeepEqual(enc, NEW)
    assert.deepEqual(H.decryptRead(tk, enc), NEW)
  })

  it('PrivWrite after the data lock: encrypted with a GenDig over WriteKey 11 and a MAC; the public key follows the new scalar', () => {
    const { sim } = testDevice()
    assert.deepEqual(talkData(sim, C.genKeyPublic(6).packet), p256.getPublicKey(PRIV6, false).subarray(1)) // the clear PrivWrite of provisioning
    const scalar = sha256(new TextEncoder().encode('slot 6 key'))
    const value = concat(new Uint8Array(4), scalar)
    assert.equal(talkHex(sim, C.privWrite(6, value).packet), EXEC) // no clear PrivWrite after the lock
    const tk = genDigRandom(sim, 11, SYM_KEY)
    const { cipher, mac } = H.encryptPrivWrite({ tempKey: tk, slot: 6, sn: TEST_SN, value })
    assert.equal(talkHex(sim, C.privWrite(6, cipher, mac).packet), OK)
    assert.deepEqual(talkData(sim, C.genKeyPublic(6).packet), p256.getPublicKey(scalar, false).subarray(1))
  })
})

describe('ATECC608 UpdateExtra', () => {
  it('sets UserExtra and UserExtraAdd once each, after the config lock only', () => {
    const { sim } = testDevice()
    assert.equal(talkHex(sim, h('07 20 00 42 00 05 71')), OK)
    assert.equal(talkHex(sim, h('07 02 00 15 00 17 5D')), '07420000001D85') // bytes 84–87: 42, 00, locked, locked
    assert.equal(talkHex(sim, C.updateExtra('user-extra', 0x43).packet), EXEC) // once only
    assert.equal(talkHex(sim, h('07 20 01 C2 00 05 7D')), OK)
    assert.equal(talkHex(sim, C.read(0, 0x15, 4).packet).slice(2, 6), '42C2')
    const f = Atecc608Sim.create({ provisioned: false, seed: 'ue' })
    assert.equal(talkHex(f, h('07 20 00 42 00 05 71')), EXEC)
  })
})

describe('ATECC608 KDF (cryptoauthlib atca_tests_kdf.c vectors)', () => {
  it('PRF and AES answer cryptoauthlib’s expected outputs byte for byte; HKDF is HMAC-SHA256(key, message)', () => {
    const { sim } = testDevice()
    assert.equal(talkHex(sim, C.noncePassthrough(TK, 'tempkey').packet), OK)
    assert.equal(
      talkHex(sim, h('1B 56 10 34 12 01 01 00 10 000102030405060708090A0B0C0D0E0F B0 1D')),
      '43' + '1EBCBE62005AB948FDFFE1C402AABA354EC676050C9BC1AAE1FF5B1509A4A04A' + '44254664C2A480F5B77EA2D1020C7BA4B3640C4AC793324C26D6FDDFDB1F011A' + '8C77',
    )
    assert.equal(talkHex(sim, h('1B 56 30 34 12 00 00 00 00 000102030405060708090A0B0C0D0E0F 3F F4')), '23' + '0A940BB5416EF045F1C39458C653EA5A' + '00'.repeat(16) + 'FE6D')
    const hk = talkData(sim, h('1B 56 50 00 00 02 00 00 10 000102030405060708090A0B0C0D0E0F 66 4D'))
    assert.equal(HEX(hk), createHmac('sha256', TK.subarray(0, 32)).update(MSG16).digest('hex').toUpperCase())
    assert.equal(HEX(hk), '495D46AA392D51132EDB93BC49E60ECAAEB7802F3AE529779D5883F9330AF561')
  })

  it('encrypted output decrypts with the I/O protection key to the clear output', () => {
    const { sim } = testDevice()
    assert.equal(talkHex(sim, C.noncePassthrough(TK, 'tempkey').packet), OK)
    const clear = talkData(sim, C.kdf(0x10, 0x1234, 0x10000101, MSG16).packet)
    const enc = talkData(sim, C.kdf(0x14, 0x1234, 0x10000101, MSG16).packet)
    assert.equal(enc.length, 96)
    assert.notDeepEqual(enc.subarray(0, 64), clear)
    assert.deepEqual(H.ioDecrypt(IO_KEY, enc.subarray(64, 96), enc.subarray(0, 64)), clear)
  })

  it('targets a slot, AltKeyBuf and TempKey; the special IV function needs KdfIvStr at KdfIvLoc', () => {
    const { sim } = testDevice()
    assert.equal(talkHex(sim, C.noncePassthrough(TK, 'tempkey').packet), OK)
    const hk = createHmac('sha256', TK).update(MSG16).digest()
    assert.equal(talkHex(sim, C.kdf(0x48, 0x0c00, 0x10000002, MSG16).packet), OK) // HKDF → slot 12
    assert.deepEqual(talkData(sim, C.mac(0x00, 12, CH).packet), H.macDigest({ mode: 0, keyId: 12, sn: TEST_SN, key: new Uint8Array(hk), challenge: CH }))
    assert.equal(talkHex(sim, C.kdf(0x4c, 0, 0x10000002, MSG16).packet), OK) // → AltKeyBuf
    const fromAlt = talkData(sim, C.kdf(0x53, 0, 0x10000002, MSG16).packet) // HKDF from AltKeyBuf → output
    assert.equal(HEX(fromAlt), createHmac('sha256', hk).update(MSG16).digest('hex').toUpperCase())
    const iv = h('000102030405060708 6976 0B0C0D0E0F000102030405060708090A0B0C0D0E0F')
    assert.equal(talkHex(sim, C.kdf(0x48, 0x0c00, 0x20000003, iv).packet), OK)
    const noIv = iv.slice()
    noIv[9] = 0
    assert.equal(talkHex(sim, C.kdf(0x48, 0x0c00, 0x20000003, noIv).packet), EXEC)
    assert.equal(talkHex(sim, buildCommand(0x56, 0x50, 0, concat(h('02010010'), MSG16))), PARSE) // reserved details bits
  })
})

describe('ATECC608 SHA: HMAC mode, short updates, context save/restore', () => {
  it('HMAC with slot 11 over updates of any length 0–64 equals HMAC-SHA256 (also with the key in TempKey)', () => {
    const { sim } = testDevice()
    assert.equal(talkHex(sim, h('07 47 04 0B 00 A1 E7')), OK)
    assert.equal(talkHex(sim, h('0A 47 01 03 00 61 62 63 BC 53')), OK)
    const d = talkData(sim, h('07 47 C2 00 00 11 00'))
    assert.equal(HEX(d), '910F4315F170BDF2F5A197D760828322C22CF67C043B7DF72B6920DB6E4CAF97')
    assert.equal(HEX(d), createHmac('sha256', SYM_KEY).update('abc').digest('hex').toUpperCase())
    const msg = new Uint8Array(200).map((_, i) => i)
    assert.equal(talkHex(sim, C.noncePassthrough(TK, 'tempkey').packet), OK)
    assert.equal(talkHex(sim, C.shaHmacStart(0xffff).packet), OK)
    for (const [a, b] of [[0, 1], [1, 65], [65, 129], [129, 170]] as const) assert.equal(talkHex(sim, C.shaUpdate(msg.subarray(a, b)).packet), OK)
    assert.equal(HEX(talkData(sim, C.shaEnd(msg.subarray(170), 'output').packet)), createHmac('sha256', TK).update(msg).digest('hex').toUpperCase())
  })

  it('a context read mid-hash, written back after another hash, finishes the first hash', () => {
    const { sim } = testDevice()
    const msg = new Uint8Array(150).map((_, i) => 255 - i)
    assert.equal(talkHex(sim, C.shaStart().packet), OK)
    assert.equal(talkHex(sim, C.shaUpdate(ABC).packet), OK)
    assert.equal(talkHex(sim, h('07 47 06 00 00 AE 82')), '2A' + '6A09E667BB67AE853C6EF372A54FF53A510E527F9B05688C1F83D9AB5BE0CD19' + '00000000' + '616263' + 'E1A4')
    assert.equal(talkHex(sim, C.shaUpdate(msg.subarray(0, 64)).packet), OK)
    assert.equal(talkHex(sim, C.shaUpdate(msg.subarray(64, 71)).packet), OK)
    const ctx = talkData(sim, C.shaReadContext().packet)
    assert.equal(ctx.length, 36 + 10)
    assert.equal(talkHex(sim, C.shaStart().packet), OK) // someone else uses the SHA engine…
    assert.equal(HEX(talkData(sim, C.shaEnd(ABC).packet)), createHash('sha256').update('abc').digest('hex').toUpperCase())
    assert.equal(talkHex(sim, C.shaWriteContext(ctx).packet), OK) // …and the first hash resumes
    assert.equal(talkHex(sim, C.shaUpdate(msg.subarray(71, 135)).packet), OK)
    const want = createHash('sha256').update(concat(ABC, msg)).digest('hex').toUpperCase()
    assert.equal(HEX(talkData(sim, C.shaEnd(msg.subarray(135)).packet)), want)
  })

  it('refuses: an update of 65 bytes (03), a context read of an HMAC (0F), a malformed context (03), an update with no context (0F)', () => {
    const { sim } = testDevice()
    assert.equal(talkHex(sim, C.shaUpdate(ABC).packet), EXEC)
    assert.equal(talkHex(sim, C.shaStart().packet), OK)
    assert.equal(talkHex(sim, buildCommand(0x47, 0x01, 65, new Uint8Array(65))), PARSE)
    assert.equal(talkHex(sim, C.shaHmacStart(11).packet), OK)
    assert.equal(talkHex(sim, C.shaReadContext().packet), EXEC)
    assert.equal(talkHex(sim, C.shaWriteContext(new Uint8Array(37).fill(1)).packet), PARSE)
  })
})

describe('ATECC608 Verify with MAC output and stored keys (host twin: verifyMac)', () => {
  const priv = sha256(new TextEncoder().encode('verify key'))
  const pubXY = p256.getPublicKey(priv, false).subarray(1)
  const digest = sha256(ABC)
  const sig = p256.sign(digest, priv, { prehash: false })
  const sysNonce = sha256(new TextEncoder().encode('system nonce'))

  it('external, mode A2: the validating MAC as the twin computes it; a bad signature is 01', () => {
    const { sim } = testDevice()
    const pkt = C.verifyExternal(sig, pubXY, 'msgdigbuf', { mac: true }).packet
    assert.equal(HEX(pkt.subarray(0, 5)), '87 45 A2 04 00'.replace(/ /g, ''))
    assert.equal(talkHex(sim, C.noncePassthrough(concat(digest, sysNonce), 'msgdigbuf').packet), OK)
    const mac = talkData(sim, pkt)
    assert.deepEqual(mac, H.verifyMac({ ioKey: IO_KEY, message: digest, systemNonce: sysNonce, signature: sig, mode: 0xa2, keyId: 4 }))
    const bad = sig.slice()
    bad[5]! ^= 1
    assert.equal(talkHex(sim, C.noncePassthrough(concat(digest, sysNonce), 'msgdigbuf').packet), OK)
    assert.equal(talkHex(sim, C.verifyExternal(bad, pubXY, 'msgdigbuf', { mac: true }).packet), MISCOMPARE)
  })

  it('stored key in slot 15 (padded layout, written with a partial last block)', () => {
    const { sim } = testDevice({ publicKeyXY: pubXY })
    assert.equal(talkHex(sim, C.noncePassthrough(digest, 'msgdigbuf').packet), OK)
    assert.equal(talkHex(sim, C.verifyStored(15, sig).packet), OK)
    assert.equal(talkHex(sim, C.noncePassthrough(sha256(ABC.subarray(1)), 'msgdigbuf').packet), OK)
    assert.equal(talkHex(sim, C.verifyStored(15, sig).packet), MISCOMPARE)
  })
})

describe('ATECC608 ECDH with encrypted output (mode 0E / 0F; host twin: ioDecrypt)', () => {
  it('slot key and TempKey key: the output is secret ⊕ SHA-256(IOKey ‖ OutNonce[0:16]) ‖ OutNonce, and decrypts to the ECDH x-coordinate', () => {
    const { sim } = testDevice()
    const pub = talkData(sim, C.genKeyPrivate(2).packet)
    const peer = node.generateKeyPair('p256')
    const peerXY = node.p256Point(peer.publicKey, false).slice(1)
    const want = node.dh(peer, concat(Uint8Array.of(4), pub))
    const r = talkData(sim, C.ecdh(2, peerXY, { encrypted: true }).packet)
    assert.equal(r.length, 64)
    assert.notDeepEqual(r.subarray(0, 32), want)
    assert.deepEqual(H.ioDecrypt(IO_KEY, r.subarray(32, 64), r.subarray(0, 32)), want)
    assert.deepEqual(talkData(sim, C.ecdh(2, peerXY).packet), want) // ECDHProt 0 in this configuration: clear output allowed too
    const eph = talkData(sim, C.genKeyPrivate(0xffff).packet)
    const r2 = talkData(sim, C.ecdh('tempkey', peerXY, { encrypted: true }).packet)
    assert.deepEqual(H.ioDecrypt(IO_KEY, r2.subarray(32, 64), r2.subarray(0, 32)), node.dh(peer, concat(Uint8Array.of(4), eph)))
  })
})

describe('ATECC608 Info mode 4 (persistent latch) and KeyConfig.PersistentDisable', () => {
  it('slot 5 works only while the latch is set; the latch survives sleep, not a power cycle', () => {
    const { sim } = testDevice()
    const pub = talkData(sim, C.genKeyPrivate(5).packet) // GenKey is allowed with the latch clear
    const peer = node.generateKeyPair('p256')
    const peerXY = node.p256Point(peer.publicKey, false).slice(1)
    assert.equal(talkHex(sim, h('07 30 04 00 00 80 DF')), '070000000003AD')
    assert.equal(talkHex(sim, C.ecdh(5, peerXY).packet), EXEC)
    assert.equal(talkHex(sim, h('07 30 04 03 00 8F DF')), OK)
    assert.equal(talkHex(sim, h('07 30 04 00 00 80 DF')), '07010000003C2D')
    sim.link.sleep()
    assert.deepEqual(talkData(sim, C.ecdh(5, peerXY).packet), node.dh(peer, concat(Uint8Array.of(4), pub)))
    sim.powerCycle()
    assert.equal(talkHex(sim, C.ecdh(5, peerXY).packet), EXEC)
    assert.equal(talkHex(sim, h('07 30 04 02 00 86 5F')), OK) // clear is allowed too
    const cfg = hopsealConfig()
    cfg[ConfigOffset.VOLATILE_KEY_PERMISSION] = 0x04 // bit 7 clear: volatile key permission not enabled
    const plain = Atecc608Sim.create({ seed: 'no-vkp', config: cfg })
    assert.equal(talkHex(plain, h('07 30 04 03 00 8F DF')), EXEC)
  })
})

describe('ATECC608 SecureBoot (host twins: secureBootEncrypt, secureBootMac)', () => {
  const priv = sha256(new TextEncoder().encode('firmware signing key'))
  const pubXY = p256.getPublicKey(priv, false).subarray(1)
  const fw = sha256(new TextEncoder().encode('firmware image v1'))
  const sig = p256.sign(fw, priv, { prehash: false })

  it('Full verifies digest and signature with the key in slot 15 and sets the persistent latch; a bad signature is 01', () => {
    const { sim } = testDevice({ publicKeyXY: pubXY })
    const bad = sig.slice()
    bad[0]! ^= 1
    assert.equal(talkHex(sim, C.secureBoot(0x05, fw, bad).packet), MISCOMPARE)
    assert.equal(talkHex(sim, C.infoLatch('read').packet), '070000000003AD')
    assert.equal(talkHex(sim, C.secureBoot(0x05, fw, sig).packet), OK)
    assert.equal(talkHex(sim, C.infoLatch('read').packet), '07010000003C2D')
  })

  it('FullCopy stores the digest (SecureBootMode FullDig) in slot 12; FullStore then checks a digest alone', () => {
    const { sim } = testDevice({ publicKeyXY: pubXY })
    assert.equal(talkHex(sim, C.secureBoot(0x07, fw, sig).packet), OK)
    assert.deepEqual(sim.engine.state.data[12]!.subarray(0, 32), fw)
    assert.equal(talkHex(sim, C.secureBoot(0x06, fw).packet), OK)
    assert.equal(talkHex(sim, C.secureBoot(0x06, sha256(fw)).packet), MISCOMPARE)
  })

  it('encrypted digest with a validating MAC (flag 80), and the prohibit flag (40) until power-up', () => {
    const { sim } = testDevice({ publicKeyXY: pubXY })
    const randOut = talkData(sim, C.nonceRandom(NUMIN).packet)
    const tk = H.nonceTempKey(randOut, NUMIN)
    const { hashedKey, digestEnc } = H.secureBootEncrypt(IO_KEY, tk, fw)
    const mac = talkData(sim, C.secureBoot(0x85, digestEnc, sig).packet)
    assert.deepEqual(mac, H.secureBootMac({ hashedKey, digest: fw, signature: sig, mode: 0x85 }))
    assert.equal(talkHex(sim, C.secureBoot(0x45, fw, sig).packet), OK)
    assert.equal(talkHex(sim, C.secureBoot(0x05, fw, sig).packet), EXEC)
    sim.powerCycle()
    assert.equal(talkHex(sim, C.secureBoot(0x05, fw, sig).packet), OK)
  })
})

describe('ATECC608 GenKey digest, internal Sign and Nonce TempKey calculation mode', () => {
  /** The 55-byte internal-Sign message (atcah_sign_internal_msg), written out again here as the test's own twin. */
  function internalMessage(tk: Uint8Array, slot: number, flags: number): Uint8Array {
    const m = new Uint8Array(55)
    m.set(tk, 0)
    m.set([0x41, 0x00, slot, 0x00, 0x87, 0x20, 0x33, 0x00, flags], 32) // opcode, mode, KeyID, SlotConfig 2087, KeyConfig 0033, TempKey flags
    m[43] = TEST_SN[8]!
    m.set(TEST_SN.subarray(0, 2), 48)
    m[52] = 0x01 // slot 2 is not locked
    return m
  }

  it('GenKey 08 puts the PubKey digest in TempKey (GenKeyData, KeyID 2); Sign 00 signs the internal message over it', () => {
    const { sim } = testDevice()
    const pub = talkData(sim, C.genKeyPrivate(2).packet)
    assert.equal(talkHex(sim, C.noncePassthrough(TK, 'tempkey').packet), OK)
    assert.deepEqual(talkData(sim, C.genKeyDigest(2).packet), pub)
    assert.equal(talkHex(sim, C.infoState().packet).slice(2, 6), '5280') // GenKeyData, SourceFlag input, KeyID 2; valid
    const digest = sha256(concat(TK, Uint8Array.of(0x40, 0x08, 0x02, 0x00, TEST_SN[8]!, TEST_SN[0]!, TEST_SN[1]!), new Uint8Array(25), pub))
    const sig = talkData(sim, C.signInternal(2).packet)
    const signed = sha256(internalMessage(digest, 2, 0x52))
    assert.ok(p256.verify(sig, signed, concat(Uint8Array.of(4), pub), { prehash: false, lowS: false }))
  })

  it('Nonce with param2 bit 15 answers the new TempKey itself', () => {
    const { sim } = testDevice()
    const r = talkData(sim, C.nonceRandom(NUMIN, true, true).packet)
    assert.equal(peekTempKey(sim), aesEcb(r.subarray(0, 16), new Uint8Array(16)))
    assert.equal(talkHex(sim, buildCommand(0x16, 0x00, 0x4000, NUMIN)), PARSE) // other param2 bits are reserved
  })
})

describe('ATECC608 commands the 608 does not have', () => {
  it('HMAC (11) and Pause (01) answer 03, like any unknown opcode', () => {
    const sim = Atecc608Sim.create({ seed: 'no-hmac' })
    assert.equal(talkHex(sim, buildCommand(0x11, 0x04, 0)), PARSE)
    assert.equal(talkHex(sim, buildCommand(0x01, 0x00, 0)), PARSE)
    assert.equal(HEX(talk(sim, buildCommand(0x30, 0x03, 0))), PARSE) // Info GPIO: single-wire parts only
  })
})
