/** Node entry point of the `hopseal` command: registers the vault backends and the Node commands, then runs targets/node/cli. */
import './commands/register.ts'
import { main } from './cli/main.ts'
import { EXIT_GRACE_MS } from './commands/constants.ts'

// `hopseal … | head` closes our stdout early: that is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0)
    throw e
  })
}

process.exitCode = await main(process.argv.slice(2))
// The command is done (node start returns after its graceful shutdown). A handle
// something left open (a library's reconnect timer) must not keep the process
// alive; stdout and stderr are synchronous for files and pipes on Linux, so
// nothing printed is lost. Unref'd: a clean exit does not wait for it.
setTimeout(() => process.exit(), EXIT_GRACE_MS).unref()
