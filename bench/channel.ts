/**
 * Secure-channel figures (routing and channels issue): per-message overhead,
 * known-peer handshake bytes on a constrained link, first-contact bytes,
 * throughput through an established channel, heap per idle channel.
 */
import { cryptoProvider } from '../targets/node/crypto/index.ts'
import { softwareStaticKey } from '../src/noise/index.ts'
import { address, DEFAULT_LISTENER, local, Node, TransportType } from '../src/routing/index.ts'
import { MemoryNetwork } from '../src/transports/memory.ts'
import { createSecureChannel, knownPeers, memoryHandshakeCounter, startSecureChannelListener, type ChannelAuthenticator } from '../src/channel/secure-channel.ts'
import { ChannelSession } from '../src/channel/session.ts'
import { MessageType } from '../src/channel/wire.ts'
import { HandshakeState } from '../src/noise/index.ts'
import { identityAuthenticator } from '../src/channel/identity-auth.ts'
import { createAttestation, createIdentity, parsePolicy } from '../src/identity/index.ts'
import { vaultStaticKey } from '../src/noise/index.ts'
import { SoftwareVault } from '../vaults/software/index.ts'
import { interleavedMegabytesPerSecond, nobleChachaRoundTrip, rawAesGcmRoundTrip, type BenchModule, type Figure } from './figure.ts'

const crypto = cryptoProvider('node')
const mem = (n: string) => address(TransportType.MEMORY, n)
const settle = () => new Promise((r) => setTimeout(r, 10))

/** Two nodes on a one-hop link; every byte on the link is recorded. */
function link() {
  const net = new MemoryNetwork()
  const flights: number[] = []
  net.tap((_f, _t, b) => flights.push(b.length))
  const dev = new Node({ name: 'dev' })
  const gw = new Node({ name: 'gw' })
  dev.registerTransport(net.endpoint('dev'))
  gw.registerTransport(net.endpoint('gw'))
  return { dev, gw, flights }
}

async function knownPeerHandshake(dh: '25519' | 'P256'): Promise<{ total: number; max: number }> {
  const t = dh === '25519' ? 'x25519' : 'p256'
  const protocol = `Noise_KK_${dh}_AESGCM_SHA256`
  const a = softwareStaticKey(crypto, crypto.generateKeyPair(t))
  const b = softwareStaticKey(crypto, crypto.generateKeyPair(t))
  const { dev, gw, flights } = link()
  // The listener at the gateway's default listener address (LOCAL 0x00): message 1 has a 1-byte routing header.
  startSecureChannelListener(gw, DEFAULT_LISTENER, { protocol, s: b, auth: knownPeers([{ staticKey: a.publicKey }]), deliverTo: local('x'), initiatorStatics: [a.publicKey] })
  // A device's handshake counter is persisted (ATECC608 Counter 1, a file) and small: 1 varint byte below 128.
  await createSecureChannel(dev, [mem('gw'), DEFAULT_LISTENER], { protocol, s: a, rs: b.publicKey, auth: knownPeers([{ staticKey: b.publicKey }]), handshakeCounter: memoryHandshakeCounter(0) })
  await settle()
  return { total: flights.reduce((x, y) => x + y, 0), max: Math.max(...flights) }
}

/** XX first contact with one Ed25519 identity + one attestation per side, no credentials. */
async function firstContact(): Promise<number> {
  const protocol = 'Noise_XX_25519_AESGCM_SHA256'
  const now = Math.floor(Date.now() / 1000)
  const party = async () => {
    const vault = await SoftwareVault.open()
    const key = await vault.generateKey('ed25519')
    const identity = await createIdentity(vault, key, { now, expires: now + 365 * 86400 })
    const s = await vaultStaticKey(vault, await vault.generateKey('x25519'))
    const attestation = await createAttestation(vault, key, identity, s.publicKey, { now, expires: now + 30 * 86400 })
    return { identity, s, attestation }
  }
  const a = await party()
  const b = await party()
  const policy = parsePolicy('exists subject.identifier')
  const { dev, gw, flights } = link()
  startSecureChannelListener(gw, DEFAULT_LISTENER, { protocol, s: b.s, deliverTo: local('x'), auth: identityAuthenticator({ identity: b.identity, attestation: b.attestation, policy }) })
  await createSecureChannel(dev, [mem('gw'), DEFAULT_LISTENER], { protocol, s: a.s, auth: identityAuthenticator({ identity: a.identity, attestation: a.attestation, policy }) })
  await settle()
  return flights.reduce((x, y) => x + y, 0)
}

