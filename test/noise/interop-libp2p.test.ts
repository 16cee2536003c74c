/**
 * Live interop with @chainsafe/libp2p-noise 17 at the Noise layer:
 * Noise_XX_25519_ChaChaPoly_SHA256, the one suite libp2p-noise speaks.
 *
 * Entry point (see bench/libp2p-baseline.ts, `loadLibp2pNoise`): libp2p-noise's
 * internal `XXHandshakeState` from `dist/src/protocol.js`, built with
 * `wrapCrypto(defaultCrypto | pureJsCrypto)` from `dist/src/crypto.js`, the
 * state machine its own `performHandshakeInitiator/Responder` drive. We call
 * its writeMessageA/B/C and readMessageA/B/C with raw Noise messages passed in
 * memory, because the public `noise()` encrypter needs a libp2p PrivateKey,
 * PeerId, Upgrader and length-prefixed duplex streams, and fills the payloads
 * with a signed protobuf NoiseHandshakePayload: libp2p framing and identity,
 * not Noise. Payloads here are arbitrary non-empty bytes, which the state
 * machine carries unchanged.
 *
 * For both hopseal providers × both libp2p crypto backends × both roles: a full
 * handshake with a prologue and non-empty payloads, agreement on the handshake
 * hash and both remote statics, then transport messages each way, small and
 * ≥ 1200 bytes (libp2p's defaultCrypto switches ChaCha20-Poly1305 from its
 * AssemblyScript build to node:crypto at 1200 bytes, so both paths are hit).
 * Negative: every single-bit flip of libp2p's first authenticated message is
 * rejected by hopseal with a typed error, and the genuine message is accepted.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { concat, toHex, utf8 } from '../../src/bytes/index.ts'
import { cryptoProvider, type CryptoProvider } from '../../targets/node/crypto/index.ts'
import { isHopsealError } from '../../src/errors.ts'
import { HandshakeState, softwareStaticKey, type StaticKey, type TransportState } from '../../src/noise/index.ts'
import { XX_25519_CHACHAPOLY_SHA256 as XX, loadLibp2pNoise, type Libp2pBackend, type Libp2pNoise, type RawKeyPair, type ReferencePeer, type ReferenceTransport } from '../../bench/libp2p-baseline.ts'

const PROVIDERS = ['node', 'noble'] as const
const BACKENDS: readonly Libp2pBackend[] = ['default', 'pureJs']
const libs = new Map<Libp2pBackend, Libp2pNoise>()
for (const b of BACKENDS) libs.set(b, await loadLibp2pNoise(b))

interface Pair {
  hs: HandshakeState
  ref: ReferencePeer
  hsStatic: StaticKey
  refStatic: RawKeyPair
}

function pair(crypto: CryptoProvider, lib: Libp2pNoise, hopsealInitiator: boolean, prologue: Uint8Array, refPrologue = prologue): Pair {
  const hsStatic = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
  const refStatic = lib.generateStaticKey()
  const hs = HandshakeState.create({ protocol: XX, initiator: hopsealInitiator, s: hsStatic, crypto, prologue })
  const ref = lib.xx({ initiator: !hopsealInitiator, s: refStatic, prologue: refPrologue })
  return { hs, ref, hsStatic, refStatic }
}

function payloadFor(crypto: CryptoProvider, i: number, from: string): Uint8Array {
  return concat(utf8(`message ${i + 1} from ${from}: `), crypto.randomBytes(3 + 29 * i))
}

async function handshake(crypto: CryptoProvider, p: Pair, beforeHopsealReads?: (index: number, message: Uint8Array) => Promise<void>): Promise<{ t: TransportState; rt: ReferenceTransport }> {
  const { hs, ref } = p
  for (let i = 0; !(hs.isFinished() && ref.isFinished()); i++) {
    assert.ok(i < 3, 'XX has 3 messages')
    if (hs.isMyTurn()) {
      assert.ok(!ref.isMyTurn(), `message ${i + 1}: both sides want to write`)
      const payload = payloadFor(crypto, i, 'hopseal')
      assert.equal(toHex(ref.readMessage(await hs.writeMessage(payload))), toHex(payload), `message ${i + 1}: libp2p read a different payload`)
    } else {
      assert.ok(ref.isMyTurn(), `message ${i + 1}: neither side wants to write`)
      const payload = payloadFor(crypto, i, 'libp2p')
      const m = ref.writeMessage(payload)
      await beforeHopsealReads?.(i, m)
      assert.equal(toHex(await hs.readMessage(m)), toHex(payload), `message ${i + 1}: hopseal read a different payload`)
    }
  }
  return { t: hs.finish(), rt: ref.finish() }
}

function checkAgreement(crypto: CryptoProvider, p: Pair, t: TransportState, rt: ReferenceTransport): void {
  assert.equal(t.handshakeHash.length, 32)
  assert.equal(toHex(t.handshakeHash), toHex(rt.handshakeHash), 'handshake hashes differ')
  assert.equal(toHex(t.remoteStatic ?? new Uint8Array(0)), toHex(p.refStatic.publicKey), "hopseal's remote static is not libp2p's static key")
  assert.equal(toHex(rt.remoteStatic ?? new Uint8Array(0)), toHex(p.hsStatic.publicKey), "libp2p's remote static is not hopseal's static key")
  // libp2p transport messages use empty associated data (performHandshake: encryptWithAd(ZEROLEN, …)).
  const ad = new Uint8Array(0)
  for (const size of [64, 1500]) {
    const out = crypto.randomBytes(size)
    const ct = t.send.encryptWithAd(ad, out)
    assert.equal(ct.length, size + 16)
    assert.equal(toHex(rt.recv.decrypt(ad, ct)), toHex(out), `${size}-byte transport message: libp2p decrypted something else`)
    const back = crypto.randomBytes(size + 7)
    assert.equal(toHex(t.recv.decryptWithAd(ad, rt.send.encrypt(ad, back))), toHex(back), `${size + 7}-byte transport message: hopseal decrypted something else`)
  }
  assert.equal(t.send.nonce, 2n)
  assert.equal(t.recv.nonce, 2n)
}

describe('Noise interop with @chainsafe/libp2p-noise (live, XX state machine)', () => {
  let handshakes = 0
  for (const provider of PROVIDERS) {
    const crypto = cryptoProvider(provider)
    for (const backend of BACKENDS) {
      for (const hopsealInitiator of [true, false]) {
        const roles = hopsealInitiator ? 'hopseal initiator -> libp2p responder' : 'libp2p initiator -> hopseal responder'
        it(`${XX}: ${roles} (hopseal ${provider}, libp2p ${backend}Crypto)`, async () => {
          const p = pair(crypto, libs.get(backend)!, hopsealInitiator, utf8('hopseal libp2p interop'))
          const { t, rt } = await handshake(crypto, p)
          checkAgreement(crypto, p, t, rt)
          handshakes++
        })
      }
    }
  }
  it('ran every interop handshake', () => {
    console.log(`libp2p-noise interop: ${handshakes} handshakes passed, 0 failed`)
    assert.equal(handshakes, PROVIDERS.length * BACKENDS.length * 2)
  })

  it('disagrees when the prologues differ (the checks above can fail)', async () => {
    const crypto = cryptoProvider('node')
    const p = pair(crypto, libs.get('default')!, true, utf8('one'), utf8('two'))
    p.ref.readMessage(await p.hs.writeMessage(utf8('hello'))) // message A is not authenticated
    const b = p.ref.writeMessage(utf8('world'))
    await assert.rejects(p.hs.readMessage(b), (e: unknown) => isHopsealError(e, 'NOISE_DECRYPT_FAILED'))
  })
})

describe('tampered libp2p messages are rejected by hopseal, which then accepts the genuine one', () => {
  const crypto = cryptoProvider('node')
  for (const hopsealInitiator of [true, false]) {
    // Message A (-> e) carries no key yet (Noise §7.4): B is the first authenticated
    // message hopseal reads as initiator, C as responder.
    const target = hopsealInitiator ? 1 : 2
    const role = hopsealInitiator ? 'initiator' : 'responder'
    it(`hopseal ${role} rejects every bit flip, truncation and extension of libp2p message ${'ABC'[target]}`, async () => {
      const p = pair(crypto, libs.get('default')!, hopsealInitiator, utf8('tamper'))
      let tried = 0
      const rejects = async (bad: Uint8Array, what: string, allowed: readonly string[]): Promise<void> => {
        await assert.rejects(p.hs.readMessage(bad), (e: unknown) => {
          assert.ok(isHopsealError(e), `${what}: expected a HopsealError, got ${String(e)}`)
          assert.ok(allowed.includes(e.code), `${what}: unexpected code ${e.code}`)
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
      })
      assert.ok(tried > 8 * 48, `only ${tried} tampered messages tried`)
      console.log(`libp2p message ${'ABC'[target]} to hopseal ${role}: ${tried} tampered messages rejected, genuine accepted`)
      checkAgreement(crypto, p, t, rt)
    })
  }
})
