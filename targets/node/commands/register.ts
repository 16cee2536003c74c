/**
 * Registers what the Node target adds to the `hopseal` command: the vault
 * backends and the commands that need the Node runtime (src/ must not import
 * them), then the development plugins that are present (hil-sim adds `demo`
 * and `sim`, see ../plugins.ts). Imported by targets/node/cli.ts and by tests
 * that call main() in process.
 */
import '../vaults.ts'
import { registerCommand } from '../cli/main.ts'
import { loadPlugins } from '../plugins.ts'

registerCommand('node', () => import('./node.ts'))
registerCommand('secure-channel', () => import('./secure-channel.ts'))
registerCommand('message', () => import('./message.ts'))
registerCommand('relay', () => import('./relay.ts'))
await loadPlugins()
