/**
 * Threat model S4 (formerly gap G8): bad ephemeral points on the KK
 * listener's path, not only on a bare HandshakeState. A genuine device opens
 * a KK channel; an attacker then replays its message 1 with the ephemeral
 * replaced by
 * - 25519: every public key Wycheproof's x25519_test.json marks
 *   ZeroSharedSecret (low-order points and their non-canonical encodings),
 * - P-256: Wycheproof's invalid compressed points (ecdh_secp256r1_ecpoint_test.json:
 *   not on the curve, low order on the twist) and hand-made encodings
 *   (uncompressed and unknown prefixes, x ≥ p).
 * Each one is dropped before any state exists and counted by reason
 * (WEAK_SHARED_SECRET, INVALID_POINT), nothing goes back on the wire, and the
 * genuine channel keeps working; a valid ephemeral in the same place is
 * counted under another reason, so the check can tell them apart. Under both
 * crypto providers.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { concat, fromHex, toHex, utf8 } from '../../src/bytes/index.ts'
import { cryptoProvider, type CryptoProvider, type KeyPair } from '../../targets/node/crypto/index.ts'
import { createSecureChannel, knownPeers, startSecureChannelListener } from '../../src/channel/secure-channel.ts'
import { softwareStaticKey } from '../../src/noise/index.ts'
import { address, decodeRoutingMessage, local, Node, TransportType } from '../../src/routing/index.ts'
import { MemoryNetwork } from '../../src/transports/memory.ts'

interface WycheproofFile {
  testGroups: { tests: { tcId: number; public: string; flags: string[]; result: string }[] }[]
}
const load = (name: string) => JSON.parse(readFileSync(new URL(`../vectors/wycheproof/${name}`, import.meta.url), 'utf8')) as WycheproofFile

/** Distinct X25519 public keys whose shared secret with any private key is zero. */
function lowOrder25519(): Uint8Array[] {
  const hex = new Set<string>()
  for (const g of load('x25519_test.json').testGroups) for (const t of g.tests) if (t.flags.includes('ZeroSharedSecret')) hex.add(t.public)
  return [...hex].map(fromHex)
}

/** 33-byte P-256 encodings the wire form must refuse. */
function invalidP256(): { what: string; bytes: Uint8Array }[] {
  const out: { what: string; bytes: Uint8Array }[] = []
  for (const g of load('ecdh_secp256r1_ecpoint_test.json').testGroups) {
    for (const t of g.tests) if (t.result === 'invalid' && t.public.length === 66) out.push({ what: `wycheproof tcId ${t.tcId} (${t.flags.join(',')})`, bytes: fromHex(t.public) })
  }
  const p = fromHex('ffffffff00000001000000000000000000000000ffffffffffffffffffffffff')
  const x = fromHex('6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296') // the generator's x
  out.push({ what: 'x = p', bytes: concat(Uint8Array.of(2), p) })
  out.push({ what: 'x = 2^256 - 1', bytes: concat(Uint8Array.of(3), new Uint8Array(32).fill(0xff)) })
  for (const prefix of [0x00, 0x04, 0x05, 0x06, 0x07]) out.push({ what: `prefix ${prefix.toString(16).padStart(2, '0')} (not compressed)`, bytes: concat(Uint8Array.of(prefix), x) })
  return out
}

function recording(base: CryptoProvider): { crypto: CryptoProvider; made: KeyPair[] } {
  const made: KeyPair[] = []
  const crypto = Object.create(base) as CryptoProvider & { generateKeyPair: CryptoProvider['generateKeyPair'] }
  crypto.generateKeyPair = (type) => {
    const kp = base.generateKeyPair(type)
    made.push({ type: kp.type, privateKey: new Uint8Array(0), publicKey: kp.publicKey.slice() })
    return kp
  }
  return { crypto, made }
}

const mem = (n: string) => address(TransportType.MEMORY, n)
const tick = () => new Promise((r) => setTimeout(r, 5))

