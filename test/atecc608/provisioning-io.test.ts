/**
 * Provisioning with generic commands only (issue 16), and the I/O protection
 * key path through the vault: with a key provisioned and ChipOptions.ECDHProt
 * = 1, every ECDH result crosses the bus encrypted (mode 0E), the vault
 * decrypts it, and no KIT line in either direction carries the secret.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { concat, toHex } from '../../src/bytes/index.ts'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { runVaultCompliance } from '../../src/vault/compliance.ts'
import { nodeTestRunner } from '../../targets/node/vault-compliance.ts'
import { Atecc608Vault, KitTransport, Opcode, provision } from '../../vaults/atecc608/index.ts'
import * as C from '../../vaults/atecc608/commands.ts'
import { hopsealConfig } from '../../vaults/atecc608/config.ts'
import { ioDecrypt } from '../../vaults/atecc608/host.ts'
import { Atecc608Sim } from '../../hil-sim/atecc608/index.ts'
import { HEX, h, talk, talkData, talkHex } from './sim-helpers.ts'
import { runChannel } from './handshake.ts'
import { SoftwareVault } from '../../vaults/software/index.ts'

const node = cryptoProvider('node')
const SN = h('01 23 5A 5A 5A 5A 5A 5A EE')
const IO = h('A0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF')
const code = (c: string) => (e: Error & { code?: string }) => e.code === c

describe('ATECC608 provisioning with generic commands only', () => {
  it('the simulator’s default device is the state the driver’s provisioning makes of a factory-fresh chip', async () => {
    const viaSim = Atecc608Sim.create({ serialNumber: SN, seed: 'same' })
    const fresh = Atecc608Sim.create({ serialNumber: SN, seed: 'same', provisioned: false })
    const rep = await provision({ transport: await KitTransport.open(fresh.kitChannel()), confirmIrreversible: true })
    assert.deepEqual(rep.steps, ['config-written', 'config-locked', 'map-written', 'data-locked'])
    assert.equal(HEX(fresh.engine.state.config), HEX(viaSim.engine.state.config))
    assert.equal(HEX(fresh.engine.state.otp), HEX(viaSim.engine.state.otp))
    assert.deepEqual(fresh.engine.state.data.map(HEX), viaSim.engine.state.data.map(HEX))
    // the image hopseal uses: its configuration, locked, with an empty slot map
    const want = hopsealConfig()
    assert.equal(HEX(viaSim.engine.state.config.subarray(16, 84)), HEX(want.subarray(16, 84)))
    assert.equal(HEX(viaSim.engine.state.config.subarray(86, 88)), '0000')
    assert.equal(HEX(viaSim.engine.state.config.subarray(88, 128)), HEX(want.subarray(88, 128)))
  })

  it('only Read, Write and Lock reached the device (and GenKey for keys asked for): no shortcut', async () => {
    const viaSim = Atecc608Sim.create({ seed: 'ops' })
    assert.deepEqual([...viaSim.opCounts().keys()].sort(), [Opcode.READ, Opcode.WRITE, Opcode.LOCK].sort())
    assert.equal(viaSim.opCounts().get(Opcode.LOCK), 2)
    const fresh = Atecc608Sim.create({ seed: 'ops', provisioned: false })
    await provision({ transport: await KitTransport.open(fresh.kitChannel()), confirmIrreversible: true, keys: ['identity'] })
    assert.deepEqual([...fresh.opCounts().keys()].sort(), [Opcode.READ, Opcode.WRITE, Opcode.LOCK, Opcode.GENKEY].sort())
    // and a vault opens on it and finds the key by label
    const v = await Atecc608Vault.open({ transport: await KitTransport.open(fresh.kitChannel()) })
    assert.ok(await v.findKey('identity'))
    await v.close()
  })
})

describe('ATECC608 I/O protection key: ECDH output encrypted on the bus (mode 0E)', () => {
  async function ioDevice(): Promise<Atecc608Sim> {
    const sim = Atecc608Sim.create({ serialNumber: SN, seed: 'io', provisioned: false })
    const rep = await provision({ transport: await KitTransport.open(sim.kitChannel()), confirmIrreversible: true, ioProtectionKey: IO, keys: ['static'] })
    assert.deepEqual(rep.steps, ['config-written', 'config-locked', 'map-written', 'io-key-written', 'data-locked'])
    return sim
  }

  it('provisioning enables the key in slot 9 with ECDHProt 1; the key is never readable; a clear-mode ECDH (0C) is answered encrypted', async () => {
    const sim = await ioDevice()
    assert.equal(HEX(sim.engine.state.config.subarray(90, 92)), '0291') // ChipOptions 9102: key slot 9, ECDHProt 1, IOProtKeyEnable
    assert.equal(talkHex(sim, C.read(2, C.dataAddress(9, 0), 32).packet), '040F2342')
    const pub = talkData(sim, C.genKeyPrivate(0).packet)
    const peer = node.generateKeyPair('p256')
    const r = talk(sim, C.ecdh(0, node.p256Point(peer.publicKey, false).slice(1)).packet)
    assert.equal(r[0], 0x43, '64 bytes: encrypted secret ‖ OutNonce')
    assert.deepEqual(ioDecrypt(IO, r.subarray(33, 65), r.subarray(1, 33)), node.dh(peer, concat(Uint8Array.of(4), pub)))
  })

  it('the vault refuses to open without the key, and with it does ECDH 0E: right secret, never in clear on the KIT lines', async () => {
    const sim = await ioDevice()
    await assert.rejects(Atecc608Vault.open({ transport: await KitTransport.open(sim.kitChannel()) }), code('INVALID_ARGUMENT'))
    const channel = sim.kitChannel()
    const transport = await KitTransport.open(channel)
    const v = await Atecc608Vault.open({ transport, ioProtectionKey: IO })
    assert.equal(v.ecdhEncrypted, true)
    const k = (await v.findKey('static'))!
    const peer = node.generateKeyPair('p256')
    const secret = await v.ecdh(k, peer.publicKey)
    assert.deepEqual(secret, node.dh(peer, await v.publicKey(k)))
    const hostLines = transport.sentLines.join('\n').toUpperCase()
    const boardLines = channel.server.sent.join('').toUpperCase()
    assert.match(hostLines, /E:T\(47430E0[0-7]00/, 'the host asked for encrypted output (mode 0E)')
    assert.ok(!hostLines.includes(toHex(secret).toUpperCase()) && !boardLines.includes(toHex(secret).toUpperCase()), 'the secret never crossed the bus in clear')
    // ephemerals in TempKey use mode 0F the same way
    const eph = await v.ephemeralKey()
    assert.deepEqual(await eph.dh(peer.publicKey), node.dh(peer, eph.publicKey))
    assert.match(transport.sentLines.join('\n').toUpperCase(), /E:T\(47430F0000/)
    await v.close()
  })

  it('a Noise KK handshake runs with the static key’s DH encrypted on the bus', async () => {
    const sim = await ioDevice()
    const mv = await Atecc608Vault.open({ transport: await KitTransport.open(sim.kitChannel()), ioProtectionKey: IO })
    const pv = await SoftwareVault.open({ name: 'phone' })
    const monitor = { vault: mv, identity: await mv.generateKey('p256'), static: (await mv.findKey('static'))! }
    const phone = { vault: pv, identity: await pv.generateKey('p256'), static: await pv.generateKey('p256') }
    const r = await runChannel('KK', monitor, phone)
    assert.equal(new TextDecoder().decode(r.phoneGot).length > 0, true)
    await mv.close()
    await pv.close()
  })

  it('a TempKey ephemeral lost to a later Sign (its Nonce clears TempKey.Valid) is VAULT_KEY_NOT_FOUND, not a wrong secret', async () => {
    const sim = Atecc608Sim.create({ seed: 'lost-eph' })
    const v = await Atecc608Vault.open({ transport: await KitTransport.open(sim.kitChannel()) })
    const k = await v.generateKey('p256')
    const eph = await v.ephemeralKey()
    await v.sign(k, new TextEncoder().encode('between'))
    await assert.rejects(eph.dh(node.generateKeyPair('p256').publicKey), code('VAULT_KEY_NOT_FOUND'))
    await v.close()
  })
})

{
  // the shared compliance suite on a chip with the I/O protection key: every ECDH through the vault is mode 0E
  const shared = { sim: undefined as Atecc608Sim | undefined }
  runVaultCompliance({
    name: 'atecc608 simulator with an I/O protection key (ECDH output encrypted on the bus)',
    open: async () => {
      if (!shared.sim) {
        shared.sim = Atecc608Sim.create({ seed: 'io-compliance', ioProtectionKey: IO })
        assert.equal(talkHex(shared.sim, C.read(0, C.zoneAddress(2, 6), 4).packet).slice(2, 10), 'FFFF0291') // bytes 88–91: SlotLocked, ChipOptions
      }
      return Atecc608Vault.open({ transport: await KitTransport.open(shared.sim.kitChannel()), ioProtectionKey: IO })
    },
    concurrency: 4,
  }, nodeTestRunner)
}
