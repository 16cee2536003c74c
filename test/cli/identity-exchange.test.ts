/**
 * `hopseal identity export|import|trust` between two HOPSEAL_HOMEs (two
 * hosts): one exports its identity, the other imports it, trusts it as an
 * issuer and then accepts a credential it issued; a re-import updates, and
 * malformed input is refused with its code.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, it } from 'node:test'
import { main } from '../../targets/node/cli/main.ts'
import '../../targets/node/commands/register.ts'

const root = mkdtempSync(join(tmpdir(), 'hopseal-idx-'))
after(() => rmSync(root, { recursive: true, force: true }))

function host(name: string): (args: string[]) => Promise<{ code: number; out: string; err: string }> {
  const home = join(root, name)
  return async (args) => {
    const out: string[] = []
    const err: string[] = []
    const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l), env: {}, ctx: { env: {}, home } })
    return { code, out: out.join('\n'), err: err.join('\n') }
  }
}

it('export on one host, import and trust on another; its credentials are then accepted there', async () => {
  const hospital = host('hospital')
  const gateway = host('gateway')
  const made = await hospital(['identity', 'create', 'hospital', '--type', 'p256', '--json'])
  assert.equal(made.code, 0, made.err)
  const identifier = (JSON.parse(made.out) as { identifier: string }).identifier
  const exported = await hospital(['identity', 'export', 'hospital'])
  assert.equal(exported.code, 0, exported.err)
  assert.match(exported.out, /^[0-9a-f]+$/)
  const ej = JSON.parse((await hospital(['identity', 'export', 'hospital', '--json'])).out) as { identifier: string; identity: string }
  assert.deepEqual(ej, { name: 'hospital', identifier, identity: exported.out })

  assert.equal((await gateway(['identity', 'create', 'gw-1'])).code, 0)
  const imported = await gateway(['identity', 'import', 'hospital', exported.out, '--json'])
  assert.equal(imported.code, 0, imported.err)
  assert.deepEqual(JSON.parse(imported.out), { name: 'hospital', identifier, updated: false })
  const shown = JSON.parse((await gateway(['identity', 'show', 'hospital', '--json'])).out) as { own: boolean; trusted: boolean; identifier: string }
  assert.deepEqual([shown.identifier, shown.own, shown.trusted], [identifier, false, false])

  // Not trusted yet: its credential about gw-1 is refused.
  const gwId = (JSON.parse((await gateway(['identity', 'show', 'gw-1', '--json'])).out) as { identifier: string }).identifier
  assert.equal((await hospital(['identity', 'import', 'gw-1', (await gateway(['identity', 'export', 'gw-1'])).out])).code, 0)
  const cred = await hospital(['credential', 'issue', '--issuer', 'hospital', '--subject', gwId, '--attr', 'role=gateway', '--json'])
  assert.equal(cred.code, 0, cred.err)
  const hex = (JSON.parse(cred.out) as { credential: string }).credential
  const refused = await gateway(['credential', 'verify', hex])
  assert.equal(refused.code, 1)
  assert.match(refused.err, /^error CREDENTIAL_UNTRUSTED_ISSUER: /m)

  const trusted = await gateway(['identity', 'trust', 'hospital'])
  assert.equal(trusted.code, 0, trusted.err)
  assert.equal(trusted.out, `hospital ${identifier} is a trusted issuer`)
  const ok = await gateway(['credential', 'verify', hex, '--json'])
  assert.equal(ok.code, 0, ok.err)
  assert.equal((JSON.parse(ok.out) as { valid: boolean; issuer: string }).issuer, identifier)

  // After a rotation on its host, re-importing updates the same entry.
  assert.equal((await hospital(['identity', 'rotate', 'hospital', '--type', 'p256'])).code, 0)
  const again = await gateway(['identity', 'import', 'whatever', (await hospital(['identity', 'export', 'hospital'])).out, '--json'])
  assert.equal(again.code, 0, again.err)
  assert.deepEqual(JSON.parse(again.out), { name: 'hospital', identifier, updated: true })
})

it('import refuses malformed input with its code; missing arguments and unknown names too', async () => {
  const h = host('bad')
  const odd = await h(['identity', 'import', 'x', 'abc'])
  assert.equal(odd.code, 1)
  assert.match(odd.err, /^error DECODE_ERROR: /m)
  const junk = await h(['identity', 'import', 'x', '00112233'])
  assert.equal(junk.code, 1)
  assert.match(junk.err, /^error IDENTITY_MALFORMED: /m)
  const missing = await h(['identity', 'import', 'x'])
  assert.equal(missing.code, 1)
  assert.match(missing.err, /^error INVALID_ARGUMENT: identity import expects NAME HEX/m)
  const nobody = await h(['identity', 'trust', 'nobody'])
  assert.equal(nobody.code, 1)
  assert.match(nobody.err, /^error IDENTITY_NOT_FOUND: /m)
  const noExport = await h(['identity', 'export', 'nobody'])
  assert.equal(noExport.code, 1)
  assert.match(noExport.err, /^error IDENTITY_NOT_FOUND: /m)
})
