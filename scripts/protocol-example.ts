/**
 * Generates every worked example of docs/protocol.md from the real
 * implementation: real listeners and initiators (`src/channel`) on real nodes
 * (`src/routing`) over the memory transport or the serial transport with
 * COBS + CRC framing and a LoRa link profile, driven by a ManualClock, with
 * fixed keys. Every byte shown is a byte one of those nodes put on its link;
 * the annotations come from the same run (what each handshake message and
 * each sealed message carried), so the document cannot drift from the code:
 * test/docs/protocol-examples.test.ts compares each generated region with
 * the document byte for byte.
 *
 * How the runs are made deterministic, without changing the code under test:
 * - each party gets a crypto provider whose generateKeyPair() hands out the
 *   example's fixed ephemeral keys in order (and fails on any other draw), and
 *   whose randomBytes() fails (nothing on the wire may depend on it);
 * - the serial links are added while Math.random is pinned, so the fragment
 *   msgIds start at fixed values;
 * - time is a ManualClock; identities and attestations use fixed times.
 * Observation hooks wrap HandshakeState.writeMessage/finish and
 * ChannelSession.seal/sealRenewRequest to learn what each message carried;
 * they do not change a byte.
 *
 * Usage:
 *   npx tsx scripts/protocol-example.ts           prints every generated region
 *   npx tsx scripts/protocol-example.ts --write   rewrites the regions in docs/protocol.md
 *   npx tsx scripts/protocol-example.ts --check   exits 1 when docs/protocol.md differs
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { concat, decodeVarint, fromHex, toHex, utf8 } from '../src/bytes/index.ts'
import { cryptoProvider, type AeadAlgorithm, type CryptoProvider, type CurveType, type HashAlgorithm, type KeyPair, type SignatureType } from '../targets/node/crypto/index.ts'
import { CipherState, HandshakeState, parseProtocolName, softwareStaticKey, type NoiseProtocol } from '../src/noise/index.ts'
import { address, decodeRoutingMessage, local, Node, TransportType, type Address } from '../src/routing/index.ts'
import { MemoryNetwork } from '../src/transports/memory.ts'
import { crc16, fragmentCount, loraProfile, SerialTransport, streamFrameLink, type ByteStream } from '../targets/node/transports/serial/index.ts'
import { createSecureChannel, knownPeers, memoryHandshakeCounter, startSecureChannelListener, type SecureChannel, type SecureChannelListener } from '../src/channel/index.ts'
import { identityAuthenticator } from '../src/channel/identity-auth.ts'
import { ChannelSession } from '../src/channel/session.ts'
import { Control, decodeHeader, MessageType } from '../src/channel/wire.ts'
import { carriesHandshakeCounter } from '../src/channel/handshake-counter.ts'
import { ManualClock } from '../src/time/clock.ts'
import { allowList, createAttestation, createIdentity, issueCredential, parsePolicy } from '../src/identity/index.ts'
import { SoftwareVault } from '../vaults/software/index.ts'

const base = cryptoProvider('node')
const HASH_COLUMN = 38
const PARAM_COLUMN = 42

// ───────────────────────────── observation hooks ─────────────────────────────

interface HandshakeRecord {
  protocol: NoiseProtocol
  index: number
  payload: Uint8Array
  out: Uint8Array
}
interface SealRecord {
  type: number
  counter: bigint
  epoch: number
  plaintext: Uint8Array
  out: Uint8Array
}
interface SessionRecord {
  initiator: boolean
  h: Uint8Array
  send: Uint8Array
  recv: Uint8Array
}
interface Recorder {
  handshakes: HandshakeRecord[]
  seals: SealRecord[]
  sessions: SessionRecord[]
}

let recorder: Recorder | undefined

const keyOf = (c: CipherState): Uint8Array => (c as unknown as { k: Uint8Array }).k.slice()

function installHooks(): void {
  const hs = HandshakeState.prototype as unknown as { writeMessage: HandshakeState['writeMessage']; finish: HandshakeState['finish']; hooked?: boolean }
  if (hs.hooked) return
  hs.hooked = true
  const write = hs.writeMessage
  hs.writeMessage = async function (this: HandshakeState, payload?: Uint8Array) {
    const index = (this as unknown as { messageIndex: number }).messageIndex
    const out = await write.call(this, payload)
    recorder?.handshakes.push({ protocol: this.protocol, index, payload: (payload ?? new Uint8Array(0)).slice(), out: out.slice() })
    return out
  }
  const finish = hs.finish
  hs.finish = function (this: HandshakeState) {
    const t = finish.call(this)
    recorder?.sessions.push({ initiator: t.initiator, h: t.handshakeHash.slice(), send: keyOf(t.send), recv: keyOf(t.recv) })
    return t
  }
  const cs = ChannelSession.prototype
  const seal = cs.seal
  cs.seal = function (this: ChannelSession, type: MessageType, plaintext: Uint8Array) {
    const counter = this.messagesSent
    const out = seal.call(this, type, plaintext)
    recorder?.seals.push({ type, counter, epoch: this.epoch, plaintext: plaintext.slice(), out: out.slice() })
    return out
  }
  const renew = cs.sealRenewRequest
  cs.sealRenewRequest = function (this: ChannelSession) {
    const counter = this.messagesSent
    const out = renew.call(this)
    recorder?.seals.push({ type: MessageType.CONTROL, counter, epoch: this.epoch, plaintext: Uint8Array.of(Control.RENEW), out: out.slice() })
    return out
  }
}

/**
 * A crypto provider that hands out the example's fixed ephemeral keys, in
 * order, and refuses any other source of randomness.
 */
class ExampleCrypto implements CryptoProvider {
  readonly name = 'node' as const
  constructor(
    private readonly party: string,
    private readonly draws: { type: CurveType; privateKey: Uint8Array }[],
  ) {}
  get remaining(): number {
    return this.draws.length
  }
  generateKeyPair(type: CurveType): KeyPair {
    const d = this.draws.shift()
    if (!d || d.type !== type) throw new Error(`example: ${this.party} drew an unexpected ${type} key`)
    return base.keyPairFromPrivate(type, d.privateKey.slice())
  }
  randomBytes(n: number): Uint8Array {
    throw new Error(`example: ${this.party} asked for ${n} random bytes`)
  }
  hash(alg: HashAlgorithm, data: Uint8Array): Uint8Array {
    return base.hash(alg, data)
  }
  hashLength(alg: HashAlgorithm): number {
    return base.hashLength(alg)
  }
  hmac(alg: HashAlgorithm, key: Uint8Array, data: Uint8Array): Uint8Array {
    return base.hmac(alg, key, data)
  }
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
    return base.hkdfSha256(ikm, salt, info, length)
  }
  aeadEncrypt(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, prefix?: Uint8Array): Uint8Array {
    return base.aeadEncrypt(alg, key, nonce, aad, plaintext, prefix)
  }
  aeadDecrypt(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    return base.aeadDecrypt(alg, key, nonce, aad, ciphertext)
  }
  keyPairFromPrivate(type: CurveType, privateKey: Uint8Array): KeyPair {
    return base.keyPairFromPrivate(type, privateKey)
  }
  dh(keyPair: KeyPair, peerPublic: Uint8Array): Uint8Array {
    return base.dh(keyPair, peerPublic)
  }
  sign(keyPair: KeyPair, message: Uint8Array): Uint8Array {
    return base.sign(keyPair, message)
  }
  verify(type: SignatureType, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    return base.verify(type, publicKey, message, signature)
  }
  p256Point(publicKey: Uint8Array, compressed: boolean): Uint8Array {
    return base.p256Point(publicKey, compressed)
  }
}

// ───────────────────────────── what an example is ────────────────────────────

