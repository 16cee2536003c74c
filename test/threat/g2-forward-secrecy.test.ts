/**
 * Threat model I5 (formerly gap G2), forward secrecy: an attacker records a
 * whole session, and later obtains BOTH static private keys. It replays the
 * handshake as the responder, computing every DH it can: with the leaked
 * statics that is all of them but `ee` (it has no ephemeral private key, which
 * `finish()` wiped: test/threat/ephemeral-wipe.test.ts), so it cannot reproduce
 * the responder's flight, and the recorded transport messages do not decrypt.
 * The same attacker given the responder's ephemeral private key too (leaked
 * before the wipe) reproduces the flight byte for byte and reads every
 * message: the attack is real, so the test can fail.
 *
 * Two levels: Noise (KK, IK, XX × 25519, P256, HandshakeState and CipherState)
 * and a live KK channel over the memory transport (flights and sealed
 * messages taken off a network tap, opened with `ChannelSession`).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { toHex, utf8 } from '../../src/bytes/index.ts'
import { cryptoProvider, type CryptoProvider, type KeyPair } from '../../targets/node/crypto/index.ts'
import { createSecureChannel, knownPeers, startSecureChannelListener } from '../../src/channel/secure-channel.ts'
import { ChannelSession } from '../../src/channel/session.ts'
import { HandshakeState, parseProtocolName, softwareStaticKey, type StaticKey, type TransportState } from '../../src/noise/index.ts'
import { address, decodeRoutingMessage, local, Node, TransportType } from '../../src/routing/index.ts'
import { MemoryNetwork } from '../../src/transports/memory.ts'

const crypto = cryptoProvider('node')
const EMPTY = new Uint8Array(0)
const SECRETS = ['heart-rate=071bpm', 'heart-rate=074bpm', 'battery=88%']

/** Records a copy of every private key it generates (the "ephemeral leak" the second attacker gets). */
function leaky(base: CryptoProvider): { crypto: CryptoProvider; leaked: KeyPair[] } {
  const leaked: KeyPair[] = []
  const c = Object.create(base) as CryptoProvider & { generateKeyPair: CryptoProvider['generateKeyPair'] }
  c.generateKeyPair = (type) => {
    const kp = base.generateKeyPair(type)
    leaked.push({ type: kp.type, privateKey: kp.privateKey.slice(), publicKey: kp.publicKey.slice() })
    return kp
  }
  return { crypto: c, leaked }
}

interface Recording {
  protocol: string
  /** Handshake messages in order (initiator first). */
  flights: Uint8Array[]
}

/**
 * The attacker's replay of the responder: its static is the leaked one; its
 * "ephemeral" has the recorded public key, and computes DH(e_r, peer) as
 * DH(leaked static, e_r) when the peer is a leaked static (`se`), with the
 * leaked ephemeral when it has one, and otherwise (`ee`) has to guess.
 * Returns the transport state when its flights match the recording, or why not.
 */
async function replayAsResponder(rec: Recording, leaked: { si: KeyPair; sr: KeyPair }, er: KeyPair | undefined): Promise<TransportState | string> {
  const p = parseProtocolName(rec.protocol)
  const erPublic = rec.flights[1]!.subarray(0, p.publicKeyLength)
  const fakeE: StaticKey = {
    type: p.keyType,
    publicKey: erPublic.slice(),
    dh: (peer) => {
      if (toHex(peer) === toHex(leaked.si.publicKey)) return crypto.dh(leaked.si, erPublic)
      if (er) return crypto.dh(er, peer)
      return crypto.dh(leaked.sr, peer) // the best guess without e_r: wrong
    },
  }
  const hs = HandshakeState.create({
    protocol: p,
    initiator: false,
    s: softwareStaticKey(crypto, leaked.sr),
    e: () => Promise.resolve(fakeE),
    ...(p.pattern.preInitiator.includes('s') ? { rs: leaked.si.publicKey } : {}),
  })
  for (const [i, flight] of rec.flights.entries()) {
    try {
      if (i % 2 === 0) await hs.readMessage(flight)
      else {
        const mine = await hs.writeMessage(EMPTY)
        if (toHex(mine) !== toHex(flight)) return `responder flight ${i + 1} differs from the recording`
      }
    } catch (e) {
      return `flight ${i + 1}: ${(e as Error).message}`
    }
  }
  return hs.finish()
}

