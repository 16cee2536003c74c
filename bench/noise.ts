/**
 * Noise engine figures (foundation issue): XX handshake rates against
 * libp2p-noise and against the physical limit of the same primitive calls on
 * node:crypto, transport throughput against raw AES-256-GCM, handshake sizes.
 */
import * as nc from 'node:crypto'
import { cryptoProvider, type CryptoProvider, type ProviderName } from '../targets/node/crypto/index.ts'
import { CipherState, HandshakeState, softwareStaticKey, type StaticKey } from '../src/noise/index.ts'
import { megabytesPerSecond, opsPerSecond, rawAesGcmRoundTrip, type BenchContext, type BenchModule, type Figure } from './figure.ts'

const XX = 'Noise_XX_25519_ChaChaPoly_SHA256'
const EMPTY = new Uint8Array(0)

async function handshake(protocol: string, crypto: CryptoProvider, si: StaticKey, sr: StaticKey, known = false): Promise<number> {
  const init = HandshakeState.create({ protocol, initiator: true, s: si, crypto, ...(known ? { rs: sr.publicKey } : {}) })
  const resp = HandshakeState.create({ protocol, initiator: false, s: sr, crypto, ...(known ? { rs: si.publicKey } : {}) })
  let bytes = 0
  let w = init
  let r = resp
  while (!init.isFinished() || !resp.isFinished()) {
    const m = await w.writeMessage(EMPTY)
    bytes += m.length
    await r.readMessage(m)
    ;[w, r] = [r, w]
  }
  init.finish()
  resp.finish()
  return bytes
}

interface Call {
  method: string
  args: unknown[]
}

/** Records every provider call one XX handshake makes (both ends). */
async function recordCalls(): Promise<Call[]> {
  const node = cryptoProvider('node')
  const calls: Call[] = []
  const spy = new Proxy(node, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv) as unknown
      if (typeof v !== 'function') return v
      return (...args: unknown[]) => {
        // copy now: the engine wipes keys after use
        const copy = args.map((a) =>
          a instanceof Uint8Array ? a.slice() : a && typeof a === 'object' && 'privateKey' in a ? { ...(a as object), privateKey: (a as { privateKey: Uint8Array }).privateKey.slice() } : a,
        )
        calls.push({ method: String(prop), args: copy })
        return (v as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  }) as CryptoProvider
  const si = softwareStaticKey(spy, node.generateKeyPair('x25519'))
  const sr = softwareStaticKey(spy, node.generateKeyPair('x25519'))
  await handshake(XX, spy, si, sr)
  return calls.filter((c) => c.method !== 'hashLength')
}

/** Replays the recorded primitive calls directly on node:crypto (no hopseal code): the physical limit. */
function rawReplay(calls: Call[]): () => void {
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url')
  const ops: (() => void)[] = calls.map((c) => {
    const a = c.args as Uint8Array[]
    switch (c.method) {
      case 'generateKeyPair':
        return () => void nc.generateKeyPairSync('x25519', { publicKeyEncoding: { format: 'jwk' }, privateKeyEncoding: { format: 'jwk' } } as unknown as nc.X25519KeyPairOptions<'pem', 'pem'>)
      case 'dh': {
        const kp = c.args[0] as { privateKey: Uint8Array; publicKey: Uint8Array }
        const peer = b64(a[1]!)
        const d = b64(kp.privateKey)
        const x = b64(kp.publicKey)
        return () => {
          const priv = nc.createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d, x }, format: 'jwk' })
          const pub = nc.createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: peer }, format: 'jwk' })
          nc.diffieHellman({ privateKey: priv, publicKey: pub })
        }
      }
      case 'hmac':
        return () => void nc.createHmac('sha256', a[1]!).update(a[2]!).digest()
      case 'hash':
        return () => void nc.createHash('sha256').update(a[1]!).digest()
      case 'aeadEncrypt':
        return () => {
          const ci = nc.createCipheriv('chacha20-poly1305', a[1]!, a[2]!, { authTagLength: 16 })
          ci.setAAD(a[3]!, { plaintextLength: a[4]!.length })
          ci.update(a[4]!)
          ci.final()
          ci.getAuthTag()
        }
      case 'aeadDecrypt': {
        const ct = a[4]!
        return () => {
          const de = nc.createDecipheriv('chacha20-poly1305', a[1]!, a[2]!, { authTagLength: 16 })
          de.setAuthTag(ct.subarray(ct.length - 16))
          de.setAAD(a[3]!, { plaintextLength: ct.length - 16 })
          de.update(ct.subarray(0, ct.length - 16))
          de.final()
        }
      }
      default:
        throw new Error(`unexpected provider call ${c.method}`)
    }
  })
  return () => {
    for (const op of ops) op()
  }
}

