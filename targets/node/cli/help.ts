/**
 * What `--help` prints, for every command and subcommand: usage lines, a
 * summary, the options and at least one example, in one layout (the habit of
 * Ockam's and git's command lines). Commands describe their help as data and
 * call {@link answerHelp}; `test/cli/help.test.ts` checks each one.
 *
 * @example
 * const HELP: CommandHelp = { help: { usage: ['vault list [--json]'], summary: 'list keys', examples: ['hopseal vault list'] }, subcommands: {} }
 * if (values.help) return answerHelp(io, 'vault', HELP, positionals[0])
 */
import type { CliIO } from './command.ts'

/** The help of one command or subcommand. */
export interface Help {
  /** Invocations without the leading `hopseal ` (e.g. `vault list [--vault SPEC] [--json]`). */
  usage: readonly string[]
  /** One line: what it does. */
  summary: string
  /** Further lines, printed as written (defaults, what is never printed, exit codes). */
  details?: readonly string[]
  /** `[flag, text]` pairs. */
  options?: readonly (readonly [string, string])[]
  /** Complete command lines, at least one. */
  examples: readonly string[]
}

/** A command's own help and one per subcommand (empty for commands without subcommands). */
export interface CommandHelp {
  help: Help
  subcommands: Readonly<Record<string, Help>>
}

/**
 * The help of a command with one subcommand (`message send`, `relay create`):
 * the command's own help is the subcommand's options and first example under
 * a short usage line and a summary of what the command is for.
 */
export function oneSubcommandHelp(usage: string, summary: string, sub: string, help: Help): CommandHelp {
  return { help: { usage: [usage], summary, options: help.options ?? [], examples: help.examples.slice(0, 1) }, subcommands: { [sub]: help } }
}

/** Options every command takes. */
export const HELP_OPTION = ['-h, --help', 'print this help and exit 0'] as const

/** Renders a help text as lines. */
export function formatHelp(h: Help): string[] {
  const lines = h.usage.map((u, i) => `${i === 0 ? 'usage: ' : '       '}hopseal ${u}`)
  lines.push('', h.summary)
  if (h.details?.length) lines.push('', ...h.details)
  const options = [...(h.options ?? []), HELP_OPTION]
  const width = Math.min(28, Math.max(...options.map(([f]) => f.length)))
  lines.push('', 'options:', ...options.map(([f, t]) => `  ${f.padEnd(width)}  ${t}`))
  lines.push('', h.examples.length > 1 ? 'examples:' : 'example:', ...h.examples.map((e) => `  $ ${e}`))
  return lines
}

/**
 * Prints the help asked for: the subcommand's when `sub` is one, the
 * command's when `sub` is undefined. An unknown `sub` is a usage error (exit 2),
 * so `hopseal CMD SUB --help` exiting 0 means the CLI knows `CMD SUB`.
 */
export function answerHelp(io: CliIO, command: string, spec: CommandHelp, sub: string | undefined): number {
  if (sub === undefined) {
    for (const l of formatHelp(spec.help)) io.out(l)
    const subs = Object.entries(spec.subcommands)
    if (subs.length > 0) {
      io.out('')
      io.out('subcommands:')
      for (const [name, h] of subs) io.out(`  ${name.padEnd(12)} ${h.summary}`)
      io.out(`hopseal ${command} SUBCOMMAND --help shows each one.`)
    }
    return 0
  }
  const h = Object.hasOwn(spec.subcommands, sub) ? spec.subcommands[sub] : undefined
  if (!h) return usageError(io, command, `unknown subcommand "${sub}"${Object.keys(spec.subcommands).length ? ` (known: ${Object.keys(spec.subcommands).join(', ')})` : ''}`)
  for (const l of formatHelp(h)) io.out(l)
  return 0
}

/** A usage error: the reason and a hint on stderr, exit code 2. */
export function usageError(io: CliIO, command: string, why: string, sub?: string): number {
  io.err(`hopseal ${command}: ${why}`)
  io.err(`(try: hopseal ${command}${sub ? ` ${sub}` : ''} --help)`)
  return 2
}

/** The usage lines of every subcommand, for the short reminder printed with usage errors. */
export function usageLines(spec: CommandHelp): string[] {
  const subs = Object.values(spec.subcommands)
  return ['usage:', ...(subs.length ? subs.flatMap((h) => h.usage) : spec.help.usage).map((u) => `  hopseal ${u}`)]
}
