/**
 * `--help` and `-h` on every command and every subcommand: usage, options and
 * an example on stdout, nothing on stderr, exit 0; an unknown subcommand with
 * --help is a usage error (exit 2), so exit 0 means the CLI knows it. Commands
 * owned elsewhere without declared subcommands (demo, sim) are checked for
 * answering --help at all.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { listCommands, main } from '../../targets/node/cli/main.ts'
import '../../targets/node/commands/register.ts'

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = []
  const err: string[] = []
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l), env: {}, ctx: { env: {}, home: '/nonexistent-hopseal-home' } })
  return { code, out: out.join('\n'), err: err.join('\n') }
}

const EXPECTED = ['vault', 'identity', 'credential', 'example', 'node', 'secure-channel', 'message', 'relay', 'demo', 'sim']

describe('hopseal --help on every command and subcommand', async () => {
  const commands = await listCommands()

  it('the top-level help lists every registered command with its summary and subcommands', async () => {
    assert.deepEqual(commands.map((c) => c.name), EXPECTED)
    for (const args of [['--help'], ['-h'], ['help']]) {
      const r = await run(args)
      assert.equal(r.code, 0)
      for (const c of commands) {
        assert.match(r.out, new RegExp(`^  ${c.name} +${c.summary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'))
        if (c.subcommands) assert.ok(r.out.includes(`(${c.subcommands.join(', ')})`), `${c.name} subcommands listed`)
      }
    }
    assert.equal((await run([])).code, 2, 'no command at all is a usage error')
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }
    for (const v of ['--version', '-V', 'version']) {
      const r = await run([v])
      assert.equal(r.code, 0)
      assert.equal(r.out, `hopseal ${pkg.version}`)
    }
    assert.equal((await run(['frobnicate'])).code, 2)
  })

  for (const c of commands) {
    const own = c.subcommands !== undefined || !['demo', 'sim'].includes(c.name)
    it(`${c.name}: --help and -h print usage${own ? ', options and an example' : ''}, exit 0`, async () => {
      for (const flag of ['--help', '-h']) {
        const r = await run([c.name, flag])
        assert.equal(r.code, 0, `${c.name} ${flag}: ${r.err}`)
        assert.equal(r.err, '')
        assert.match(r.out, new RegExp(`^usage:\\s+hopseal ${c.name}\\b`))
        if (!own) continue
        assert.match(r.out, /^options:$/m)
        assert.match(r.out, /^ {2}-h, --help +print this help and exit 0$/m)
        assert.match(r.out, new RegExp(`^examples?:\\n {2}\\$ hopseal ${c.name}\\b`, 'm'))
      }
    })

    for (const sub of c.subcommands ?? []) {
      it(`${c.name} ${sub}: --help and -h print its own usage, options and example, exit 0`, async () => {
        for (const flag of ['--help', '-h']) {
          const r = await run([c.name, sub, flag])
          assert.equal(r.code, 0, `${c.name} ${sub} ${flag}: ${r.err}`)
          assert.equal(r.err, '')
          assert.match(r.out, new RegExp(`^usage: hopseal ${c.name} ${sub}\\b`))
          assert.match(r.out, /^options:$/m)
          assert.match(r.out, new RegExp(`^examples?:\\n {2}\\$ hopseal ${c.name} ${sub}\\b`, 'm'))
        }
        const viaHelp = await run(['help', c.name, sub])
        assert.equal(viaHelp.code, 0)
        assert.equal(viaHelp.out, (await run([c.name, sub, '--help'])).out, '`hopseal help CMD SUB` prints the same')
      })
    }

    if (c.subcommands) {
      it(`${c.name}: an unknown subcommand with --help is a usage error (exit 2) naming the known ones`, async () => {
        const r = await run([c.name, 'no-such-subcommand', '--help'])
        assert.equal(r.code, 2)
        assert.equal(r.out, '')
        assert.match(r.err, new RegExp(`unknown subcommand "no-such-subcommand" \\(known: ${c.subcommands!.join(', ')}\\)`))
      })
    }
  }

  it('sim run answers --help (sim is owned by hil-sim; checked, not edited)', async () => {
    const r = await run(['sim', 'run', '--help'])
    assert.equal(r.code, 0)
    assert.match(r.out, /^usage:/)
  })
})