/** One message as it crossed a link, with what the run knows about it. */
export interface WireMessage {
  from: string
  to: string
  /** The routing message (the payload of a memory/MQTT hop, or the message the serial frames carried). */
  bytes: Uint8Array
  lost: boolean
  /** UART bytes of this message (serial examples). */
  uart?: Uint8Array[]
}

/** What the live run says each shown message carried (for the tests). */
export interface ShownMessage {
  n: number
  from: string
  to: string
  lost: boolean
  kind: 'handshake' | 'renewal' | 'sealed'
  /** Sealed messages: type, counter, epoch and plaintext as sealed. */
  type?: number
  counter?: bigint
  epoch?: number
  /** Plaintext of a sealed message, or the payload of a handshake message. */
  plaintext: Uint8Array
}

export interface GeneratedExample {
  id: string
  /** The region's text, exactly as it stands between the markers in docs/protocol.md. */
  text: string
  messages: ShownMessage[]
}

const hex = toHex
const fill = (b: number): Uint8Array => new Uint8Array(32).fill(b)
const isText = (b: Uint8Array): boolean => b.length > 0 && b.every((c) => c >= 0x20 && c < 0x7f)
const quoted = (b: Uint8Array): string => (isText(b) ? `"${new TextDecoder().decode(b)}"` : `${b.length} bytes`)

/** Lets memory hops (setImmediate) and promise chains run. */
async function quiesce(rounds = 12): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r))
}

/** Advances the clock by `ms` in steps, letting async work settle between steps. */
async function run(clock: ManualClock, ms: number, stepMs = 100): Promise<void> {
  const end = clock.now() + ms
  await quiesce()
  while (clock.now() < end) {
    await clock.runUntil(Math.min(end, clock.now() + stepMs))
    await quiesce()
  }
}

// ───────────────────────────────── rendering ─────────────────────────────────

function line(hexPart: string, note?: string): string {
  if (!note) return hexPart
  return `${hexPart.padEnd(Math.max(HASH_COLUMN, hexPart.length + 2))}${note}`
}

/** Bytes, 16 per line, the note on the first line. */
function bytesLines(b: Uint8Array, note?: string, prefix = ''): string[] {
  const out: string[] = []
  for (let i = 0; i < b.length; i += 16) out.push(line(prefix + hex(b.subarray(i, i + 16)), i === 0 ? note : undefined))
  return out
}
const plainLines = (b: Uint8Array, note?: string): string[] => bytesLines(b, note, '  = ')

function param(key: string, value: string, note?: string): string {
  const k = key.padEnd(Math.max(PARAM_COLUMN, key.length + 2))
  return note ? `${k}${value}  ${note}` : `${k}${value}`
}

interface Labels {
  /** Per node: hex of a LOCAL address value → what it is. */
  [node: string]: Map<string, string>
}

function addressText(a: Address): string {
  const v = a.value
  const printable = v.length > 1 && isText(v)
  return `${a.type}#${hex(v)}${printable ? ` ('${new TextDecoder().decode(v)}')` : ''}`
}

function describeAddress(a: Address, labels: Map<string, string> | undefined): string {
  const l = a.type === TransportType.LOCAL ? labels?.get(hex(a.value)) : undefined
  return l ? `${addressText(a)}: ${l}` : addressText(a)
}

/** The routing header's lines; returns them and the payload offset. */
function routingLines(b: Uint8Array, sender: Map<string, string> | undefined, receiver: Map<string, string> | undefined): { lines: string[]; offset: number } {
  const m = decodeRoutingMessage(b)
  if (b[0]! >= 0xc0) {
    return { lines: [line(hex(b.subarray(0, 1)), `listener form, 0xc0 | return: onward [${describeAddress(m.onward[0]!, receiver)}] (the default listener), return [${describeAddress(m.returnRoute[0]!, sender)}]`)], offset: 1 }
  }
  if (b[0]! < 0x80) {
    return {
      lines: [line(hex(b.subarray(0, 1)), `short form: onward [${describeAddress(m.onward[0]!, receiver)}]`), line(hex(b.subarray(1, 2)), `return [${describeAddress(m.returnRoute[0]!, sender)}]`)],
      offset: 2,
    }
  }
  const lines: string[] = []
  let o = 0
  const route = (r: readonly Address[], what: 'onward' | 'return', labels: Map<string, string> | undefined): void => {
    lines.push(line(hex(b.subarray(o, o + 1)), what === 'onward' ? `general form, 0x80 | ${r.length}: ${r.length} onward address${r.length === 1 ? '' : 'es'}` : `${r.length} return address${r.length === 1 ? '' : 'es'}`))
    o++
    for (const a of r) {
      const short = a.type === TransportType.LOCAL && a.value.length === 1 && a.value[0]! < 0x80
      const len = short ? 1 : 1 + (a.value.length < 0x80 ? 1 : 2) + a.value.length
      const enc = b.subarray(o, o + len)
      const how = short ? '' : ` (0x80 | type ${a.type}, length ${a.value.length}, value)`
      lines.push(...bytesLines(enc, `${what} ${describeAddress(a, labels)}${how}`))
      o += len
    }
  }
  route(m.onward, 'onward', receiver)
  route(m.returnRoute, 'return', sender)
  return { lines, offset: o }
}

const TYPE_NAMES = ['DATA', 'ROUTED', 'CONTROL', 'renewal flight']
const CONTROL_NAMES: Record<number, string> = { [Control.CLOSE]: 'CLOSE', [Control.KEEPALIVE]: 'KEEPALIVE', [Control.ACK]: 'ACK', [Control.RENEW]: 'RENEW' }

function bits(v: number, n: number): string {
  return v.toString(2).padStart(n, '0')
}

/** Lines describing the plaintext of a sealed message. */
function plaintextLines(type: number, p: Uint8Array, reliable: boolean, labels: { sender?: Map<string, string>; receiver?: Map<string, string> }): string[] {
  if (type === MessageType.DATA) {
    if (!reliable) return p.length ? plainLines(p, `payload ${quoted(p)}`) : []
    const v = decodeVarint(p, 0)
    const payload = p.subarray(v.length)
    return [...plainLines(p.subarray(0, v.length), `reliable mode: sequence number ${v.value} (varint)`), ...(payload.length ? plainLines(payload, `payload ${quoted(payload)}`) : [])]
  }
  if (type === MessageType.ROUTED) {
    const inner = decodeRoutingMessage(p)
    const { offset } = routingLines(p, undefined, undefined)
    const head = p.subarray(0, offset)
    const on = inner.onward.map((a) => describeAddress(a, labels.receiver)).join(', ')
    const ret = inner.returnRoute.map((a) => describeAddress(a, labels.sender)).join(', ')
    return [...plainLines(head, `inner routing message: onward [${on}], return [${ret}]`), ...plainLines(inner.payload, `inner payload ${quoted(inner.payload)}`)]
  }
  const sub = p[0]!
  const out = plainLines(p.subarray(0, 1), `${CONTROL_NAMES[sub] ?? 'unknown'} (subtype ${sub})`)
  const rest = p.subarray(1)
  if (sub === Control.CLOSE && rest.length) out.push(...plainLines(rest, `reason ${rest[0]}`))
  if (sub === Control.KEEPALIVE) {
    const v = decodeVarint(rest, 0)
    out.push(...plainLines(rest, `report ${v.value} (varint): ${v.value === 0 ? 'nothing accepted in this session yet' : `the highest counter accepted is ${v.value - 1}`}`))
  }
  if (sub === Control.ACK) {
    const v = decodeVarint(rest, 0)
    out.push(...plainLines(rest.subarray(0, v.length), `next expected sequence number ${v.value} (varint)`))
    const sack = rest.subarray(v.length)
    if (sack.length) {
      const held: number[] = []
      for (let i = 0; i < sack.length * 8; i++) if (sack[i >> 3]! & (1 << (i & 7))) held.push(v.value + 1 + i)
      out.push(...plainLines(sack, `sack ${[...sack].map((x) => bits(x, 8)).join(' ')}: sequence number${held.length === 1 ? '' : 's'} ${held.join(', ')} held`))
    }
  }
  return out
}

