/**
 * `hopseal vault …` end to end: the real bin/hopseal.js in a child process, with
 * HOPSEAL_HOME in a temp dir, against the software vault's key-store file.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { toHex } from '../../src/bytes/index.ts'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { FileKeyStore } from '../../vaults/software/index.ts'

const BIN = fileURLToPath(new URL('../../bin/hopseal.js', import.meta.url))
const home = mkdtempSync(join(tmpdir(), 'hopseal-cli-'))
after(() => rmSync(home, { recursive: true, force: true }))

interface Run {
  code: number
  out: string
  err: string
}

function hopseal(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, HOPSEAL_HOME: home, ...env }
    delete childEnv.HOPSEAL_VAULT
    if (!('HOPSEAL_VAULT_PASSPHRASE' in env)) delete childEnv.HOPSEAL_VAULT_PASSPHRASE
    execFile(process.execPath, [BIN, ...args], { env: childEnv, timeout: 30_000 }, (e, out, err) => {
      resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err })
    })
  })
}

interface KeyJson {
  label: string
  type: string
  id: string
  persistent: boolean
  publicKey: string
}

describe('hopseal vault (CLI)', () => {
  const made = new Map<string, KeyJson>()

  it('keygen creates persistent keys of each type in $HOPSEAL_HOME/vault.hsv (mode 0600)', async () => {
    for (const type of ['ed25519', 'x25519', 'p256']) {
      const r = await hopseal(['vault', 'keygen', '--type', type, '--label', `cli-${type}`, '--json'])
      assert.equal(r.code, 0, r.err)
      const k = JSON.parse(r.out) as KeyJson
      assert.equal(k.type, type)
      assert.equal(k.label, `cli-${type}`)
      assert.equal(k.persistent, true)
      assert.equal(k.publicKey.length, type === 'p256' ? 66 : 64)
      made.set(type, k)
    }
    assert.equal(statSync(join(home, 'vault.hsv')).mode & 0o777, 0o600)
  })

  it('a path that names no store is an error for list, public-key and delete (a typo is not an empty vault); keygen creates it', async () => {
    const typo = join(home, 'vault.hvs')
    for (const args of [['list'], ['public-key', '--label', 'x'], ['delete', '--label', 'x']]) {
      const r = await hopseal(['vault', ...args, '--vault', `software:${typo}`])
      assert.equal(r.code, 1, `${args[0]}: ${r.out}`)
      assert.match(r.err, new RegExp(`VAULT_STORE_IO: no key store at ${typo.replace(/[.]/g, '\\.')} \\(fix: check the path; hopseal vault keygen --vault software:`))
      assert.equal(r.out, '')
    }
    const k = await hopseal(['vault', 'keygen', '--type', 'x25519', '--label', 'new', '--vault', `software:${typo}`])
    assert.equal(k.code, 0, k.err)
    assert.equal((await hopseal(['vault', 'list', '--vault', `software:${typo}`])).code, 0)
  })

  it('list shows every key with its public key, in text and JSON; output never contains a private key', async () => {
    const j = await hopseal(['vault', 'list', '--json'])
    assert.equal(j.code, 0, j.err)
    const keys = JSON.parse(j.out) as KeyJson[]
    assert.deepEqual(keys.map((k) => k.label).sort(), ['cli-ed25519', 'cli-p256', 'cli-x25519'])
    for (const k of keys) assert.equal(k.publicKey, made.get(k.type)!.publicKey)
    const t = await hopseal(['vault', 'list'])
    assert.equal(t.code, 0, t.err)
    assert.equal(t.out.trim().split('\n').length, 3)
    assert.match(t.out, new RegExp(`^cli-p256\\tp256\\t${made.get('p256')!.publicKey}\\t`, 'm'))
    // The stored private keys, read directly: none appears in anything the CLI printed.
    const stored = await (await FileKeyStore.open(join(home, 'vault.hsv'))).load()
    assert.equal(stored.length, 3)
    for (const s of stored) {
      const hex = toHex(s.privateKey)
      for (const r of [j, t]) assert.ok(!r.out.includes(hex) && !r.err.includes(hex), 'private key printed')
      // and the public key the CLI printed belongs to the stored private key
      assert.equal(toHex(cryptoProvider('node').keyPairFromPrivate(s.type, s.privateKey).publicKey), made.get(s.type)!.publicKey)
    }
  })

  it('public-key prints the hex public key; delete removes the key; missing labels exit 1 with VAULT_KEY_NOT_FOUND', async () => {
    const p = await hopseal(['vault', 'public-key', '--label', 'cli-x25519'])
    assert.equal(p.code, 0, p.err)
    assert.equal(p.out.trim(), made.get('x25519')!.publicKey)
    const d = await hopseal(['vault', 'delete', '--label', 'cli-x25519'])
    assert.equal(d.code, 0, d.err)
    assert.equal(d.out.trim(), 'deleted cli-x25519')
    const gone = await hopseal(['vault', 'public-key', '--label', 'cli-x25519'])
    assert.equal(gone.code, 1)
    assert.match(gone.err, /^error VAULT_KEY_NOT_FOUND: /m)
    const dup = await hopseal(['vault', 'keygen', '--type', 'p256', '--label', 'cli-p256'])
    assert.equal(dup.code, 1)
    assert.match(dup.err, /error VAULT_DUPLICATE_LABEL/)
  })

  it('usage errors exit 2', async () => {
    for (const args of [['vault'], ['vault', 'keygen', '--label', 'x'], ['vault', 'keygen', '--type', 'rsa', '--label', 'x'], ['vault', 'public-key'], ['vault', 'frobnicate'], ['vault', 'list', '--bogus']]) {
      const r = await hopseal(args)
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`)
    }
  })

  it('an encrypted store through passphrase-file= or HOPSEAL_VAULT_PASSPHRASE; a wrong passphrase exits 1', async () => {
    const store = join(home, 'enc', 'keys.hsv')
    const pw = join(home, 'pw.txt')
    writeFileSync(pw, 'open sesame\n', { mode: 0o600 })
    const spec = `software:${store},passphrase-file=${pw}`
    const g = await hopseal(['vault', 'keygen', '--type', 'ed25519', '--label', 'enc', '--vault', spec, '--json'])
    assert.equal(g.code, 0, g.err)
    const l = await hopseal(['vault', 'list', '--vault', `software:${store}`, '--json'], { HOPSEAL_VAULT_PASSPHRASE: 'open sesame' })
    assert.equal(l.code, 0, l.err)
    assert.equal((JSON.parse(l.out) as KeyJson[])[0]!.publicKey, (JSON.parse(g.out) as KeyJson).publicKey)
    const wrong = await hopseal(['vault', 'list', '--vault', `software:${store}`], { HOPSEAL_VAULT_PASSPHRASE: 'open says me' })
    assert.equal(wrong.code, 1)
    assert.match(wrong.err, /error VAULT_WRONG_PASSPHRASE/)
    const none = await hopseal(['vault', 'list', '--vault', `software:${store}`])
    assert.equal(none.code, 1)
    assert.match(none.err, /error VAULT_WRONG_PASSPHRASE/)
  })
})
