/**
 * Noise revision 34 as protocol.md "Noise suites" pins it: 25519 or P256
 * (33-byte compressed keys, DH = the x-coordinate), AESGCM (big-endian
 * nonce) or ChaChaPoly (little-endian nonce), SHA256, standard Split.
 *
 * The decoder holds every private key of an example, so it runs one
 * transcript for both sides: the symmetric state is the same on both ends,
 * each DH token is computed with the initiator's private key and the
 * responder's public key, and every transmitted public key is checked against
 * the key the example names.
 */
import { x25519 } from '@noble/curves/ed25519.js'
import { p256 } from '@noble/curves/nist.js'
import { gcm } from '@noble/ciphers/aes.js'
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { hmac } from '@noble/hashes/hmac.js'
import { ascii, cat, fail, hex, same } from './bytes.ts'

export type Token = 'e' | 's' | 'ee' | 'es' | 'se' | 'ss'

const PATTERNS: Record<string, { pre: [Token[], Token[]]; messages: Token[][] }> = {
  KK: { pre: [['s'], ['s']], messages: [['e', 'es', 'ss'], ['e', 'ee', 'se']] },
  XX: { pre: [[], []], messages: [['e'], ['e', 'ee', 's', 'es'], ['s', 'se']] },
  IK: { pre: [[], ['s']], messages: [['e', 'es', 's', 'ss'], ['e', 'ee', 'se']] },
}

export interface Suite {
  name: string
  pattern: string
  dh: '25519' | 'P256'
  cipher: 'AESGCM' | 'ChaChaPoly'
  publicLength: number
}

export function parseSuite(name: string): Suite {
  const m = /^Noise_([A-Z]+)_(25519|P256)_(AESGCM|ChaChaPoly)_SHA256$/.exec(name)
  if (!m || !PATTERNS[m[1]!]) fail(`suite ${name} is not one the decoder knows`)
  return { name, pattern: m[1]!, dh: m[2] as Suite['dh'], cipher: m[3] as Suite['cipher'], publicLength: m[2] === 'P256' ? 33 : 32 }
}

export function publicKey(dh: Suite['dh'], priv: Uint8Array): Uint8Array {
  return dh === '25519' ? x25519.getPublicKey(priv) : p256.getPublicKey(priv, true)
}

export function dh(kind: Suite['dh'], priv: Uint8Array, pub: Uint8Array): Uint8Array {
  if (kind === '25519') {
    const out = x25519.getSharedSecret(priv, pub)
    if (out.every((b) => b === 0)) fail('all-zero X25519 result')
    return out
  }
  if (pub.length !== 33 || (pub[0] !== 2 && pub[0] !== 3)) fail('P-256 public key not a compressed point')
  return p256.getSharedSecret(priv, pub, true).slice(1)
}

function nonce(cipher: Suite['cipher'], n: bigint): Uint8Array {
  const out = new Uint8Array(12)
  new DataView(out.buffer).setBigUint64(4, n, cipher === 'ChaChaPoly')
  return out
}

export function encrypt(cipher: Suite['cipher'], k: Uint8Array, n: bigint, ad: Uint8Array, pt: Uint8Array): Uint8Array {
  return cipher === 'AESGCM' ? gcm(k, nonce(cipher, n), ad).encrypt(pt) : chacha20poly1305(k, nonce(cipher, n), ad).encrypt(pt)
}

/** Throws when the tag does not authenticate. */
export function decrypt(cipher: Suite['cipher'], k: Uint8Array, n: bigint, ad: Uint8Array, ct: Uint8Array): Uint8Array {
  return cipher === 'AESGCM' ? gcm(k, nonce(cipher, n), ad).decrypt(ct) : chacha20poly1305(k, nonce(cipher, n), ad).decrypt(ct)
}

/** Noise §4.2 REKEY: ENCRYPT(k, 2^64 − 1, empty, 32 zero bytes), first 32 bytes. */
export function rekey(cipher: Suite['cipher'], k: Uint8Array): Uint8Array {
  return encrypt(cipher, k, 2n ** 64n - 1n, new Uint8Array(0), new Uint8Array(32)).slice(0, 32)
}

function hkdf2(ck: Uint8Array, ikm: Uint8Array): [Uint8Array, Uint8Array] {
  const temp = hmac(sha256, ck, ikm)
  const o1 = hmac(sha256, temp, Uint8Array.of(1))
  const o2 = hmac(sha256, temp, cat(o1, Uint8Array.of(2)))
  return [o1, o2]
}

