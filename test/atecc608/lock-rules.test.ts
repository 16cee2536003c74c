/**
 * Lock rules (spec A3 "Lock-state behaviour", with and without strict mode),
 * provisioning, and the private key's secrecy: no command sequence tried —
 * every read address, every ECDH copy mode, and a seeded fuzz of thousands of
 * random commands — ever returns the private scalar.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { toHex } from '../../src/bytes/index.ts'
import { Atecc608Vault, KitTransport, provision } from '../../vaults/atecc608/index.ts'
import * as C from '../../vaults/atecc608/commands.ts'
import { buildCommand } from '../../vaults/atecc608/packet.ts'
import { Atecc608Sim, deterministicRng } from '../../hil-sim/atecc608/index.ts'

const HEX = (b: Uint8Array): string => toHex(b).toUpperCase()
const OK = '04000340'
const EXEC = '040F2342'
const PARSE = '04038342'

function talk(sim: Atecc608Sim, pkt: Uint8Array): string {
  sim.link.wake()
  assert.notEqual(sim.link.receive(pkt), 'asleep')
  const r = sim.link.response()
  sim.link.idle()
  return HEX(r)
}
const code = (c: string) => (e: Error & { code?: string }) => e.code === c

describe('ATECC608 lock rules and provisioning', () => {
  it('refuses to open an unprovisioned device, and provisioning needs the explicit confirmation', async () => {
    const sim = Atecc608Sim.create({ provisioned: false })
    await assert.rejects(Atecc608Vault.open({ transport: await KitTransport.open(sim.kitChannel()) }), code('VAULT_DEVICE_ERROR'))
    await assert.rejects(provision({ transport: await KitTransport.open(sim.kitChannel()), confirmIrreversible: false }), code('INVALID_ARGUMENT'))
    assert.equal(talk(sim, C.read(0, 0x15, 4).packet).slice(2, 10), '00005555') // nothing was locked
  })

  it('provisions: writes the documented config, locks config (CRC) and data, records the slot map and labelled keys; idempotent', async () => {
    const sim = Atecc608Sim.create({ provisioned: false, seed: 'prov', strict: true })
    const rep = await provision({ transport: await KitTransport.open(sim.kitChannel()), confirmIrreversible: true, keys: ['identity', 'noise-static'] })
    assert.deepEqual(rep.steps, ['config-written', 'config-locked', 'map-written', 'data-locked'])
    assert.deepEqual(rep.keySlots, [0, 1, 2, 3, 4, 5, 6, 7])
    assert.equal(rep.keys.length, 2)
    assert.equal(rep.revision, '00006002')
    const v = await Atecc608Vault.open({ transport: await KitTransport.open(sim.kitChannel()) })
    const id = await v.findKey('identity')
    assert.ok(id?.persistent)
    assert.equal(toHex(await v.publicKey(id)), rep.keys[0]!.publicKey)
    await v.close()
    const again = await provision({ transport: await KitTransport.open(sim.kitChannel()), confirmIrreversible: true, keys: ['identity'] })
    assert.deepEqual(again.steps, ['already-provisioned'])
    assert.equal(again.keys[0]!.publicKey, rep.keys[0]!.publicKey)
  })

  it('config zone: bytes 0–15 and 84–87 are never written; nothing after the config lock', () => {
    const sim = Atecc608Sim.create({ provisioned: false })
    assert.equal(talk(sim, C.write(0, C.zoneAddress(0, 0), new Uint8Array(4)).packet), EXEC) // serial number
    assert.equal(talk(sim, C.write(0, C.zoneAddress(0, 1), new Uint8Array(4)).packet), EXEC) // revision
    assert.equal(talk(sim, C.write(0, C.zoneAddress(2, 5), new Uint8Array(4)).packet), EXEC) // lock bytes
    assert.equal(talk(sim, C.write(0, C.zoneAddress(2), new Uint8Array(32)).packet), EXEC) // block 2 covers 84–87
    assert.equal(talk(sim, C.write(0, C.zoneAddress(0, 4), Uint8Array.of(0xc0, 0, 0xa1, 0)).packet), OK)
    assert.equal(talk(sim, C.write(2, C.dataAddress(8, 0), new Uint8Array(32)).packet), EXEC) // data before config lock
    assert.equal(talk(sim, C.lockConfig(0x1234).packet), EXEC) // wrong summary CRC: not locked
    assert.equal(talk(sim, C.read(0, 0x15, 4).packet).slice(2, 10), '00005555')
    assert.equal(talk(sim, C.lockConfig().packet), OK)
    assert.equal(talk(sim, C.write(0, C.zoneAddress(0, 4), Uint8Array.of(0xc0, 0, 0xa1, 0)).packet), EXEC)
    assert.equal(talk(sim, C.write(0, C.zoneAddress(3), new Uint8Array(32)).packet), EXEC)
  })

  it('data zone: 32-byte aligned clear writes before the data lock; after it only slots with WriteConfig Always, never private keys or OTP', () => {
    const sim = Atecc608Sim.create({ provisioned: false })
    assert.equal(talk(sim, C.lockConfig().packet), OK)
    assert.equal(talk(sim, C.write(2, C.dataAddress(8, 0, 1), new Uint8Array(4)).packet), EXEC) // 4-byte before lock
    assert.equal(talk(sim, C.write(2, C.dataAddress(8, 1), new Uint8Array(32).fill(7)).packet), OK)
    assert.equal(talk(sim, C.write(1, C.zoneAddress(0), new Uint8Array(32).fill(1)).packet), OK) // OTP before lock
    assert.equal(talk(sim, C.lockData().packet), OK)
    assert.equal(talk(sim, C.write(2, C.dataAddress(8, 0, 1), new Uint8Array(4).fill(9)).packet), OK) // slot 8: Always
    assert.equal(talk(sim, C.write(2, C.dataAddress(2, 0), new Uint8Array(32)).packet), EXEC) // private key slot
    assert.equal(talk(sim, C.write(2, C.dataAddress(9, 0), new Uint8Array(32)).packet), EXEC) // WriteConfig not Always
    assert.equal(talk(sim, C.write(1, C.zoneAddress(0), new Uint8Array(32)).packet), EXEC) // OTP after lock
    assert.equal(talk(sim, C.write(2, C.dataAddress(8, 0), new Uint8Array(32).fill(3)).packet), OK)
    assert.equal(talk(sim, C.read(2, C.dataAddress(8, 1), 32).packet).slice(2, 66), '07'.repeat(32)) // the pre-lock write stuck
    assert.equal(talk(sim, C.lockData().packet), EXEC) // twice
    assert.equal(talk(sim, C.lockSlot(8).packet), OK) // KeyConfig 0x3C is lockable
    assert.equal(talk(sim, C.write(2, C.dataAddress(8, 0, 1), new Uint8Array(4)).packet), EXEC) // locked slot
    assert.equal(talk(sim, C.lockSlot(8).packet), EXEC)
  })

  it('strict mode (†): GenKey needs the config lock, Sign/ECDH/data reads the data lock; lax mode allows them', () => {
    for (const strict of [true, false]) {
      const sim = Atecc608Sim.create({ provisioned: false, strict, seed: 's' })
      assert.equal(talk(sim, C.genKeyPrivate(2).packet).slice(0, 2), strict ? '04' : '43')
      assert.equal(talk(sim, C.lockConfig().packet), OK)
      assert.equal(talk(sim, C.genKeyPrivate(2).packet).slice(0, 2), '43')
      assert.equal(talk(sim, C.noncePassthrough(new Uint8Array(32).fill(1)).packet), OK)
      assert.equal(talk(sim, C.signExternal(2).packet).slice(0, 2), strict ? '04' : '43')
      assert.equal(talk(sim, C.ecdh(2, new Uint8Array(64)).packet), EXEC) // (0,0) is not on the curve in either mode
      assert.equal(talk(sim, C.read(2, C.dataAddress(8, 0), 32).packet).slice(0, 2), strict ? '04' : '23')
      // lax mode reads data before the data lock, but never a private key (slot 2 holds one now)
      assert.equal(talk(sim, C.read(2, C.dataAddress(2, 0), 32).packet), EXEC)
      assert.equal(talk(sim, C.read(2, C.dataAddress(2, 1, 0), 4).packet), EXEC)
    }
  })

  it('a locked slot refuses GenKey; a slot without the GenKey bit too', () => {
    const sim = Atecc608Sim.create({ seed: 'l' })
    assert.equal(talk(sim, C.genKeyPrivate(2).packet).slice(0, 2), '43')
    assert.equal(talk(sim, C.lockSlot(2).packet), OK)
    assert.equal(talk(sim, C.genKeyPrivate(2).packet), EXEC)
    assert.equal(talk(sim, C.genKeyPublic(2).packet).slice(0, 2), '43') // its public key is still there
    assert.equal(talk(sim, C.genKeyPrivate(9).packet), EXEC) // not a private-key slot
    assert.equal(talk(sim, C.genKeyPublic(3).packet), EXEC) // no key yet
  })

  it('unknown opcodes and bad parameters answer 03; bad CRC or count 04 FF 01 42', () => {
    const sim = Atecc608Sim.create({ seed: 'p' })
    assert.equal(talk(sim, buildCommand(0x99, 0, 0)), PARSE)
    assert.equal(talk(sim, buildCommand(0x1b, 0x05, 0)), PARSE) // Random mode 5
    assert.equal(talk(sim, buildCommand(0x16, 0x43, 0, new Uint8Array(31))), PARSE) // Nonce wrong size
    assert.equal(talk(sim, buildCommand(0x02, 0x82, (13 << 8) | (8 << 3))), PARSE) // beyond slot 8 (block 13)
    assert.equal(talk(sim, buildCommand(0x24, 0x00, 2)), PARSE) // counter 2
    const bad = C.info().packet.slice()
    bad[6]! ^= 1
    assert.equal(talk(sim, bad), '04FF0142')
    const long = Uint8Array.of(...C.info().packet, 0)
    assert.equal(talk(sim, long), '04FF0142') // count 7, 8 bytes received
    assert.equal(talk(sim, Uint8Array.of(3, 0x30, 0)), '04FF0142')
  })

  it('the private key is never readable: every read address, ECDH copy modes, and 20 000 random commands', () => {
    const sim = Atecc608Sim.create({ seed: 'secret' })
    for (const s of [0, 2, 7]) talk(sim, C.genKeyPrivate(s).packet)
    const scalars = [0, 2, 7].map((s) => HEX(sim.engine.state.data[s]!.subarray(4, 36)))
    const leaks = (r: string): boolean => scalars.some((k) => r.includes(k.slice(0, 16)) || r.includes(k.slice(16, 32)) || r.includes(k.slice(32, 48)) || r.includes(k.slice(48, 64)))
    let tried = 0
    for (let slot = 0; slot < 16; slot++) {
      for (let block = 0; block < 13; block++) {
        for (let word = 0; word < 8; word++) {
          for (const len of [4, 32] as const) {
            if (len === 32 && word !== 0) continue
            const r = talk(sim, C.read(2, (block << 8) | (slot << 3) | word, len).packet)
            assert.ok(!leaks(r), `read slot ${slot} block ${block} word ${word}`)
            if (slot < 8 && r.length > 8 && (block * 32 + word * 4 < 36)) assert.fail(`private slot ${slot} readable`)
            tried++
          }
        }
      }
    }
    const pub = talk(sim, C.genKeyPublic(0).packet).slice(2, 130)
    for (let mode = 0; mode < 16; mode++) {
      const r = talk(sim, buildCommand(0x43, mode, 2, Uint8Array.from(Buffer.from(pub, 'hex'))))
      assert.ok(!leaks(r), `ECDH mode ${mode}`)
      tried++
    }
    // seeded fuzz over every opcode the engine knows, random modes, slots and data lengths
    const rnd = deterministicRng('fuzz')
    const opcodes = [0x02, 0x08, 0x12, 0x15, 0x16, 0x17, 0x1b, 0x1c, 0x20, 0x24, 0x28, 0x30, 0x40, 0x41, 0x43, 0x45, 0x46, 0x47, 0x51, 0x56, 0x77, 0x80]
    const lens = [0, 3, 4, 16, 20, 32, 64, 128]
    for (let i = 0; i < 21_000; i++) {
      const b = rnd(4)
      const op = opcodes[b[0]! % opcodes.length]!
      const p2 = b[2]! & 1 ? b[3]! & 0x0f : ((b[3]! << 8) | b[2]!) & 0x1fff
      const data = rnd(lens[b[3]! % lens.length]!)
      const pkt = buildCommand(op, b[1]!, p2, data)
      if (op === 0x17 || (op === 0x40 && (b[1]! & 0x04))) continue // do not lock or regenerate the keys under test
      const r = talk(sim, pkt)
      assert.ok(!leaks(r), `fuzz command ${HEX(pkt)}`)
      tried++
    }
    console.log(`ATECC608 private-key secrecy: ${tried} command sequences tried, 0 leaked`)
    assert.ok(tried > 20_000, `expected more than 20 000 sequences, got ${tried}`)
  })

  it('a corrupt state file is VAULT_STORE_CORRUPT, not a crash', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hopseal-atecc-state-'))
    try {
      const f = join(dir, 's.json')
      writeFileSync(f, '{"format":"hopseal-atecc608-sim/1","config":"00"}')
      assert.throws(() => Atecc608Sim.create({ stateFile: f }), code('VAULT_STORE_CORRUPT'))
      writeFileSync(f, 'not json')
      assert.throws(() => Atecc608Sim.create({ stateFile: f }), code('VAULT_STORE_CORRUPT'))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
