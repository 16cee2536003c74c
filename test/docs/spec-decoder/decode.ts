/**
 * Decodes one worked example of docs/protocol.md from its bytes and the keys
 * it gives, following the spec: UART frames and fragments (serial links),
 * routing headers and the return-route rule, the first handshake (payloads
 * and identity checks), sealed messages (counter forms, windows, key
 * phases), CONTROL subtypes, reliable-mode sequence numbers and renewals
 * (flight marking, prologue, epochs, the listener fallback with the binding
 * tag). Every inconsistency with the spec throws.
 */
import { ed25519 } from '@noble/curves/ed25519.js'
import { ascii, cat, fail, hex, readVarint, same, u32be, unhex } from './bytes.ts'
import { Receiver } from './channel.ts'
import type { DocExample } from './doc.ts'
import { checkIdentityPayload, type CheckedPayload } from './identity.ts'
import { parseSuite, publicKey, rekey, Transcript, type Suite } from './noise.ts'
import { decodeRouting, local, sameRoute, type Addr } from './routing.ts'
import { reassemble, uartFrames } from './serial.ts'

export interface Decoded {
  n: number
  from: string
  to: string
  lost: boolean
  kind: 'handshake' | 'renewal' | 'sealed'
  /** A byte-identical copy of an earlier flight (not processed again). */
  again: boolean
  /** The routing message's onward route ran through the listener (renewal fallback). */
  viaListener: boolean
  epoch?: number
  counter?: bigint
  long?: boolean
  phase?: number
  type?: 'DATA' | 'ROUTED' | 'CONTROL'
  /** Sealed: the plaintext; handshake: the payload. */
  plaintext: Uint8Array
  /** DATA payload (without the reliable-mode sequence number). */
  data?: Uint8Array
  seq?: number
  control?: string
  identity?: CheckedPayload
  /** KK/IK message 1 of the first handshake: its handshake counter. */
  handshakeCounter?: number
}

interface Session {
  epoch: number
  /** Receivers of messages from the initiator and from the responder. */
  rx: { i: Receiver; r: Receiver }
  /** Highest confirmed counter of the messages each side sent (−1: none). */
  confirmed: { i: bigint; r: bigint }
}

