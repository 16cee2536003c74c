/**
 * Registers what the Node target adds to the `hopseal` command: the vault
 * backends and the commands that need the Node runtime or hil-sim (src/ must
 * not import them). Imported by targets/node/cli.ts and by tests that call
 * main() in process.
 */
import '../vaults.ts'
import { registerCommand } from '../../../src/cli/main.ts'

registerCommand('node', () => import('./node.ts'))
registerCommand('secure-channel', () => import('./secure-channel.ts'))
registerCommand('message', () => import('./message.ts'))
registerCommand('relay', () => import('./relay.ts'))
registerCommand('demo', () => import('../../../hil-sim/scenario/demo-command.ts'))
registerCommand('sim', () => import('../../../hil-sim/scenario/sim-command.ts'))