for (const pattern of ['KK', 'IK', 'XX'] as const) {
  for (const dh of ['25519', 'P256'] as const) {
    describe(`G2 forward secrecy, Noise ${pattern} ${dh}`, () => {
      it('with both static private keys the recorded transport messages do not decrypt; with the ephemeral too they do', async () => {
        const type = dh === '25519' ? 'x25519' : 'p256'
        const protocol = `Noise_${pattern}_${dh}_AESGCM_SHA256`
        const si = crypto.generateKeyPair(type), sr = crypto.generateKeyPair(type)
        const resp = leaky(crypto)
        const init = HandshakeState.create({ protocol, initiator: true, s: softwareStaticKey(crypto, si), crypto, ...(pattern !== 'XX' ? { rs: sr.publicKey } : {}) })
        const rsp = HandshakeState.create({ protocol, initiator: false, s: softwareStaticKey(crypto, sr), crypto: resp.crypto, ...(pattern === 'KK' ? { rs: si.publicKey } : {}) })
        const flights: Uint8Array[] = []
        let w = init, r = rsp
        while (!init.isFinished() || !rsp.isFinished()) {
          const m = await w.writeMessage(EMPTY)
          flights.push(m)
          await r.readMessage(m)
          ;[w, r] = [r, w]
        }
        const ti = init.finish()
        rsp.finish()
        const recorded = SECRETS.map((s) => ti.send.encryptWithAd(EMPTY, utf8(s)))

        const without = await replayAsResponder({ protocol, flights }, { si, sr }, undefined)
        assert.equal(typeof without, 'string', 'the statics alone reproduce the handshake: no forward secrecy')
        // Even taking the keys it ends with as they come: they open none of the recorded messages (XX: it cannot even read flight 3).
        const guess = await replayKeysAnyway({ protocol, flights }, { si, sr })
        if (typeof guess === 'string') assert.equal(pattern, 'XX', guess)
        else for (const c of recorded) assert.throws(() => guess.recv.decryptWithAd(EMPTY, c))

        assert.equal(resp.leaked.length, 1)
        const withE = await replayAsResponder({ protocol, flights }, { si, sr }, resp.leaked[0])
        assert.notEqual(typeof withE, 'string', `with the ephemeral the replay should succeed: ${String(withE)}`)
        const t = withE as TransportState
        assert.deepEqual(recorded.map((c) => new TextDecoder().decode(t.recv.decryptWithAd(EMPTY, c))), SECRETS)
      })
    })
  }
}

/**
 * The transport keys an attacker ends with if it ignores the mismatch: reads
 * the initiator's flights into its own transcript (responder flights taken as
 * it wrote them), guessing `ee`. Used to show its keys open nothing; a string
 * when it cannot even finish (XX: flight 3 is authenticated under `ee`).
 */
async function replayKeysAnyway(rec: Recording, leaked: { si: KeyPair; sr: KeyPair }): Promise<TransportState | string> {
  const p = parseProtocolName(rec.protocol)
  const erPublic = rec.flights[1]!.subarray(0, p.publicKeyLength)
  const hs = HandshakeState.create({
    protocol: p,
    initiator: false,
    s: softwareStaticKey(crypto, leaked.sr),
    e: () => Promise.resolve({ type: p.keyType, publicKey: erPublic.slice(), dh: (peer: Uint8Array) => (toHex(peer) === toHex(leaked.si.publicKey) ? crypto.dh(leaked.si, erPublic) : crypto.dh(leaked.sr, peer)) }),
    ...(p.pattern.preInitiator.includes('s') ? { rs: leaked.si.publicKey } : {}),
  })
  await hs.readMessage(rec.flights[0]!)
  await hs.writeMessage(EMPTY)
  for (const f of rec.flights.slice(2)) {
    try {
      await hs.readMessage(f)
    } catch (e) {
      return `cannot read flight 3: ${(e as Error).message}`
    }
  }
  return hs.finish()
}

