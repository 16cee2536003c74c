/**
 * Atecc608Vault.nextCounter(): the chip's monotonic Counter 1 as a persistent
 * counter (Counter, mode 01 increment, KeyID 0001). Golden packets on both
 * sides, the value surviving a simulator restart from its state file, the
 * maximum, and Counter 0 left alone.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Atecc608Vault, I2cTransport, KitTransport, hopsealConfig } from '../../vaults/atecc608/index.ts'
import * as C from '../../vaults/atecc608/commands.ts'
import { COUNTER_MAX, ConfigOffset } from '../../vaults/atecc608/constants.ts'
import { Atecc608Sim } from '../../hil-sim/atecc608/index.ts'
import { encodeCounter, readCounter } from '../../hil-sim/atecc608/counters.ts'
import { HEX, h, talkHex } from './sim-helpers.ts'

const COUNTER1_INC = '07 24 01 01 00 06 F7'
const COUNTER1_READ = '07 24 00 01 00 05 7D'
const code = (c: string) => (e: Error & { code?: string }) => e.code === c

async function kitVault(sim: Atecc608Sim): Promise<{ vault: Atecc608Vault; transport: KitTransport }> {
  const transport = await KitTransport.open(sim.kitChannel())
  return { vault: await Atecc608Vault.open({ transport }), transport }
}

describe('Atecc608Vault.nextCounter: Counter 1, mode 01', () => {
  it('driver: the builder and the KIT line are the Counter(increment, 1) packet byte for byte', async () => {
    assert.equal(HEX(C.counter(1, true).packet), COUNTER1_INC.replace(/ /g, ''))
    assert.equal(HEX(C.counter(1, false).packet), COUNTER1_READ.replace(/ /g, ''))
    const sim = Atecc608Sim.create({ seed: 'next-counter-golden' })
    const { vault, transport } = await kitVault(sim)
    const before = transport.sentLines.length
    assert.equal(await vault.nextCounter(), 1)
    // one command cycle as cryptoauthlib runs it: wake, the packet, idle (spec A2)
    assert.deepEqual(transport.sentLines.slice(before), ['E:w()', 'E:t(072401010006F7)', 'E:i()'])
    await vault.close()
  })

  it('simulator: answers 07 01000000 3C 2D, then 2, 3; config bytes 60–67 move, Counter 0 does not', () => {
    const sim = Atecc608Sim.create({ seed: 'next-counter-sim' })
    assert.equal(talkHex(sim, h(COUNTER1_INC)), '07010000003C2D')
    assert.equal(talkHex(sim, h(COUNTER1_INC)), '07020000001E2D')
    assert.equal(talkHex(sim, h(COUNTER1_INC)), '070300000021AD')
    assert.equal(talkHex(sim, h(COUNTER1_READ)), '070300000021AD')
    assert.equal(HEX(sim.engine.state.config.subarray(60, 68)), HEX(encodeCounter(3)))
    assert.equal(readCounter(sim.engine.state.config, 0), 0)
  })

  it('counts up 1, 2, 3 through the vault, over KIT and over I²C, and leaves Counter 0 alone', async () => {
    for (const kind of ['kit', 'i2c'] as const) {
      const sim = Atecc608Sim.create({ seed: `next-counter-${kind}` })
      const transport = kind === 'kit' ? await KitTransport.open(sim.kitChannel()) : new I2cTransport(sim.i2cBus(), { wakeDelayMs: 0 })
      const vault = await Atecc608Vault.open({ transport })
      const got = [await vault.nextCounter(), await vault.nextCounter(), await vault.nextCounter()]
      assert.deepEqual(got, [1, 2, 3], kind)
      assert.equal(readCounter(sim.engine.state.config, 0), 0, `${kind}: Counter 0 untouched`)
      await vault.close()
    }
  })

  it('the value survives a simulator restart from its state file (and a host reconnect)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hopseal-atecc-counter-'))
    try {
      const file = join(dir, 'device.json')
      const first = await kitVault(Atecc608Sim.create({ stateFile: file, seed: 'restart-counter' }))
      assert.equal(await first.vault.nextCounter(), 1)
      assert.equal(await first.vault.nextCounter(), 2)
      await first.vault.close()
      // a new process: the simulator is rebuilt from the file, a new host opens it
      const again = await kitVault(Atecc608Sim.create({ stateFile: file, seed: 'restart-counter' }))
      assert.equal(await again.vault.nextCounter(), 3)
      await again.vault.close()
      const third = Atecc608Sim.create({ stateFile: file })
      assert.equal(readCounter(third.engine.state.config, 1), 3, 'the state file holds Counter 1 in config bytes 60–67')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('at the maximum: the increment is refused (0F) and the vault says LIMIT_EXCEEDED; nothing moves', async () => {
    // a configuration whose Counter 1 starts at max − 1, written by provisioning with generic commands
    const config = hopsealConfig()
    config.set(encodeCounter(COUNTER_MAX - 1), ConfigOffset.COUNTER1)
    const sim = Atecc608Sim.create({ seed: 'counter-max', config })
    const { vault } = await kitVault(sim)
    assert.equal(await vault.nextCounter(), COUNTER_MAX)
    await assert.rejects(vault.nextCounter(), code('LIMIT_EXCEEDED'))
    assert.equal(talkHex(sim, h(COUNTER1_INC)), '040F2342')
    assert.equal(readCounter(sim.engine.state.config, 1), COUNTER_MAX)
    await vault.close()
  })

  it('a closed vault refuses with VAULT_CLOSED, an aborted signal with ABORTED', async () => {
    const { vault } = await kitVault(Atecc608Sim.create({ seed: 'counter-closed' }))
    const ac = new AbortController()
    ac.abort()
    await assert.rejects(vault.nextCounter({ signal: ac.signal }), code('ABORTED'))
    await vault.close()
    await assert.rejects(vault.nextCounter(), code('VAULT_CLOSED'))
  })
})