function sealedLines(payload: Uint8Array, rec: SealRecord, reliable: boolean, labels: { sender?: Map<string, string>; receiver?: Map<string, string> }): string[] {
  const h = decodeHeader(payload)
  const long = h.bits === 20
  const top = payload[0]! & 0x0f
  const lines = [
    line(hex(payload.subarray(0, 1)), `header ${bits(h.type, 2)} ${h.phase} ${long ? 1 : 0} ${bits(top, 4)}: ${TYPE_NAMES[h.type]}, key phase ${h.phase}, ${long ? 'long' : 'short'} form, counter bits ${long ? '16–19' : '8–11'} = ${top}`),
    line(hex(payload.subarray(1, h.length)), `counter bits ${long ? '0–15' : '0–7'}: counter ${rec.counter}${rec.epoch ? ` (session ${rec.epoch})` : ''}`),
  ]
  const body = payload.subarray(h.length)
  const ct = body.subarray(0, body.length - 16)
  const what = h.type === MessageType.CONTROL ? `${CONTROL_NAMES[rec.plaintext[0]!] ?? 'CONTROL'}` : TYPE_NAMES[h.type]!
  if (ct.length) lines.push(...bytesLines(ct, `ciphertext (${what}, ${ct.length} byte${ct.length === 1 ? '' : 's'})`))
  lines.push(line(hex(body.subarray(body.length - 16)), `tag (nonce ${rec.counter}, ad = ${hex(payload.subarray(0, h.length))})`))
  lines.push(...plaintextLines(h.type, rec.plaintext, reliable, labels))
  return lines
}

function sealedSummary(rec: SealRecord, reliable: boolean): string {
  const p = rec.plaintext
  if (rec.type === MessageType.DATA) {
    if (!reliable) return `DATA ${quoted(p)}`
    const v = decodeVarint(p, 0)
    return `DATA, sequence number ${v.value}, ${quoted(p.subarray(v.length))}`
  }
  if (rec.type === MessageType.ROUTED) return `ROUTED ${quoted(decodeRoutingMessage(p).payload)}`
  const name = CONTROL_NAMES[p[0]!] ?? 'CONTROL'
  if (p[0] === Control.KEEPALIVE) return `KEEPALIVE, report ${decodeVarint(p, 1).value}`
  if (p[0] === Control.ACK) {
    const v = decodeVarint(p, 1)
    const sack = p.subarray(1 + v.length)
    return `ACK, next ${v.value}${sack.length ? `, sack ${hex(sack)}` : ''}`
  }
  if (p[0] === Control.CLOSE) return p.length > 1 ? `CLOSE, reason ${p[1]}` : 'CLOSE'
  return name
}

/** Handshake message lines: the tokens of the pattern, then the payload. */
function handshakeLines(noise: Uint8Array, rec: HandshakeRecord, who: string, renewal: boolean, payloadLines: (p: Uint8Array) => string[]): string[] {
  const p = rec.protocol
  const pattern = p.pattern.messages
  let keyed = pattern.slice(0, rec.index).some((m) => m.some((t) => t !== 'e' && t !== 's'))
  const lines: string[] = []
  let o = 0
  const mixed: string[] = []
  for (const t of pattern[rec.index]!) {
    if (t === 'e') {
      const e = noise.subarray(o, o + p.publicKeyLength)
      let note = `e: ${who}'s ephemeral public key (${p.publicKeyLength} bytes)`
      if (renewal && p.keyType === 'x25519') note += `; first byte ≥ 0xc0 marks a renewal flight`
      if (renewal && p.keyType === 'p256') note += `; prefix ${hex(e.subarray(0, 1))} = ${hex(Uint8Array.of(e[0]! ^ 0xc0))} xor c0 marks a renewal flight`
      lines.push(...bytesLines(e, note))
      o += p.publicKeyLength
    } else if (t === 's') {
      const n = p.publicKeyLength + (keyed ? 16 : 0)
      lines.push(...bytesLines(noise.subarray(o, o + n), keyed ? `s: ${who}'s static public key, encrypted (${p.publicKeyLength} + 16-byte tag)` : `s: ${who}'s static public key`))
      o += n
    } else {
      keyed = true
      mixed.push(t)
    }
  }
  const rest = noise.subarray(o)
  const mix = mixed.length ? ` (${mixed.join(', ')} mixed in)` : ''
  if (!keyed) {
    if (rest.length) lines.push(...bytesLines(rest, 'payload, in clear'))
  } else if (rest.length === 16) {
    lines.push(line(hex(rest), `tag: AEAD of the empty payload${mix}`))
  } else {
    lines.push(...bytesLines(rest.subarray(0, rest.length - 16), `payload, encrypted (${rest.length - 16} bytes)${mix}`))
    lines.push(line(hex(rest.subarray(rest.length - 16)), 'tag of the payload'))
  }
  let payload = rec.payload
  if (rec.index === 0 && !renewal && carriesHandshakeCounter(p)) {
    const c = decodeVarint(payload)
    lines.push(line(`  = ${hex(payload.subarray(0, c.length))}`, `handshake counter ${c.value} (varint): replay protection`))
    payload = payload.subarray(c.length)
  }
  if (payload.length) lines.push(...payloadLines(payload))
  return lines
}

/** The XX identity payload, field by field (the compact form, identity.md §4.1, or the full one). */
function identityPayloadLines(p: Uint8Array): string[] {
  const out: string[] = []
  let o = 0
  const field = (what: string): void => {
    const v = decodeVarint(p, o)
    out.push(...plainLines(p.subarray(o, o + v.length), `varint ${v.value}: length of the ${what}`))
    o += v.length
    out.push(...plainLines(p.subarray(o, o + v.value), `${what} (CBOR, identity.md)`))
    o += v.value
  }
  const take = (n: number, what: string): void => {
    out.push(...plainLines(p.subarray(o, o + n), what))
    o += n
  }
  const varint = (what: (v: number) => string): void => {
    const v = decodeVarint(p, o)
    take(v.length, `varint ${v.value}: ${what(v.value)}`)
  }
  if (p[0] === 0) {
    take(1, 'compact form (identity.md §4.1)')
    const changes = (p[o]! >> 4) + 1
    take(1, `${changes} change${changes === 1 ? '' : 's'}; the attestation is signed by change ${p[o]! & 15}`)
    for (let i = 0; i < changes; i++) {
      const p256 = (p[o]! & 1) !== 0
      take(1, `change ${i}: flags (${p256 ? 'P-256' : 'Ed25519'} key${p[o]! & 2 ? ', revokeAll' : ''})`)
      take(p256 ? 33 : 32, `change ${i}: public key`)
      varint(() => `change ${i}: created (s)`)
      varint((v) => `change ${i}: expires − created (${(v / 86400).toFixed(0)} days)`)
      take(64, `change ${i}: signature`)
      if (i > 0) take(64, `change ${i}: the previous key's signature`)
    }
    varint((v) => `attestation: its signing key's expiry − its expiry (${(v / 86400).toFixed(0)} days)`)
    take(2, 'attestation: last 2 bytes of the attested static key (the key itself: the Noise static key)')
    take(64, 'attestation: signature')
  } else {
    field('identity (change history)')
    field('purpose-key attestation')
  }
  const n = decodeVarint(p, o)
  out.push(...plainLines(p.subarray(o, o + n.length), `varint ${n.value}: number of credentials`))
  o += n.length
  for (let i = 0; i < n.value; i++) field(`credential ${i + 1}`)
  return out
}

