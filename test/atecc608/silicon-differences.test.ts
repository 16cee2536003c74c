/**
 * Issue 16: every difference a host library found between the simulator and
 * silicon, as a golden test from both sides with the packets written out byte
 * for byte — the driver builds (or refuses to build) the packet, and the
 * simulator answers as the chip does.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPublicKey, verify as nodeVerify } from 'node:crypto'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { Atecc608Device, Atecc608Vault, KitTransport, provision, readConfigZone } from '../../vaults/atecc608/index.ts'
import * as C from '../../vaults/atecc608/commands.ts'
import { COUNTER_MAX } from '../../vaults/atecc608/constants.ts'
import { decodeInfoState } from '../../vaults/atecc608/host.ts'
import { DeviceStatusError, parseResponse } from '../../vaults/atecc608/packet.ts'
import { Atecc608Sim } from '../../hil-sim/atecc608/index.ts'
import { encodeCounter } from '../../hil-sim/atecc608/counters.ts'
import { parseCliArgs } from '../../hil-sim/atecc608/cli.ts'
import { EXEC, HEX, OK, PARSE, h, talk, talkData, talkHex, testDevice } from './sim-helpers.ts'

const node = cryptoProvider('node')
const code = (c: string) => (e: Error & { code?: string }) => e.code === c
const ABC_DIGEST = 'BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD'
const SPKI_P256 = h('3059301306072A8648CE3D020106082A8648CE3D030107034200 04')

describe('issue 16: a 32-byte Write to the last, partial block writes the bytes that fit', () => {
  it('driver: builds the block-2 write of a 72-byte slot byte for byte, and refuses a block the slot does not have', () => {
    assert.equal(HEX(C.write(2, C.dataAddress(15, 2), new Uint8Array(32).fill(0xab)).packet), '2712827802' + 'AB'.repeat(32) + '5C70')
    assert.equal(C.dataAddress(8, 2), 0x0240) // slot 8 (416 bytes) has full blocks 0–12
    assert.throws(() => C.dataAddress(15, 3), code('INVALID_ARGUMENT'))
    assert.throws(() => C.dataAddress(2, 2), code('INVALID_ARGUMENT')) // a 36-byte slot has blocks 0 and 1
  })

  it('simulator: answers 04 00 03 40 and stores bytes 64–71; the words read back; a 32-byte read of that block is 03', () => {
    const { sim } = testDevice()
    assert.equal(talkHex(sim, h('27 12 82 78 02' + 'AB'.repeat(32) + '5C 70')), OK)
    assert.equal(talkHex(sim, h('07 02 02 78 02 9E 6D')), '07ABABABABD15B') // slot 15 block 2 word 0
    assert.equal(talkHex(sim, h('07 02 02 79 02 97 ED')), '07ABABABABD15B') // word 1
    assert.equal(HEX(sim.engine.state.data[15]!.subarray(64, 72)), 'AB'.repeat(8))
    assert.equal(sim.engine.state.data[15]!.length, 72)
    assert.equal(talkHex(sim, h('07 02 02 7A 02 98 ED')), PARSE) // word 2 of block 2 is beyond the slot
    assert.equal(talkHex(sim, h('07 02 82 78 02 89 ED')), PARSE) // cryptoauthlib reads a partial block in words
  })
})

describe('issue 16: reserved address bits are refused, not masked', () => {
  it('driver: refuses to build addresses with reserved bits (slot 16, config block 4, OTP block 2, data bits 12–15)', () => {
    assert.throws(() => C.dataAddress(16, 0), code('INVALID_ARGUMENT'))
    assert.throws(() => C.read(2, 0x0080, 32), code('INVALID_ARGUMENT'))
    assert.throws(() => C.read(0, 0x0020, 32), code('INVALID_ARGUMENT'))
    assert.throws(() => C.read(1, 0x0010, 32), code('INVALID_ARGUMENT'))
    assert.throws(() => C.write(2, 0x1040, new Uint8Array(32)), code('INVALID_ARGUMENT'))
    assert.throws(() => C.zoneAddress(4), code('INVALID_ARGUMENT'))
  })

  it('simulator: "slot 16" is 03 and does not alias slot 0; every reserved bit is 03', () => {
    const { sim } = testDevice()
    assert.equal(talkHex(sim, h('07 02 82 80 00 09 AE')), PARSE) // Read 32, p2 0080
    assert.equal(talkHex(sim, h('07 02 80 20 00 0A 35')), PARSE) // config block 4
    assert.equal(talkHex(sim, h('07 02 81 10 00 09 97')), PARSE) // OTP block 2
    assert.equal(talkHex(sim, h('07 02 82 40 10 3A 24')), PARSE) // data, bit 12
    // before the data lock a Write to 0080 used to overwrite slot 0
    const f = Atecc608Sim.create({ provisioned: false, seed: 'alias' })
    assert.equal(talkHex(f, h('07 17 80 00 00 39 8D')), OK)
    assert.equal(talkHex(f, h('27 12 82 80 00' + '5A'.repeat(32) + 'D6 69')), PARSE)
    assert.ok(f.engine.state.data[0]!.every((b) => b === 0), 'slot 0 untouched')
  })
})

describe('issue 16: a clear Write to a private-key slot is refused (0F) even before the data lock', () => {
  const WRITE_SLOT0 = '27 12 82 00 00' + '5A'.repeat(32) + 'D5 85'
  it('simulator: Write answers 04 0F 23 42; PrivWrite in clear is the way in, and Info(KeyValid) then reads 1', () => {
    const f = Atecc608Sim.create({ provisioned: false, seed: 'priv' })
    assert.equal(talkHex(f, h('07 17 80 00 00 39 8D')), OK)
    assert.equal(talkHex(f, h(WRITE_SLOT0)), EXEC)
    assert.ok(f.engine.state.data[0]!.every((b) => b === 0))
    assert.equal(talkHex(f, h('07 30 01 00 00 00 D7')), '070000000003AD') // KeyValid(0) = 0
    assert.equal(talkHex(f, h('4B 46 00 00 00 00000000' + '11'.repeat(32) + '00'.repeat(32) + '4D CE')), OK)
    assert.equal(talkHex(f, h('07 30 01 00 00 00 D7')), '07010000003C2D') // KeyValid(0) = 1
  })

  it('driver: builds the same packets; the device layer turns the answer into a typed status error 0F', async () => {
    assert.equal(HEX(C.write(2, C.dataAddress(0, 0), new Uint8Array(32).fill(0x5a)).packet), WRITE_SLOT0.replace(/ /g, ''))
    const value = new Uint8Array(36)
    value.set(new Uint8Array(32).fill(0x11), 4)
    assert.equal(HEX(C.privWrite(0, value).packet), '4B4600000000000000' + '11'.repeat(32) + '00'.repeat(32) + '4DCE')
    const f = Atecc608Sim.create({ provisioned: false, seed: 'priv-driver' })
    const dev = new Atecc608Device(await KitTransport.open(f.kitChannel()))
    await dev.transaction((s) => s.run(C.lockConfig()))
    await assert.rejects(
      dev.transaction((s) => s.run(C.write(2, C.dataAddress(0, 0), new Uint8Array(32)))),
      (e: unknown) => e instanceof DeviceStatusError && e.status === 0x0f && e.code === 'VAULT_DEVICE_ERROR',
    )
  })
})

describe('issue 16: the monotonic counters live in config bytes 52–67; LimitedUse signing advances Counter 0', () => {
  it('simulator: Counter increments show in config words 13–14; a LimitedUse key advances Counter 0 per signature, others do not', () => {
    const { sim } = testDevice()
    // config words 13 and 14 (bytes 52–59) hold Counter[0]: the public zero pattern FFFFFFFF 00000000
    assert.equal(talkHex(sim, h('07 02 00 0D 00 17 0D')), '07FFFFFFFF2A2D')
    assert.equal(talkHex(sim, h('07 02 00 0E 00 18 0D')), '070000000003AD')
    assert.equal(talkHex(sim, h('07 24 01 00 00 0F 77')), '07010000003C2D') // Counter(inc, 0) = 1
    assert.equal(talkHex(sim, h('07 02 00 0D 00 17 0D')), '07FEFFFFFF15AD')
    assert.equal(talkHex(sim, h('07 02 00 0E 00 18 0D')), '07010000003C2D')
    // slot 7 is LimitedUse (SlotConfig 20A7), slot 2 is not
    talkData(sim, C.genKeyPrivate(7).packet)
    talkData(sim, C.genKeyPrivate(2).packet)
    const sign = (slot: number): void => {
      assert.equal(talkHex(sim, C.noncePassthrough(h(ABC_DIGEST), 'msgdigbuf').packet), OK)
      assert.equal(talkData(sim, C.signExternal(slot).packet).length, 64)
    }
    sign(7)
    sign(7)
    assert.equal(talkHex(sim, h('07 24 00 00 00 0C FD')).slice(0, 10), '0703000000') // Counter(read, 0) = 3
    sign(2)
    assert.equal(talkHex(sim, h('07 24 00 00 00 0C FD')).slice(0, 10), '0703000000')
    assert.equal(talkHex(sim, h('07 24 00 01 00 05 7D')), '070000000003AD') // Counter 1 untouched
  })

  it('simulator: at the maximum (2 097 151) Counter refuses (0F) and nothing moves', () => {
    // a starting value can be provisioned into config bytes 52–59 before the config lock (here: the simulator's encoding of max − 1)
    const f = Atecc608Sim.create({ provisioned: false, seed: 'max' })
    assert.equal(talkHex(f, C.write(0, C.zoneAddress(1, 5), encodeCounter(COUNTER_MAX - 1).subarray(0, 4)).packet), OK)
    assert.equal(talkHex(f, C.write(0, C.zoneAddress(1, 6), encodeCounter(COUNTER_MAX - 1).subarray(4, 8)).packet), OK)
    assert.equal(talkHex(f, C.lockConfig().packet), OK)
    assert.equal(talkHex(f, h('07 24 01 00 00 0F 77')), '07FFFF1F002BBD') // 2 097 151
    assert.equal(talkHex(f, h('07 24 01 00 00 0F 77')), EXEC)
    assert.equal(talkHex(f, h('07 24 00 00 00 0C FD')), '07FFFF1F002BBD')
  })

  it('driver: Counter packets are the spec A1 examples and decode as uint32 LE', async () => {
    assert.equal(HEX(C.counter(0, false).packet), '0724000000' + '0CFD')
    assert.equal(HEX(C.counter(0, true).packet), '07240100000F77')
    const { sim } = testDevice()
    const dev = new Atecc608Device(await KitTransport.open(sim.kitChannel()))
    const v = await dev.transaction((s) => s.run(C.counter(0, true)))
    assert.equal(new DataView(v.buffer, v.byteOffset).getUint32(0, true), 1)
    assert.deepEqual((await readConfigZone(dev)).subarray(52, 60), h('FEFFFFFF 01000000'))
  })
})

describe('issue 16: signatures use a fresh random nonce', () => {
  it('simulator: the same digest signed twice gives two different signatures, both valid', () => {
    const { sim } = testDevice()
    const pub = talkData(sim, h('07 40 04 02 00 85 07'))
    const sigs: string[] = []
    for (let i = 0; i < 2; i++) {
      assert.equal(talkHex(sim, h(`27 16 43 00 00 ${ABC_DIGEST} 14 69`)), OK)
      const sig = talkData(sim, h('07 41 A0 02 00 7D 05'))
      const key = createPublicKey({ key: Buffer.concat([SPKI_P256, pub]), format: 'der', type: 'spki' })
      assert.ok(nodeVerify('sha256', Buffer.from('abc'), { key, dsaEncoding: 'ieee-p1363' }, sig))
      sigs.push(HEX(sig))
    }
    assert.notEqual(sigs[0]!.slice(0, 64), sigs[1]!.slice(0, 64), 'R differs: a fresh k per signature')
  })

  it('driver: vault.sign of one message twice gives different signatures, both verify', async () => {
    const sim = Atecc608Sim.create({ seed: 'fresh-k' })
    const v = await Atecc608Vault.open({ transport: await KitTransport.open(sim.kitChannel()) })
    const k = await v.generateKey('p256')
    const msg = new TextEncoder().encode('same message')
    const [a, b] = [await v.sign(k, msg), await v.sign(k, msg)]
    assert.notDeepEqual(a, b)
    for (const s of [a, b]) assert.ok(node.verify('p256', await v.publicKey(k), msg, s))
    await v.close()
  })
})

describe('issue 16: per-device serial numbers, kept in the state file; a seeded RNG never repeats across restarts', () => {
  it('simulator: devices differ; SN[0:1] = 01 23 and SN[8] = EE; a seed names a device reproducibly', () => {
    const sn = (s: Atecc608Sim): string => HEX(s.engine.serialNumber)
    const [a, b] = [Atecc608Sim.create(), Atecc608Sim.create()]
    assert.notEqual(sn(a), sn(b))
    for (const s of [a, b]) assert.match(sn(s), /^0123[0-9A-F]{12}EE$/)
    assert.equal(sn(Atecc608Sim.create({ seed: 'device-1' })), sn(Atecc608Sim.create({ seed: 'device-1' })))
    assert.notEqual(sn(Atecc608Sim.create({ seed: 'device-1' })), sn(Atecc608Sim.create({ seed: 'device-2' })))
    // Read config block 0 carries it: bytes 0–3 and 8–12
    const blk0 = talkData(a, h('07 02 80 00 00 09 AD'))
    assert.equal(HEX(blk0.subarray(0, 4)) + HEX(blk0.subarray(8, 13)), sn(a))
  })

  it('simulator: with a state file the serial number survives a restart but Random does not repeat (same seed)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hopseal-atecc-rng-'))
    try {
      const f = join(dir, 's.json')
      const first = Atecc608Sim.create({ stateFile: f, seed: 'restart' })
      const r1 = talkHex(first, h('07 1B 00 00 00 24 CD'))
      const again = Atecc608Sim.create({ stateFile: f, seed: 'restart' })
      const r2 = talkHex(again, h('07 1B 00 00 00 24 CD'))
      assert.equal(HEX(again.engine.serialNumber), HEX(first.engine.serialNumber))
      assert.notEqual(r2, r1, 'a restarted device continues its RNG, it does not replay it')
      assert.equal(JSON.parse(readFileSync(f, 'utf8')).rngEpoch, 1)
      // without a state file the same seed is the same fresh device: reproducible
      assert.equal(talkHex(Atecc608Sim.create({ seed: 'restart' }), h('07 1B 00 00 00 24 CD')), r1)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('driver: provisioning reports the device serial number it read from the config zone', async () => {
    const sim = Atecc608Sim.create({ provisioned: false, seed: 'sn-report' })
    const rep = await provision({ transport: await KitTransport.open(sim.kitChannel()), confirmIrreversible: true })
    assert.equal(rep.serialNumber.toUpperCase(), HEX(sim.engine.serialNumber))
  })
})

describe('issue 16: strict mode is the default', () => {
  it('simulator: with no option, GenKey before the config lock and a data read before the data lock answer 0F; strict: false allows them', () => {
    const s = Atecc608Sim.create({ provisioned: false, seed: 'strict' })
    assert.equal(s.engine.strict, true)
    assert.equal(talkHex(s, h('07 40 04 02 00 85 07')), EXEC)
    assert.equal(talkHex(s, h('07 17 80 00 00 39 8D')), OK)
    assert.equal(talkHex(s, h('07 02 82 40 00 09 A4')), EXEC) // slot 8 block 0 before the data lock
    const lax = Atecc608Sim.create({ provisioned: false, seed: 'strict', strict: false })
    assert.equal(talkHex(lax, h('07 02 82 40 00 09 A4')).slice(0, 2), '23')
  })

  it('CLI: strict by default, --lax opts out, --strict is accepted', () => {
    assert.equal(parseCliArgs(['--tty', '/dev/null']).strict, true)
    assert.equal(parseCliArgs(['--tty', '/dev/null', '--strict']).strict, true)
    assert.equal(parseCliArgs(['--tty', '/dev/null', '--lax']).strict, false)
    assert.throws(() => parseCliArgs(['--tty', '/dev/null', '--lax', '--strict']))
  })
})

describe('issue 16: Info(State) reports the TempKey flags in the layout host libraries read', () => {
  const INFO_STATE = '07 30 02 00 00 00 D8'
  it('driver: builds Info(State) and decodes byte 0 (NoMac, GenKey, GenDig, SourceFlag, KeyID) and byte 1 (Valid, AuthKeyID, AuthValid)', () => {
    assert.equal(HEX(C.infoState().packet), INFO_STATE.replace(/ /g, ''))
    assert.deepEqual(decodeInfoState(h('10 80 00 00')), { tempKeyValid: true, source: 'input', keyId: 0, genDigData: false, genKeyData: false, noMacFlag: false, authValid: false, authKeyId: 0 })
    assert.deepEqual(decodeInfoState(h('3B DC 00 00')), { tempKeyValid: true, source: 'input', keyId: 11, genDigData: true, genKeyData: false, noMacFlag: false, authValid: true, authKeyId: 11 })
  })

  it('simulator: fresh 00 00; after a pass-through Nonce 10 80; after a random Nonce 00 80; after GenDig on slot 11 (random nonce) 2B 80', () => {
    const { sim } = testDevice()
    assert.equal(talkHex(sim, h(INFO_STATE)), '070000000003AD')
    assert.equal(talkHex(sim, h(`27 16 03 00 00 ${ABC_DIGEST} C7 EB`)), OK) // pass-through into TempKey
    assert.equal(talkHex(sim, h(INFO_STATE)), '0710800000170D')
    const rand = talk(sim, h('1B 16 00 00 00 000102030405060708090A0B0C0D0E0F10111213 53 B5'))
    assert.equal(rand[0], 0x23)
    assert.equal(talkHex(sim, h(INFO_STATE)), '0700800000142D')
    assert.equal(talkHex(sim, h('0B 15 02 0B 00 15 02 0B 00 22 4C')), OK) // GenDig data slot 11 (OtherData 15 02 0B 00)
    assert.equal(talkHex(sim, h(INFO_STATE)), '072B80000033BD')
    // a pass-through into MsgDigBuf clears TempKey.Valid (cryptoauthlib atcah_nonce) and leaves SourceFlag = input
    assert.equal(talkHex(sim, h(`27 16 43 00 00 ${ABC_DIGEST} 14 69`)), OK)
    assert.deepEqual(decodeInfoState(talkData(sim, h(INFO_STATE))).tempKeyValid, false)
    assert.equal(parseResponse(talk(sim, h(INFO_STATE))).kind, 'data')
  })
})
