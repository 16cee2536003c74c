/**
 * Golden packets of spec Part A (A1 worked examples, A2 status packets and
 * wake tokens, A3 address examples), byte for byte: the driver's builders
 * produce them, and the simulator answers them as the spec says.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createCipheriv, createHash, createPublicKey, verify as nodeVerify } from 'node:crypto'
import { fromHex, toHex } from '../../src/bytes/index.ts'
import { atcaCrc16, buildCommand, checkCrc, parseResponse, statusPacket } from '../../vaults/atecc608/index.ts'
import * as C from '../../vaults/atecc608/commands.ts'
import { Atecc608Sim } from '../../hil-sim/atecc608/index.ts'

const h = (s: string): Uint8Array => fromHex(s.replace(/[^0-9A-Fa-f]/g, ''))
const HEX = (b: Uint8Array): string => toHex(b).toUpperCase()
const ABC_DIGEST = 'BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD'

/** spec A1 "Worked examples": [purpose, driver-built packet, expected bytes]. */
const WORKED: [string, () => Uint8Array, string][] = [
  ['Info revision', () => C.info().packet, '07 30 00 00 00 03 5D'],
  ['Random mode 00', () => C.random(0).packet, '07 1B 00 00 00 24 CD'],
  ['Read config block 0, 32 bytes', () => C.read(0, C.zoneAddress(0), 32).packet, '07 02 80 00 00 09 AD'],
  ['Read config word 0x15 (lock bytes)', () => C.read(0, 0x15, 4).packet, '07 02 00 15 00 17 5D'],
  ['GenKey private slot 2', () => C.genKeyPrivate(2).packet, '07 40 04 02 00 85 07'],
  ['GenKey public slot 2', () => C.genKeyPublic(2).packet, '07 40 00 02 00 06 85'],
  ['Nonce pass-through SHA-256("abc") into MsgDigBuf', () => C.noncePassthrough(h(ABC_DIGEST), 'msgdigbuf').packet, `27 16 43 00 00 ${ABC_DIGEST} 14 69`],
  ['Sign external from MsgDigBuf, slot 2', () => C.signExternal(2).packet, '07 41 A0 02 00 7D 05'],
  ['Lock config, no CRC', () => C.lockConfig().packet, '07 17 80 00 00 39 8D'],
  ['Lock data+OTP, no CRC', () => C.lockData().packet, '07 17 81 00 00 3A 07'],
  ['Lock slot 2', () => C.lockSlot(2).packet, '07 17 0A 00 00 6E 09'],
  ['SelfTest all', () => C.selfTest().packet, '07 77 3B 00 00 9D FB'],
  ['Counter read 0', () => C.counter(0, false).packet, '07 24 00 00 00 0C FD'],
  ['Counter increment 0', () => C.counter(0, true).packet, '07 24 01 00 00 0F 77'],
  ['SHA start', () => C.shaStart().packet, '07 47 00 00 00 2E 85'],
  ['SHA end "abc"', () => C.shaEnd(new TextEncoder().encode('abc')).packet, '0A 47 02 03 00 61 62 63 70 53'],
  ['AES-ECB encrypt slot 10 block 0', () => C.aes(false, 10, new Uint8Array(16)).packet, `17 51 00 0A 00 ${'00'.repeat(16)} 8E 6D`],
  ['Read slot 9 block 0, 32 bytes (spec A3 addresses)', () => C.read(2, C.dataAddress(9, 0), 32).packet, '07 02 82 48 00 0A 44'],
  ['Read slot 9 block 2 word 0, 4 bytes', () => C.read(2, C.dataAddress(9, 2, 0), 4).packet, '07 02 02 48 02 9E 45'],
]

/** spec A2 status table, exact 4-byte packets. */
const STATUS: [number, string][] = [
  [0x00, '04 00 03 40'],
  [0x01, '04 01 00 C3'],
  [0x03, '04 03 83 42'],
  [0x05, '04 05 C3 43'],
  [0x07, '04 07 40 C2'],
  [0x08, '04 08 60 C0'],
  [0x0f, '04 0F 23 42'],
  [0x11, '04 11 33 43'],
  [0xee, '04 EE 31 41'],
  [0xff, '04 FF 01 42'],
]

/** Runs one packet through a simulator's packet link as a KIT board would (wake, talk, idle). */
function talk(sim: Atecc608Sim, pkt: Uint8Array): Uint8Array {
  sim.link.wake()
  const r = sim.link.receive(pkt)
  assert.notEqual(r, 'asleep')
  const out = sim.link.response()
  sim.link.idle()
  return out
}

