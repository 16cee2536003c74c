/** Node entry point of the `hopseal` command: registers the vault backends, then runs src/cli. */
import './vaults.ts'
import { main } from '../../src/cli/main.ts'

process.exitCode = await main(process.argv.slice(2))