// ──────────────────────────── one example's run ──────────────────────────────

interface Party {
  name: string
  node: Node
  crypto: ExampleCrypto
}

interface Shown {
  msg: WireMessage
  what?: string
}

/** Collects what a run put on the wire and renders it. */
class Transcript {
  readonly rec: Recorder = { handshakes: [], seals: [], sessions: [] }
  readonly wire: WireMessage[] = []
  readonly labels: Labels = {}
  reliable = false
  /** Handshake records belonging to the first handshake (the pattern's message count). */
  firstHandshakeMessages = 2
  private notes = new Map<WireMessage, string>()

  start(): void {
    installHooks()
    recorder = this.rec
  }

  stop(): void {
    recorder = undefined
  }

  label(node: string, a: Address, what: string): void {
    ;(this.labels[node] ??= new Map()).set(hex(a.value), what)
  }

  /** A note shown after a message's header line (lines of text, indented). */
  note(m: WireMessage, text: string): void {
    this.notes.set(m, text)
  }

  private handshakeRecord(payload: Uint8Array): { rec: HandshakeRecord; order: number } | undefined {
    for (const [order, rec] of this.rec.handshakes.entries()) {
      if (rec.out.length === payload.length && hex(rec.out.subarray(1)) === hex(payload.subarray(1))) return { rec, order }
    }
    return undefined
  }

  private sealRecord(payload: Uint8Array): SealRecord | undefined {
    return this.rec.seals.find((s) => s.out.length === payload.length && hex(s.out) === hex(payload))
  }

  /** Renders the messages (numbered from 1) and what the tests need to know about them. */
  render(shown: Shown[], payloadLines: (p: Uint8Array) => string[] = identityPayloadLines): { lines: string[]; messages: ShownMessage[]; summaries: string[] } {
    const lines: string[] = []
    const messages: ShownMessage[] = []
    const summaries: string[] = []
    const seen: string[] = []
    const sequences = new Set<string>()
    for (const [i, { msg, what }] of shown.entries()) {
      const n = i + 1
      const m = decodeRoutingMessage(msg.bytes)
      const sender = this.labels[msg.from]
      const receiver = this.labels[msg.to]
      const r = routingLines(msg.bytes, sender, receiver)
      const body: string[] = [...r.lines]
      let summary: string
      const hs = this.handshakeRecord(m.payload)
      const again = seen.includes(hex(m.payload))
      seen.push(hex(m.payload))
      if (hs) {
        const renewal = hs.order >= this.firstHandshakeMessages
        const p = hs.rec.protocol
        const who = msg.from
        const flight = hs.rec.index + 1
        summary = renewal ? `renewal flight ${flight} (${p.pattern.name} message ${flight})` : `flight ${flight} (${p.pattern.name} message ${flight})`
        if (again) summary += ', again'
        if (m.onward.length > 1) summary += ', through the listener'
        body.push(...handshakeLines(m.payload, hs.rec, who, renewal, payloadLines))
        messages.push({ n, from: msg.from, to: msg.to, lost: msg.lost, kind: renewal ? 'renewal' : 'handshake', plaintext: hs.rec.payload })
      } else {
        const s = this.sealRecord(m.payload)
        if (!s) throw new Error(`example: message ${n} (${msg.from} → ${msg.to}) is neither a recorded handshake message nor a recorded sealed message`)
        summary = sealedSummary(s, this.reliable) + (again ? ', again' : '')
        if (this.reliable && s.type === MessageType.DATA) {
          const seq = `${msg.from}:${decodeVarint(s.plaintext, 0).value}`
          if (sequences.has(seq)) summary += ', retransmitted with a fresh counter'
          sequences.add(seq)
        }
        body.push(...sealedLines(m.payload, s, this.reliable, { ...(sender ? { sender } : {}), ...(receiver ? { receiver } : {}) }))
        messages.push({ n, from: msg.from, to: msg.to, lost: msg.lost, kind: 'sealed', type: s.type, counter: s.counter, epoch: s.epoch, plaintext: s.plaintext })
      }
      summaries.push(what ?? summary)
      lines.push(`# ${n}. ${msg.from} → ${msg.to}, ${msg.bytes.length} bytes${msg.lost ? ', lost' : ''}: ${what ?? summary}`)
      const note = this.notes.get(msg)
      if (note) lines.push(...note.split('\n').map((l) => `  ${l}`))
      lines.push(...body, '')
    }
    if (lines.at(-1) === '') lines.pop()
    return { lines, messages, summaries }
  }

  /** The UART bytes of the shown messages (serial examples). */
  renderUart(shown: Shown[], mtu: number, summaries: string[]): string[] {
    const lines: string[] = []
    for (const [i, { msg }] of shown.entries()) {
      const frames = msg.uart ?? []
      const total = frames.reduce((a, f) => a + f.length, 0)
      const count = fragmentCount(msg.bytes.length, mtu)
      lines.push(`# ${i + 1}. ${msg.from} → ${msg.to}, UART, ${total} bytes: ${summaries[i]} in ${count === 1 ? 'one frame' : `${count} fragments`}`)
      let offset = 0
      for (const [k, w] of frames.entries()) {
        let wire = w
        if (wire[0] === 0) {
          lines.push(line('00', 'a lone delimiter: the first frame written on a link is preceded by one'))
          wire = wire.subarray(1)
        }
        const cobs = wire.subarray(0, wire.length - 1)
        const frame = cobsDecodeForNote(cobs)
        const body = frame.subarray(0, frame.length - 2)
        const crc = crc16(body)
        let what2: string
        if (body[0] === 0) what2 = `whole message: 00 ‖ ${body.length - 1} message bytes`
        else {
          const part = body.length - 3
          what2 = `fragment ${body[1]! + 1} of ${body[2]! + 1}: ${hex(body.subarray(0, 3))} (msgId ${body[0]! & 0x7f}, index ${body[1]}, last ${body[2]}) ‖ message bytes ${offset}–${offset + part - 1}`
          offset += part
        }
        lines.push(...bytesLines(cobs, `frame ${k + 1} = COBS(${what2} ‖ CRC ${crc.toString(16).padStart(4, '0')})`))
        lines.push(line('00', 'delimiter'))
      }
      lines.push('')
    }
    if (lines.at(-1) === '') lines.pop()
    return lines
  }
}

/** COBS decoding for the annotation only (the bytes themselves come from the link). */
function cobsDecodeForNote(src: Uint8Array): Uint8Array {
  const out: number[] = []
  let i = 0
  while (i < src.length) {
    const code = src[i++]!
    for (let k = 1; k < code; k++) out.push(src[i++]!)
    if (code !== 0xff && i < src.length) out.push(0)
  }
  return Uint8Array.from(out)
}

// ─────────────────────────── rigs (network set-ups) ──────────────────────────

interface Keys {
  type: CurveType
  static: Uint8Array
  /** Ephemeral private keys in the order this party draws them (first handshake, then renewals). */
  ephemerals: Uint8Array[]
}

function party(name: string, k: Keys): Party & { keyPair: KeyPair } {
  return { name, node: new Node({ name }), crypto: new ExampleCrypto(name, k.ephemerals.map((privateKey) => ({ type: k.type, privateKey }))), keyPair: base.keyPairFromPrivate(k.type, k.static.slice()) }
}

function keyParams(p: string, k: Keys, renewalEpochs = 0): string[] {
  const pub = (x: Uint8Array): Uint8Array => base.keyPairFromPrivate(k.type, x.slice()).publicKey
  const out = [param(`${p}.static.private`, hex(k.static)), param(`${p}.static.public`, hex(pub(k.static)))]
  const first = k.ephemerals[0]!
  out.push(param(`${p}.ephemeral.0.private`, hex(first)), param(`${p}.ephemeral.0.public`, hex(pub(first))))
  for (let e = 1; e <= renewalEpochs; e++) {
    const x = k.ephemerals[e]!
    out.push(param(`${p}.ephemeral.${e}.private`, hex(x)), param(`${p}.ephemeral.${e}.public`, hex(pub(x)), `renewal to session ${e}`))
  }
  return out
}