export interface PartyKeys {
  s: Uint8Array
  e: Uint8Array
}

export interface Read {
  payload: Uint8Array
  /** Index of the message in the pattern. */
  index: number
}

/** One handshake, read from both sides at once (see the file comment). */
export class Transcript {
  private h: Uint8Array
  private ck: Uint8Array
  private k: Uint8Array | undefined
  private n = 0n
  private index = 0
  private readonly pattern: { pre: [Token[], Token[]]; messages: Token[][] }
  private readonly pub: { i: { s: Uint8Array; e: Uint8Array }; r: { s: Uint8Array; e: Uint8Array } }

  constructor(
    readonly suite: Suite,
    prologue: Uint8Array,
    private readonly i: PartyKeys,
    private readonly r: PartyKeys,
  ) {
    this.pattern = PATTERNS[suite.pattern]!
    const name = ascii(suite.name)
    this.h = name.length <= 32 ? cat(name, new Uint8Array(32 - name.length)) : sha256(name)
    this.ck = this.h
    this.pub = {
      i: { s: publicKey(suite.dh, i.s), e: publicKey(suite.dh, i.e) },
      r: { s: publicKey(suite.dh, r.s), e: publicKey(suite.dh, r.e) },
    }
    this.mixHash(prologue)
    for (const t of this.pattern.pre[0]) this.mixHash(this.pub.i[t as 's' | 'e'])
    for (const t of this.pattern.pre[1]) this.mixHash(this.pub.r[t as 's' | 'e'])
  }

  get done(): boolean {
    return this.index === this.pattern.messages.length
  }

  /** Whose turn it is: the initiator writes messages 0, 2, … */
  get senderIsInitiator(): boolean {
    return this.index % 2 === 0
  }

  get handshakeHash(): Uint8Array {
    return this.h
  }

  private mixHash(data: Uint8Array): void {
    this.h = sha256(cat(this.h, data))
  }

  private mixKey(ikm: Uint8Array): void {
    const [ck, k] = hkdf2(this.ck, ikm)
    this.ck = ck
    this.k = k
    this.n = 0n
  }

  private decryptAndHash(ct: Uint8Array): Uint8Array {
    let pt = ct
    if (this.k) {
      pt = decrypt(this.suite.cipher, this.k, this.n, this.h, ct)
      this.n++
    }
    this.mixHash(ct)
    return pt
  }

  /** Processes the next handshake message; returns its payload. */
  read(message: Uint8Array): Read {
    if (this.done) fail('handshake already complete')
    const index = this.index
    const fromI = this.senderIsInitiator
    const sender = fromI ? this.pub.i : this.pub.r
    const len = this.suite.publicLength
    let o = 0
    const take = (n: number): Uint8Array => {
      if (o + n > message.length) fail(`handshake message ${index + 1} truncated`)
      const b = message.subarray(o, o + n)
      o += n
      return b
    }
    for (const t of this.pattern.messages[index]!) {
      if (t === 'e') {
        const e = take(len)
        if (!same(e, sender.e)) fail(`message ${index + 1}: ephemeral ${hex(e)} is not the example's ${hex(sender.e)}`)
        this.mixHash(e)
      } else if (t === 's') {
        const s = this.decryptAndHash(take(len + (this.k ? 16 : 0)))
        if (!same(s, sender.s)) fail(`message ${index + 1}: static key ${hex(s)} is not the example's`)
      } else {
        // First letter: the initiator's key, second: the responder's (Noise §7.3).
        const mine = t[0] === 'e' ? this.i.e : this.i.s
        const theirs = t[1] === 'e' ? this.pub.r.e : this.pub.r.s
        this.mixKey(dh(this.suite.dh, mine, theirs))
      }
    }
    const rest = message.subarray(o)
    if (this.k && rest.length < 16) fail(`message ${index + 1} has no room for its tag`)
    const payload = this.decryptAndHash(rest)
    this.index++
    return { payload, index }
  }

  /** Noise §5.2 Split: [initiator → responder key, responder → initiator key]. */
  split(): [Uint8Array, Uint8Array] {
    if (!this.done) fail('split before the handshake is complete')
    const [k1, k2] = hkdf2(this.ck, new Uint8Array(0))
    return [k1.slice(0, 32), k2.slice(0, 32)]
  }

  /** The remote static key each side now holds (for the identity checks). */
  staticOf(initiator: boolean): Uint8Array {
    return initiator ? this.pub.i.s : this.pub.r.s
  }
}
