/** The `atecc608:` CLI vault spec: parsing, typed errors, and a sim= vault that keeps its keys across opens. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { p256 } from '@noble/curves/nist.js'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openVaultSpec } from '../../targets/node/cli/vault-registry.ts'
import { Atecc608Vault, parseAtecc608Spec } from '../../vaults/atecc608/index.ts'
import '../../targets/node/vault-atecc608.ts'

const bad = (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT'

describe('atecc608: vault spec', () => {
  it('parses kit, i2c and sim specs', () => {
    assert.deepEqual(parseAtecc608Spec('kit=/dev/ttyACM0'), { kind: 'kit', target: '/dev/ttyACM0' })
    assert.deepEqual(parseAtecc608Spec('i2c=1,address=0x60'), { kind: 'i2c', target: '1', address: 0x60 })
    assert.deepEqual(parseAtecc608Spec('sim=/tmp/x.json,seed=a,timing=realtime,name=mon,timeout=500'), { kind: 'sim', target: '/tmp/x.json', seed: 'a', timing: 'realtime', name: 'mon', timeoutMs: 500 })
    assert.deepEqual(parseAtecc608Spec('sim=/tmp/x.json,timing=max'), { kind: 'sim', target: '/tmp/x.json', timing: 'max' })
  })
  it('refuses bad specs with INVALID_ARGUMENT', () => {
    for (const s of ['', 'kit=', 'kit=/a,i2c=1', 'i2c=x', 'i2c=1,address=0x1ff', 'kit=/a,foo=1', 'kit=/a,kit=/b', 'sim=/a,timing=fast', 'kit=/a,timeout=1']) {
      assert.throws(() => parseAtecc608Spec(s), bad, s)
    }
  })
  it('iokey=FILE: a chip provisioned with that I/O protection key opens with encrypted ECDH; without the key, or with a bad file, a typed error', async () => {
    assert.deepEqual(parseAtecc608Spec('kit=/dev/ttyACM0,iokey=/etc/io.key'), { kind: 'kit', target: '/dev/ttyACM0', ioKeyFile: '/etc/io.key' })
    assert.throws(() => parseAtecc608Spec('kit=/a,iokey='), bad)
    const dir = mkdtempSync(join(tmpdir(), 'hopseal-atecc-iokey-'))
    try {
      const ctx = { env: {}, home: dir }
      const keyFile = join(dir, 'io.key')
      writeFileSync(keyFile, `${'5a'.repeat(32)}\n`)
      const state = join(dir, 'dev.json')
      const v = await openVaultSpec(`atecc608:sim=${state},seed=io,iokey=${keyFile}`, ctx)
      assert.ok(v instanceof Atecc608Vault && v.ecdhEncrypted, 'ECDH runs with encrypted output')
      const h = await v.generateKey('p256', { label: 's', persistent: true })
      const peer = p256.getPublicKey(p256.utils.randomSecretKey(), true)
      const secret = await v.ecdh(h, peer)
      assert.equal(secret.length, 32)
      await v.close()
      // the chip encrypts every ECDH output: opening it without the key is refused
      await assert.rejects(openVaultSpec(`atecc608:sim=${state}`, ctx), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT')
      writeFileSync(keyFile, 'not a key')
      await assert.rejects(openVaultSpec(`atecc608:sim=${state},iokey=${keyFile}`, ctx), (e: Error & { code?: string }) => e.code === 'INVALID_LENGTH')
      await assert.rejects(openVaultSpec(`atecc608:sim=${state},iokey=${join(dir, 'missing.key')}`, ctx), (e: Error & { code?: string }) => e.code === 'VAULT_TOKEN_ABSENT')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('opens atecc608:sim=STATEFILE through the CLI registry; keys survive a reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hopseal-atecc-spec-'))
    try {
      const ctx = { env: {}, home: dir }
      const v1 = await openVaultSpec(`atecc608:sim=${join(dir, 'dev.json')},seed=spec`, ctx)
      const h = await v1.generateKey('p256', { label: 'identity', persistent: true })
      const pub = await v1.publicKey(h)
      await v1.close()
      const v2 = await openVaultSpec(`atecc608:sim=${join(dir, 'dev.json')}`, ctx)
      const again = await v2.findKey('identity')
      assert.ok(again, 'found by label after reopen')
      assert.deepEqual(await v2.publicKey(again), pub)
      await v2.close()
      await assert.rejects(openVaultSpec('atecc608:kit=/nonexistent/tty', ctx), (e: Error & { code?: string }) => e.code === 'VAULT_TOKEN_ABSENT')
      await assert.rejects(openVaultSpec('atecc608:i2c=250', ctx), (e: Error & { code?: string }) => e.code === 'VAULT_TOKEN_ABSENT' || e.code === 'VAULT_OPERATION_UNSUPPORTED')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
