/**
 * Fault injection and recovery (issue 7 "Bad input and faults"): corrupted
 * packets both ways, busy/NACK, a watchdog expiry between Nonce and Sign,
 * a device that stops answering mid-command, self-test failure, ECC faults,
 * retries running out. Typed errors, retries where the spec allows, no hang.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { toHex } from '../../src/bytes/index.ts'
import { Atecc608Vault, I2cTransport, KitTransport, Opcode, type Transport } from '../../vaults/atecc608/index.ts'
import * as C from '../../vaults/atecc608/commands.ts'
import { Atecc608Sim, type Clock, type Fault } from '../../hil-sim/atecc608/index.ts'

const node = cryptoProvider('node')
const msg = new TextEncoder().encode('fault tolerant')
const code = (c: string) => (e: Error & { code?: string }) => e.code === c

type Kind = 'kit' | 'i2c'
/** A vault on the simulator; with `clock`, the I²C driver polls and times out on that clock instead of the wall. */
async function open(kind: Kind, sim: Atecc608Sim, timeoutMs?: number, clock?: Clock): Promise<Atecc608Vault> {
  const transport: Transport = kind === 'kit' ? await KitTransport.open(sim.kitChannel()) : new I2cTransport(sim.i2cBus(), { wakeDelayMs: 0, ...(clock ? { sleep: clock.sleep, now: clock.now } : {}) })
  return Atecc608Vault.open({ transport, timeoutMs })
}

/** A simulated clock: sleep advances it and resolves at once. */
function fakeClock(): Clock {
  let t = 0
  return {
    now: () => t,
    sleep: async (ms) => {
      t += ms
    },
  }
}

/** Resolves (as a microtask, before any timer) when the device receives a command with `opcode`. */
function arrival(sim: Atecc608Sim, opcode: number): Promise<void> {
  return new Promise((resolve) => {
    const receive = sim.link.receive.bind(sim.link)
    sim.link.receive = (pkt) => {
      const r = receive(pkt)
      if (pkt[1] === opcode) resolve()
      return r
    }
  })
}

async function signsAfter(kind: Kind, fault: Fault, minRecoveries = 1): Promise<void> {
  const sim = Atecc608Sim.create({ seed: `f-${fault.kind}` })
  const v = await open(kind, sim)
  const h = await v.generateKey('p256')
  const pub = await v.publicKey(h)
  const before = v.device.recoveries
  sim.injectFault(fault)
  const sig = await v.sign(h, msg)
  assert.ok(node.verify('p256', pub, msg, sig), `${kind} ${fault.kind}: signature verifies`)
  assert.ok(v.device.recoveries - before >= minRecoveries, `${kind} ${fault.kind}: expected a recovery, got ${v.device.recoveries - before}`)
  assert.equal(sim.faults.pending, 0, 'the fault was consumed')
  await v.close()
}

