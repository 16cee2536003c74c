/**
 * Live interop with an independent Noise implementation: rweather/noise-c,
 * compiled to WebAssembly (noise-c.wasm 0.4), driven through its HandshakeState
 * wrapper with in-memory byte passing (adapter: bench/libp2p-baseline.ts,
 * `loadNoiseC`, shared with the bench so the baseline is proven interoperable).
 *
 * For each suite and each role of hopseal, under both hopseal crypto providers:
 * a full handshake with non-empty payloads in every handshake message and a
 * prologue, both sides' payloads checked byte for byte, agreement on the
 * handshake hash (Noise §11.2 channel binding) and on both remote static keys,
 * then transport messages each way (Noise §5.1 EncryptWithAd, with and without
 * associated data, so the nonces advance in step).
 *
 * Negative: every single-bit flip, every truncation and a one-byte extension
 * of noise-c's first authenticated message is rejected by hopseal's
 * readMessage with a typed HopsealError, and the handshake still accepts the
 * genuine message afterwards (handshake-state.ts: atomic message processing).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { concat, toHex, utf8 } from '../../src/bytes/index.ts'
import { cryptoProvider, type CryptoProvider } from '../../targets/node/crypto/index.ts'
import { isHopsealError } from '../../src/errors.ts'
import { HandshakeState, softwareStaticKey, type StaticKey, type TransportState } from '../../src/noise/index.ts'
import { loadNoiseC, type RawKeyPair, type ReferencePeer, type ReferenceTransport } from '../../bench/libp2p-baseline.ts'

const PROTOCOLS = ['Noise_XX_25519_AESGCM_SHA256', 'Noise_XX_25519_ChaChaPoly_SHA256', 'Noise_IK_25519_AESGCM_SHA256', 'Noise_IK_25519_ChaChaPoly_SHA256'] as const
const PROVIDERS = ['node', 'noble'] as const

const nc = await loadNoiseC()

interface Pair {
  hs: HandshakeState
  ref: ReferencePeer
  hsStatic: StaticKey
  refStatic: RawKeyPair
}

/** hopseal on one side, noise-c on the other; IK pre-shares the responder's static key with the initiator. */
function pair(crypto: CryptoProvider, protocol: string, hopsealInitiator: boolean, prologue: Uint8Array): Pair {
  const hsStatic = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
  const refStatic = nc.generateStaticKey()
  const ik = protocol.startsWith('Noise_IK_')
  const hs = HandshakeState.create({ protocol, initiator: hopsealInitiator, s: hsStatic, crypto, prologue, ...(ik && hopsealInitiator ? { rs: refStatic.publicKey } : {}) })
  const ref = nc.handshake({ protocol, initiator: !hopsealInitiator, s: refStatic, prologue, ...(ik && !hopsealInitiator ? { rs: hsStatic.publicKey } : {}) })
  return { hs, ref, hsStatic, refStatic }
}

/** A distinct, non-empty payload per message: a label plus random bytes of a length that varies with the message. */
function payloadFor(crypto: CryptoProvider, i: number, from: string): Uint8Array {
  return concat(utf8(`message ${i + 1} from ${from}: `), crypto.randomBytes(5 + 17 * i))
}

/**
 * Runs the handshake to completion. `beforeHopsealReads` sees each message
 * noise-c sends before hopseal reads it (the negative tests tamper there).
 */
async function handshake(crypto: CryptoProvider, p: Pair, beforeHopsealReads?: (index: number, message: Uint8Array) => Promise<void>): Promise<{ t: TransportState; rt: ReferenceTransport; messages: number }> {
  const { hs, ref } = p
  let i = 0
  for (; !(hs.isFinished() && ref.isFinished()); i++) {
    assert.ok(i < 3, 'an XX or IK handshake has at most 3 messages')
    if (hs.isMyTurn()) {
      assert.ok(!ref.isMyTurn(), `message ${i + 1}: both sides want to write`)
      const payload = payloadFor(crypto, i, 'hopseal')
      const m = await hs.writeMessage(payload)
      assert.equal(toHex(ref.readMessage(m)), toHex(payload), `message ${i + 1}: noise-c read a different payload`)
    } else {
      assert.ok(ref.isMyTurn(), `message ${i + 1}: neither side wants to write`)
      const payload = payloadFor(crypto, i, 'noise-c')
      const m = ref.writeMessage(payload)
      await beforeHopsealReads?.(i, m)
      assert.equal(toHex(await hs.readMessage(m)), toHex(payload), `message ${i + 1}: hopseal read a different payload`)
    }
  }
  return { t: hs.finish(), rt: ref.finish(), messages: i }
}