async function overhead(): Promise<number> {
  const protocol = 'Noise_KK_25519_AESGCM_SHA256'
  const a = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
  const b = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
  const { dev, gw, flights } = link()
  gw.startWorker('w', () => undefined)
  startSecureChannelListener(gw, 'L', { protocol, s: b, auth: knownPeers([{ staticKey: a.publicKey }]), deliverTo: local('w'), initiatorStatics: [a.publicKey] })
  const ch = await createSecureChannel(dev, [mem('gw'), local('L')], { protocol, s: a, rs: b.publicKey, auth: knownPeers([{ staticKey: b.publicKey }]) })
  await settle()
  const payload = new Uint8Array(20)
  flights.length = 0
  await dev.send([mem('gw'), local('w')], payload, [local('r')]) // the same payload to a plain worker, one hop
  await ch.send(payload)
  await settle()
  return flights[1]! - flights[0]!
}

/** An established KK ChannelSession pair (initiator → responder) in one process. */
async function sessionPair(protocol: string): Promise<{ a: ChannelSession; b: ChannelSession }> {
  const si = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
  const sr = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
  const i = HandshakeState.create({ protocol, initiator: true, s: si, rs: sr.publicKey, crypto })
  const r = HandshakeState.create({ protocol, initiator: false, s: sr, rs: si.publicKey, crypto })
  await r.readMessage(await i.writeMessage())
  await i.readMessage(await r.writeMessage())
  return { a: new ChannelSession(i.finish(), Date.now), b: new ChannelSession(r.finish(), Date.now) }
}

/**
 * One sealed DATA message of `data` through the pair: seal on one end, open
 * on the other, and the sender told it arrived (as a reliable ACK or a
 * keep-alive report would: a sender refuses to run 2^19 messages ahead of
 * its confirmations).
 */
function sealOpen({ a, b }: { a: ChannelSession; b: ChannelSession }, data: Uint8Array): () => void {
  return () => {
    const m = b.open(a.seal(MessageType.DATA, data))
    if (!m) throw new Error('channel bench: open failed')
    a.confirm(m.counter)
  }
}

async function throughput(ms: number): Promise<{ channel: number; raw: number }> {
  const size = 16384
  const data = crypto.randomBytes(size)
  const [channel, raw] = interleavedMegabytesPerSecond([sealOpen(await sessionPair('Noise_KK_25519_AESGCM_SHA256'), data), rawAesGcmRoundTrip(crypto.randomBytes(32), data)], size, 2 * ms)
  return { channel: channel!, raw: raw! }
}

/**
 * Small messages (IoT readings): seal + open of 64-byte DATA messages through
 * a channel in each cipher, beside raw node:crypto AES-256-GCM (encrypt +
 * decrypt, one cipher object each) and a JavaScript ChaCha20-Poly1305
 * (@noble/ciphers), all interleaved in one run.
 */
async function throughput64(ms: number): Promise<{ aes: number; chacha: number; rawAes: number; nobleChacha: number }> {
  const size = 64
  const data = crypto.randomBytes(size)
  const key = crypto.randomBytes(32)
  const [aes, chacha, rawAes, nobleChacha] = interleavedMegabytesPerSecond(
    [
      sealOpen(await sessionPair('Noise_KK_25519_AESGCM_SHA256'), data),
      sealOpen(await sessionPair('Noise_KK_25519_ChaChaPoly_SHA256'), data),
      rawAesGcmRoundTrip(key, data),
      nobleChachaRoundTrip(key, data),
    ],
    size,
    4 * ms,
  )
  return { aes: aes!, chacha: chacha!, rawAes: rawAes!, nobleChacha: nobleChacha! }
}