function sessionParams(t: Transcript, i: string, r: string, protocol: NoiseProtocol): string[] {
  const out: string[] = []
  // Sessions are recorded by both ends; keep the initiator's view, one per epoch.
  const mine = t.rec.sessions.filter((s) => s.initiator)
  for (const [epoch, s] of mine.entries()) {
    if (epoch > 0) out.push(param(`session.${epoch}.prologue`, hex(renewalPrologueOf(mine[0]!.h, epoch)), `"hopseal-renew-v1" ‖ session.0.handshake-hash ‖ u32be(${epoch})`))
    if (epoch > 0) out.push(param(`session.${epoch}.suite`, `Noise_KK_${protocol.dh}_${protocol.cipher}_${protocol.hash}`))
    out.push(param(`session.${epoch}.handshake-hash`, hex(s.h)))
    out.push(param(`session.${epoch}.key.${i}-to-${r}`, hex(s.send)))
    out.push(param(`session.${epoch}.key.${r}-to-${i}`, hex(s.recv)))
    if (epoch === 0) out.push(param('binding-tag', hex(s.h.subarray(0, 8)), 'session.0.handshake-hash bytes 0–7'))
  }
  return out
}

function renewalPrologueOf(h0: Uint8Array, epoch: number): Uint8Array {
  const e = new Uint8Array(4)
  new DataView(e.buffer).setUint32(0, epoch)
  return concat(utf8('hopseal-renew-v1'), h0, e)
}

interface MemoryRig {
  clock: ManualClock
  net: MemoryNetwork
  t: Transcript
  i: Party
  r: Party
  /** Drops matching messages (the caller resets it). */
  drop: ((m: WireMessage) => boolean) | undefined
  delivered: { to: string; payload: Uint8Array }[]
  listener: SecureChannelListener
  open(): Promise<{ ich: SecureChannel; rch: SecureChannel }>
}

interface RigOptions {
  protocol: string
  medium: 'ip' | 'lora' | 'ble'
  names: [string, string]
  listener: string
  ik: Keys
  rk: Keys
  reliable?: boolean
  keepaliveMs?: number
  reply?: (payload: Uint8Array) => Uint8Array | undefined
}

function memoryRig(o: RigOptions): MemoryRig {
  const t = new Transcript()
  t.start()
  t.reliable = o.reliable ?? false
  const clock = new ManualClock()
  const net = new MemoryNetwork()
  const i = party(o.names[0], o.ik)
  const r = party(o.names[1], o.rk)
  const rig: MemoryRig = {
    clock, net, t, i, r, drop: undefined, delivered: [],
    listener: undefined as unknown as SecureChannelListener,
    async open() {
      const route = [address(TransportType.MEMORY, r.name), local(o.listener)]
      const ich = await createSecureChannel(i.node, route, {
        ...common, handshakeCounter: memoryHandshakeCounter(0), s: softwareStaticKey(base, i.keyPair), rs: r.keyPair.publicKey, crypto: i.crypto,
        auth: knownPeers([{ staticKey: r.keyPair.publicKey }]),
        deliverTo: (p) => void rig.delivered.push({ to: i.name, payload: p.slice() }),
      })
      await quiesce()
      const rch = [...rig.listener.channels][0]!
      labelChannels(t, i.name, ich, r.name, rch)
      return { ich, rch }
    },
  }
  net.tap((from, to, bytes) => t.wire.push({ from, to, bytes, lost: false }))
  net.fault = () => {
    const m = t.wire.at(-1)!
    if (rig.drop?.(m)) {
      m.lost = true
      return { drop: true }
    }
    return undefined
  }
  i.node.registerTransport(net.endpoint(i.name))
  r.node.registerTransport(net.endpoint(r.name))
  const common = { protocol: o.protocol, clock, medium: o.medium, ...(o.reliable ? { reliable: true } : {}), ...(o.keepaliveMs !== undefined ? { keepaliveMs: o.keepaliveMs } : {}) }
  rig.listener = startSecureChannelListener(r.node, o.listener, {
    ...common, s: softwareStaticKey(base, r.keyPair), crypto: r.crypto,
    auth: knownPeers([{ staticKey: i.keyPair.publicKey }]), initiatorStatics: [i.keyPair.publicKey],
    deliverTo: (p, _peer, ch) => {
      rig.delivered.push({ to: r.name, payload: p.slice() })
      const answer = o.reply?.(p)
      if (answer) void ch.send(answer)
    },
  })
  t.label(r.name, rig.listener.address, `the ${r.name}'s listener`)
  return rig
}

function labelChannels(t: Transcript, i: string, ich: SecureChannel, r: string, rch: SecureChannel): void {
  t.label(i, ich.dec, `the ${i} channel's dec`)
  t.label(i, ich.enc, `the ${i} channel's enc`)
  t.label(r, rch.dec, `the ${r} channel's dec`)
  t.label(r, rch.enc, `the ${r} channel's enc`)
}

function header(o: { protocol: string; prologue?: Uint8Array; medium: string; reliable?: boolean; link: string; i: string; r: string }): string[] {
  return [
    param('suite', o.protocol),
    param('prologue', o.prologue?.length ? hex(o.prologue) : '(empty)'),
    param('initiator', o.i),
    param('responder', o.r),
    param('medium', o.medium),
    param('reliable', o.reliable ? 'yes' : 'no'),
    param('link', o.link),
  ]
}

function addressParams(t: Transcript, parties: string[]): string[] {
  const out: string[] = []
  for (const p of parties) {
    for (const [v, what] of t.labels[p] ?? []) {
      const key = what.endsWith("'s listener") ? `${p}.listener` : what.endsWith("channel's dec") ? `${p}.dec` : what.endsWith("channel's enc") ? `${p}.enc` : undefined
      if (key) out.push(param(key, v, `LOCAL address${fromHex(v).length > 1 && isText(fromHex(v)) ? ` '${new TextDecoder().decode(fromHex(v))}'` : ''}`))
    }
  }
  return out
}

function region(params: string[], messages: string[], extra?: { title: string; lines: string[] }): string {
  const blocks = ['```text', ...params, '```', '', '```text', ...messages, '```']
  if (extra) blocks.push('', extra.title, '', '```text', ...extra.lines, '```')
  return blocks.join('\n')
}

const shownAll = (t: Transcript): Shown[] => t.wire.map((msg) => ({ msg }))

// ──────────────────────────────── the examples ───────────────────────────────

const KK25519 = 'Noise_KK_25519_AESGCM_SHA256'

/** 1. KK 25519: handshake, data both ways with a reply, ROUTED, CLOSE. */
async function kk25519(): Promise<GeneratedExample> {
  const ik: Keys = { type: 'x25519', static: fill(0x01), ephemerals: [fill(0x03)] }
  const rk: Keys = { type: 'x25519', static: fill(0x02), ephemerals: [fill(0x04)] }
  const rig = memoryRig({ protocol: KK25519, medium: 'lora', names: ['device', 'gateway'], listener: 'L', ik, rk, reply: (p) => (new TextDecoder().decode(p) === 'bpm=72' ? utf8('ok') : undefined) })
  const { t, i, r } = rig
  r.node.startWorker('log', () => undefined)
  t.label(r.name, local('log'), "a worker on the gateway's node")
  t.label(i.name, local('app'), "a worker on the device's node")
  const { ich } = await rig.open()
  await ich.send(utf8('bpm=72'))
  await quiesce()
  await ich.send(utf8('bpm=73'))
  await quiesce()
  await i.node.send([ich.enc, local('log')], utf8('boot 2'), [local('app')])
  await quiesce()
  await ich.close()
  await quiesce()
  t.stop()
  const { lines, messages } = t.render(shownAll(t))
  const params = [
    ...header({ protocol: KK25519, medium: 'lora', link: 'one hop (memory transport: the routing message is the whole hop payload)', i: i.name, r: r.name }),
    ...keyParams(i.name, ik),
    ...keyParams(r.name, rk),
    ...addressParams(t, [i.name, r.name]),
    ...sessionParams(t, i.name, r.name, parseProtocolName(KK25519)),
  ]
  return { id: 'kk-25519', text: region(params, lines), messages }
}