export function decodeExample(ex: DocExample): Decoded[] {
  const P = (k: string): string => ex.params.get(k) ?? fail(`${ex.id}: parameter ${k} missing`)
  const suite = parseSuite(P('suite'))
  const prologue = P('prologue') === '(empty)' ? new Uint8Array(0) : unhex(P('prologue'))
  const I = P('initiator')
  const R = P('responder')
  const reliable = P('reliable') === 'yes'
  checkKeyParams(ex, suite)
  const priv = (party: string, k: string): Uint8Array => unhex(P(`${party}.${k}.private`))
  const dec: Record<string, Addr> = { [I]: local(unhex(P(`${I}.dec`))), [R]: local(unhex(P(`${R}.dec`))) }
  const listener = local(unhex(P(`${R}.listener`)))
  const mtu = Number(/MTU (\d+)/.exec(ex.params.get('link') ?? '')?.[1] ?? 0)
  const time = Number(ex.params.get('time') ?? 0)
  const issuers = new Map<string, Uint8Array>()
  if (ex.params.has('issuer.identifier')) issuers.set(P('issuer.identifier'), unhex(P('issuer.identity-key.public')))

  const first = new Transcript(suite, prologue, { s: priv(I, 'static'), e: priv(I, 'ephemeral.0') }, { s: priv(R, 'static'), e: priv(R, 'ephemeral.0') })
  const flights: Uint8Array[] = []
  const sessions: Session[] = []
  let h0: Uint8Array | undefined
  let renewal: { epoch: number; hs: Transcript; flight1: Uint8Array; flight2?: Uint8Array } | undefined
  /** Reliable mode: the session and counter of the first transmission of each sequence number, per sender. */
  const firstSent = new Map<string, { session: Session; counter: bigint }>()
  const out: Decoded[] = []

  const newSession = (epoch: number, hs: Transcript): void => {
    const [k1, k2] = hs.split()
    expect(`session.${epoch}.handshake-hash`, hs.handshakeHash)
    expect(`session.${epoch}.key.${I}-to-${R}`, k1)
    expect(`session.${epoch}.key.${R}-to-${I}`, k2)
    for (const [k, v] of ex.params) {
      const m = new RegExp(`^session\\.${epoch}\\.key\\.(\\S+)-to-(\\S+)\\.phase-(\\d+)$`).exec(k)
      if (!m) continue
      let key = m[1] === I ? k1 : k2
      for (let i = 0; i < Number(m[3]); i++) key = rekey(suite.cipher, key)
      if (hex(key) !== v) fail(`${ex.id}: ${k} is not Rekey() of the phase 0 key`)
    }
    sessions.push({ epoch, rx: { i: new Receiver(suite, k1), r: new Receiver(suite, k2) }, confirmed: { i: -1n, r: -1n } })
  }
  const expect = (k: string, v: Uint8Array): void => {
    if (P(k) !== hex(v)) fail(`${ex.id}: ${k} = ${P(k)}, the decoder computes ${hex(v)}`)
  }

  for (const m of ex.messages) {
    const where = `${ex.id} message ${m.n}`
    if (m.uart) {
      if (!mtu) fail(`${where}: UART bytes but no MTU in the link parameter`)
      const routed = reassemble(uartFrames(m.uart), mtu)
      if (!same(routed, m.bytes)) fail(`${where}: the UART bytes carry another routing message`)
    }
    const r = decodeRouting(m.bytes)
    const fromI = m.from === I
    if (!fromI && m.from !== R) fail(`${where}: unknown sender ${m.from}`)
    const receiver = fromI ? R : I
    // Every message an endpoint sends carries the return route [own dec].
    if (!sameRoute(r.ret, [dec[m.from]!])) fail(`${where}: return route is not [the sender's dec]`)
    const d: Decoded = { n: m.n, from: m.from, to: m.to, lost: m.lost, kind: 'handshake', again: false, viaListener: false, plaintext: new Uint8Array(0) }
    out.push(d)

    if (!sessions.length) {
      // The first handshake: message 1 to the listener, the others to the peer's dec.
      if (flights.some((f) => same(f, r.payload))) {
        d.again = true
        continue
      }
      if (first.senderIsInitiator !== fromI) fail(`${where}: not ${m.from}'s turn in the handshake`)
      const onward = flights.length === 0 ? [listener] : [dec[receiver]!]
      if (!sameRoute(r.onward, onward)) fail(`${where}: onward route`)
      const { payload } = first.read(r.payload)
      flights.push(r.payload)
      d.plaintext = payload
      // protocol.md "Handshake counter (KK, IK)": the first handshake's KK/IK message 1 starts with varint(counter).
      let identityPart = payload
      if (flights.length === 1 && (suite.pattern === 'KK' || suite.pattern === 'IK')) {
        if (payload.length === 0) fail(`${where}: ${suite.pattern} message 1 without a handshake counter`)
        const c = readVarint(payload, 0)
        d.handshakeCounter = c.value
        identityPart = payload.subarray(c.next)
      }
      if (identityPart.length) d.identity = checkIdentityPayload(identityPart, { remoteStatic: first.staticOf(fromI), time, issuers })
      if (d.identity && d.identity.identifier !== P(`${m.from}.identifier`)) fail(`${where}: identity ${d.identity.identifier} is not ${m.from}'s`)
      if (first.done) {
        h0 = first.handshakeHash
        expect('binding-tag', h0.slice(0, 8))
        newSession(0, first)
      }
    } else if ((r.payload[0]! & 0xc0) === 0xc0) {
      // A renewal flight: KK, marked by its first byte, with the renewal prologue of its epoch.
      d.kind = 'renewal'
      const noise = r.payload.slice()
      if (suite.dh === 'P256') noise[0]! ^= 0xc0
      const tag = h0!.slice(0, 8)
      d.viaListener = sameRoute(r.onward, [listener, local(tag)])
      if (!d.viaListener && !sameRoute(r.onward, [dec[receiver]!])) fail(`${where}: a renewal flight goes to the peer's dec or through the listener with the binding tag`)
      if (d.viaListener && !fromI) fail(`${where}: only flight 1 goes through the listener`)
      if (fromI) {
        if (renewal && same(renewal.flight1, r.payload)) {
          d.again = true
          d.epoch = renewal.epoch
          continue
        }
        const epoch = sessions.at(-1)!.epoch + 1
        const pro = cat(ascii('hopseal-renew-v1'), h0!, u32be(epoch))
        expect(`session.${epoch}.prologue`, pro)
        const kk = parseSuite(`Noise_KK_${suite.dh}_${suite.cipher}_SHA256`)
        if (P(`session.${epoch}.suite`) !== kk.name) fail(`${where}: renewal suite`)
        const hs = new Transcript(kk, pro, { s: priv(I, 'static'), e: priv(I, `ephemeral.${epoch}`) }, { s: priv(R, 'static'), e: priv(R, `ephemeral.${epoch}`) })
        d.plaintext = hs.read(noise).payload
        renewal = { epoch, hs, flight1: r.payload }
        d.epoch = epoch
      } else {
        if (!renewal) fail(`${where}: renewal flight 2 without a flight 1`)
        d.epoch = renewal.epoch
        if (renewal.flight2 && same(renewal.flight2, r.payload)) {
          d.again = true
          continue
        }
        d.plaintext = renewal.hs.read(noise).payload
        renewal.flight2 = r.payload
        newSession(renewal.epoch, renewal.hs)
      }
      if (d.plaintext.length) fail(`${where}: renewal payloads are empty`)
      if (suite.dh === '25519' && r.payload[0]! < 0xc0) fail(`${where}: 25519 renewal ephemeral below 0xc0`)
    } else {
      d.kind = 'sealed'
      if (!sameRoute(r.onward, [dec[receiver]!])) fail(`${where}: a sealed message goes to the peer's dec`)
      let opened
      let s: Session | undefined
      for (const candidate of [...sessions].reverse()) {
        opened = (fromI ? candidate.rx.i : candidate.rx.r).open(r.payload, !m.lost)
        if (opened) {
          s = candidate
          break
        }
      }
      if (!opened || !s) fail(`${where}: opens under no session`)
      const { header, counter, plaintext } = opened
      Object.assign(d, { epoch: s.epoch, counter, long: header.long, phase: header.phase, plaintext })
      // The counter form the sender had to use (protocol.md "Which counter form the sender uses").
      const t = fromI ? s.confirmed.i : s.confirmed.r
      if (header.long !== counter - t > 1024n) fail(`${where}: counter ${counter} with ${t} confirmed must use the ${counter - t > 1024n ? 'long' : 'short'} form`)
      const me = fromI ? 'i' : 'r'
      const peer = fromI ? 'r' : 'i'
      if (header.type === 0) {
        d.type = 'DATA'
        d.data = plaintext
        if (reliable) {
          const v = readVarint(plaintext, 0)
          d.seq = v.value
          d.data = plaintext.slice(v.next)
          if (!firstSent.has(`${me}:${v.value}`)) firstSent.set(`${me}:${v.value}`, { session: s, counter })
        }
      } else if (header.type === 1) {
        d.type = 'ROUTED'
        const inner = decodeRouting(plaintext)
        if (inner.onward.length === 0) fail(`${where}: ROUTED with an empty onward route`)
        d.data = inner.payload
      } else {
        d.type = 'CONTROL'
        const sub = plaintext[0]
        if (sub === 1) {
          if (plaintext.length > 2) fail(`${where}: CLOSE takes at most a reason`)
          d.control = plaintext.length === 2 ? `CLOSE reason ${plaintext[1]}` : 'CLOSE'
        } else if (sub === 2) {
          const v = readVarint(plaintext, 1)
          if (v.next !== plaintext.length) fail(`${where}: KEEPALIVE trailing bytes`)
          d.control = `KEEPALIVE ${v.value}`
          if (v.value > 0 && !m.lost) s.confirmed[peer] = BigInt(v.value - 1) > s.confirmed[peer] ? BigInt(v.value - 1) : s.confirmed[peer]
        } else if (sub === 3) {
          const v = readVarint(plaintext, 1)
          const sack = plaintext.slice(v.next)
          if (sack.length > 8 || (sack.length && sack.at(-1) === 0)) fail(`${where}: sack of ${sack.length} bytes`)
          d.control = `ACK ${v.value} ${hex(sack)}`
          if (!reliable) fail(`${where}: ACK without reliable mode`)
          const acked: number[] = []
          for (let q = 0; q < v.value; q++) acked.push(q)
          for (let b = 0; b < sack.length * 8; b++) if (sack[b >> 3]! & (1 << (b & 7))) acked.push(v.value + 1 + b)
          for (const q of acked) {
            const f = firstSent.get(`${peer}:${q}`)
            if (f && !m.lost && f.counter > f.session.confirmed[peer]) f.session.confirmed[peer] = f.counter
          }
        } else if (sub === 4) {
          if (plaintext.length !== 1) fail(`${where}: RENEW has no arguments`)
          if (fromI) fail(`${where}: only the responder sends RENEW`)
          d.control = 'RENEW'
        } else fail(`${where}: unknown CONTROL subtype ${String(sub)}`)
      }
    }
    if (!same(d.plaintext, m.plaintext)) fail(`${where}: the plaintext shown (${hex(m.plaintext)}) is not what decrypts (${hex(d.plaintext)})`)
  }
  if (!first.done) fail(`${ex.id}: the first handshake did not complete`)
  return out
}

/** Every `<name>.private` parameter has the matching `<name>.public` (X25519, P-256 or an Ed25519 identity key). */
function checkKeyParams(ex: DocExample, suite: Suite): void {
  for (const [k, v] of ex.params) {
    if (!k.endsWith('.private')) continue
    const name = k.slice(0, -'.private'.length)
    const pub = ex.params.get(`${name}.public`) ?? fail(`${ex.id}: ${name}.public missing`)
    const computed = name.endsWith('identity-key') ? ed25519.getPublicKey(unhex(v)) : publicKey(suite.dh, unhex(v))
    if (hex(computed) !== pub) fail(`${ex.id}: ${name}.public is not the public key of ${name}.private`)
  }
}
