/**
 * The XX identity payload (protocol.md "Handshake payloads") and what
 * identity.md says is inside it: deterministic CBOR with small integer keys,
 * signatures over ASCII(domain) ‖ 00 ‖ [context] ‖ data, identifiers =
 * SHA-256(data of the first change)[0..20] written "I" + hex.
 */
import { ed25519 } from '@noble/curves/ed25519.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { ascii, cat, fail, hex, readVarint, same } from './bytes.ts'

type Cbor = number | boolean | string | Uint8Array | Cbor[] | Map<Cbor, Cbor>

/** A small CBOR decoder: unsigned integers, byte and text strings, arrays, maps, true/false. */
export function cbor(b: Uint8Array): Cbor {
  let o = 0
  const arg = (info: number): number => {
    if (info < 24) return info
    const n = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : fail(`CBOR additional info ${info}`)
    let v = 0
    for (let k = 0; k < n; k++) v = v * 256 + b[o++]!
    return v
  }
  const item = (): Cbor => {
    const first = b[o++]
    if (first === undefined) fail('CBOR truncated')
    const major = first >> 5
    const info = first & 31
    if (major === 7) return info === 21 ? true : info === 20 ? false : fail(`CBOR simple ${info}`)
    const v = arg(info)
    switch (major) {
      case 0:
        return v
      case 2:
        o += v
        return b.slice(o - v, o)
      case 3:
        o += v
        return new TextDecoder().decode(b.subarray(o - v, o))
      case 4:
        return Array.from({ length: v }, () => item())
      case 5: {
        const m = new Map<Cbor, Cbor>()
        for (let k = 0; k < v; k++) m.set(item(), item())
        return m
      }
      default:
        return fail(`CBOR major type ${major}`)
    }
  }
  const out = item()
  if (o !== b.length) fail('CBOR trailing bytes')
  return out
}

const map = (v: Cbor): Map<Cbor, Cbor> => (v instanceof Map ? v : fail('CBOR map expected'))
const bytes = (v: Cbor | undefined): Uint8Array => (v instanceof Uint8Array ? v : fail('CBOR byte string expected'))
const num = (v: Cbor | undefined): number => (typeof v === 'number' ? v : fail('CBOR integer expected'))

function verify(publicKey: Uint8Array, domain: string, context: Uint8Array, data: Uint8Array, signature: Uint8Array): void {
  if (!ed25519.verify(signature, cat(ascii(domain), Uint8Array.of(0), context, data), publicKey)) fail(`bad ${domain} signature`)
}

export interface PayloadCheck {
  /** The sender's Noise static key, as the handshake authenticated it. */
  remoteStatic: Uint8Array
  /** Seconds since the epoch. */
  time: number
  /** Public identity keys of trusted credential issuers, by identifier text. */
  issuers: Map<string, Uint8Array>
}

export interface CheckedPayload {
  identifier: string
  attributes: Record<string, string>
  credentials: number
}

/** Deterministic CBOR (identity.md §1) of what the compact form rebuilds: unsigned integers, byte strings, true, arrays, integer-keyed maps (keys ascending). */
function cborEncode(v: Cbor): Uint8Array {
  const head = (major: number, n: number): Uint8Array => {
    if (n < 24) return Uint8Array.of((major << 5) | n)
    if (n < 0x100) return Uint8Array.of((major << 5) | 24, n)
    if (n < 0x10000) return Uint8Array.of((major << 5) | 25, n >> 8, n & 0xff)
    if (n < 0x1_0000_0000) return Uint8Array.of((major << 5) | 26, ...u32(n))
    return Uint8Array.of((major << 5) | 27, ...u32(Math.floor(n / 0x1_0000_0000)), ...u32(n >>> 0))
  }
  const u32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]
  if (v === true) return Uint8Array.of(0xf5)
  if (typeof v === 'number') return head(0, v)
  if (v instanceof Uint8Array) return cat(head(2, v.length), v)
  if (Array.isArray(v)) return cat(head(4, v.length), ...v.map(cborEncode))
  if (v instanceof Map) {
    const keys = [...v.keys()].map(num).sort((a, b) => a - b)
    return cat(head(5, keys.length), ...keys.flatMap((k) => [cborEncode(k), cborEncode(v.get(k)!)]))
  }
  return fail('CBOR value this decoder does not encode')
}

/**
 * identity.md §4.1: the compact identity and attestation, rebuilt into their
 * full deterministic CBOR, the attested key being the Noise static key; also
 * whether the two kept key bytes are that key's.
 */
