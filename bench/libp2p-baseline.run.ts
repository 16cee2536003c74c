/**
 * Prints the two reference XX rates beside hopseal's own, from one run, for
 * checking the baseline by hand: `npx tsx bench/libp2p-baseline.run.ts [ms]`.
 * `npm run bench -- --only=noise` is the real figure; this is a smoke check.
 */
import { cryptoProvider } from '../targets/node/crypto/index.ts'
import { HandshakeState, softwareStaticKey } from '../src/noise/index.ts'
import { opsPerSecond } from './figure.ts'
import { XX_25519_CHACHAPOLY_SHA256, libp2pXxHandshakesPerSecond, noiseCXxHandshakesPerSecond } from './libp2p-baseline.ts'

const ms = Number(process.argv[2] ?? 2000)
const EMPTY = new Uint8Array(0)

/** hopseal's XX, same shape as bench/noise.ts measures it (node provider, empty payloads, finish both). */
async function hopsealXxHandshakesPerSecond(ms: number): Promise<number> {
  const crypto = cryptoProvider('node')
  const si = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
  const sr = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
  return opsPerSecond(async () => {
    const a = HandshakeState.create({ protocol: XX_25519_CHACHAPOLY_SHA256, initiator: true, s: si, crypto })
    const b = HandshakeState.create({ protocol: XX_25519_CHACHAPOLY_SHA256, initiator: false, s: sr, crypto })
    await b.readMessage(await a.writeMessage(EMPTY))
    await a.readMessage(await b.writeMessage(EMPTY))
    await b.readMessage(await a.writeMessage(EMPTY))
    a.finish()
    b.finish()
  }, ms)
}

const libp2p = await libp2pXxHandshakesPerSecond(ms)
const noiseC = await noiseCXxHandshakesPerSecond(ms)
const hopseal = await hopsealXxHandshakesPerSecond(ms)
console.log(`XX_25519_ChaChaPoly_SHA256 complete handshakes/s, both ends in one process, ${ms} ms each:`)
console.log(`  libp2p-noise (XXHandshakeState, defaultCrypto): ${libp2p.toFixed(0)}`)
console.log(`  noise-c.wasm:                                  ${noiseC.toFixed(0)}`)
console.log(`  hopseal (node provider):                       ${hopseal.toFixed(0)}  (${(hopseal / libp2p).toFixed(2)}x libp2p-noise, ${(hopseal / noiseC).toFixed(2)}x noise-c.wasm)`)
