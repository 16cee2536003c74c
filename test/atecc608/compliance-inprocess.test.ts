/**
 * The shared vault compliance suite against the ATECC608 simulator in-process:
 * over the KIT protocol on a memory byte channel (both firmware dialects), and
 * over the I²C face through the i2c-dev transport. Persistence: the sim's state
 * file and the slot map on the device let keys be found again after reopen.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runVaultCompliance } from '../../src/vault/compliance.ts'
import { nodeTestRunner } from '../../targets/node/vault-compliance.ts'
import { Atecc608Vault, I2cTransport, KitTransport } from '../../vaults/atecc608/index.ts'
import { Atecc608Sim } from '../../hil-sim/atecc608/index.ts'

const dir = mkdtempSync(join(tmpdir(), 'hopseal-atecc-'))

runVaultCompliance({
  name: 'atecc608 simulator, KIT over memory (Trust Platform dialect), state file',
  persistent: true,
  open: async () => {
    // each open is a host reconnecting to a device that survived in its state file
    const sim = Atecc608Sim.create({ stateFile: join(dir, 'kit.json') })
    return Atecc608Vault.open({ transport: await KitTransport.open(sim.kitChannel()) })
  },
  concurrency: 8,
}, nodeTestRunner)

runVaultCompliance({
  name: 'atecc608 simulator, KIT over memory (cryptoauthlib kit_host dialect)',
  open: async () => {
    const sim = Atecc608Sim.create({ seed: 'kh', strict: true })
    return Atecc608Vault.open({ transport: await KitTransport.open(sim.kitChannel({ firmware: 'kh' })) })
  },
  concurrency: 4,
}, nodeTestRunner)

runVaultCompliance({
  name: 'atecc608 simulator, i2c-dev transport on the simulated bus, state file',
  persistent: true,
  open: async () => {
    const sim = Atecc608Sim.create({ stateFile: join(dir, 'i2c.json'), strict: true })
    return Atecc608Vault.open({ transport: new I2cTransport(sim.i2cBus(), { wakeDelayMs: 0 }) })
  },
  cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  concurrency: 4,
}, nodeTestRunner)