/** A byte stream pair standing in for a UART: writes are recorded and delivered to the other end. */
class Uart implements ByteStream {
  peer: Uart | undefined
  private readonly handlers: ((b: Buffer) => void)[] = []
  readonly writes: Uint8Array[] = []
  write(b: Uint8Array, cb?: (e?: Error | null) => void): boolean {
    const copy = Uint8Array.from(b)
    this.writes.push(copy)
    setImmediate(() => {
      for (const h of this.peer?.handlers ?? []) h(Buffer.from(copy))
    })
    cb?.()
    return true
  }
  on(ev: string, f: (b: Buffer) => void): this {
    if (ev === 'data') this.handlers.push(f)
    return this
  }
}

/** 2. KK P-256 on a LoRa DR0 link with serial framing, and a renewal after a day asleep. */
async function kkP256Lora(): Promise<GeneratedExample> {
  const protocol = 'Noise_KK_P256_AESGCM_SHA256'
  const ik: Keys = { type: 'p256', static: fill(0x01), ephemerals: [fill(0x03), fill(0x05)] }
  const rk: Keys = { type: 'p256', static: fill(0x02), ephemerals: [fill(0x04), fill(0x06)] }
  const t = new Transcript()
  t.start()
  const clock = new ManualClock()
  const i = party('device', ik)
  const r = party('gateway', rk)
  const profile = loraProfile({ dataRate: 0 })
  const ua = new Uart()
  const ub = new Uart()
  ua.peer = ub
  ub.peer = ua
  const ti = new SerialTransport({ clock })
  const tr = new SerialTransport({ clock })
  const random = Math.random
  try {
    // Fixed fragment msgIds (the transport starts each link's at a random value).
    Math.random = () => 0x21 / 128
    ti.addLink('gw', streamFrameLink(ua, { mtu: profile.mtu }), profile)
    Math.random = () => 0x5e / 128
    tr.addLink('device', streamFrameLink(ub, { mtu: profile.mtu }), profile)
  } finally {
    Math.random = random
  }
  const sent: { from: string; to: string; bytes: Uint8Array; uartFrom: Uart; frames: number }[] = []
  const tap = (tr_: SerialTransport, from: string, to: string, uart: Uart): void => {
    const send = tr_.send.bind(tr_)
    tr_.send = (a, bytes) => {
      sent.push({ from, to, bytes: bytes.slice(), uartFrom: uart, frames: fragmentCount(bytes.length, profile.mtu) })
      return send(a, bytes)
    }
  }
  tap(ti, 'device', 'gateway', ua)
  tap(tr, 'gateway', 'device', ub)
  i.node.registerTransport(ti)
  r.node.registerTransport(tr)
  const retransmit = { initialMs: 10_000, maxMs: 300_000, attempts: 10 }
  const common = { protocol, clock, medium: 'lora' as const, retransmit }
  const delivered: Uint8Array[] = []
  const listener = startSecureChannelListener(r.node, 'L', {
    ...common, s: softwareStaticKey(base, r.keyPair), crypto: r.crypto,
    auth: knownPeers([{ staticKey: i.keyPair.publicKey }]), initiatorStatics: [i.keyPair.publicKey],
    deliverTo: (p) => void delivered.push(p.slice()),
  })
  t.label(r.name, listener.address, "the gateway's listener")
  const chP = createSecureChannel(i.node, [address(TransportType.SERIAL, 'gw'), local('L')], {
    ...common, handshakeCounter: memoryHandshakeCounter(0), s: softwareStaticKey(base, i.keyPair), rs: r.keyPair.publicKey, crypto: i.crypto, auth: knownPeers([{ staticKey: r.keyPair.publicKey }]),
  })
  await run(clock, 30_000)
  const ich = await chP
  labelChannels(t, i.name, ich, r.name, [...listener.channels][0]!)
  const sending = ich.send(utf8('bpm=72'))
  await run(clock, 10_000)
  await sending
  // A day and an hour asleep: past the session's hard limit (24 h on lora), the next reading renews first.
  await clock.runUntil(clock.now() + 25 * 3_600_000)
  const later = ich.send(utf8('bpm=75'))
  await run(clock, 60_000)
  await later
  t.stop()
  // Split the UART writes of each side into the messages they carried (in order, per side).
  const cursor = new Map<Uart, number>()
  for (const s of sent) {
    const at = cursor.get(s.uartFrom) ?? 0
    const frames = s.uartFrom.writes.slice(at, at + s.frames)
    cursor.set(s.uartFrom, at + s.frames)
    t.wire.push({ from: s.from, to: s.to, bytes: s.bytes, lost: false, uart: frames })
  }
  for (const u of [ua, ub]) if ((cursor.get(u) ?? 0) !== u.writes.length) throw new Error('example p256: UART writes do not match the messages sent')
  if (delivered.map((d) => new TextDecoder().decode(d)).join(',') !== 'bpm=72,bpm=75') throw new Error('example p256: readings not delivered')
  const shown = shownAll(t)
  const { lines, messages, summaries } = t.render(shown)
  const params = [
    ...header({ protocol, medium: 'lora', link: `serial, LoRa EU868 DR0 (SF12, 125 kHz), MTU ${profile.mtu}; COBS + CRC-16 framing (transports.md)`, i: i.name, r: r.name }),
    ...keyParams(i.name, ik, 1),
    ...keyParams(r.name, rk, 1),
    ...addressParams(t, [i.name, r.name]),
    ...sessionParams(t, i.name, r.name, parseProtocolName('Noise_KK_P256_AESGCM_SHA256')),
  ]
  return { id: 'kk-p256-lora', text: region(params, lines, { title: 'The same messages on the UART (what the serial port carries):', lines: t.renderUart(shown, profile.mtu, summaries) }), messages }
}

