import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { isHopsealError } from '../../src/errors.ts'
import { CipherState, keySlotStats } from '../../src/noise/cipher-state.ts'

const crypto = cryptoProvider('node')
const key = (b: number): Uint8Array => new Uint8Array(32).fill(b)

/** A garbage collection from inside the test (node --expose-gc not needed). */
function collect(): void {
  setFlagsFromString('--expose-gc')
  ;(runInNewContext('gc') as () => void)()
}

describe('CipherState: keys in shared slots', () => {
  for (const aead of ['aes-gcm', 'chacha20-poly1305'] as const) {
    it(`${aead}: a number nonce gives the bytes of the same bigint nonce, the low and high halves in the suite's byte order`, () => {
      const c = new CipherState(crypto, aead, key(7))
      const ad = Uint8Array.of(1, 2)
      const pt = Uint8Array.of(3, 4, 5)
      for (const n of [0, 1, 255, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 5, 2 ** 48, Number.MAX_SAFE_INTEGER]) {
        assert.deepEqual(c.encryptWithNonce(n, ad, pt), c.encryptWithNonce(BigInt(n), ad, pt), `nonce ${n}`)
        assert.deepEqual(c.decryptWithNonce(n, ad, c.encryptWithNonce(BigInt(n), ad, pt)), pt)
      }
      for (const bad of [-1, 1.5, 2 ** 53, NaN]) assert.throws(() => c.encryptWithNonce(bad, ad, pt), (e: unknown) => isHopsealError(e, 'INVALID_ARGUMENT'), String(bad))
      c.destroy()
    })
  }

  it('keeps every state\'s key apart, through rekey and clone', () => {
    const a = new CipherState(crypto, 'aes-gcm', key(1))
    const b = new CipherState(crypto, 'aes-gcm', key(2))
    const ad = new Uint8Array(0)
    const pt = Uint8Array.of(9)
    const ctA = a.encryptWithNonce(0n, ad, pt)
    assert.notDeepEqual(ctA, b.encryptWithNonce(0n, ad, pt))
    const c = a.clone()
    a.rekey()
    assert.notDeepEqual(a.encryptWithNonce(0n, ad, pt), ctA, 'rekeyed')
    assert.deepEqual(c.encryptWithNonce(0n, ad, pt), ctA, 'the clone kept the key from before the rekey')
    const b2 = new CipherState(crypto, 'aes-gcm', key(2))
    assert.deepEqual(b2.encryptWithNonce(0n, ad, pt), b.encryptWithNonce(0n, ad, pt))
    for (const s of [a, b, b2, c]) s.destroy()
  })

  it('zero-fills a key on destroy and on a failed decryption leaves nothing behind', () => {
    const before = keySlotStats().nonzeroBytes
    const c = new CipherState(crypto, 'chacha20-poly1305', key(0x55))
    assert.equal(keySlotStats().nonzeroBytes, before + 32)
    assert.throws(() => c.decryptWithNonce(0n, new Uint8Array(0), new Uint8Array(20)), (e: unknown) => isHopsealError(e, 'NOISE_DECRYPT_FAILED'))
    assert.equal(keySlotStats().nonzeroBytes, before + 32, 'the scratch copy of the key is wiped after a failure too')
    c.destroy()
    assert.equal(keySlotStats().nonzeroBytes, before)
    assert.equal(c.hasKey(), false)
    assert.throws(() => c.encryptWithNonce(0n, new Uint8Array(0), new Uint8Array(1)), (e: unknown) => isHopsealError(e, 'NOISE_MISSING_KEY'))
    c.destroy() // twice: no double release
    const free = keySlotStats().free
    const d = new CipherState(crypto, 'aes-gcm', key(1))
    const e = new CipherState(crypto, 'aes-gcm', key(2))
    assert.equal(keySlotStats().free, free - 2, 'two distinct slots, the released one reused')
    d.destroy()
    e.destroy()
    assert.throws(() => new CipherState(crypto, 'aes-gcm', new Uint8Array(16)), (err: unknown) => isHopsealError(err, 'INVALID_LENGTH'))
  })

  it('a state dropped without destroy() gives its slot back, zero-filled, once collected', async () => {
    const settleFinalizers = async (done: () => boolean): Promise<void> => {
      for (let i = 0; i < 20 && !done(); i++) {
        collect()
        await new Promise((r) => setTimeout(r, 10)) // finalizers run as tasks after the collection
      }
    }
    const before = keySlotStats()
    assert.equal(before.nonzeroBytes, 0, 'the earlier tests destroyed their states')
    ;(() => {
      for (let i = 0; i < 300; i++) new CipherState(crypto, 'aes-gcm', key(0xaa)).encryptWithNonce(0n, new Uint8Array(0), new Uint8Array(1))
    })()
    assert.equal(keySlotStats().nonzeroBytes, before.nonzeroBytes + 300 * 32)
    await settleFinalizers(() => keySlotStats().nonzeroBytes === before.nonzeroBytes)
    const after = keySlotStats()
    assert.equal(after.nonzeroBytes, before.nonzeroBytes, 'every dropped key was zero-filled')
    assert.equal(after.free - before.free, (after.slabs - before.slabs) * 128, 'and every slot is free again')
  })
})
