/**
 * SymmetricState (Noise §5.2): chaining key ck, handshake hash h and a CipherState.
 * HKDF here is Noise's (§4.3), built from HMAC-HASH.
 */
import { concat, wipe } from '../bytes/index.ts'
import type { CryptoProvider } from '../crypto/index.ts'
import { CipherState } from './cipher-state.ts'
import type { NoiseProtocol } from './protocol.ts'

const B1 = Uint8Array.of(1)
const B2 = Uint8Array.of(2)
const B3 = Uint8Array.of(3)

export class SymmetricState {
  ck: Uint8Array
  h: Uint8Array
  cipher: CipherState

  private constructor(
    private readonly crypto: CryptoProvider,
    private readonly protocol: NoiseProtocol,
    ck: Uint8Array,
    h: Uint8Array,
    cipher: CipherState,
  ) {
    this.ck = ck
    this.h = h
    this.cipher = cipher
  }

  /** §5.2 InitializeSymmetric(protocol_name). */
  static initialize(crypto: CryptoProvider, protocol: NoiseProtocol): SymmetricState {
    const hashLen = crypto.hashLength(protocol.hashAlg)
    const name = new TextEncoder().encode(protocol.name)
    let h: Uint8Array
    if (name.length <= hashLen) {
      h = new Uint8Array(hashLen)
      h.set(name)
    } else {
      h = crypto.hash(protocol.hashAlg, name)
    }
    return new SymmetricState(crypto, protocol, h.slice(), h, new CipherState(crypto, protocol.aead))
  }

  /** §4.3 HKDF(chaining_key, input_key_material, num_outputs). */
  hkdf(ikm: Uint8Array, n: 2 | 3): Uint8Array[] {
    const alg = this.protocol.hashAlg
    const temp = this.crypto.hmac(alg, this.ck, ikm)
    const o1 = this.crypto.hmac(alg, temp, B1)
    const o2 = this.crypto.hmac(alg, temp, concat(o1, B2))
    if (n === 2) {
      wipe(temp)
      return [o1, o2]
    }
    const o3 = this.crypto.hmac(alg, temp, concat(o2, B3))
    wipe(temp)
    return [o1, o2, o3]
  }

  /** §5.2 MixKey. */
  mixKey(ikm: Uint8Array): void {
    const [ck, tempK] = this.hkdf(ikm, 2) as [Uint8Array, Uint8Array]
    wipe(this.ck)
    this.ck = ck
    this.cipher.initializeKey(truncateKey(tempK))
    wipe(tempK)
  }

  /** §5.2 MixHash. */
  mixHash(data: Uint8Array): void {
    this.h = this.crypto.hash(this.protocol.hashAlg, concat(this.h, data))
  }

  /** §5.2 MixKeyAndHash (psk). */
  mixKeyAndHash(ikm: Uint8Array): void {
    const [ck, tempH, tempK] = this.hkdf(ikm, 3) as [Uint8Array, Uint8Array, Uint8Array]
    wipe(this.ck)
    this.ck = ck
    this.mixHash(tempH)
    this.cipher.initializeKey(truncateKey(tempK))
    wipe(tempH, tempK)
  }

  /** §5.2 EncryptAndHash. */
  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const c = this.cipher.encryptWithAd(this.h, plaintext)
    this.mixHash(c)
    return c
  }

  /** §5.2 DecryptAndHash. */
  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const p = this.cipher.decryptWithAd(this.h, ciphertext)
    this.mixHash(ciphertext)
    return p
  }

  /** §5.2 Split: two CipherStates; the first is for initiator → responder. */
  split(): [CipherState, CipherState] {
    const [k1, k2] = this.hkdf(new Uint8Array(0), 2) as [Uint8Array, Uint8Array]
    const c1 = new CipherState(this.crypto, this.protocol.aead, truncateKey(k1))
    const c2 = new CipherState(this.crypto, this.protocol.aead, truncateKey(k2))
    wipe(k1, k2)
    return [c1, c2]
  }

  clone(): SymmetricState {
    return new SymmetricState(this.crypto, this.protocol, this.ck.slice(), this.h.slice(), this.cipher.clone())
  }

  destroy(): void {
    wipe(this.ck)
    this.cipher.destroy()
  }
}

/** §5.2: with HASHLEN 64, temp_k is truncated to 32 bytes. */
function truncateKey(k: Uint8Array): Uint8Array {
  return k.length === 32 ? k : k.subarray(0, 32)
}