/** 3. XX first contact with identity payloads (ChaChaPoly). */
async function xxFirstContact(): Promise<GeneratedExample> {
  const protocol = 'Noise_XX_25519_ChaChaPoly_SHA256'
  const NOW = 1_767_225_600 // 2026-01-01T00:00:00Z
  const DAY = 86_400
  const ik: Keys = { type: 'x25519', static: fill(0x07), ephemerals: [fill(0x09)] }
  const rk: Keys = { type: 'x25519', static: fill(0x08), ephemerals: [fill(0x0b)] }
  const vault = await SoftwareVault.open()
  const idKey = async (b: number) => vault.importKey('ed25519', new Uint8Array(32).fill(b))
  const [devKey, phoneKey, issuerKey] = [await idKey(0x21), await idKey(0x22), await idKey(0x23)]
  const made = { now: NOW - 30 * DAY, expires: NOW + 365 * DAY }
  const devId = await createIdentity(vault, devKey, made)
  const phoneId = await createIdentity(vault, phoneKey, made)
  const issuerId = await createIdentity(vault, issuerKey, made)
  const staticPub = (k: Keys): Uint8Array => base.keyPairFromPrivate(k.type, k.static.slice()).publicKey
  const att = { now: NOW - 30 * DAY, expires: NOW + 30 * DAY }
  const devAtt = await createAttestation(vault, devKey, devId, staticPub(ik), att)
  const phoneAtt = await createAttestation(vault, phoneKey, phoneId, staticPub(rk), att)
  const cred = await issueCredential(vault, issuerKey, issuerId, { subject: devId.identifier, attributes: { role: 'monitor' }, now: NOW - 30 * DAY, expires: NOW + 60 * DAY })
  await vault.close()

  const t = new Transcript()
  t.start()
  t.firstHandshakeMessages = 3
  const clock = new ManualClock()
  const net = new MemoryNetwork()
  const i = party('device', ik)
  const r = party('phone', rk)
  net.tap((from, to, bytes) => t.wire.push({ from, to, bytes, lost: false }))
  i.node.registerTransport(net.endpoint(i.name))
  r.node.registerTransport(net.endpoint(r.name))
  const delivered: string[] = []
  const listener = startSecureChannelListener(r.node, 'api', {
    protocol, clock, medium: 'ip', s: softwareStaticKey(base, r.keyPair), crypto: r.crypto,
    auth: identityAuthenticator({ identity: phoneId, attestation: phoneAtt, anchors: [issuerId], policy: parsePolicy('subject.role = "monitor"'), now: () => NOW, crypto: base }),
    deliverTo: (p, _peer, ch) => {
      delivered.push(new TextDecoder().decode(p))
      void ch.send(utf8('ok'))
    },
  })
  t.label(r.name, listener.address, "the phone's listener")
  const ich = await createSecureChannel(i.node, [address(TransportType.MEMORY, r.name), local('api')], {
    protocol, clock, medium: 'ip', s: softwareStaticKey(base, i.keyPair), crypto: i.crypto,
    auth: identityAuthenticator({ identity: devId, attestation: devAtt, credentials: [cred], policy: allowList([phoneId.identifier]), now: () => NOW, crypto: base }),
    deliverTo: (p) => void delivered.push(new TextDecoder().decode(p)),
  })
  await quiesce()
  labelChannels(t, i.name, ich, r.name, [...listener.channels][0]!)
  await ich.send(utf8('bpm=72'))
  await quiesce()
  t.stop()
  if (delivered.join(',') !== 'bpm=72,ok') throw new Error(`example xx: delivered ${delivered.join(',')}`)
  if (ich.peer.identifier !== phoneId.identifier) throw new Error('example xx: the device did not learn the phone identity')
  const { lines, messages } = t.render(shownAll(t))
  const ed = (b: number): string => hex(base.keyPairFromPrivate('ed25519', new Uint8Array(32).fill(b)).publicKey)
  const params = [
    ...header({ protocol, medium: 'ip', link: 'one hop (memory transport; over MQTT the routing message is the publish payload)', i: i.name, r: r.name }),
    ...keyParams(i.name, ik),
    ...keyParams(r.name, rk),
    param('time', String(NOW), '2026-01-01T00:00:00Z, seconds: when both ends verify'),
    param('device.identity-key.private', hex(new Uint8Array(32).fill(0x21)), 'Ed25519 seed'),
    param('device.identity-key.public', ed(0x21)),
    param('device.identifier', devId.identifier),
    param('phone.identity-key.private', hex(new Uint8Array(32).fill(0x22)), 'Ed25519 seed'),
    param('phone.identity-key.public', ed(0x22)),
    param('phone.identifier', phoneId.identifier),
    param('issuer.identity-key.private', hex(new Uint8Array(32).fill(0x23)), 'Ed25519 seed'),
    param('issuer.identity-key.public', ed(0x23)),
    param('issuer.identifier', issuerId.identifier),
    param('phone.policy', 'subject.role = "monitor"', 'credentials from issuer'),
    param('device.policy', `allow ${phoneId.identifier}`),
    ...addressParams(t, [i.name, r.name]),
    ...sessionParams(t, i.name, r.name, parseProtocolName('Noise_KK_25519_ChaChaPoly_SHA256')),
  ]
  return { id: 'xx-first-contact', text: region(params, lines), messages }
}

/** 4. A key phase: the lora medium ratchets each sending key after 2 h. */
async function keyPhase(): Promise<GeneratedExample> {
  const ik: Keys = { type: 'x25519', static: fill(0x01), ephemerals: [fill(0x0c)] }
  const rk: Keys = { type: 'x25519', static: fill(0x02), ephemerals: [fill(0x0d)] }
  const rig = memoryRig({ protocol: KK25519, medium: 'lora', names: ['device', 'gateway'], listener: 'L', ik, rk, reply: (p) => (new TextDecoder().decode(p) === 'bpm=73' ? utf8('ok') : undefined) })
  const { t, i, r, clock } = rig
  const { ich } = await rig.open()
  await ich.send(utf8('bpm=72'))
  await quiesce()
  await clock.runUntil(clock.now() + 2 * 3_600_000)
  await ich.send(utf8('bpm=73'))
  await quiesce()
  t.stop()
  const { lines, messages } = t.render(shownAll(t))
  const s0 = t.rec.sessions.find((s) => s.initiator)!
  const ratchet = (k: Uint8Array): Uint8Array => {
    const c = new CipherState(base, 'aes-gcm', k)
    c.rekey()
    return keyOf(c)
  }
  const params = [
    ...header({ protocol: KK25519, medium: 'lora', link: 'one hop (memory transport)', i: i.name, r: r.name }),
    ...keyParams(i.name, ik),
    ...keyParams(r.name, rk),
    ...addressParams(t, [i.name, r.name]),
    ...sessionParams(t, i.name, r.name, parseProtocolName('Noise_KK_25519_AESGCM_SHA256')),
    param(`session.0.key.${i.name}-to-${r.name}.phase-1`, hex(ratchet(s0.send)), 'Rekey() of the phase 0 key'),
    param(`session.0.key.${r.name}-to-${i.name}.phase-1`, hex(ratchet(s0.recv)), 'Rekey() of the phase 0 key'),
  ]
  return { id: 'key-phase', text: region(params, lines), messages }
}

/** 5. A renewal asked for by the responder, flight 1 lost once, the retransmission through the listener. */
async function renewal(): Promise<GeneratedExample> {
  // Renewal ephemerals must have a public key whose first byte is ≥ 0xc0 (renewal.ts): 06…06 (f5…) and
  // 0a…0a (f7…) are the smallest repeated-byte X25519 private keys that qualify besides the static 02…02.
  const ik: Keys = { type: 'x25519', static: fill(0x01), ephemerals: [fill(0x0e), fill(0x06)] }
  const rk: Keys = { type: 'x25519', static: fill(0x02), ephemerals: [fill(0x0f), fill(0x0a)] }
  const rig = memoryRig({ protocol: KK25519, medium: 'ip', names: ['device', 'gateway'], listener: 'L', ik, rk, reply: (p) => (new TextDecoder().decode(p) === 'bpm=73' ? utf8('ok') : undefined) })
  const { t, i, r, clock } = rig
  const { ich, rch } = await rig.open()
  await ich.send(utf8('bpm=72'))
  await quiesce()
  // The gateway asks for a renewal (an encrypted RENEW); the device's first flight 1 is lost.
  let lose = true
  rig.drop = (m) => {
    if (!lose || m.from !== i.name) return false
    lose = false
    return true
  }
  const renewed = rch.renew()
  await quiesce()
  await run(clock, 1_000)
  await renewed
  await run(clock, 0)
  await ich.send(utf8('bpm=73'))
  await quiesce()
  t.stop()
  if (ich.renewals !== 1 || rch.renewals !== 1) throw new Error('example renewal: not renewed once on both ends')
  const shown = shownAll(t)
  const { lines, messages } = t.render(shown)
  const params = [
    ...header({ protocol: KK25519, medium: 'ip', link: 'one hop (memory transport)', i: i.name, r: r.name }),
    ...keyParams(i.name, ik, 1),
    ...keyParams(r.name, rk, 1),
    ...addressParams(t, [i.name, r.name]),
    ...sessionParams(t, i.name, r.name, parseProtocolName('Noise_KK_25519_AESGCM_SHA256')),
  ]
  return { id: 'renewal', text: region(params, lines), messages }
}

