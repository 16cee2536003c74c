/**
 * The CLI round trip a new user would do (issue 3 "Done when"): create two
 * identities, make one an issuer, issue, verify, revoke, verify again
 * (refused). Through `main()` with captured io, then through
 * `node bin/hopseal.js` in a child process, each with HOPSEAL_HOME in a temp dir
 * and the real software-vault registration (targets/node/vault-software.ts).
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { promisify } from 'node:util'
import '../../targets/node/vault-software.ts'
import { main } from '../../targets/node/cli/main.ts'

const root = mkdtempSync(join(tmpdir(), 'hopseal-idcli-'))
after(() => rmSync(root, { recursive: true, force: true }))

type Run = (args: string[]) => Promise<{ code: number; out: string; err: string }>

function inProcess(home: string, extraEnv: Record<string, string> = {}): Run {
  const env = { HOPSEAL_HOME: home, PATH: process.env.PATH ?? '', ...extraEnv }
  return async (args) => {
    const out: string[] = []
    const err: string[] = []
    const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l), env, ctx: { env, home } })
    return { code, out: out.join('\n'), err: err.join('\n') }
  }
}

function childProcess(home: string): Run {
  const run = promisify(execFile)
  return async (args) => {
    try {
      const r = await run(process.execPath, ['bin/hopseal.js', ...args], { env: { ...process.env, HOPSEAL_HOME: home, HOPSEAL_VAULT_PASSPHRASE: '' }, timeout: 30_000 })
      return { code: 0, out: r.stdout, err: r.stderr }
    } catch (e) {
      const x = e as { code?: number; stdout?: string; stderr?: string }
      return { code: typeof x.code === 'number' ? x.code : -1, out: x.stdout ?? '', err: x.stderr ?? '' }
    }
  }
}

async function roundTrip(run: Run, home: string): Promise<void> {
  const ok = async (args: string[]): Promise<string> => {
    const r = await run(args)
    assert.equal(r.code, 0, `hopseal ${args.join(' ')} → ${r.code}\n${r.out}\n${r.err}`)
    return r.out
  }
  const json = async (args: string[]): Promise<Record<string, unknown>> => JSON.parse(await ok([...args, '--json'])) as Record<string, unknown>

  const issuer = await json(['identity', 'create', 'hospital', '--type', 'p256', '--issuer'])
  const device = await json(['identity', 'create', 'monitor-7'])
  assert.match(String(issuer.identifier), /^I[0-9a-f]{40}$/)
  assert.equal(issuer.trusted, true)
  assert.equal(device.trusted, false)
  assert.equal(statSync(join(home, 'identities.json')).mode & 0o777, 0o600)
  assert.match(await ok(['identity', 'show', 'hospital']), /trusted issuer/)

  const cred = await json(['credential', 'issue', '--issuer', 'hospital', '--subject', 'monitor-7', '--attr', 'role=monitor', '--attr', 'site=ward-3'])
  assert.equal(cred.subject, device.identifier)
  assert.deepEqual(cred.attributes, { role: 'monitor', site: 'ward-3' })
  const id = String(cred.id)

  const v = await json(['credential', 'verify', id, '--subject', 'monitor-7'])
  assert.equal(v.valid, true)
  assert.match(await ok(['credential', 'verify', String(cred.credential)]), /valid credential/)

  const wrong = await run(['credential', 'verify', id, '--subject', 'hospital'])
  assert.equal(wrong.code, 1)
  assert.match(wrong.err, /error CREDENTIAL_WRONG_SUBJECT/)

  const rev = await json(['credential', 'revoke', '--issuer', 'hospital', id])
  assert.equal(rev.sequence, 1)

  const refused = await run(['credential', 'verify', id, '--subject', 'monitor-7'])
  assert.equal(refused.code, 1, refused.out)
  assert.match(refused.err, /error CREDENTIAL_REVOKED/)
  assert.match(await ok(['credential', 'list']), /REVOKED/)

  // rotation with revoke-all: the old credential's issuer key is retired too
  const rot = await json(['identity', 'rotate', 'hospital', '--type', 'p256', '--revoke-all'])
  assert.equal((rot.changes as unknown[]).length, 2)
  const cred2 = await json(['credential', 'issue', '--issuer', 'hospital', '--subject', String(device.identifier), '--attr', 'role=gateway'])
  assert.equal((await json(['credential', 'verify', String(cred2.id)])).valid, true)

  // usage errors exit 2, unknown identities exit 1 with a code
  assert.equal((await run(['identity', 'frobnicate'])).code, 2)
  assert.equal((await run(['identity', 'create', 'x', '--bogus'])).code, 2)
  const missing = await run(['identity', 'show', 'nobody'])
  assert.equal(missing.code, 1)
  assert.match(missing.err, /IDENTITY_NOT_FOUND/)
}

describe('hopseal identity / credential CLI', () => {
  it('round trip through main() with captured io', async () => {
    const home = join(root, 'in-process')
    await roundTrip(inProcess(home, { HOPSEAL_VAULT_PASSPHRASE: '' }), home)
  })

  it('expired credentials are refused (HOPSEAL_NOW moves the clock)', async () => {
    const home = join(root, 'clock')
    const run0 = inProcess(home, { HOPSEAL_NOW: '1735689600' })
    assert.equal((await run0(['identity', 'create', 'ca', '--issuer'])).code, 0)
    assert.equal((await run0(['identity', 'create', 'dev'])).code, 0)
    const issued = await run0(['credential', 'issue', '--issuer', 'ca', '--subject', 'dev', '--attr', 'role=x', '--days', '1', '--json'])
    const id = String((JSON.parse(issued.out) as { id: string }).id)
    assert.equal((await run0(['credential', 'verify', id])).code, 0)
    const later = await inProcess(home, { HOPSEAL_NOW: String(1735689600 + 86400) })(['credential', 'verify', id])
    assert.equal(later.code, 1)
    assert.match(later.err, /CREDENTIAL_EXPIRED/)
  })

  it('round trip through node bin/hopseal.js in a child process', async () => {
    const home = join(root, 'child')
    await roundTrip(childProcess(home), home)
  })
})
