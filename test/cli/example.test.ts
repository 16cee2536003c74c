import assert from 'node:assert/strict'
import { it } from 'node:test'
import '../../targets/node/vaults.ts'
import { main } from '../../targets/node/cli/main.ts'

for (const suite of ['Noise_XX_25519_ChaChaPoly_SHA256', 'Noise_XX_P256_AESGCM_SHA256']) {
  it(`npm start's example completes ${suite} and exchanges a message each way`, async () => {
    const out: string[] = []
    const code = await main(['example', '--suite', suite, '--json'], { out: (l) => out.push(l), err: (l) => out.push(l) })
    assert.equal(code, 0, out.join('\n'))
    const r = JSON.parse(out[0]!) as { ok: boolean; handshake_bytes: number; flights: number[]; mutual_authentication: boolean; messages: string[] }
    assert.equal(r.ok, true)
    assert.equal(r.mutual_authentication, true)
    assert.deepEqual(r.flights, suite.includes('P256') ? [33, 98, 65] : [32, 96, 64])
    assert.match(r.messages[0]!, /heart rate/)
  })
}

it('the example refuses a non-XX suite with a usage error', async () => {
  const err: string[] = []
  assert.equal(await main(['example', '--suite', 'Noise_KK_25519_AESGCM_SHA256'], { out: () => undefined, err: (l) => err.push(l) }), 2)
  assert.match(err.join(''), /XX suite/)
})
