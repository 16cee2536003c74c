/**
 * Prints the worked example of docs/protocol.md: a KK 25519 handshake and one
 * data message on a one-hop constrained link, from fixed keys, as hex.
 * `npx tsx scripts/protocol-example.ts` reproduces the document's bytes.
 */
import { fromHex, toHex, utf8 } from '../src/bytes/index.ts'
import { cryptoProvider } from '../src/crypto/index.ts'
import { HandshakeState, softwareStaticKey } from '../src/noise/index.ts'
import { encodeRoutingMessage, local } from '../src/routing/index.ts'
import { ChannelSession } from '../src/channel/session.ts'
import { MessageType } from '../src/channel/wire.ts'

const c = cryptoProvider('node')
const key = (n: number) => c.keyPairFromPrivate('x25519', fromHex(n.toString(16).padStart(2, '0').repeat(32)))
const protocol = 'Noise_KK_25519_AESGCM_SHA256'
const si = key(1), sr = key(2), ei = key(3), er = key(4)
const i = HandshakeState.create({ protocol, initiator: true, s: softwareStaticKey(c, si), rs: sr.publicKey, e: ei, crypto: c })
const r = HandshakeState.create({ protocol, initiator: false, s: softwareStaticKey(c, sr), rs: si.publicKey, e: er, crypto: c })
const m1 = await i.writeMessage()
await r.readMessage(m1)
const m2 = await r.writeMessage()
await i.readMessage(m2)
// device endpoint dec = 0x01, gateway listener 'L' = 0x4c, responder dec = 0x01
const f1 = encodeRoutingMessage({ onward: [local('L')], returnRoute: [local(Uint8Array.of(1))], payload: m1 })
const f2 = encodeRoutingMessage({ onward: [local(Uint8Array.of(1))], returnRoute: [local(Uint8Array.of(1))], payload: m2 })
const a = new ChannelSession(i.finish(), () => 0)
const sealed = a.seal(MessageType.DATA, utf8('bpm=72'))
const f3 = encodeRoutingMessage({ onward: [local(Uint8Array.of(1))], returnRoute: [local(Uint8Array.of(2))], payload: sealed })
console.log(JSON.stringify({ initiator_static_public: toHex(si.publicKey), responder_static_public: toHex(sr.publicKey), flight1: toHex(f1), flight2: toHex(f2), data: toHex(f3) }, null, 1))