describe('G2 forward secrecy through a live KK channel', () => {
  for (const dh of ['25519', 'P256'] as const) {
    it(`${dh}: a recorded channel stays closed to an attacker holding both static private keys; the ephemeral opens it`, async () => {
      const type = dh === '25519' ? 'x25519' : 'p256'
      const protocol = `Noise_KK_${dh}_AESGCM_SHA256`
      const net = new MemoryNetwork()
      const wire: { from: string; onward: string; payload: Uint8Array }[] = []
      net.tap((from, _to, bytes) => {
        const m = decodeRoutingMessage(bytes)
        wire.push({ from, onward: toHex(m.onward[0]!.value), payload: m.payload })
      })
      const device = new Node({ name: 'device' }), app = new Node({ name: 'app' })
      device.registerTransport(net.endpoint('device'))
      app.registerTransport(net.endpoint('app'))
      const si = crypto.generateKeyPair(type), sr = crypto.generateKeyPair(type)
      const appSide = leaky(crypto)
      const got: string[] = []
      const listener = startSecureChannelListener(app, 'l', { protocol, s: softwareStaticKey(crypto, sr), crypto: appSide.crypto, auth: knownPeers([{ staticKey: si.publicKey }]), deliverTo: (p: Uint8Array) => void got.push(new TextDecoder().decode(p)), initiatorStatics: [si.publicKey] })
      const ch = await createSecureChannel(device, [address(TransportType.MEMORY, 'app'), local('l')], { protocol, s: softwareStaticKey(crypto, si), rs: sr.publicKey, auth: knownPeers([{ staticKey: sr.publicKey }]) })
      for (const s of SECRETS) await ch.send(utf8(s))
      for (let i = 0; i < 50 && got.length < SECRETS.length; i++) await new Promise((r) => setTimeout(r, 5))
      assert.deepEqual(got, SECRETS)
      await ch.close()
      listener.stop()

      // The recording: message 1 (device → the listener `l`), message 2 (the app's first message), then the device's sealed messages.
      const toListener = toHex(utf8('l'))
      const msg1 = wire.find((m) => m.from === 'device' && m.onward === toListener)
      const msg2 = wire.find((m) => m.from === 'app')
      assert.ok(msg1 && msg2, 'both flights recorded')
      const sealed = wire.filter((m) => m.from === 'device' && m.onward !== toListener).map((m) => m.payload)
      assert.ok(sealed.length >= SECRETS.length)
      for (const s of SECRETS) for (const m of wire) assert.ok(!toHex(m.payload).includes(toHex(utf8(s))), 'plaintext on the wire')
      const rec = { protocol, flights: [msg1.payload, msg2.payload] }
      const open = (t: TransportState): string[] => {
        const session = new ChannelSession(t, () => 0)
        return sealed.map((b) => session.open(b)).filter((o) => o !== undefined && o.type === 0).map((o) => new TextDecoder().decode(o!.plaintext))
      }

      const without = await replayAsResponder(rec, { si, sr }, undefined)
      assert.equal(typeof without, 'string', 'the statics alone reproduced the channel handshake')
      const guess = await replayKeysAnyway(rec, { si, sr })
      assert.notEqual(typeof guess, 'string')
      assert.deepEqual(open(guess as TransportState), [], 'the guessed keys open a recorded message')

      const er = appSide.leaked.find((k) => toHex(k.publicKey) === toHex(msg2.payload.subarray(0, k.publicKey.length)))
      assert.ok(er, "the app's ephemeral was leaked to the second attacker")
      const withE = await replayAsResponder(rec, { si, sr }, er)
      assert.notEqual(typeof withE, 'string', `with the ephemeral the replay should succeed: ${String(withE)}`)
      assert.deepEqual(open(withE as TransportState), SECRETS)
    })
  }
})