for (const kind of ['kit', 'i2c'] as const) {
  describe(`ATECC608 fault recovery over ${kind}`, () => {
    it('a corrupted response CRC: the Sign sequence is re-run', () => signsAfter(kind, { kind: 'corrupt-response', opcode: Opcode.SIGN }))
    it('a command corrupted on the way in (device answers 04 FF 01 42): retried', () => signsAfter(kind, { kind: 'corrupt-command', opcode: Opcode.NONCE }))
    it('the watchdog expires between Nonce and Sign (MsgDigBuf lost): the sequence is re-run', () => signsAfter(kind, { kind: 'watchdog', opcode: Opcode.SIGN }))
    it('watchdog about to expire (EE): retried after idle', () => signsAfter(kind, { kind: 'watchdog-warning', opcode: Opcode.SIGN }))
    it('ECC fault (05): retried', () => signsAfter(kind, { kind: 'ecc-fault', opcode: Opcode.SIGN }))
    it('self-test failure mode (wake 04 07 40 C2): SelfTest is run, then the command', () => signsAfter(kind, { kind: 'selftest-fail' }))
    it('busy for 40 ms longer than the M0 time: the driver keeps polling', () => signsAfter(kind, { kind: 'busy', ms: 40, opcode: Opcode.SIGN }, 0))
    it('a NACKed command write: retried', () => signsAfter(kind, { kind: 'nack', count: 1 }))

    // a hang shows as a test timeout, never as a wall-clock assertion (I²C: the driver's deadline runs on a simulated clock)
    it('a device that stops answering mid-command: VAULT_DEVICE_TIMEOUT, then the next call recovers', { timeout: 60_000 }, async () => {
      const clock = kind === 'i2c' ? fakeClock() : undefined
      const sim = Atecc608Sim.create({ seed: 'hang' })
      const v = await open(kind, sim, 150, clock)
      const h = await v.generateKey('p256')
      sim.injectFault({ kind: 'no-response', opcode: Opcode.ECDH })
      const peer = node.generateKeyPair('p256')
      const t0 = clock?.now() ?? 0
      await assert.rejects(v.ecdh(h, peer.publicKey), code('VAULT_DEVICE_TIMEOUT'))
      if (clock) assert.ok(clock.now() - t0 >= 150, 'the driver gave up at its deadline on its own clock')
      assert.equal(sim.faults.pending, 0, 'the hang happened')
      assert.deepEqual(await v.ecdh(h, peer.publicKey), node.dh(peer, await v.publicKey(h)))
      await v.close()
    })

    it('an AbortSignal ends a wait on a hung device at once', { timeout: 60_000 }, async () => {
      const sim = Atecc608Sim.create({ seed: 'abort' })
      const v = await open(kind, sim, 60_000)
      const h = await v.generateKey('p256')
      sim.injectFault({ kind: 'no-response', opcode: Opcode.SIGN })
      const ac = new AbortController()
      const hung = arrival(sim, Opcode.SIGN)
      const p = v.sign(h, msg, { signal: ac.signal })
      await hung // the device now hangs in the Sign: abort then (not after a guessed delay: the fault must be consumed)
      ac.abort()
      await assert.rejects(p, code('ABORTED'))
      assert.ok(node.verify('p256', await v.publicKey(h), msg, await v.sign(h, msg)), 'usable afterwards')
      await v.close()
    })

    it('retries run out: a typed VAULT_DEVICE_ERROR, never a hang', async () => {
      const sim = Atecc608Sim.create({ seed: 'many' })
      const v = await open(kind, sim)
      const h = await v.generateKey('p256')
      for (let i = 0; i < 10; i++) sim.injectFault({ kind: 'corrupt-response', opcode: Opcode.SIGN })
      await assert.rejects(v.sign(h, msg), code('VAULT_DEVICE_ERROR'))
      await v.close()
    })

    it('a self-test that keeps failing is reported, not retried forever', async () => {
      const sim = Atecc608Sim.create({ seed: 'st' })
      const v = await open(kind, sim)
      const h = await v.generateKey('p256')
      sim.injectFault({ kind: 'selftest-fail', mask: 0x02 })
      await assert.rejects(v.sign(h, msg), (e: Error & { code?: string }) => e.code === 'VAULT_DEVICE_ERROR' && /self-test/.test(e.message))
      await v.close()
    })
  })
}

describe('ATECC608 watchdog on a clock (spec A2)', () => {
  it('expires 1.3 s after a wake without idle: state lost and the device asleep; idle resets it', () => {
    let now = 0
    const clock: Clock = { now: () => now, sleep: async () => undefined }
    const sim = Atecc608Sim.create({ seed: 'wd', clock })
    sim.link.wake()
    sim.link.receive(C.genKeyPrivate(2).packet)
    sim.link.idle()
    sim.link.wake()
    assert.equal(sim.link.receive(C.noncePassthrough(new Uint8Array(32).fill(1)).packet), 0)
    now += 1200
    // 100 ms left, Sign needs 115 ms at M0: the device answers EE (spec A2)
    sim.link.receive(C.signExternal(2).packet)
    assert.equal(toHex(sim.link.response()), '04ee3141')
    now += 200
    assert.equal(sim.link.receive(C.signExternal(2).packet), 'asleep')
    sim.link.wake()
    sim.link.receive(C.signExternal(2).packet)
    assert.equal(toHex(sim.link.response()), '040f2342') // MsgDigBuf was lost with the watchdog
    sim.link.idle()
    now += 10_000 // idle: no watchdog running
    sim.link.wake()
    sim.link.receive(C.info().packet)
    assert.equal(toHex(sim.link.response()), '07000060028038')
  })
})

describe('ATECC608 one command at a time', () => {
  it('a call queued behind a hung command is aborted at once by its own signal', { timeout: 60_000 }, async () => {
    const sim = Atecc608Sim.create({ seed: 'queue' })
    const v = await open('kit', sim, 400)
    const h = await v.generateKey('p256')
    sim.injectFault({ kind: 'no-response', opcode: Opcode.SIGN })
    const signArrived = arrival(sim, Opcode.SIGN)
    const hung = v.sign(h, msg)
    let hungSettled = false
    hung.then(
      () => (hungSettled = true),
      () => (hungSettled = true),
    )
    // resumes as a microtask when the Sign reaches the device: no timer (the 400 ms answer timeout) can have run yet
    await signArrived
    const ac = new AbortController()
    const queued = v.random(32, { signal: ac.signal })
    ac.abort()
    await assert.rejects(queued, code('ABORTED'))
    assert.equal(hungSettled, false, 'the queued call did not wait for the hung command to time out')
    await assert.rejects(hung, code('VAULT_DEVICE_TIMEOUT'))
    assert.equal((await v.random(32)).length, 32)
    await v.close()
  })
})
