/**
 * The `hopseal` command. Each top-level command lives in targets/node/cli/commands/.
 * Errors print `error CODE: message` (HopsealError codes are stable) and exit 1;
 * usage errors exit 2.
 */
import { homedir } from 'node:os'
// The CLI runs on node:crypto: registers it as the default crypto provider.
import '../crypto/index.ts'
import { VERSION } from './version.ts'
import { join } from 'node:path'
import { isHopsealError } from '../../../src/errors.ts'
import type { CliIO, Command } from './command.ts'

type CommandLoader = () => Promise<{ command: Command }>

const COMMANDS: Record<string, CommandLoader> = {
  vault: () => import('./commands/vault.ts'),
  identity: () => import('./commands/identity.ts'),
  credential: () => import('./commands/credential.ts'),
  example: () => import('./commands/example.ts'),
}

/**
 * Adds a command from a platform target (targets/node registers `node`,
 * `demo` and `sim`, which need the Node runtime or hil-sim, which src must not
 * import). Loaded lazily, like the built-in ones.
 */
export function registerCommand(name: string, load: CommandLoader): void {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new TypeError(`command name ${name}`)
  COMMANDS[name] = load
}

/** Every registered command, loaded, in registration order (help, docs checks). */
export async function listCommands(): Promise<Command[]> {
  return Promise.all(Object.values(COMMANDS).map(async (load) => (await load()).command))
}

export async function main(argv: string[], io?: Partial<CliIO>): Promise<number> {
  const env = io?.env ?? process.env
  const full: CliIO = {
    out: io?.out ?? ((l) => process.stdout.write(l + '\n')),
    err: io?.err ?? ((l) => process.stderr.write(l + '\n')),
    env,
    ctx: io?.ctx ?? { env, home: env.HOPSEAL_HOME ?? join(homedir(), '.hopseal') },
    ...(io?.signal ? { signal: io.signal } : {}),
  }
  if (argv[0] === 'help' && argv.length > 1) argv = [...argv.slice(1), '--help'] // `hopseal help vault keygen`
  const [name, ...rest] = argv
  if (name === '--version' || name === '-V' || name === 'version') {
    full.out(`hopseal ${VERSION}`)
    return 0
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    full.out('usage: hopseal <command> [<subcommand>] [options]\n\ncommands:')
    for (const [n, load] of Object.entries(COMMANDS)) {
      const c = (await load()).command
      full.out(`  ${n.padEnd(15)} ${c.summary}`)
      if (c.subcommands?.length) full.out(`  ${''.padEnd(15)} (${c.subcommands.join(', ')})`)
    }
    full.out('\nhopseal <command> --help (or hopseal help <command> [<subcommand>]) shows its usage, options and an example.')
    full.out('Errors print "error CODE: message" and exit 1; usage errors exit 2.')
    return name ? 0 : 2
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined
  if (!load) {
    full.err(`hopseal: unknown command "${name}" (try hopseal --help)`)
    return 2
  }
  try {
    return await (await load()).command.run(rest, full)
  } catch (e) {
    if (isHopsealError(e)) {
      full.err(`error ${e.code}: ${e.message.replace(/^[A-Z_0-9]+: /, '')}`)
      return 1
    }
    if (e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      full.err(`hopseal ${name}: ${parseArgsMessage(e)}`)
      full.err(`(try: hopseal ${name} --help)`)
      return 2
    }
    throw e
  }
}

/** node:util parseArgs errors in the CLI's words (its own text explains positional arguments after `--`). */
function parseArgsMessage(e: TypeError): string {
  const code = (e as { code?: string }).code
  const option = /option '([^']+)'/i.exec(e.message)?.[1]
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) return `unknown option ${option}`
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option) return `option ${option.split(' ')[0]} ${/argument missing/.test(e.message) ? 'needs a value' : 'does not take that value'}`
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return e.message.replace(/\. To specify.*$/s, '')
  return e.message
}