function expandCompact(p: Uint8Array, at: number, remoteStatic: Uint8Array): { identity: Uint8Array; attestation: Uint8Array; keyBytesMatch: boolean; next: number } {
  let o = at
  const take = (n: number): Uint8Array => {
    if (o + n > p.length) fail('compact identity truncated')
    o += n
    return p.slice(o - n, o)
  }
  const varint = (): number => {
    const v = readVarint(p, o)
    o = v.next
    return v.value
  }
  const head = take(1)[0]!
  const count = (head >> 4) + 1
  const index = head & 15
  const changes: Cbor[] = []
  const expiries: number[] = []
  let link: Uint8Array | undefined
  for (let i = 0; i < count; i++) {
    const flags = take(1)[0]!
    if (flags > 3) fail('compact change with unknown flags')
    const key = take(flags & 1 ? 33 : 32)
    const created = varint()
    const expires = created + varint()
    const sig = take(64)
    const prevSig = i > 0 ? take(64) : undefined
    const d = new Map<Cbor, Cbor>([[2, flags & 1], [3, key], [4, created], [5, expires]])
    if (link) d.set(1, link)
    if (flags & 2) d.set(6, true)
    const data = cborEncode(d)
    link = sha256(data).slice(0, 20)
    const change = new Map<Cbor, Cbor>([[1, data], [2, sig]])
    if (prevSig) change.set(3, prevSig)
    changes.push(change)
    expiries.push(expires)
  }
  const before = varint()
  const keyBytes = take(2)
  const sig = take(64)
  const attData = cborEncode(new Map<Cbor, Cbor>([[1, index], [2, remoteStatic], [3, (expiries[index] ?? fail('attestation by an unknown change')) - before]]))
  return {
    identity: cborEncode(changes),
    attestation: cborEncode(new Map<Cbor, Cbor>([[1, attData], [2, sig]])),
    keyBytesMatch: same(keyBytes, remoteStatic.slice(remoteStatic.length - 2)),
    next: o,
  }
}

/** Splits and verifies an identity payload (full or compact, protocol.md "Handshake payloads"); throws on anything the spec refuses. */
export function checkIdentityPayload(p: Uint8Array, c: PayloadCheck): CheckedPayload {
  if (p.length > 4096) fail('identity payload over 4096 bytes')
  let o = 0
  const field = (): Uint8Array => {
    const { value, next } = readVarint(p, o)
    if (next + value > p.length) fail('identity payload field truncated')
    o = next + value
    return p.slice(next, next + value)
  }
  let identityBytes: Uint8Array
  let attestationBytes: Uint8Array
  if (p[0] === 0) {
    const x = expandCompact(p, 1, c.remoteStatic)
    if (!x.keyBytesMatch) fail('IDENTITY_MISBINDING: the attested key is not the Noise static key')
    ;({ identity: identityBytes, attestation: attestationBytes } = x)
    o = x.next
  } else {
    identityBytes = field()
    attestationBytes = field()
  }
  const n = readVarint(p, o)
  o = n.next
  if (n.value > 8) fail('more than 8 credentials')
  const credentialBytes = Array.from({ length: n.value }, () => field())
  if (o !== p.length) fail('identity payload has trailing bytes')

  // identity.md §3: an array of changes; this decoder handles the one-change (Ed25519) identities of the examples.
  const changes = cbor(identityBytes)
  if (!Array.isArray(changes) || changes.length !== 1) fail('a one-change identity expected')
  const change = map(changes[0]!)
  const data = bytes(change.get(1))
  const d = map(cbor(data))
  if (num(d.get(2)) !== 0) fail('Ed25519 identity key expected')
  const idKey = bytes(d.get(3))
  if (!(num(d.get(4)) <= c.time + 300 && c.time < num(d.get(5)))) fail('identity not valid now')
  verify(idKey, 'hopseal identity change v1', new Uint8Array(0), data, bytes(change.get(2)))
  const idBytes = sha256(data).slice(0, 20)
  const identifier = `I${hex(idBytes)}`

  // §4: the attestation binds the Noise static key; it must be the key Noise authenticated.
  const att = map(cbor(attestationBytes))
  const attData = bytes(att.get(1))
  const a = map(cbor(attData))
  if (num(a.get(1)) !== 0) fail('attestation by an unknown change')
  if (!same(bytes(a.get(2)), c.remoteStatic)) fail('IDENTITY_MISBINDING: the attested key is not the Noise static key')
  if (!(c.time < num(a.get(3)))) fail('attestation expired')
  verify(idKey, 'hopseal purpose-key attestation v1', idBytes, attData, bytes(att.get(2)))

  // §5: credentials about this identity from a trusted issuer.
  const attributes: Record<string, string> = {}
  for (const cb of credentialBytes) {
    const cred = map(cbor(cb))
    const cd = bytes(cred.get(1))
    const f = map(cbor(cd))
    const issuer = `I${hex(bytes(f.get(1)))}`
    const key = c.issuers.get(issuer) ?? fail(`credential from an untrusted issuer ${issuer}`)
    if (!same(bytes(f.get(3)), idBytes)) fail('credential about another subject')
    if (!(num(f.get(5)) - 300 <= c.time && c.time < num(f.get(6)))) fail('credential not valid now')
    verify(key, 'hopseal credential v1', new Uint8Array(0), cd, bytes(cred.get(2)))
    for (const [k, v] of map(f.get(4)!)) attributes[String(k)] = typeof v === 'string' ? v : hex(bytes(v))
  }
  return { identifier, attributes, credentials: credentialBytes.length }
}