/** Heap per idle established channel (both ends in this process, so divide by 2 × count). */
async function heapPerChannel(count: number): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc
  const protocol = 'Noise_KK_25519_AESGCM_SHA256'
  const a = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
  const b = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
  const net = new MemoryNetwork()
  const dev = new Node({ name: 'dev', limits: {} })
  const gw = new Node({ name: 'gw' })
  dev.registerTransport(net.endpoint('dev'))
  gw.registerTransport(net.endpoint('gw'))
  const auth = (k: Uint8Array): ChannelAuthenticator => knownPeers([{ staticKey: k }])
  startSecureChannelListener(gw, 'L', { protocol, s: b, auth: auth(a.publicKey), deliverTo: local('x'), initiatorStatics: [a.publicKey], maxChannelsPerPeer: count + 1, idleTimeoutMs: 0 })
  const warm = await createSecureChannel(dev, [mem('gw'), local('L')], { protocol, s: a, rs: b.publicKey, auth: auth(b.publicKey), idleTimeoutMs: 0 })
  void warm
  await settle()
  const memNow = () => {
    const m = process.memoryUsage()
    return m.heapUsed + m.arrayBuffers // typed-array backing stores live outside the JS heap
  }
  const settleGc = async (): Promise<void> => {
    for (let i = 0; i < 3; i++) {
      await settle()
      gc?.()
    }
  }
  await settleGc()
  const before = memNow()
  const keep = []
  for (let i = 0; i < count; i++) keep.push(await createSecureChannel(dev, [mem('gw'), local('L')], { protocol, s: a, rs: b.publicKey, auth: auth(b.publicKey), idleTimeoutMs: 0, retransmit: false }))
  await settleGc()
  const after = memNow()
  void keep.length
  return (after - before) / (2 * count)
}

const run: BenchModule = async (ctx) => {
  const ms = ctx.quick ? 300 : 2000
  const figures: Figure[] = []
  ctx.log('measuring per-message overhead, known-peer handshakes, throughput, heap')
  figures.push({ name: 'channel.message_overhead.bytes', value: await overhead(), unit: 'bytes', target: '<= 18' })
  for (const dh of ['25519', 'P256'] as const) {
    const k = await knownPeerHandshake(dh)
    const s = dh.toLowerCase()
    figures.push({ name: `channel.kk_${s}.total_bytes`, value: k.total, unit: 'bytes', target: '<= 100' })
    figures.push({ name: `channel.kk_${s}.max_flight_bytes`, value: k.max, unit: 'bytes', target: '<= 51' })
  }
  figures.push({ name: 'channel.xx_first_contact.total_bytes', value: await firstContact(), unit: 'bytes', target: '<= 512' })
  const t = await throughput(ms)
  figures.push({ name: 'channel.throughput_16k.MBps', value: t.channel, unit: 'MB/s', baseline: { name: 'raw.aes256gcm_16k.MBps', value: t.raw }, target: '>= 0.8x' })
  const s = await throughput64(ms)
  const note64 = `64-byte DATA messages, seal + open: AESGCM channel ${s.aes.toFixed(2)} MB/s = ${(s.aes / s.rawAes).toFixed(2)}x raw node:crypto AES-256-GCM (${s.rawAes.toFixed(2)}); ChaChaPoly channel ${s.chacha.toFixed(2)} MB/s = ${(s.chacha / s.nobleChacha).toFixed(2)}x @noble/ciphers ChaCha20-Poly1305 (${s.nobleChacha.toFixed(2)}), ${(s.chacha / s.rawAes).toFixed(2)}x raw AES-256-GCM`
  ctx.log(note64)
  figures.push({ name: 'channel.throughput_64.MBps', value: s.aes, unit: 'MB/s', baseline: { name: 'raw.aes256gcm_64.MBps', value: s.rawAes }, note: note64 })
  figures.push({ name: 'channel.throughput_64_chachapoly.MBps', value: s.chacha, unit: 'MB/s', baseline: { name: 'noble.chacha20poly1305_64.MBps', value: s.nobleChacha }, note: note64 })
  const count = ctx.quick ? 1000 : 10000
  const heap = await heapPerChannel(count)
  if (!(globalThis as { gc?: unknown }).gc) ctx.log('# heap figure without --expose-gc: run `node --expose-gc --import tsx bench/index.ts` for a cleaner number')
  figures.push({ name: 'channel.heap_per_channel.bytes', value: Math.round(heap), unit: 'bytes', target: '<= 4096', note: `${count} idle channels` })
  return figures
}

export default run
