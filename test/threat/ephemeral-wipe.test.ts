/**
 * Threat model I5 (keys lingering in memory): `HandshakeState.finish()` and
 * `destroy()` zero the local ephemeral private key, for X25519 and P-256,
 * under the node and the noble providers, after a completed handshake and
 * after a failed one. A recording provider hands out the key pairs it
 * generates, so the test sees the very bytes the handshake used (and checks
 * they were non-zero before, so it can fail). With the node provider, P-256
 * key pairs also carry an OpenSSL ECDH object: after the wipe it holds the
 * scalar 1, not the ephemeral.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { toHex, utf8 } from '../../src/bytes/index.ts'
import { cryptoProvider, type CryptoProvider, type KeyPair } from '../../targets/node/crypto/index.ts'
import { createSecureChannel, knownPeers, startSecureChannelListener } from '../../src/channel/secure-channel.ts'
import { isHopsealError, ErrorCode } from '../../src/errors.ts'
import { HandshakeState, softwareStaticKey, type StaticKey } from '../../src/noise/index.ts'
import { address, local, Node, TransportType } from '../../src/routing/index.ts'
import { MemoryNetwork } from '../../src/transports/memory.ts'

/** The private scalar an OpenSSL ECDH object holds (Node returns it without leading zeros). */
const scalarOf = (e: { getPrivateKey(): Buffer }) => BigInt('0x' + (e.getPrivateKey().toString('hex') || '0'))

/** A provider that records every key pair it generates (prototype delegation: everything else is the base provider). */
function recording(base: CryptoProvider): { crypto: CryptoProvider; made: KeyPair[] } {
  const made: KeyPair[] = []
  const crypto = Object.create(base) as CryptoProvider & { generateKeyPair: CryptoProvider['generateKeyPair'] }
  crypto.generateKeyPair = (type) => {
    const kp = base.generateKeyPair(type)
    made.push(kp)
    return kp
  }
  return { crypto, made }
}

const isZero = (b: Uint8Array) => b.every((x) => x === 0)
/** The OpenSSL ECDH object the node provider caches on a P-256 key pair, if any. */
const ecdhOf = (kp: KeyPair) => (kp.native as { ecdh?: { getPrivateKey(): Buffer } } | undefined)?.ecdh

function assertWiped(made: KeyPair[], ecdhs: ({ getPrivateKey(): Buffer } | undefined)[], what: string): void {
  for (const [i, kp] of made.entries()) {
    assert.ok(isZero(kp.privateKey), `${what}: ephemeral ${i} private key not zero-filled`)
    assert.equal(kp.native, undefined, `${what}: ephemeral ${i} still carries a provider cache`)
    const e = ecdhs[i]
    if (e) assert.equal(scalarOf(e), 1n, `${what}: the OpenSSL ECDH object still holds ephemeral ${i}`)
  }
}