describe('ATECC608 golden packets (spec A1–A3), driver side', () => {
  it('CRC-16 check value "123456789" = 0xBCDD and equals bitrev16(CRC-16/ARC)', () => {
    assert.equal(atcaCrc16(new TextEncoder().encode('123456789')), 0xbcdd)
  })

  it('builds every worked example byte for byte', () => {
    let n = 0
    for (const [name, build, want] of WORKED) {
      assert.equal(HEX(build()), want.replace(/ /g, ''), name)
      assert.ok(checkCrc(build()), `${name}: CRC self-check`)
      n++
    }
    console.log(`ATECC608 worked command packets: ${n} passed, 0 failed`)
    assert.equal(n, WORKED.length)
    assert.ok(n >= 19)
  })

  it('status packets and wake tokens are exact and parse back', () => {
    let n = 0
    for (const [s, want] of STATUS) {
      assert.equal(HEX(statusPacket(s)), want.replace(/ /g, ''))
      assert.deepEqual(parseResponse(h(want)), { kind: 'status', status: s })
      n++
    }
    console.log(`ATECC608 status packets: ${n} passed, 0 failed`)
    // the cryptoauthlib compare value 04 07 C4 40 is not CRC-consistent (spec A2 discrepancy)
    assert.equal(checkCrc(h('04 07 C4 40')), false)
  })

  it('parses the Info responses of a 608A and a 608B', () => {
    assert.deepEqual(parseResponse(h('07 00 00 60 02 80 38')), { kind: 'data', data: h('00 00 60 02') })
    assert.deepEqual(parseResponse(h('07 00 00 60 03 83 BB')), { kind: 'data', data: h('00 00 60 03') })
  })

  it('rejects corrupted, truncated and miscounted responses with typed errors (total decoder)', () => {
    const good = h('07 00 00 60 02 80 38')
    for (let i = 0; i < good.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const bad = good.slice()
        bad[i]! ^= bit
        assert.throws(() => parseResponse(bad), (e: Error & { code?: string }) => e.code === 'VAULT_DEVICE_ERROR')
      }
    }
    for (let n = 0; n < good.length; n++) assert.throws(() => parseResponse(good.subarray(0, n)), (e: Error & { code?: string }) => e.code === 'VAULT_DEVICE_ERROR')
    assert.throws(() => parseResponse(h('03 00 00')), (e: Error & { code?: string }) => e.code === 'VAULT_DEVICE_ERROR')
  })

  it('refuses out-of-range builder arguments with typed errors', () => {
    assert.throws(() => buildCommand(0x100, 0, 0), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT')
    assert.throws(() => buildCommand(0x30, 0, 0x10000), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT')
    assert.throws(() => buildCommand(0x30, 0, 0, new Uint8Array(145)), (e: Error & { code?: string }) => e.code === 'INVALID_LENGTH')
    assert.throws(() => C.genKeyPrivate(16), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT')
    assert.throws(() => C.noncePassthrough(new Uint8Array(31)), (e: Error & { code?: string }) => e.code === 'INVALID_LENGTH')
    assert.throws(() => C.ecdh(2, new Uint8Array(65)), (e: Error & { code?: string }) => e.code === 'INVALID_LENGTH')
  })
})

describe('ATECC608 golden packets (spec A1–A3), simulator side', () => {
  it('wakes with 04 11 33 43 and answers Info with the 608A / 608B revision packets', () => {
    const a = Atecc608Sim.create({ provisioned: false })
    assert.equal(HEX(a.link.wake()), '04113343')
    assert.equal(HEX(talk(a, h('07 30 00 00 00 03 5D'))), '07000060028038')
    const b = Atecc608Sim.create({ provisioned: false, revision: 'B' })
    assert.equal(HEX(talk(b, h('07 30 00 00 00 03 5D'))), '070000600383BB')
  })

  it('answers Random with the fixed pattern while the config zone is unlocked (23 FFFF0000… 41 1A)', () => {
    const sim = Atecc608Sim.create({ provisioned: false })
    assert.equal(HEX(talk(sim, h('07 1B 00 00 00 24 CD'))), '23' + 'FFFF0000'.repeat(8) + '411A')
    const locked = Atecc608Sim.create({ seed: 'r' })
    const r = talk(locked, h('07 1B 00 00 00 24 CD'))
    assert.equal(r.length, 35)
    assert.notEqual(HEX(r), '23' + 'FFFF0000'.repeat(8) + '411A')
  })

  it('reads the config zone and its lock word as the spec maps them', () => {
    const sim = Atecc608Sim.create({ provisioned: false, serialNumber: h('01 23 00 00 04 05 06 07 EE') })
    const blk0 = talk(sim, h('07 02 80 00 00 09 AD'))
    assert.equal(blk0.length, 35)
    assert.ok(checkCrc(blk0))
    assert.equal(HEX(blk0.subarray(1, 17)), '012300000000600204050607EE010100') // SN 01 23, revision 00 00 60 02, SN[8] EE
    assert.equal(HEX(talk(sim, h('07 02 00 15 00 17 5D'))).slice(2, 10), '00005555') // bytes 84–87: unlocked
  })

  it('runs the lock sequence of the worked examples: config, data+OTP, slot 2', () => {
    const sim = Atecc608Sim.create({ provisioned: false })
    assert.equal(HEX(talk(sim, h('07 17 81 00 00 3A 07'))), '040F2342') // data before config: not allowed
    assert.equal(HEX(talk(sim, h('07 17 0A 00 00 6E 09'))), '040F2342') // slot before data: not allowed
    assert.equal(HEX(talk(sim, h('07 17 80 00 00 39 8D'))), '04000340')
    assert.equal(HEX(talk(sim, h('07 17 80 00 00 39 8D'))), '040F2342') // already locked
    assert.equal(HEX(talk(sim, h('07 17 81 00 00 3A 07'))), '04000340')
    assert.equal(HEX(talk(sim, h('07 17 0A 00 00 6E 09'))), '04000340')
    assert.equal(HEX(talk(sim, h('07 02 00 15 00 17 5D'))).slice(2, 10), '00000000') // UserExtra, UserExtraAdd, lock bytes 00 00
    assert.equal(HEX(talk(sim, C.read(0, 0x16, 4).packet)).slice(2, 6), 'FBFF') // SlotLocked: bit 2 cleared
  })

  it('GenKey, Nonce pass-through of SHA-256("abc") and Sign A0 give a signature node:crypto verifies', () => {
    const sim = Atecc608Sim.create({ seed: 'golden' })
    const gen = talk(sim, h('07 40 04 02 00 85 07'))
    assert.equal(gen.length, 67)
    assert.ok(checkCrc(gen))
    const pub = talk(sim, h('07 40 00 02 00 06 85'))
    assert.equal(HEX(pub), HEX(gen))
    assert.equal(HEX(talk(sim, h(`27 16 43 00 00 ${ABC_DIGEST} 14 69`))), '04000340')
    const sig = talk(sim, h('07 41 A0 02 00 7D 05'))
    assert.equal(sig[0], 0x43)
    assert.ok(checkCrc(sig))
    const key = createPublicKey({ key: Buffer.concat([Buffer.from([0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04]), gen.subarray(1, 65)]), format: 'der', type: 'spki' })
    assert.ok(nodeVerify('sha256', Buffer.from('abc'), { key, dsaEncoding: 'ieee-p1363' }, sig.subarray(1, 65)))
    // the message digest buffer is consumed by Sign: signing again without a new Nonce is an execution error
    assert.equal(HEX(talk(sim, h('07 41 A0 02 00 7D 05'))), '040F2342')
  })

  it('answers SelfTest, Counter, SHA and AES worked examples', () => {
    const sim = Atecc608Sim.create({ seed: 'golden' })
    assert.equal(HEX(talk(sim, h('07 77 3B 00 00 9D FB'))), '04000340')
    assert.equal(HEX(talk(sim, h('07 24 00 00 00 0C FD'))).slice(0, 10), '0700000000')
    assert.equal(HEX(talk(sim, h('07 24 01 00 00 0F 77'))).slice(0, 10), '0701000000')
    assert.equal(HEX(talk(sim, h('07 24 00 00 00 0C FD'))).slice(0, 10), '0701000000')
    assert.equal(HEX(talk(sim, h('07 47 00 00 00 2E 85'))), '04000340')
    const d = talk(sim, h('0A 47 02 03 00 61 62 63 70 53'))
    assert.equal(HEX(d.subarray(1, 33)), ABC_DIGEST)
    assert.equal(HEX(d.subarray(1, 33)), createHash('sha256').update('abc').digest('hex').toUpperCase())
    const aes = talk(sim, h(`17 51 00 0A 00 ${'00'.repeat(16)} 8E 6D`))
    const c = createCipheriv('aes-128-ecb', Buffer.alloc(16), null)
    c.setAutoPadding(false)
    assert.equal(HEX(aes.subarray(1, 17)), c.update(Buffer.alloc(16)).toString('hex').toUpperCase()) // slot 10 holds zeros
  })
})
