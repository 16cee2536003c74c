/**
 * Shape of a CLI command module (targets/node/cli/commands/<name>.ts and the ones
 * targets register export `command`), and {@link defineCommand}, the one place
 * that parses a command's options, answers --help and checks its subcommand.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { answerHelp, usageError, usageLines, type CommandHelp } from './help.ts'
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

/** The options of a command, as node:util parseArgs takes them (`--help` is added). */
export type CommandOptions = NonNullable<ParseArgsConfig['options']>

const HELP_FLAG = { help: { type: 'boolean', short: 'h', default: false } } as const

type Parsed<O extends CommandOptions> = ReturnType<typeof parseArgs<{ args: string[]; options: O & typeof HELP_FLAG; allowPositionals: true; strict: true }>>

/** What a command's body gets: its options parsed, its subcommand checked. */
export interface CommandCall<O extends CommandOptions> {
  values: Parsed<O>['values']
  /** The subcommand, one of the help's subcommands; undefined for commands without any. */
  sub: string | undefined
  /** The positional arguments after the subcommand (all of them for commands without subcommands). */
  args: string[]
  /** Prints a usage error (the reason, the usage lines) for this command and subcommand; returns exit code 2. */
  usage(why: string): number
}

export interface CommandSpec<O extends CommandOptions> {
  name: string
  summary: string
  /** The help of the command and of each subcommand; its subcommands are the ones the command accepts. */
  help: CommandHelp
  options: O
  /** Most positional arguments after the subcommand (default: any); more is a usage error. */
  maxArgs?: number
  /** Lines printed after the usage lines of a usage error (e.g. the vault kinds). */
  usageNotes?: () => string[]
  run(call: CommandCall<O>, io: CliIO): Promise<number>
}

/**
 * Builds a {@link Command}: parses `argv` strictly (unknown options are usage
 * errors, reported by main), answers `--help` for the command or its
 * subcommand, refuses a missing or unknown subcommand and extra arguments with
 * exit 2, then runs the body.
 *
 * @example
 * export const command = defineCommand({
 *   name: 'vault', summary: 'keys in a vault', help: HELP, options: { label: { type: 'string' } }, maxArgs: 0,
 *   async run({ values, sub, usage }, io) { if (sub === 'delete' && !values.label) return usage('delete needs --label'); … },
 * })
 */
export function defineCommand<const O extends CommandOptions>(spec: CommandSpec<O>): Command {
  const subs = Object.keys(spec.help.subcommands)
  return {
    name: spec.name,
    summary: spec.summary,
    ...(subs.length > 0 ? { subcommands: subs } : {}),
    async run(argv, io) {
      const { values, positionals } = parseArgs({ args: argv, options: { ...spec.options, ...HELP_FLAG }, allowPositionals: true, strict: true })
      const [sub, ...args]: [string | undefined, ...string[]] = subs.length > 0 ? [positionals[0], ...positionals.slice(1)] : [undefined, ...positionals]
      if ((values as { help?: boolean }).help) return answerHelp(io, spec.name, spec.help, sub)
      const usage = (why: string, at: string | undefined): number => {
        usageError(io, spec.name, why, at)
        io.err(usageLines(spec.help).join('\n'))
        for (const l of spec.usageNotes?.() ?? []) io.err(l)
        return 2
      }
      const known = `(known: ${subs.join(', ')})`
      if (subs.length > 0 && sub === undefined) return usage(`missing subcommand ${known}`, undefined)
      if (sub !== undefined && !Object.hasOwn(spec.help.subcommands, sub)) return usage(`unknown subcommand "${sub}" ${known}`, undefined)
      if (spec.maxArgs !== undefined && args.length > spec.maxArgs) return usage(`unexpected argument ${args[spec.maxArgs]}`, sub)
      return spec.run({ values: values as Parsed<O>['values'], sub, args, usage: (why) => usage(why, sub) }, io)
    },
  }
}

/** The handler a table of subcommands has for `sub`; undefined for none or an unknown one. */
export function subcommandHandler<H>(table: Readonly<Record<string, H>>, sub: string | undefined): H | undefined {
  return sub !== undefined && Object.hasOwn(table, sub) ? table[sub] : undefined
}

/** A printer for commands with --json: the value pretty-printed with it, else the text lines. */
export function jsonOrText(io: CliIO, json: boolean | undefined): (value: unknown, text: readonly string[]) => void {
  return (value, text) => (json ? io.out(JSON.stringify(value, null, 2)) : text.forEach((l) => io.out(l)))
}
