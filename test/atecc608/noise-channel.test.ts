/**
 * A secure channel with the monitor's identity and Noise static keys inside
 * the simulated ATECC608, against a software-vault phone: XX (first contact,
 * identity attestation signed on the chip) and KK (known peers), one transport
 * message each way; counts the secure-element commands per handshake.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SoftwareVault } from '../../vaults/software/index.ts'
import type { Vault } from '../../src/vault/index.ts'
import { Atecc608Vault, KitTransport, openSerialChannel } from '../../vaults/atecc608/index.ts'
import { Atecc608Sim } from '../../hil-sim/atecc608/index.ts'
import { needSystem } from '../helpers/system.ts'
import { runChannel, type Party } from './handshake.ts'
import { startPtySim } from './pty-harness.ts'

async function parties(monitorVault: Atecc608Vault): Promise<{ monitor: Party; phone: Party }> {
  const identity = (await monitorVault.findKey('identity')) ?? (await monitorVault.generateKey('p256', { label: 'identity', persistent: true }))
  const stat = (await monitorVault.findKey('noise-static')) ?? (await monitorVault.generateKey('p256', { label: 'noise-static', persistent: true }))
  const pv = await SoftwareVault.open({ name: 'phone' })
  return {
    monitor: { vault: monitorVault, identity, static: stat },
    phone: { vault: pv, identity: await pv.generateKey('p256'), static: await pv.generateKey('p256') },
  }
}

function ops(v: Atecc608Vault): { sign: number; ecdh: number; genkey: number } {
  return { sign: v.device.ops.get('Sign') ?? 0, ecdh: v.device.ops.get('ECDH') ?? 0, genkey: v.device.ops.get('GenKey') ?? 0 }
}

describe('Noise P-256 secure channel with keys in the simulated ATECC608', () => {
  it('XX: identities attested by chip signatures, 1 Sign and 1 ECDH on the chip, data both ways', async () => {
    const sim = Atecc608Sim.create({ seed: 'xx' })
    const mv = await Atecc608Vault.open({ transport: await KitTransport.open(sim.kitChannel()) })
    const { monitor, phone } = await parties(mv)
    await mv.publicKey(monitor.identity) // warm the public-key cache
    await mv.publicKey(monitor.static)
    const before = ops(mv)
    const r = await runChannel('XX', monitor, phone)
    const after = ops(mv)
    assert.equal(new TextDecoder().decode(r.phoneGot), 'hr=72bpm')
    assert.equal(new TextDecoder().decode(r.monitorGot), 'ack')
    assert.deepEqual(r.monitorIdentity, await mv.publicKey(monitor.identity))
    assert.equal(after.sign - before.sign, 1, 'one Sign (the identity attestation)')
    assert.equal(after.ecdh - before.ecdh, 1, 'one ECDH (se) with the chip static key')
    assert.ok(after.ecdh - before.ecdh <= 2)
    await mv.close()
  })

  it('KK: no signature, 2 ECDH on the chip, data both ways', async () => {
    const sim = Atecc608Sim.create({ seed: 'kk' })
    const mv = await Atecc608Vault.open({ transport: await KitTransport.open(sim.kitChannel()) })
    const { monitor, phone } = await parties(mv)
    await mv.publicKey(monitor.static)
    const before = ops(mv)
    const r = await runChannel('KK', monitor, phone)
    const after = ops(mv)
    assert.equal(new TextDecoder().decode(r.phoneGot), 'hr=72bpm')
    assert.equal(new TextDecoder().decode(r.monitorGot), 'ack')
    assert.equal(after.sign - before.sign, 0)
    assert.equal(after.ecdh - before.ecdh, 2, 'es is software; ss and se use the chip static key')
    await mv.close()
  })

  it('KK with the ephemeral inside the chip too (GenKey into TempKey, ECDH 0D)', async () => {
    const sim = Atecc608Sim.create({ seed: 'kk-e' })
    const mv = await Atecc608Vault.open({ transport: await KitTransport.open(sim.kitChannel()) })
    const { monitor, phone } = await parties(mv)
    const before = ops(mv)
    const r = await runChannel('KK', monitor, phone, { monitorEphemeral: () => mv.ephemeralKey() })
    const after = ops(mv)
    assert.equal(new TextDecoder().decode(r.phoneGot), 'hr=72bpm')
    assert.equal(after.genkey - before.genkey, 1, 'one GenKey into TempKey')
    assert.equal(after.ecdh - before.ecdh, 4, 'es, ss, ee, se all on the chip')
    await mv.close()
  })

  it('a tampered attestation is refused (the attested key must be the Noise static key)', async () => {
    const sim = Atecc608Sim.create({ seed: 'bad' })
    const mv = await Atecc608Vault.open({ transport: await KitTransport.open(sim.kitChannel()) })
    const { monitor, phone } = await parties(mv)
    // the monitor's "static" is its identity key, but the attestation is checked against the real static: swap them
    const swapped: Party = { ...monitor, static: monitor.identity, identity: await mv.generateKey('p256') }
    const r = await runChannel('XX', swapped, phone) // consistent swap still verifies
    assert.equal(new TextDecoder().decode(r.phoneGot), 'hr=72bpm')
    const lyingVault: Pick<Vault, 'name' | 'publicKey' | 'sign' | 'ecdh'> = {
      name: mv.name,
      publicKey: (h) => mv.publicKey(h),
      sign: async (h, m) => {
        const s = await mv.sign(h, m)
        s[5]! ^= 1 // a signature that does not match
        return s
      },
      ecdh: (h, p) => mv.ecdh(h, p),
    }
    const liar: Party = { ...monitor, vault: lyingVault as Vault }
    await assert.rejects(runChannel('XX', liar, phone), (e: Error & { code?: string }) => e.code === 'IDENTITY_ATTESTATION_BAD_SIGNATURE')
    await mv.close()
  })

  it('XX over a real socat PTY with the simulator in another process, keys found again by label', { skip: needSystem('socat') }, async () => {
    const pty = await startPtySim(['--seed', 'noise-pty'])
    try {
      for (let round = 0; round < 2; round++) {
        const mv = await Atecc608Vault.open({ transport: await KitTransport.open(await openSerialChannel(pty.hostPath)) })
        const { monitor, phone } = await parties(mv)
        if (round === 1) assert.ok(monitor.identity.persistent)
        const r = await runChannel('XX', monitor, phone)
        assert.equal(new TextDecoder().decode(r.phoneGot), 'hr=72bpm')
        assert.equal(mv.slotUsage().total - mv.slotUsage().free, 2, 'identity and static reused after reopen')
        await mv.close()
      }
    } finally {
      await pty.stop()
    }
  })
})
