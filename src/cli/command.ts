/** Shape of a CLI command module: src/cli/commands/<name>.ts exports `command`. */
import type { VaultFactoryContext } from './vault-registry.ts'

export interface CliIO {
  out: (line: string) => void
  err: (line: string) => void
  env: NodeJS.ProcessEnv
  ctx: VaultFactoryContext
  /**
   * Aborting it stops a long-running command as SIGINT would (`relay create`
   * holds until then); tests and embedders use it instead of signals.
   */
  signal?: AbortSignal
}

export interface Command {
  name: string
  summary: string
  /** The subcommands it knows (`vault keygen`, …); absent for commands without any. The docs test reads it. */
  subcommands?: readonly string[]
  /** Runs with the arguments after the command name; returns the exit code. */
  run(argv: string[], io: CliIO): Promise<number>
}
