/** Node entry point of the `hopseal` command: registers the vault backends, then runs src/cli. */
import './vaults.ts'
import { main, registerCommand } from '../../src/cli/main.ts'

registerCommand('demo', () => import('../../hil-sim/scenario/demo-command.ts'))
registerCommand('sim', () => import('../../hil-sim/scenario/sim-command.ts'))
registerCommand('node', () => import('./commands/node.ts'))

// `hopseal … | head` closes our stdout early: that is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0)
    throw e
  })
}

process.exitCode = await main(process.argv.slice(2))
