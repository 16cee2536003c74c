/** Shape of a CLI command module: src/cli/commands/<name>.ts exports `command`. */
import type { VaultFactoryContext } from './vault-registry.ts'

export interface CliIO {
  out: (line: string) => void
  err: (line: string) => void
  env: NodeJS.ProcessEnv
  ctx: VaultFactoryContext
}

export interface Command {
  name: string
  summary: string
  /** Runs with the arguments after the command name; returns the exit code. */
  run(argv: string[], io: CliIO): Promise<number>
}
