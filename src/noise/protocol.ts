/**
 * Protocol names (Noise §8): `Noise_<pattern>_<dh>_<cipher>_<hash>`, parsed into
 * the algorithms hopseal supports. DH: 25519, and P256 (hopseal's hardware
 * suite: 33-byte compressed public keys, DHLEN 32 = the ECDH x-coordinate).
 */
import { ErrorCode, HopsealError } from '../errors.ts'
import type { AeadAlgorithm, HashAlgorithm } from '../crypto/index.ts'
import { resolvePattern, type HandshakePattern } from './patterns.ts'

export type NoiseDh = '25519' | 'P256'
export type NoiseCipher = 'AESGCM' | 'ChaChaPoly'
export type NoiseHash = 'SHA256' | 'SHA512' | 'BLAKE2s' | 'BLAKE2b'

export interface NoiseProtocol {
  readonly name: string
  readonly pattern: HandshakePattern
  readonly dh: NoiseDh
  readonly cipher: NoiseCipher
  readonly hash: NoiseHash
  readonly aead: AeadAlgorithm
  readonly hashAlg: HashAlgorithm
  /** Key type of static and ephemeral keys. */
  readonly keyType: 'x25519' | 'p256'
  /** Length of a public key on the wire. */
  readonly publicKeyLength: number
  /** Length of a DH output. */
  readonly dhLength: number
}

const DH: Record<NoiseDh, { keyType: 'x25519' | 'p256'; publicKeyLength: number; dhLength: number }> = {
  '25519': { keyType: 'x25519', publicKeyLength: 32, dhLength: 32 },
  P256: { keyType: 'p256', publicKeyLength: 33, dhLength: 32 },
}
const CIPHER: Record<NoiseCipher, AeadAlgorithm> = { AESGCM: 'aes-gcm', ChaChaPoly: 'chacha20-poly1305' }
const HASH: Record<NoiseHash, HashAlgorithm> = { SHA256: 'sha256', SHA512: 'sha512', BLAKE2s: 'blake2s', BLAKE2b: 'blake2b' }

const cache = new Map<string, NoiseProtocol>()

/** True when `k` names an entry of `table` (an own key: `toString` is not a DH). */
function isKeyOf<K extends string>(table: Record<K, unknown>, k: string | undefined): k is K {
  return k !== undefined && Object.hasOwn(table, k)
}

/** Parses a protocol name; throws NOISE_BAD_PROTOCOL_NAME for anything unsupported. */
export function parseProtocolName(name: string): NoiseProtocol {
  const hit = cache.get(name)
  if (hit) return hit
  const parts = typeof name === 'string' ? name.split('_') : []
  const [prefix, patternName, dh, cipher, hash] = parts
  if (parts.length !== 5 || prefix !== 'Noise' || !patternName) {
    throw new HopsealError(ErrorCode.NOISE_BAD_PROTOCOL_NAME, `protocol name ${String(name)} is not Noise_<pattern>_<dh>_<cipher>_<hash>`)
  }
  if (!isKeyOf(DH, dh)) throw new HopsealError(ErrorCode.NOISE_BAD_PROTOCOL_NAME, `DH ${dh} unsupported (25519, P256)`)
  if (!isKeyOf(CIPHER, cipher)) throw new HopsealError(ErrorCode.NOISE_BAD_PROTOCOL_NAME, `cipher ${cipher} unsupported (AESGCM, ChaChaPoly)`)
  if (!isKeyOf(HASH, hash)) throw new HopsealError(ErrorCode.NOISE_BAD_PROTOCOL_NAME, `hash ${hash} unsupported (SHA256, SHA512, BLAKE2s, BLAKE2b)`)
  const p: NoiseProtocol = Object.freeze({
    name,
    pattern: resolvePattern(patternName),
    dh,
    cipher,
    hash,
    aead: CIPHER[cipher],
    hashAlg: HASH[hash],
    ...DH[dh],
  })
  cache.set(name, p)
  return p
}
