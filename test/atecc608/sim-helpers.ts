/**
 * Shared by the ATECC608 golden tests: hex helpers, one command cycle on a
 * simulator's packet link (wake, command, idle, as a KIT board does it), and
 * a test device — a configuration that exercises every access rule, with
 * known symmetric keys — provisioned only with generic commands.
 */
import assert from 'node:assert/strict'
import { fromHex, toHex } from '../../src/bytes/index.ts'
import * as C from '../../vaults/atecc608/commands.ts'
import { ConfigZone, hopsealConfig, setU16 } from '../../vaults/atecc608/config.ts'
import { ConfigOffset } from '../../vaults/atecc608/constants.ts'
import { atcaCrc16 } from '../../vaults/atecc608/crc.ts'
import { parseResponse } from '../../vaults/atecc608/packet.ts'
import { configWriteCommands, dataWriteCommands } from '../../vaults/atecc608/provision.ts'
import { Atecc608Sim, type SimOptions } from '../../hil-sim/atecc608/index.ts'

export const h = (s: string): Uint8Array => fromHex(s.replace(/[^0-9A-Fa-f]/g, ''))
export const HEX = (b: Uint8Array): string => toHex(b).toUpperCase()
/** Status packets (spec A2). */
export const OK = '04000340'
export const MISCOMPARE = '040100C3'
export const PARSE = '04038342'
export const EXEC = '040F2342'

/** One command cycle: wake, the packet, the response, idle. */
export function talk(sim: Atecc608Sim, pkt: Uint8Array): Uint8Array {
  sim.link.wake()
  assert.notEqual(sim.link.receive(pkt), 'asleep')
  const r = sim.link.response()
  sim.link.idle()
  return r
}
export const talkHex = (sim: Atecc608Sim, pkt: Uint8Array): string => HEX(talk(sim, pkt))
/** The data of a successful data response (asserts it is one). */
export function talkData(sim: Atecc608Sim, pkt: Uint8Array): Uint8Array {
  const r = parseResponse(talk(sim, pkt))
  assert.equal(r.kind, 'data', `expected data, got status ${r.kind === 'status' ? r.status.toString(16) : ''}`)
  return (r as { data: Uint8Array }).data
}

/** The serial number of the golden test device. */
export const TEST_SN = h('01 23 A1 B2 C3 D4 E5 F6 EE')
export const IO_KEY = h('101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F')
export const SYM_KEY = h('404142434445464748494A4B4C4D4E4F505152535455565758595A5B5C5D5E5F')
export const ROLL_KEY = h('606162636465666768696A6B6C6D6E6F707172737475767778797A7B7C7D7E7F')
export const LIMITED_KEY = h('808182838485868788898A8B8C8D8E8F909192939495969798999A9B9C9D9E9F')
export const AES_KEY = h('000102030405060708090A0B0C0D0E0F')
/** A fixed P-256 private key written with PrivWrite into slot 6 (scalar 0x11…11). */
export const PRIV6 = h('1111111111111111111111111111111111111111111111111111111111111111')

/**
 * The test configuration: hopseal's, plus
 * slot 4 ReqAuth (AuthKey 11) · slot 5 PersistentDisable (VolatileKeyPermission 85) ·
 * slot 6 PrivWrite (WriteKey 11) · slot 7 LimitedUse · 9 I/O protection key (clear ECDH still allowed) ·
 * 10 AES key · 11 secret (encrypted read/write with itself) · 12 DeriveKey roll ·
 * 13 DeriveKey create from 11 with a MAC · 14 LimitedUse secret · 15 P-256 public key;
 * ChipOptions 9006 (I/O key slot 9, KDF-AES); SecureBoot FC0B (public key 15, digest in 12, FullDig, latch).
 */
export function testConfig(): Uint8Array {
  const c = hopsealConfig({ ioProtectionKeySlot: 9, requireEncryptedEcdh: false })
  const slot = (s: number, sc: number, kc: number): void => {
    setU16(c, ConfigOffset.SLOT_CONFIG + 2 * s, sc)
    setU16(c, ConfigOffset.KEY_CONFIG + 2 * s, kc)
  }
  slot(4, 0x2087, 0x0bb3)
  slot(5, 0x2087, 0x1033)
  slot(6, 0x4b87, 0x0033)
  slot(7, 0x20a7, 0x0033)
  slot(11, 0x4bcb, 0x001c)
  slot(12, 0x2f8f, 0x001c)
  slot(13, 0xbb8f, 0x001c)
  slot(14, 0x8faf, 0x001c)
  slot(15, 0x0f0f, 0x0030)
  setU16(c, ConfigOffset.CHIP_OPTIONS, 0x9006)
  setU16(c, ConfigOffset.SECURE_BOOT, 0xfc0b)
  c[ConfigOffset.VOLATILE_KEY_PERMISSION] = 0x85
  return c
}

/** The padded 72-byte image of a public key (00000000 ‖ X ‖ 00000000 ‖ Y). */
export function paddedPublicKey(xy: Uint8Array): Uint8Array {
  const img = new Uint8Array(96)
  img.set(xy.subarray(0, 32), 4)
  img.set(xy.subarray(32, 64), 40)
  return img
}

export interface TestDevice {
  sim: Atecc608Sim
  config: Uint8Array
}

/**
 * A factory-fresh simulator provisioned with generic commands only: config
 * writes, Lock config with the CRC read back, 32-byte data writes (slot map,
 * I/O key, symmetric keys, a public key whose last block is partial), PrivWrite
 * in clear, Lock data. `publicKeyXY` goes to slot 15.
 */
export function testDevice(opts: { publicKeyXY?: Uint8Array; lockData?: boolean } & Pick<SimOptions, 'seed' | 'strict' | 'stateFile'> = {}): TestDevice {
  const sim = Atecc608Sim.create({ provisioned: false, serialNumber: TEST_SN, seed: opts.seed ?? 'golden', strict: opts.strict, stateFile: opts.stateFile, config: testConfig() })
  const run = (pkt: Uint8Array): void => assert.equal(talkHex(sim, pkt), OK, `provisioning ${HEX(pkt)}`)
  for (const w of configWriteCommands(testConfig())) run(w.packet)
  const written = new Uint8Array(128)
  for (let b = 0; b < 4; b++) written.set(talkData(sim, C.read(0, C.zoneAddress(b), 32).packet), b * 32)
  run(C.lockConfig(atcaCrc16(written)).packet)
  for (const w of dataWriteCommands(new ConfigZone(written), { ioProtectionKey: IO_KEY })) run(w.packet)
  const block = (b: Uint8Array, from: number): Uint8Array => {
    const out = new Uint8Array(32)
    out.set(b.subarray(from, from + 32))
    return out
  }
  run(C.write(2, C.dataAddress(10, 0), block(AES_KEY, 0)).packet)
  run(C.write(2, C.dataAddress(11, 0), SYM_KEY).packet)
  run(C.write(2, C.dataAddress(12, 0), ROLL_KEY).packet)
  run(C.write(2, C.dataAddress(14, 0), LIMITED_KEY).packet)
  if (opts.publicKeyXY) {
    const img = paddedPublicKey(opts.publicKeyXY)
    for (let b = 0; b < 3; b++) run(C.write(2, C.dataAddress(15, b), block(img, b * 32)).packet)
  }
  const value = new Uint8Array(36)
  value.set(PRIV6, 4)
  run(C.privWrite(6, value).packet)
  if (opts.lockData !== false) run(C.lockData().packet)
  return { sim, config: written }
}
