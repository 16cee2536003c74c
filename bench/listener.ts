/**
 * Listener figures of the threat model (issue 13): DH operations per KK
 * message 1 with many known initiators (G13) and the amplification factor of
 * an XX message-1 flood from spoofed return routes (G6).
 */
import { cryptoProvider } from '../targets/node/crypto/index.ts'
import { softwareStaticKey, type StaticKey } from '../src/noise/index.ts'
import { address, local, Node, TransportType } from '../src/routing/index.ts'
import { encodeRoutingMessage } from '../src/routing/codec.ts'
import { MemoryNetwork } from '../src/transports/memory.ts'
import { createSecureChannel, knownPeers, startSecureChannelListener } from '../src/channel/secure-channel.ts'
import type { BenchModule, Figure } from './figure.ts'

const crypto = cryptoProvider('node')
const mem = (n: string) => address(TransportType.MEMORY, n)
const settle = () => new Promise((r) => setTimeout(r, 10))

function net() {
  const n = new MemoryNetwork()
  const mk = (name: string) => {
    const node = new Node({ name })
    node.registerTransport(n.endpoint(name))
    return node
  }
  return { n, dev: mk('dev'), app: mk('app') }
}

/** KK listener with `known` initiators: DH operations of its static key per legitimate and per forged message 1, after every initiator connected once. */
async function dhPerMessage1(known: number, rounds: number): Promise<{ legit: number; forged: number; oldDesign: number }> {
  const { dev, app } = net()
  const base = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
  let dh = 0
  const b: StaticKey = { ...base, dh: (p) => (dh++, base.dh(p)) }
  const devices = Array.from({ length: known }, () => softwareStaticKey(crypto, crypto.generateKeyPair('x25519')))
  startSecureChannelListener(app, 'l', { protocol: 'Noise_KK_25519_AESGCM_SHA256', s: b, crypto, auth: knownPeers(devices.map((d) => ({ staticKey: d.publicKey }))), initiatorStatics: devices.map((d) => d.publicKey), deliverTo: () => undefined, cookie: 'never', maxChannelsPerPeer: rounds + 2 })
  const open = (d: StaticKey) => createSecureChannel(dev, [mem('app'), local('l')], { protocol: 'Noise_KK_25519_AESGCM_SHA256', s: d, rs: b.publicKey, crypto, auth: knownPeers([{ staticKey: b.publicKey }]) })
  for (const d of devices) await open(d)
  const d0 = dh
  for (let i = 0; i < rounds; i++) await open(devices[(i * 7919) % known]!)
  const legit = (dh - d0) / rounds
  const d1 = dh
  for (let i = 0; i < rounds; i++) await dev.send([mem('app'), local('l')], crypto.randomBytes(49), [local(Uint8Array.of(9))])
  await settle()
  return { legit, forged: (dh - d1) / rounds, oldDesign: known + 1 }
}

/** XX listener, 1 000 message 1 flights with a spoofed source: bytes the victim receives ÷ bytes the attacker sent. */
async function amplification(flights: number): Promise<{ ratio: number; steady: number; cookies: number }> {
  const { n, app } = net()
  const victim = new Node({ name: 'victim' })
  victim.registerTransport(n.endpoint('victim'))
  let toVictim = 0
  let cookieBytes = 0
  let cookieCount = 0
  n.tap((from, to, b) => {
    if (from === 'app' && to === 'victim') {
      toVictim += b.length
      if (b.length < 32) {
        cookieBytes += b.length
        cookieCount++
      }
    }
  })
  const b = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
  startSecureChannelListener(app, 'l', { protocol: 'Noise_XX_25519_AESGCM_SHA256', s: b, crypto, auth: knownPeers([]), deliverTo: () => undefined })
  let sent = 0
  let perFlight = 0
  for (let i = 0; i < flights; i++) {
    const m = encodeRoutingMessage({ onward: [local('l')], returnRoute: [local(Uint8Array.of(5))], payload: crypto.randomBytes(32) })
    sent += m.length
    perFlight = m.length
    n.deliver('victim', 'app', m)
    if (i % 50 === 0) await new Promise((r) => setImmediate(r))
  }
  await settle()
  return { ratio: toVictim / sent, steady: cookieCount ? cookieBytes / cookieCount / perFlight : NaN, cookies: cookieCount }
}

const run: BenchModule = async (ctx) => {
  const figures: Figure[] = []
  ctx.log('measuring DH per KK message 1 at 100 known initiators, XX amplification under a spoofed flood')
  const d = await dhPerMessage1(100, ctx.quick ? 50 : 200)
  figures.push({ name: 'channel.kk_listener_dh_per_msg1', value: d.legit, unit: 'DH', baseline: { name: 'per_candidate_ss_design.dh_per_msg1', value: d.oldDesign }, target: '<= 1', note: `100 known initiators; forged message 1: ${d.forged} DH; ss computed once per initiator for the listener's lifetime` })
  const a = await amplification(1000)
  figures.push({ name: 'channel.xx_amplification.ratio', value: Number(a.ratio.toFixed(3)), unit: 'x', target: '<= 1', note: `1 000 spoofed XX message 1 flights; ${a.cookies} answered with a cookie (each ${a.steady.toFixed(2)}x its request), the rest (below the 50/s load threshold) with message 2` })
  return figures
}

export default run
