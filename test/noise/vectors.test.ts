/**
 * Public Noise vectors (cacophony, snow, noise-c): every supported entry must
 * pass for every message byte, the handshake hash and transport messages.
 * Prints `noise vectors: <file> [provider]: N passed, 0 failed` per file.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { cryptoProvider, type ProviderName } from '../../targets/node/crypto/index.ts'
import { runVector, supported, vectorName, type NoiseVector } from './vector-runner.ts'

const FILES = ['cacophony.json', 'snow.json', 'noise-c-basic.json']
const load = (f: string): NoiseVector[] => (JSON.parse(readFileSync(new URL(`../vectors/noise/${f}`, import.meta.url), 'utf8')) as { vectors: NoiseVector[] }).vectors
const TARGET = /^Noise_[A-Z]+(psk\d(\+psk\d)*)?_25519_(AESGCM|ChaChaPoly)_SHA256$/

describe('Noise public vectors', () => {
  let targetTotal = 0
  for (const provider of ['node', 'noble'] as ProviderName[]) {
    for (const file of FILES) {
      it(`${file} [${provider}]`, async () => {
        const crypto = cryptoProvider(provider)
        const all = load(file)
        const vectors = all.filter((v) => supported(v) !== undefined)
        let passed = 0
        const failed: string[] = []
        for (const v of vectors) {
          try {
            await runVector(crypto, v)
            passed++
            if (provider === 'node' && TARGET.test(vectorName(v))) targetTotal++
          } catch (e) {
            failed.push(`${vectorName(v)}: ${(e as Error).message.split('\n')[0]}`)
          }
        }
        console.log(`noise vectors: ${file} [${provider}]: ${passed} passed, ${failed.length} failed (of ${all.length} entries; ${all.length - vectors.length} unsupported: 448, deferred or fallback patterns)`)
        assert.deepEqual(failed.slice(0, 10), [])
        assert.ok(passed > 0, 'no vector ran')
      })
    }
  }
  it('ran at least 150 entries of 25519 × {AESGCM, ChaChaPoly} × SHA256', () => {
    console.log(`noise vectors: target suites (25519 × {AESGCM, ChaChaPoly} × SHA256): ${targetTotal} passed`)
    assert.ok(targetTotal >= 150, `only ${targetTotal} target entries ran`)
  })
})