/** 6. A long gap: 4 999 messages lost, the long counter form, a keep-alive report, back to the short form. */
async function longGap(): Promise<GeneratedExample> {
  const ik: Keys = { type: 'x25519', static: fill(0x01), ephemerals: [fill(0x10)] }
  const rk: Keys = { type: 'x25519', static: fill(0x02), ephemerals: [fill(0x11)] }
  const rig = memoryRig({ protocol: KK25519, medium: 'lora', keepaliveMs: 60_000, names: ['device', 'gateway'], listener: 'L', ik, rk })
  const { t, i, r, clock } = rig
  const { ich } = await rig.open()
  await ich.send(utf8('reading 0'))
  await quiesce()
  rig.drop = (m) => m.from === i.name
  for (let n = 1; n < 5000; n++) await ich.send(utf8(`reading ${n}`))
  rig.drop = undefined
  await ich.send(utf8('reading 5000'))
  await run(clock, 60_000, 1_000)
  await ich.send(utf8('reading 5001'))
  await quiesce()
  t.stop()
  const lostMessages = t.wire.filter((m) => m.lost)
  if (lostMessages.length !== 4999) throw new Error(`example long gap: ${lostMessages.length} lost`)
  const shown = t.wire.filter((m) => !m.lost).map((msg) => ({ msg }))
  const gapBefore = shown.find((s) => hex(s.msg.bytes).endsWith(hex(t.rec.seals.find((x) => x.counter === 5000n && x.type === MessageType.DATA)!.out)))!
  t.note(gapBefore.msg, '(counters 1 to 4999 were sealed and lost on the link: not shown)')
  const { lines, messages } = t.render(shown)
  const params = [
    ...header({ protocol: KK25519, medium: 'lora, keep-alive 60 s', link: 'one hop (memory transport)', i: i.name, r: r.name }),
    ...keyParams(i.name, ik),
    ...keyParams(r.name, rk),
    ...addressParams(t, [i.name, r.name]),
    ...sessionParams(t, i.name, r.name, parseProtocolName('Noise_KK_25519_AESGCM_SHA256')),
  ]
  return { id: 'long-gap', text: region(params, lines), messages }
}

/** 7. Reliable mode: one message lost, selective acknowledgements, a fast retransmission with a fresh counter. */
async function sack(): Promise<GeneratedExample> {
  const ik: Keys = { type: 'x25519', static: fill(0x01), ephemerals: [fill(0x12)] }
  const rk: Keys = { type: 'x25519', static: fill(0x02), ephemerals: [fill(0x13)] }
  const rig = memoryRig({ protocol: KK25519, medium: 'ip', reliable: true, names: ['device', 'gateway'], listener: 'L', ik, rk })
  const { t, i, r } = rig
  const { ich } = await rig.open()
  let first = true
  rig.drop = (m) => {
    if (!first || m.from !== i.name) return false
    first = false
    return true
  }
  const acked: Promise<void>[] = []
  for (let n = 0; n < 4; n++) {
    acked.push(ich.send(utf8(`reading ${n}`)))
    await quiesce()
  }
  await Promise.all(acked)
  await quiesce()
  t.stop()
  const got = rig.delivered.map((d) => new TextDecoder().decode(d.payload)).join(',')
  if (got !== 'reading 0,reading 1,reading 2,reading 3') throw new Error(`example sack: delivered ${got}`)
  const { lines, messages } = t.render(shownAll(t))
  const params = [
    ...header({ protocol: KK25519, medium: 'ip', reliable: true, link: 'one hop (memory transport)', i: i.name, r: r.name }),
    ...keyParams(i.name, ik),
    ...keyParams(r.name, rk),
    ...addressParams(t, [i.name, r.name]),
    ...sessionParams(t, i.name, r.name, parseProtocolName('Noise_KK_25519_AESGCM_SHA256')),
  ]
  return { id: 'sack', text: region(params, lines), messages }
}

/** Every example, in document order. */
export async function generateExamples(): Promise<GeneratedExample[]> {
  const out: GeneratedExample[] = []
  for (const make of [kk25519, kkP256Lora, xxFirstContact, keyPhase, renewal, longGap, sack]) out.push(await make())
  return out
}

// ───────────────────────────── the document regions ───────────────────────────

export const DOC_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'protocol.md')

const BEGIN = (id: string): string => `<!-- generated example ${id}: npx tsx scripts/protocol-example.ts --write -->`
const END = (id: string): string => `<!-- end of generated example ${id} -->`
const BEGIN_RE = /^<!-- generated example ([a-z0-9-]+): npx tsx scripts\/protocol-example\.ts --write -->$/gm

/** The generated regions of a document: id → the text between its markers (without the marker lines). */
export function docRegions(doc: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const m of doc.matchAll(BEGIN_RE)) {
    const id = m[1]!
    const start = m.index + m[0].length + 1
    const end = doc.indexOf(`\n${END(id)}`, start)
    if (end < 0) throw new Error(`docs/protocol.md: example ${id} has no end marker`)
    if (out.has(id)) throw new Error(`docs/protocol.md: example ${id} appears twice`)
    out.set(id, doc.slice(start, end))
  }
  return out
}

/** What differs between the document and the live examples: one line per problem (empty when they agree). */
export function compareDoc(doc: string, examples: GeneratedExample[]): string[] {
  const problems: string[] = []
  const regions = docRegions(doc)
  for (const e of examples) {
    const have = regions.get(e.id)
    if (have === undefined) {
      problems.push(`example ${e.id} is missing from the document`)
      continue
    }
    if (have !== e.text) {
      const a = have.split('\n')
      const b = e.text.split('\n')
      const k = a.findIndex((l, j) => l !== b[j])
      const at = k < 0 ? a.length : k
      problems.push(`example ${e.id} differs from the live bytes at its line ${at + 1}:\n  doc:  ${a[at] ?? '(end)'}\n  live: ${b[at] ?? '(end)'}`)
    }
  }
  for (const id of regions.keys()) if (!examples.some((e) => e.id === id)) problems.push(`the document has an example ${id} that the script does not generate`)
  return problems
}

/** The document with every region replaced by the live text (regions must exist). */
export function writeRegions(doc: string, examples: GeneratedExample[]): string {
  let out = doc
  for (const e of examples) {
    const b = out.indexOf(BEGIN(e.id))
    if (b < 0) throw new Error(`docs/protocol.md has no marker for example ${e.id}: add\n${BEGIN(e.id)}\n${END(e.id)}`)
    const start = b + BEGIN(e.id).length + 1
    const end = out.indexOf(`\n${END(e.id)}`, start - 1)
    out = `${out.slice(0, start)}${e.text}${out.slice(end)}`
  }
  return out
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const examples = await generateExamples()
  const mode = process.argv[2]
  if (mode === '--write') {
    writeFileSync(DOC_PATH, writeRegions(readFileSync(DOC_PATH, 'utf8'), examples))
    console.log(`docs/protocol.md: ${examples.length} examples written`)
  } else if (mode === '--check') {
    const problems = compareDoc(readFileSync(DOC_PATH, 'utf8'), examples)
    for (const p of problems) console.error(p)
    process.exit(problems.length ? 1 : 0)
  } else {
    for (const e of examples) console.log(`${BEGIN(e.id)}\n${e.text}\n${END(e.id)}\n`)
  }
}
