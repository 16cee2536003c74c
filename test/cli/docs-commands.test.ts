/**
 * Every `hopseal <command> [<subcommand>]` written in README.md and docs/*.md
 * (in shell code blocks and in inline code) must be
 *  (a) known to the CLI: `hopseal <command> [<subcommand>] --help` exits 0
 *      (commands answer an unknown subcommand with exit 2, and commands that
 *      declare subcommands must list it), and
 *  (b) exercised by a test: a file under test/ invokes it, i.e. holds the
 *      argument list `'<command>', '<subcommand>'` not followed by `--help`
 *      (help alone is not exercise), or is named in INDIRECT below, whose
 *      evidence is checked against that file.
 * It prints how many documented commands it checked and fails when none.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { listCommands, main } from '../../targets/node/cli/main.ts'
import '../../targets/node/commands/register.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SELF = 'test/cli/docs-commands.test.ts'

/**
 * Invocations a test makes in a form the scan cannot see (a helper that adds
 * the command name), each with a string that must be in that file.
 */
const INDIRECT: Record<string, { file: string; evidence: string[] }> = {
  'node start': { file: 'test/node-runtime/gateway-process.test.ts', evidence: ["[BIN, 'node', ...args]", "startNode(['start', '--config'"] },
  'node status': { file: 'test/node-runtime/gateway-process.test.ts', evidence: ["nodeCommand.run(['status', '--url'"] },
}

/** Fenced blocks in these languages are shell (a bare fence too); others (ts, yaml, ini) are not scanned. */
const SHELL_FENCES = new Set(['', 'sh', 'bash', 'shell', 'console', 'zsh', 'text'])

/**
 * `hopseal` at a command position: line start (after an optional `$ ` prompt),
 * after `$(`, `&&`, `||`, `|` or `;`, with optional `VAR=value` prefixes and
 * `npx`; then the command and, when it is a bare word, the subcommand.
 */