async function xxRate(provider: ProviderName, ms: number): Promise<number> {
  const crypto = cryptoProvider(provider)
  const si = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
  const sr = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
  return opsPerSecond(() => handshake(XX, crypto, si, sr), ms)
}

function transportRate(size: number, ms: number): { noise: number; raw: number } {
  const crypto = cryptoProvider('node')
  const key = crypto.randomBytes(32)
  const data = crypto.randomBytes(size)
  // Noise transport: CipherState with AESGCM (the suite's AES-256-GCM)
  const tx = new CipherState(crypto, 'aes-gcm', key)
  const rx = new CipherState(crypto, 'aes-gcm', key)
  const noise = megabytesPerSecond(() => {
    rx.decryptWithAd(EMPTY, tx.encryptWithAd(EMPTY, data))
  }, size, ms)
  const raw = megabytesPerSecond(rawAesGcmRoundTrip(key, data), size, ms)
  return { noise, raw }
}

async function sizes(): Promise<Figure[]> {
  const out: Figure[] = []
  const crypto = cryptoProvider('node')
  for (const dh of ['25519', 'P256'] as const) {
    const t = dh === '25519' ? 'x25519' : 'p256'
    for (const pat of ['XX', 'IK', 'KK']) {
      const si = softwareStaticKey(crypto, crypto.generateKeyPair(t))
      const sr = softwareStaticKey(crypto, crypto.generateKeyPair(t))
      const bytes = await handshake(`Noise_${pat}_${dh}_AESGCM_SHA256`, crypto, si, sr, pat !== 'XX')
      out.push({ name: `noise.${pat.toLowerCase()}_${dh.toLowerCase()}.bytes`, value: bytes, unit: 'bytes' })
    }
  }
  return out
}

const run: BenchModule = async (ctx: BenchContext) => {
  const ms = ctx.quick ? 300 : 2000
  const figures: Figure[] = []

  let baseline: { name: string; value: number } | undefined
  try {
    const lib = (await import('./libp2p-baseline.ts')) as { libp2pXxHandshakesPerSecond: (ms: number) => Promise<number> }
    baseline = { name: 'libp2p-noise.xx.handshakes_per_s', value: await lib.libp2pXxHandshakesPerSecond(ms) }
  } catch (e) {
    ctx.log(`# libp2p-noise baseline unavailable: ${(e as Error).message}`)
  }
  const nodeRate = await xxRate('node', ms)
  ctx.log(`XX handshakes/s (node): ${nodeRate.toFixed(0)}`)
  figures.push({ name: 'noise.xx_25519_chachapoly.handshakes_per_s', value: nodeRate, unit: 'handshakes/s', target: '>= 3x libp2p-noise', ...(baseline ? { baseline } : {}) })
  const nobleRate = await xxRate('noble', ms)
  figures.push({ name: 'noise.xx_25519_chachapoly.noble.handshakes_per_s', value: nobleRate, unit: 'handshakes/s', ...(baseline ? { baseline } : {}) })

  const calls = await recordCalls()
  const replay = rawReplay(calls)
  const limit = await opsPerSecond(replay, ms)
  ctx.log(`XX primitive calls per handshake: ${calls.length} (${[...new Set(calls.map((c) => c.method))].map((m) => `${m} ×${calls.filter((c) => c.method === m).length}`).join(', ')})`)
  figures.push({
    name: 'noise.xx_25519_chachapoly.limit_ratio',
    value: nodeRate / limit,
    unit: 'ratio',
    baseline: { name: 'raw.xx_primitives.handshakes_per_s', value: limit },
    target: '>= 0.8',
  })

  for (const [label, size] of [['16k', 16384], ['1k', 1024], ['64', 64]] as const) {
    const r = transportRate(size, ms)
    figures.push({ name: `noise.transport_${label}.MBps`, value: r.noise, unit: 'MB/s', baseline: { name: `raw.aes256gcm_${label}.MBps`, value: r.raw } })
  }
  figures.push(...(await sizes()))
  return figures
}

export default run
