/**
 * hil-sim as a plugin of the Node target (targets/node/plugins.ts loads this
 * file when it is present): the `demo` and `sim` commands, and the simulator
 * behind `--vault atecc608:sim=STATEFILE`. The product never imports hil-sim;
 * hil-sim registers itself through the CLI's registries.
 */
import { registerCommand } from '../targets/node/cli/main.ts'
import { KitTransport, readIoKeyFile } from '../vaults/atecc608/index.ts'
import { registerAtecc608Transport } from '../targets/node/vault-atecc608.ts'

registerCommand('demo', () => import('./scenario/demo-command.ts'))
registerCommand('sim', () => import('./scenario/sim-command.ts'))

registerAtecc608Transport('sim', async (spec) => {
  const { Atecc608Sim } = await import('./atecc608/index.ts')
  // a fresh state file is provisioned with the spec's I/O protection key, as a chip would be before use
  const sim = Atecc608Sim.create({ stateFile: spec.target, seed: spec.seed, timing: spec.timing, ...(spec.ioKeyFile !== undefined ? { ioProtectionKey: readIoKeyFile(spec.ioKeyFile) } : {}) })
  return KitTransport.open(sim.kitChannel())
})
