/**
 * Threat model S1 (formerly gap G1): a KK or IK message 1 from a static key
 * the listener does not know is dropped silently: counted by reason and
 * reported to `onHandshakeFailed`, no channel, no pending state, not one byte
 * sent back (a tap on every link), and the stranger times out. A known
 * initiator then connects through the same listener, so the set-up can pass:
 * what the stranger lacks is only its key being known.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { utf8 } from '../../src/bytes/index.ts'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { createSecureChannel, knownPeers, startSecureChannelListener } from '../../src/channel/secure-channel.ts'
import { ManualClock } from '../../src/time/clock.ts'
import { isHopsealError } from '../../src/errors.ts'
import { softwareStaticKey } from '../../src/noise/index.ts'
import { address, local, Node, TransportType } from '../../src/routing/index.ts'
import { MemoryNetwork } from '../../src/transports/memory.ts'

const crypto = cryptoProvider('node')
const mem = (n: string) => address(TransportType.MEMORY, n)
const tick = () => new Promise((r) => setTimeout(r, 5))

for (const pattern of ['KK', 'IK'] as const) {
  for (const dh of ['25519', 'P256'] as const) {
    describe(`G1: ${pattern} ${dh} message 1 from an unknown static key`, () => {
      it('is dropped silently and counted: no channel, nothing sent back; a known initiator still connects', async () => {
        const type = dh === '25519' ? 'x25519' : 'p256'
        const protocol = `Noise_${pattern}_${dh}_AESGCM_SHA256`
        const net = new MemoryNetwork()
        const fromListener: number[] = []
        net.tap((from, _to, bytes) => {
          if (from === 'app') fromListener.push(bytes.length)
        })
        const mk = (name: string) => {
          const n = new Node({ name })
          n.registerTransport(net.endpoint(name))
          return n
        }
        const app = mk('app'), stranger = mk('stranger'), device = mk('device')
        const s = softwareStaticKey(crypto, crypto.generateKeyPair(type))
        const known = softwareStaticKey(crypto, crypto.generateKeyPair(type))
        const unknown = softwareStaticKey(crypto, crypto.generateKeyPair(type))
        const failures: string[] = []
        const got: string[] = []
        const listener = startSecureChannelListener(app, 'l', {
          protocol,
          s,
          auth: knownPeers([{ staticKey: known.publicKey, identifier: 'known' }]),
          deliverTo: (p: Uint8Array) => void got.push(new TextDecoder().decode(p)),
          ...(pattern === 'KK' ? { initiatorStatics: [known.publicKey] } : {}),
          onHandshakeFailed: (code: string) => void failures.push(code),
        })
        const clock = new ManualClock()
        const attempt = createSecureChannel(stranger, [mem('app'), local('l')], { protocol, s: unknown, rs: s.publicKey, auth: knownPeers([{ staticKey: s.publicKey }]), clock })
        const timedOut = assert.rejects(attempt, (e: unknown) => isHopsealError(e, 'CHANNEL_HANDSHAKE_TIMEOUT'))
        for (let i = 0; i < 12; i++) {
          await tick()
          clock.advance(10_000) // every retransmission of message 1 (6 attempts) reaches the listener
        }
        await timedOut
        const failed = [...app.counters].filter(([k]) => k.startsWith('handshake.failed.')).reduce((n, [, v]) => n + v, 0)
        assert.ok(failed >= 1, `the refusal is counted: ${JSON.stringify([...app.counters])}`)
        assert.equal(failures.length, failed, 'each refusal is reported to onHandshakeFailed')
        // KK: no known key authenticates message 1; IK: it decrypts, and the authenticator refuses the key
        const expected = pattern === 'KK' ? 'NOISE_DECRYPT_FAILED' : 'CHANNEL_PEER_REFUSED'
        assert.ok(failures.every((c) => c === expected), `codes ${failures.join(',')}`)
        assert.equal(app.counters.get('handshake.responded'), undefined)
        assert.deepEqual(fromListener, [], 'the listener sent nothing back')
        assert.equal(listener.channels.size, 0)
        assert.equal(listener.pendingCount, 0)

        const ch = await createSecureChannel(device, [mem('app'), local('l')], { protocol, s: known, rs: s.publicKey, auth: knownPeers([{ staticKey: s.publicKey }]) })
        await ch.send(utf8('known device'))
        for (let i = 0; i < 50 && got.length === 0; i++) await tick()
        assert.deepEqual(got, ['known device'])
        assert.equal(listener.channels.size, 1)
        assert.ok(fromListener.length >= 1, 'the known initiator was answered')
        await ch.close()
        listener.stop()
      })
    })
  }
}