for (const providerName of ['node', 'noble'] as const) {
  for (const dh of ['25519', 'P256'] as const) {
    const type = dh === '25519' ? 'x25519' : 'p256'
    describe(`ephemeral wipe, ${providerName} provider, ${dh}`, () => {
      const base = cryptoProvider(providerName)
      const statics = () => ({ a: softwareStaticKey(base, base.generateKeyPair(type)), b: softwareStaticKey(base, base.generateKeyPair(type)) })

      for (const pattern of ['XX', 'KK', 'IK', 'NN'] as const) {
        it(`${pattern}: finish() zero-fills both sides' ephemeral private keys`, async () => {
          const protocol = `Noise_${pattern}_${dh}_ChaChaPoly_SHA256`
          const { a, b } = statics()
          const ri = recording(base), rr = recording(base)
          const init = HandshakeState.create({ protocol, initiator: true, crypto: ri.crypto, ...(pattern === 'NN' ? {} : { s: a }), ...(pattern === 'KK' || pattern === 'IK' ? { rs: b.publicKey } : {}) })
          const resp = HandshakeState.create({ protocol, initiator: false, crypto: rr.crypto, ...(pattern === 'NN' ? {} : { s: b }), ...(pattern === 'KK' ? { rs: a.publicKey } : {}) })
          let writer = init, reader = resp
          while (!init.isFinished() || !resp.isFinished()) {
            await reader.readMessage(await writer.writeMessage(utf8('payload')))
            ;[writer, reader] = [reader, writer]
          }
          assert.equal(ri.made.length, 1, 'the initiator generated one ephemeral')
          assert.equal(rr.made.length, 1, 'the responder generated one ephemeral')
          const made = [...ri.made, ...rr.made]
          for (const kp of made) assert.ok(!isZero(kp.privateKey), 'a live ephemeral is not zero (the test can fail)')
          const ecdhs = made.map(ecdhOf)
          if (providerName === 'node' && dh === 'P256') assert.ok(ecdhs.every(Boolean), 'node P-256 key pairs cache an ECDH object')
          for (const e of ecdhs) if (e) assert.notEqual(scalarOf(e), 1n)
          const ti = init.finish(), tr = resp.finish()
          assertWiped(made, ecdhs, pattern)
          // the transport keys still work: the wipe took only the ephemerals
          assert.deepEqual(tr.recv.decryptWithAd(new Uint8Array(0), ti.send.encryptWithAd(new Uint8Array(0), utf8('hi'))), utf8('hi'))
        })
      }

      it('a failed handshake: destroy() after a rejected message 2 zero-fills the initiator ephemeral', async () => {
        const protocol = `Noise_KK_${dh}_AESGCM_SHA256`
        const { a, b } = statics()
        const ri = recording(base)
        const init = HandshakeState.create({ protocol, initiator: true, s: a, rs: b.publicKey, crypto: ri.crypto })
        const resp = HandshakeState.create({ protocol, initiator: false, s: b, rs: a.publicKey, crypto: base })
        await resp.readMessage(await init.writeMessage())
        const m2 = await resp.writeMessage()
        m2[m2.length - 1]! ^= 1
        await assert.rejects(init.readMessage(m2), (e: unknown) => isHopsealError(e, ErrorCode.NOISE_DECRYPT_FAILED))
        const [kp] = ri.made
        assert.ok(kp && !isZero(kp.privateKey), 'the rejected message 2 changed nothing: the ephemeral is still live')
        const ecdh = ecdhOf(kp)
        init.destroy()
        assertWiped([kp], [ecdh], 'failed KK')
        assert.throws(() => init.finish(), (e: unknown) => isHopsealError(e, ErrorCode.NOISE_WRONG_STATE))
      })

      it('a message that fails after its ephemeral was made (over maxMessageLength) wipes that ephemeral at once and commits nothing', async () => {
        const protocol = `Noise_NN_${dh}_AESGCM_SHA256`
        const ri = recording(base)
        const init = HandshakeState.create({ protocol, initiator: true, crypto: ri.crypto, maxMessageLength: 64 })
        await assert.rejects(init.writeMessage(new Uint8Array(100)), (e: unknown) => isHopsealError(e, ErrorCode.NOISE_MESSAGE_TOO_LONG))
        assert.equal(ri.made.length, 1)
        assertWiped(ri.made, [undefined], 'oversized message 1')
        const m1 = await init.writeMessage(utf8('fits')) // still usable: a fresh ephemeral
        assert.equal(ri.made.length, 2)
        assert.ok(!isZero(ri.made[1]!.privateKey))
        assert.equal(toHex(m1.subarray(0, ri.made[1]!.publicKey.length)), toHex(ri.made[1]!.publicKey))
        init.destroy()
        assertWiped(ri.made, [undefined, undefined], 'after destroy')
      })

      it('a fixed ephemeral key pair (test vectors) is copied: the wipe leaves the caller\'s key pair untouched', async () => {
        const fixed = base.generateKeyPair(type)
        const before = toHex(fixed.privateKey)
        for (let i = 0; i < 2; i++) {
          const init = HandshakeState.create({ protocol: `Noise_NN_${dh}_AESGCM_SHA256`, initiator: true, e: fixed, crypto: base })
          const resp = HandshakeState.create({ protocol: `Noise_NN_${dh}_AESGCM_SHA256`, initiator: false, crypto: base })
          await resp.readMessage(await init.writeMessage())
          await init.readMessage(await resp.writeMessage())
          init.finish()
          resp.finish()
        }
        assert.equal(toHex(fixed.privateKey), before)
      })
    })
  }
}

describe('ephemeral wipe through the channel layer', () => {
  it('a KK channel over the memory transport leaves no live ephemeral on either side once established', async () => {
    const base = cryptoProvider('node')
    const mem = (n: string) => address(TransportType.MEMORY, n)
    const net = new MemoryNetwork()
    const dev = new Node({ name: 'dev' }), app = new Node({ name: 'app' })
    dev.registerTransport(net.endpoint('dev'))
    app.registerTransport(net.endpoint('app'))
    const protocol = 'Noise_KK_P256_AESGCM_SHA256'
    const a: StaticKey = softwareStaticKey(base, base.generateKeyPair('p256'))
    const b: StaticKey = softwareStaticKey(base, base.generateKeyPair('p256'))
    const rd = recording(base), ra = recording(base)
    const got: string[] = []
    const listener = startSecureChannelListener(app, 'l', { protocol, s: b, crypto: ra.crypto, auth: knownPeers([{ staticKey: a.publicKey }]), deliverTo: (p: Uint8Array) => void got.push(new TextDecoder().decode(p)), initiatorStatics: [a.publicKey] })
    const ch = await createSecureChannel(dev, [mem('app'), local('l')], { protocol, s: a, rs: b.publicKey, crypto: rd.crypto, auth: knownPeers([{ staticKey: b.publicKey }]) })
    await ch.send(utf8('reading'))
    for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 5))
    assert.deepEqual(got, ['reading'])
    const made = [...rd.made, ...ra.made]
    assert.ok(rd.made.length >= 1 && ra.made.length >= 1, `ephemerals made: device ${rd.made.length}, app ${ra.made.length}`)
    for (const [i, kp] of made.entries()) assert.ok(isZero(kp.privateKey), `ephemeral ${i} of ${made.length} still live after the handshake`)
    await ch.close()
    listener.stop()
  })
})