for (const providerName of ['node', 'noble'] as const) {
  for (const dh of ['25519', 'P256'] as const) {
    describe(`G8: bad ephemerals on the KK listener path, ${dh}, ${providerName} provider`, () => {
      it('every one is dropped before any state, counted by reason, never answered; the genuine channel keeps working', async () => {
        const crypto = cryptoProvider(providerName)
        const type = dh === '25519' ? 'x25519' : 'p256'
        const protocol = `Noise_KK_${dh}_AESGCM_SHA256`
        const bad = dh === '25519' ? lowOrder25519().map((b) => ({ what: `low order ${toHex(b).slice(0, 8)}…`, bytes: b })) : invalidP256()
        const expected = dh === '25519' ? ['weak_shared_secret', 'invalid_point'] : ['invalid_point']
        assert.ok(bad.length >= 12, `${bad.length} bad points loaded`)

        const net = new MemoryNetwork()
        const flights: { from: string; to: string; onward: string; payload: Uint8Array }[] = []
        net.tap((from, to, bytes) => {
          const m = decodeRoutingMessage(bytes)
          flights.push({ from, to, onward: m.onward[0] ? new TextDecoder().decode(m.onward[0].value) : '', payload: m.payload })
        })
        const mk = (name: string) => {
          const n = new Node({ name })
          n.registerTransport(net.endpoint(name))
          return n
        }
        const app = mk('app'), device = mk('device'), mallory = mk('mallory')
        const sApp = softwareStaticKey(crypto, crypto.generateKeyPair(type)), sDev = softwareStaticKey(crypto, crypto.generateKeyPair(type))
        const got: string[] = []
        const listener = startSecureChannelListener(app, 'l', { protocol, s: sApp, crypto, auth: knownPeers([{ staticKey: sDev.publicKey }]), deliverTo: (p: Uint8Array) => void got.push(new TextDecoder().decode(p)), initiatorStatics: [sDev.publicKey] })
        const rec = recording(crypto)
        const ch = await createSecureChannel(device, [mem('app'), local('l')], { protocol, s: sDev, rs: sApp.publicKey, crypto: rec.crypto, auth: knownPeers([{ staticKey: sApp.publicKey }]) })
        const msg1 = flights.find((f) => f.from === 'device' && f.onward === 'l')!.payload
        const ePub = rec.made[0]!.publicKey
        const at = toHex(msg1).indexOf(toHex(ePub))
        assert.ok(at >= 0 && at % 2 === 0, 'the ephemeral is found in message 1')
        const offset = at / 2
        const withE = (e: Uint8Array) => concat(msg1.subarray(0, offset), e, msg1.subarray(offset + ePub.length))

        const failed = () => Object.fromEntries([...app.counters].filter(([k]) => k.startsWith('handshake.failed.')).map(([k, v]) => [k.slice('handshake.failed.'.length), v]))
        const fromApp = () => flights.filter((f) => f.from === 'app').length
        const sentBefore = fromApp()
        for (const b of bad) {
          assert.equal(b.bytes.length, ePub.length, b.what)
          await mallory.send([mem('app'), local('l')], withE(b.bytes), [local('x')])
          await tick()
        }
        for (let i = 0; i < 1000 && expected.reduce((n, r) => n + (failed()[r] ?? 0), 0) < bad.length; i++) await tick()
        for (let i = 0; i < 4; i++) await tick()
        const counts = failed()
        const total = expected.reduce((n, r) => n + (counts[r] ?? 0), 0)
        assert.equal(total, bad.length, `every bad point counted as ${expected.join(' or ')}: ${JSON.stringify(counts)}`)
        assert.equal(fromApp(), sentBefore, 'nothing was sent back')
        assert.equal(listener.channels.size, 1)
        assert.equal(listener.pendingCount, 0)
        assert.equal(app.counters.get('handshake.responded'), 1)

        // A valid ephemeral in the same place gets through the point checks and fails later, under another reason.
        await mallory.send([mem('app'), local('l')], withE(crypto.generateKeyPair(type).publicKey), [local('x')])
        for (let i = 0; i < 1000 && failed()['noise_decrypt_failed'] === undefined; i++) await tick()
        assert.equal(expected.reduce((n, r) => n + (failed()[r] ?? 0), 0), bad.length, 'a valid point is not counted as a bad one')
        assert.equal(failed()['noise_decrypt_failed'], 1, JSON.stringify(failed()))

        await ch.send(utf8('still fine'))
        for (let i = 0; i < 50 && got.length === 0; i++) await tick()
        assert.deepEqual(got, ['still fine'])
        console.log(`G8 ${dh} ${providerName}: ${bad.length} bad points, ${JSON.stringify(counts)}`)
        await ch.close()
        listener.stop()
      })
    })
  }
}
