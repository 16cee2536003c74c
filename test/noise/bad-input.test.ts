/**
 * Bad input to the Noise engine: every rejection is a typed HopsealError and
 * leaves the state untouched, so the genuine message is still accepted after.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { isHopsealError } from '../../src/errors.ts'
import { CipherState, HandshakeState, NOISE_MAX_NONCE, softwareStaticKey } from '../../src/noise/index.ts'

const crypto = cryptoProvider('node')
const code = (c: string) => (e: unknown) => {
  assert.ok(isHopsealError(e), `expected HopsealError, got ${String(e)}`)
  assert.equal(e.code, c)
  return true
}
const statik = (t: 'x25519' | 'p256' = 'x25519') => softwareStaticKey(crypto, crypto.generateKeyPair(t))

function xx(dh: '25519' | 'P256' = '25519') {
  const t = dh === '25519' ? 'x25519' : 'p256'
  const protocol = `Noise_XX_${dh}_ChaChaPoly_SHA256`
  return {
    init: HandshakeState.create({ protocol, initiator: true, s: statik(t), crypto }),
    resp: HandshakeState.create({ protocol, initiator: false, s: statik(t), crypto }),
  }
}

describe('Noise bad input', () => {
  it('rejects unknown protocol names', () => {
    for (const name of ['Noise_XX_448_AESGCM_SHA256', 'Noise_ZZ_25519_AESGCM_SHA256', 'Noise_XX_25519_AESGCM', 'Noise_XX_25519_AESGCM_MD5', 'Noise_XXpsk9_25519_AESGCM_SHA256', 'Noise_XXpsk3+psk3_25519_AESGCM_SHA256', '', 'Noise_XX_toString_AESGCM_SHA256', 'Noise_XX_25519_constructor_SHA256', 'Noise_XX_25519_AESGCM___proto__', 'Noise_NNpsk3_25519_AESGCM_SHA256']) {
      assert.throws(() => HandshakeState.create({ protocol: name, initiator: true, s: statik() }), code('NOISE_BAD_PROTOCOL_NAME'), name)
    }
  })

  it('rejects missing and wrong-length keys at creation', () => {
    assert.throws(() => HandshakeState.create({ protocol: 'Noise_XX_25519_AESGCM_SHA256', initiator: true }), code('NOISE_MISSING_KEY'))
    assert.throws(() => HandshakeState.create({ protocol: 'Noise_IK_25519_AESGCM_SHA256', initiator: true, s: statik() }), code('NOISE_MISSING_KEY'))
    assert.throws(() => HandshakeState.create({ protocol: 'Noise_IK_25519_AESGCM_SHA256', initiator: true, s: statik(), rs: new Uint8Array(31) }), code('INVALID_KEY'))
    assert.throws(() => HandshakeState.create({ protocol: 'Noise_XX_P256_AESGCM_SHA256', initiator: true, s: statik('x25519') }), code('INVALID_KEY'))
    const bad = new Uint8Array(33)
    bad[0] = 2
    bad.fill(0xff, 1)
    assert.throws(() => HandshakeState.create({ protocol: 'Noise_IK_P256_AESGCM_SHA256', initiator: true, s: statik('p256'), rs: bad }), code('INVALID_POINT'))
    assert.throws(() => HandshakeState.create({ protocol: 'Noise_XXpsk3_25519_AESGCM_SHA256', initiator: true, s: statik() }), code('NOISE_MISSING_KEY'))
    assert.throws(() => HandshakeState.create({ protocol: 'Noise_XXpsk3_25519_AESGCM_SHA256', initiator: true, s: statik(), psks: [new Uint8Array(16)] }), code('INVALID_KEY'))
  })

  it('refuses calls in the wrong state', async () => {
    const { init, resp } = xx()
    await assert.rejects(resp.writeMessage(), code('NOISE_WRONG_STATE'))
    await assert.rejects(init.readMessage(new Uint8Array(32)), code('NOISE_WRONG_STATE'))
    assert.throws(() => init.finish(), code('NOISE_WRONG_STATE'))
    await resp.readMessage(await init.writeMessage())
    await init.readMessage(await resp.writeMessage())
    await resp.readMessage(await init.writeMessage())
    await assert.rejects(init.writeMessage(), code('NOISE_WRONG_STATE'))
    init.finish()
    // type-state: the handshake is unusable after finish()
    assert.throws(() => init.finish(), code('NOISE_WRONG_STATE'))
    assert.throws(() => init.getHandshakeHash(), code('NOISE_WRONG_STATE'))
    await assert.rejects(init.writeMessage(), code('NOISE_WRONG_STATE'))
  })

  it('refuses a second message while one is in flight', async () => {
    const { init, resp } = xx()
    await resp.readMessage(await init.writeMessage())
    const m2 = await resp.writeMessage()
    const p = init.readMessage(m2) // awaits its DH: still in flight
    await assert.rejects(init.readMessage(m2), code('NOISE_BUSY'))
    assert.equal((await p).length, 0)
  })

  for (const dh of ['25519', 'P256'] as const) {
    it(`${dh}: every single-byte corruption of messages 2 and 3 is rejected and changes nothing`, async () => {
      const { init, resp } = xx(dh)
      await resp.readMessage(await init.writeMessage(new TextEncoder().encode('one')))
      const m2 = await resp.writeMessage(new TextEncoder().encode('two'))
      let rejected = 0
      for (let i = 0; i < m2.length; i++) {
        const bad = m2.slice()
        bad[i]! ^= 0x01 << (i % 8)
        await assert.rejects(init.readMessage(bad), (e: unknown) => isHopsealError(e), `byte ${i}`)
        rejected++
      }
      // truncation and extension
      await assert.rejects(init.readMessage(m2.subarray(0, m2.length - 1)), (e: unknown) => isHopsealError(e))
      await assert.rejects(init.readMessage(m2.subarray(0, 10)), code('NOISE_MESSAGE_TOO_SHORT'))
      await assert.rejects(init.readMessage(new Uint8Array(0)), code('NOISE_MESSAGE_TOO_SHORT'))
      assert.deepEqual(new TextDecoder().decode(await init.readMessage(m2)), 'two')
      const m3 = await init.writeMessage(new TextEncoder().encode('three'))
      for (let i = 0; i < m3.length; i++) {
        const bad = m3.slice()
        bad[i]! ^= 0x80 >> (i % 8)
        await assert.rejects(resp.readMessage(bad), (e: unknown) => isHopsealError(e), `byte ${i}`)
        rejected++
      }
      assert.deepEqual(new TextDecoder().decode(await resp.readMessage(m3)), 'three')
      const a = init.finish()
      const b = resp.finish()
      assert.deepEqual(b.recv.decrypt(new Uint8Array(0), a.send.encrypt(new Uint8Array(0), new Uint8Array([7]))), new Uint8Array([7]))
      assert.ok(rejected === m2.length + m3.length)
    })
  }

  it('a corrupted first XX message (unauthenticated e) makes the handshake fail at message 2, not later', async () => {
    const { init, resp } = xx()
    const m1 = await init.writeMessage()
    m1[5]! ^= 1
    await resp.readMessage(m1) // e is not authenticated yet (Noise §7.2)
    const m2 = await resp.writeMessage()
    await assert.rejects(init.readMessage(m2), code('NOISE_DECRYPT_FAILED'))
  })

  it('rejects low-order X25519 ephemerals (all-zero DH) and invalid P-256 points, state untouched', async () => {
    const { init, resp } = xx('25519')
    await resp.readMessage(await init.writeMessage())
    const m2 = await resp.writeMessage()
    const evil = m2.slice()
    evil.fill(0, 0, 32) // e = 0: a low-order point
    await assert.rejects(init.readMessage(evil), code('WEAK_SHARED_SECRET'))
    await init.readMessage(m2)

    const p = xx('P256')
    const m1 = await p.init.writeMessage()
    const offCurve = m1.slice()
    offCurve.fill(0xff, 1, 33)
    await assert.rejects(p.resp.readMessage(offCurve), code('INVALID_POINT'))
    const badPrefix = m1.slice()
    badPrefix[0] = 0x04
    await assert.rejects(p.resp.readMessage(badPrefix), code('INVALID_POINT'))
    await p.resp.readMessage(m1)
  })

  it('rejects handshake messages delivered out of order', async () => {
    const a = xx()
    const b = xx()
    await b.resp.readMessage(await b.init.writeMessage())
    await b.init.readMessage(await b.resp.writeMessage())
    const m3 = await b.init.writeMessage()
    // a's responder expects message 1 and gets a message 3 (of another session)
    const m1 = await a.init.writeMessage()
    const r = await a.resp.readMessage(m3).then(
      () => 'accepted',
      (e: unknown) => (isHopsealError(e) ? 'rejected' : 'crash'),
    )
    // message 3 is 64 bytes of which the first 32 parse as an ephemeral: XX msg 1 is unauthenticated,
    // so it is accepted as a (garbage) ephemeral with a 32-byte payload, and the handshake then fails.
    assert.ok(r !== 'crash')
    if (r === 'accepted') {
      const m2 = await a.resp.writeMessage()
      await assert.rejects(a.init.readMessage(m2), code('NOISE_DECRYPT_FAILED'))
    } else {
      await a.resp.readMessage(m1)
    }
  })

  it('enforces the message size limit on write and read', async () => {
    const { init, resp } = xx()
    await assert.rejects(init.writeMessage(new Uint8Array(65535)), code('NOISE_MESSAGE_TOO_LONG'))
    await assert.rejects(resp.readMessage(new Uint8Array(65536)), code('NOISE_MESSAGE_TOO_LONG'))
    const small = HandshakeState.create({ protocol: 'Noise_NN_25519_AESGCM_SHA256', initiator: true, maxMessageLength: 40 })
    await assert.rejects(small.writeMessage(new Uint8Array(9)), code('NOISE_MESSAGE_TOO_LONG'))
    assert.equal((await small.writeMessage(new Uint8Array(8))).length, 40)
  })

  it('cipher state: nonce exhaustion, atomic decrypt, rekey', () => {
    const k = crypto.randomBytes(32)
    const ad = new Uint8Array(0)
    for (const alg of ['aes-gcm', 'chacha20-poly1305'] as const) {
      const tx = new CipherState(crypto, alg, k)
      const rx = new CipherState(crypto, alg, k)
      const c0 = tx.encrypt(ad, new Uint8Array([1]))
      const bad = c0.slice()
      bad[0]! ^= 1
      assert.throws(() => rx.decrypt(ad, bad), code('NOISE_DECRYPT_FAILED'))
      assert.equal(rx.nonce, 0n, 'failed decrypt leaves the nonce')
      assert.throws(() => rx.decrypt(ad, c0.subarray(0, 15)), code('NOISE_MESSAGE_TOO_SHORT'))
      assert.deepEqual(rx.decrypt(ad, c0), new Uint8Array([1]))
      assert.equal(rx.nonce, 1n)
      assert.throws(() => rx.decrypt(ad, c0), code('NOISE_DECRYPT_FAILED'), 'a replay fails under the next nonce')
      tx.rekey()
      rx.rekey()
      assert.deepEqual(rx.decrypt(ad, tx.encrypt(ad, new Uint8Array([2]))), new Uint8Array([2]))
      const stale = new CipherState(crypto, alg, k)
      stale.setNonce(2n)
      assert.throws(() => stale.decrypt(ad, tx.encrypt(ad, new Uint8Array([3]))), code('NOISE_DECRYPT_FAILED'), 'rekeyed key differs')
      tx.setNonce(NOISE_MAX_NONCE - 1n)
      tx.encrypt(ad, new Uint8Array(0))
      assert.throws(() => tx.encrypt(ad, new Uint8Array(0)), code('NOISE_NONCE_EXHAUSTED'))
      assert.throws(() => tx.encrypt(ad, new Uint8Array(0)), code('NOISE_NONCE_EXHAUSTED'), 'stays exhausted')
      assert.throws(() => tx.setNonce(-1n), code('INVALID_ARGUMENT'))
      assert.throws(() => new CipherState(crypto, alg).encryptWithNonce(0n, ad, ad), code('NOISE_MISSING_KEY'))
    }
  })

  it('a psk mismatch fails the handshake', async () => {
    const s = statik()
    const rs = statik()
    const p1 = crypto.randomBytes(32)
    const init = HandshakeState.create({ protocol: 'Noise_IKpsk2_25519_ChaChaPoly_SHA256', initiator: true, s, rs: rs.publicKey, psks: [p1] })
    const resp = HandshakeState.create({ protocol: 'Noise_IKpsk2_25519_ChaChaPoly_SHA256', initiator: false, s: rs, psks: [crypto.randomBytes(32)] })
    await resp.readMessage(await init.writeMessage())
    await assert.rejects(init.readMessage(await resp.writeMessage()), code('NOISE_DECRYPT_FAILED'))
  })
})