const INVOCATION = /(?:^\s*(?:\$\s+)?|\$\(\s*|(?:&&|\|\|?|;)\s*)(?:[A-Z_][A-Z0-9_]*=\S*\s+)*(?:npx\s+)?hopseal\s+([a-z][a-z0-9-]*)(?:\s+([a-z][a-z0-9-]*)(?=[\s"'`)|;&]|$))?/g

/**
 * Domain-separation labels written like commands (docs/identity.md:
 * `hopseal identity change v1`, `hopseal credential v1`): signed-data
 * prefixes, not invocations. An inline span that is exactly such a label is skipped.
 */
const LABEL = /^hopseal( [a-z-]+)+ v\d+$/

interface Invocation {
  command: string
  sub: string | undefined
  where: string
}

function docFiles(): string[] {
  const docs = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))
  return ['README.md', ...docs.sort()]
}

function scan(file: string): Invocation[] {
  return scanText(readFileSync(join(ROOT, file), 'utf8'), file)
}

function scanText(markdown: string, file: string): Invocation[] {
  const found: Invocation[] = []
  let fence: string | undefined
  markdown.split('\n').forEach((line, i) => {
    const f = /^\s*(```|~~~)\s*([A-Za-z]*)/.exec(line)
    if (f) {
      fence = fence === undefined ? f[2]!.toLowerCase() : undefined
      return
    }
    const where = `${file}:${i + 1}`
    const spans = fence !== undefined ? (SHELL_FENCES.has(fence) ? [line] : []) : [...line.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!).filter((s) => !LABEL.test(s.trim()))
    for (const text of spans) for (const m of text.matchAll(INVOCATION)) found.push({ command: m[1]!, sub: m[2], where })
  })
  return found
}

function testFiles(dir = join(ROOT, 'test')): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) return testFiles(p)
    return /\.ts$/.test(name) && relative(ROOT, p) !== SELF ? [relative(ROOT, p)] : []
  })
}

const q = `['"\`]`
/** `'cmd', 'sub'` (or `'cmd'` then `,` / `]`) in an argument list, not followed by a help flag. */
function invokes(text: string, command: string, sub: string | undefined): boolean {
  const head = sub === undefined ? `${q}${command}${q}` : `${q}${command}${q}\\s*,\\s*${q}${sub}${q}`
  const re = new RegExp(`${head}\\s*(\\]|,\\s*(${q}([^'"\`]*)${q})?)`, 'g')
  for (const m of text.matchAll(re)) if (m[3] !== '--help' && m[3] !== '-h') return true
  return false
}

async function exitCode(args: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = []
  const code = await main(args, { out: () => undefined, err: (l) => err.push(l), env: {}, ctx: { env: {}, home: '/nonexistent-hopseal-home' } })
  return { code, err: err.join('\n') }
}

describe('every hopseal command in the docs is known to the CLI and exercised by a test', async () => {
  const all = docFiles().flatMap(scan)
  const distinct = new Map<string, Invocation[]>()
  for (const inv of all) {
    const key = inv.sub === undefined ? inv.command : `${inv.command} ${inv.sub}`
    distinct.set(key, [...(distinct.get(key) ?? []), inv])
  }
  const commands = new Map((await listCommands()).map((c) => [c.name, c]))
  const tests = testFiles().map((f) => ({ file: f, text: readFileSync(join(ROOT, f), 'utf8') }))

  it('the scan finds invocations in shell blocks and inline code, and nothing in prose, ts blocks or labels', () => {
    const md = [
      'Run `hopseal vault list --json` or `HOPSEAL_CRYPTO=noble npx hopseal example`; hopseal as initiator is prose.',
      '| `hopseal identity change v1` | a label |',
      '```sh',
      '$ hopseal identity create x && hopseal identity export x | head',
      'KEY=$(hopseal vault public-key --label k)',
      'npm test   # hopseal node start in a comment is not at a command position',
      '```',
      '```ts',
      "const s = 'hopseal relay create'",
      '```',
    ].join('\n')
    assert.deepEqual(
      scanText(md, 'x.md').map((i) => `${i.command}${i.sub ? ` ${i.sub}` : ''} @${i.where}`),
      ['vault list @x.md:1', 'example @x.md:1', 'identity create @x.md:4', 'identity export @x.md:4', 'vault public-key @x.md:5'],
    )
    assert.equal(invokes("main(['vault', 'list', '--json'])", 'vault', 'list'), true)
    assert.equal(invokes("main(['vault', 'list'])", 'vault', 'list'), true)
    assert.equal(invokes("main(['vault', 'list', '--help'])", 'vault', 'list'), false, 'help alone is not exercise')
    assert.equal(invokes("main(['vault', 'lists'])", 'vault', 'list'), false)
  })

  it('finds documented commands, every command of the CLI among them in docs/cli.md', () => {
    console.log(`# docs-commands: checked ${distinct.size} documented commands (${all.length} invocations in ${docFiles().length} files): ${[...distinct.keys()].sort().join(', ')}`)
    assert.ok(distinct.size > 0, 'no documented hopseal command found: the scan is broken')
    const cli = all.filter((i) => i.where.startsWith('docs/cli.md:'))
    for (const c of commands.values()) {
      for (const sub of c.subcommands ?? [undefined]) {
        assert.ok(cli.some((i) => i.command === c.name && (sub === undefined || i.sub === sub)), `docs/cli.md should show hopseal ${c.name}${sub ? ` ${sub}` : ''}`)
      }
    }
  })

  for (const [key, invs] of distinct) {
    const [command, sub] = key.split(' ') as [string, string | undefined]
    it(`hopseal ${key} (${invs[0]!.where}${invs.length > 1 ? ` and ${invs.length - 1} more` : ''})`, async () => {
      // (a) known
      const c = commands.get(command)
      if (command !== 'help') assert.ok(c, `${invs[0]!.where}: hopseal ${command} is not a command (known: ${[...commands.keys()].join(', ')})`)
      if (sub !== undefined && c?.subcommands) assert.ok(c.subcommands.includes(sub), `${invs[0]!.where}: hopseal ${command} has no subcommand ${sub} (known: ${c.subcommands.join(', ')})`)
      const h = await exitCode([command, ...(sub ? [sub] : []), '--help'])
      assert.equal(h.code, 0, `hopseal ${key} --help exited ${h.code}: ${h.err}`)
      // (b) exercised
      const direct = tests.filter((t) => invokes(t.text, command, sub)).map((t) => t.file)
      const indirect = INDIRECT[key]
      if (indirect) {
        const text = readFileSync(join(ROOT, indirect.file), 'utf8')
        for (const e of indirect.evidence) assert.ok(text.includes(e), `INDIRECT["${key}"] is stale: ${indirect.file} no longer contains ${e}`)
      }
      assert.ok(direct.length > 0 || indirect, `hopseal ${key} is documented (${invs.map((i) => i.where).join(', ')}) but no test under test/ invokes it`)
    })
  }
})