/** The checks every completed handshake must pass: channel binding, both remote statics, transport both ways. */
function checkAgreement(crypto: CryptoProvider, p: Pair, t: TransportState, rt: ReferenceTransport): void {
  assert.equal(t.handshakeHash.length, 32)
  assert.equal(toHex(t.handshakeHash), toHex(rt.handshakeHash), 'handshake hashes differ')
  assert.equal(toHex(t.remoteStatic ?? new Uint8Array(0)), toHex(p.refStatic.publicKey), "hopseal's remote static is not noise-c's static key")
  assert.equal(toHex(rt.remoteStatic ?? new Uint8Array(0)), toHex(p.hsStatic.publicKey), "noise-c's remote static is not hopseal's static key")

  const ads = [new Uint8Array(0), utf8('associated data')]
  for (const [k, ad] of ads.entries()) {
    const out = concat(utf8(`transport ${k} hopseal -> noise-c `), crypto.randomBytes(40))
    const ct = t.send.encryptWithAd(ad, out)
    assert.equal(ct.length, out.length + 16)
    assert.notEqual(toHex(ct.subarray(0, out.length)), toHex(out), 'transport message was not encrypted')
    assert.equal(toHex(rt.recv.decrypt(ad, ct)), toHex(out), `transport ${k}: noise-c decrypted something else`)

    const back = concat(utf8(`transport ${k} noise-c -> hopseal `), crypto.randomBytes(70))
    assert.equal(toHex(t.recv.decryptWithAd(ad, rt.send.encrypt(ad, back))), toHex(back), `transport ${k}: hopseal decrypted something else`)
  }
  assert.equal(t.send.nonce, 2n)
  assert.equal(t.recv.nonce, 2n)
}

describe('Noise interop with noise-c.wasm (live)', () => {
  let handshakes = 0
  for (const provider of PROVIDERS) {
    const crypto = cryptoProvider(provider)
    for (const protocol of PROTOCOLS) {
      for (const hopsealInitiator of [true, false]) {
        const roles = hopsealInitiator ? 'hopseal initiator -> noise-c responder' : 'noise-c initiator -> hopseal responder'
        it(`${protocol}: ${roles} (${provider} provider)`, async () => {
          const p = pair(crypto, protocol, hopsealInitiator, utf8(`hopseal interop prologue ${protocol}`))
          const { t, rt, messages } = await handshake(crypto, p)
          try {
            assert.equal(messages, protocol.startsWith('Noise_XX_') ? 3 : 2)
            checkAgreement(crypto, p, t, rt)
            handshakes++
          } finally {
            rt.free()
          }
        })
      }
    }
  }
  it('ran every interop handshake', () => {
    console.log(`noise-c interop: ${handshakes} handshakes passed, 0 failed`)
    assert.equal(handshakes, PROVIDERS.length * PROTOCOLS.length * 2)
  })

  it('disagrees when the prologues differ (the checks above can fail)', async () => {
    const crypto = cryptoProvider('node')
    const hsStatic = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
    const refStatic = nc.generateStaticKey()
    const hs = HandshakeState.create({ protocol: PROTOCOLS[1], initiator: true, s: hsStatic, crypto, prologue: utf8('one') })
    const ref = nc.handshake({ protocol: PROTOCOLS[1], initiator: false, s: refStatic, prologue: utf8('two') })
    ref.readMessage(await hs.writeMessage(utf8('hello'))) // XX message 1 is not authenticated yet
    const m2 = ref.writeMessage(utf8('world'))
    await assert.rejects(hs.readMessage(m2), (e: unknown) => isHopsealError(e, 'NOISE_DECRYPT_FAILED'))
    ref.free()
  })
})

describe('tampered noise-c messages are rejected by hopseal, which then accepts the genuine one', () => {
  const crypto = cryptoProvider('node')
  for (const protocol of PROTOCOLS) {
    for (const hopsealInitiator of [true, false]) {
      // The first noise-c -> hopseal message that is authenticated. XX message 1
      // (-> e) carries no key yet (Noise §7.4), so a flip there cannot be seen
      // by hopseal; it is caught later by noise-c, as the test above shows.
      const xx = protocol.startsWith('Noise_XX_')
      const target = xx ? (hopsealInitiator ? 1 : 2) : hopsealInitiator ? 1 : 0
      const role = hopsealInitiator ? 'initiator' : 'responder'
      it(`${protocol}: hopseal ${role} rejects every bit flip, truncation and extension of noise-c message ${target + 1}`, async () => {
        const p = pair(crypto, protocol, hopsealInitiator, utf8('tamper'))
        let tried = 0
        const codes = new Map<string, number>()
        const rejects = async (bad: Uint8Array, what: string, allowed: readonly string[]): Promise<void> => {
          await assert.rejects(p.hs.readMessage(bad), (e: unknown) => {
            assert.ok(isHopsealError(e), `${what}: expected a HopsealError, got ${String(e)}`)
            assert.ok(allowed.includes(e.code), `${what}: unexpected code ${e.code}`)
            codes.set(e.code, (codes.get(e.code) ?? 0) + 1)
            return true
          })
          tried++
        }
        const { t, rt } = await handshake(crypto, p, async (i, m) => {
          if (i !== target) return
          for (let bit = 0; bit < m.length * 8; bit++) {
            const bad = m.slice()
            bad[bit >> 3]! ^= 1 << (bit & 7)
            await rejects(bad, `bit ${bit}`, ['NOISE_DECRYPT_FAILED'])
          }
          for (let n = 0; n < m.length; n++) await rejects(m.slice(0, n), `truncated to ${n}`, ['NOISE_MESSAGE_TOO_SHORT', 'NOISE_DECRYPT_FAILED'])
          await rejects(concat(m, new Uint8Array([0])), 'extended by one byte', ['NOISE_DECRYPT_FAILED'])
          assert.ok(!p.hs.isFinished())
        })
        try {
          assert.ok(tried > 8 * 48, `only ${tried} tampered messages tried`)
          console.log(`${protocol} hopseal ${role}: ${tried} tampered messages rejected (${[...codes].map(([c, n]) => `${c} ×${n}`).join(', ')}), genuine accepted`)
          checkAgreement(crypto, p, t, rt)
        } finally {
          rt.free()
        }
      })
    }
  }
})
