/**
 * End-to-end secure channels over routed messages (architecture.md §4).
 *
 * A channel has two endpoints. Each endpoint owns two local addresses:
 * - `dec`: receives the peer's messages from the network (handshake flights,
 *   then sealed channel messages) and delivers the plaintext locally;
 * - `enc`: receives local plaintext and sends it sealed to the peer's `dec`.
 *
 * Handshake flights carry the raw Noise message as the routing payload (no
 * extra byte), so a KK flight is 48 bytes of Noise plus a 2-byte routing header
 * on a constrained link. Message 1 goes to the listener's address; the
 * responder answers from its new `dec` address, which the initiator learns
 * from the return route.
 *
 * Failures during a handshake are silent on the wire (no error reply: no
 * oracle) and counted locally on the node (`handshake.failed.<code>`).
 */
import { ErrorCode, HopsealError, isHopsealError } from '../errors.ts'
import { equalConstantTime, toHex } from '../bytes/index.ts'
import { defaultCryptoProvider, type CryptoProvider } from '../crypto/index.ts'
import { HandshakeState, parseProtocolName, type NoiseProtocol, type StaticKey } from '../noise/index.ts'
import { addressKey, type Address, type Route } from '../routing/address.ts'
import { decodeRoutingMessage, encodeRoutingMessage } from '../routing/codec.ts'
import type { IncomingMeta, Node } from '../routing/node.ts'
import { background, systemClock, type Clock } from './clock.ts'
import { IDLE_TIMEOUT_MS } from './constants.ts'
import { ChannelSession, type SessionLimits } from './session.ts'
import { Control, MessageType } from './wire.ts'
import { DEFAULT_RELIABLE, ReliableReceiver, ReliableSender, type ReliableOptions } from './reliable.ts'
import { concat, decodeVarint, encodeVarint } from '../bytes/index.ts'

/** What an endpoint learned about its authenticated peer. */
export interface PeerInfo {
  /** The peer's Noise static public key (always authenticated by Noise). */
  staticKey: Uint8Array
  /** The peer's identity identifier, when its identity was verified. */
  identifier?: string
  /** Verified attributes (from credentials), for authorisation. */
  attributes?: Readonly<Record<string, string>>
}

/**
 * Decides who a peer is. `payload` is what the peer put in its
 * identity-bearing handshake message (XX); empty in KK/IK. Throw a
 * HopsealError to refuse (the handshake then fails silently).
 */
export interface ChannelAuthenticator {
  /** This side's identity payload for XX (identity, attestation, credentials). */
  payload?: () => Uint8Array | Promise<Uint8Array>
  verify(remoteStatic: Uint8Array, payload: Uint8Array): PeerInfo | Promise<PeerInfo>
}

/** Accepts exactly the listed static keys (known peers, KK/IK). */
export function knownPeers(peers: { staticKey: Uint8Array; identifier?: string; attributes?: Record<string, string> }[]): ChannelAuthenticator {
  const byKey = new Map(peers.map((p) => [toHex(p.staticKey), p]))
  return {
    verify(remoteStatic) {
      const p = byKey.get(toHex(remoteStatic))
      if (!p) throw new HopsealError(ErrorCode.CHANNEL_PEER_REFUSED, 'remote static key is not a known peer')
      return { staticKey: remoteStatic.slice(), ...(p.identifier ? { identifier: p.identifier } : {}), ...(p.attributes ? { attributes: p.attributes } : {}) }
    },
  }
}

export interface RetransmitOptions {
  /** First retransmission after this long (ms); doubles each time. */
  initialMs: number
  maxMs: number
  /** Total sends of one flight before the handshake times out. */
  attempts: number
}

export const DEFAULT_RETRANSMIT: RetransmitOptions = Object.freeze({ initialMs: 1000, maxMs: 8000, attempts: 6 })

interface CommonOptions {
  protocol: string | NoiseProtocol
  /** This side's Noise static key (software or vault-backed). */
  s: StaticKey
  auth: ChannelAuthenticator
  crypto?: CryptoProvider
  clock?: Clock
  session?: Partial<SessionLimits>
  retransmit?: RetransmitOptions | false
  /** Close an endpoint after this long without traffic (ms); 0 disables. */
  idleTimeoutMs?: number
  /** Handshake prologue (both sides must agree). */
  prologue?: Uint8Array
  /** Reliable mode for DATA messages (acks, retransmission, in-order delivery); both ends must enable it. */
  reliable?: Partial<ReliableOptions> | boolean
}

function reliableOptions(r: Partial<ReliableOptions> | boolean | undefined): ReliableOptions | undefined {
  if (!r) return undefined
  return { ...DEFAULT_RELIABLE, ...(r === true ? {} : r) }
}

/** Where decrypted data goes: a local worker address, or a callback. */
export type Delivery = Address | ((payload: Uint8Array, peer: PeerInfo, channel: SecureChannel) => void)

export interface ListenerOptions extends CommonOptions {
  /** Destination of DATA messages (the worker behind the channel). */
  deliverTo: Delivery
  /** For KK: the initiators' static keys to try (each is a candidate for msg 1). */
  initiatorStatics?: Uint8Array[]
  /** Responders awaiting message 3 (XX), at most; the oldest is evicted. Default 64. */
  maxPending?: number
  /** Established channels per peer static key; the oldest is closed. Default 8. */
  maxChannelsPerPeer?: number
}

export interface InitiatorOptions extends CommonOptions {
  /** The responder's static key (IK, KK). */
  rs?: Uint8Array
  /** Destination of the responder's DATA messages. */
  deliverTo?: Delivery
  signal?: AbortSignal
}

/** One end of an established channel. */
export class SecureChannel {
  /** Send plaintext here (a local worker address): it reaches the peer sealed. */
  readonly enc: Address
  /** The peer's messages arrive here. */
  readonly dec: Address
  readonly peer: PeerInfo
  readonly protocol: NoiseProtocol
  private remote: Route
  private idleTimer: unknown
  private lastActivity: number
  private closed = false
  private readonly onCloseHandlers: (() => void)[] = []

  /** @internal */
  constructor(
    private readonly node: Node,
    readonly session: ChannelSession,
    init: { enc: Address; dec: Address; remote: Route; peer: PeerInfo; protocol: NoiseProtocol; deliverTo?: Delivery; clock: Clock; idleTimeoutMs: number; reliable?: ReliableOptions },
  ) {
    this.enc = init.enc
    this.dec = init.dec
    this.remote = init.remote
    this.peer = init.peer
    this.protocol = init.protocol
    this.clock = init.clock
    this.idleTimeoutMs = init.idleTimeoutMs
    this.deliverTo = init.deliverTo
    this.lastActivity = this.clock.now()
    if (init.reliable) {
      const count = (r: string): void => this.node.count(r)
      this.sender = new ReliableSender(init.reliable, this.clock, (framed) => this.sendSealed(MessageType.DATA, framed), count)
      this.receiver = new ReliableReceiver(
        init.reliable,
        (payload) => this.deliver(payload, this.lastMeta),
        (next) => this.sendSealed(MessageType.CONTROL, concat(Uint8Array.of(Control.ACK), encodeVarint(next))),
        count,
      )
    }
    node.startWorker(this.enc, async (_ctx, msg) => {
      if (msg.onward.length === 0) {
        if (this.sender) this.sender.send(msg.payload).catch(() => this.node.count('reliable.local_send_failed'))
        else await this.sendSealed(MessageType.DATA, msg.payload)
        return
      }
      // The inner return route travels too, so replies find their way back through this channel.
      await this.sendSealed(MessageType.ROUTED, encodeRoutingMessage({ onward: msg.onward, returnRoute: msg.returnRoute, payload: msg.payload }, this.node.limits))
    })
    this.armIdle()
  }

  private readonly clock: Clock
  private readonly idleTimeoutMs: number
  private deliverTo: Delivery | undefined
  private sender: ReliableSender | undefined
  private receiver: ReliableReceiver | undefined
  private lastMeta: IncomingMeta = {}

  /**
   * Sends one application message to the worker behind the peer's endpoint.
   * In reliable mode it resolves once the peer acknowledged it.
   */
  async send(payload: Uint8Array): Promise<void> {
    if (this.sender) return this.sender.send(payload)
    await this.sendSealed(MessageType.DATA, payload)
  }

  /** Unacknowledged reliable messages. */
  get unacked(): number {
    return this.sender?.unacked ?? 0
  }

  /** Sets where the peer's messages are delivered. */
  onMessage(deliver: Delivery): void {
    this.deliverTo = deliver
  }

  onClose(fn: () => void): void {
    this.onCloseHandlers.push(fn)
  }

  get isClosed(): boolean {
    return this.closed
  }

  /** The route to the peer's `dec` (follows the peer's latest authenticated return route). */
  get remoteRoute(): Route {
    return this.remote
  }

  /** Sends an encrypted close and tears down both local addresses. */
  async close(): Promise<void> {
    if (this.closed) return
    try {
      await this.sendSealed(MessageType.CONTROL, Uint8Array.of(Control.CLOSE))
    } catch {
      /* best effort */
    }
    this.teardown('closed')
  }

  /** @internal the dec worker's handler for sealed messages. */
  async receive(bytes: Uint8Array, returnRoute: Route, meta: IncomingMeta): Promise<void> {
    if (this.closed) return
    const topBefore = this.session.highestReceived
    const opened = this.session.open(bytes)
    if (!opened) {
      this.node.count('channel.drop')
      return
    }
    this.lastActivity = this.clock.now()
    // Mobility: follow the latest authenticated return route.
    if (opened.counter > topBefore && returnRoute.length > 0) this.remote = returnRoute
    const peerMeta: IncomingMeta = { ...meta, peer: { channel: addressKey(this.enc), ...(this.peer.identifier ? { identifier: this.peer.identifier } : {}), ...(this.peer.attributes ? { attributes: this.peer.attributes } : {}) } }
    switch (opened.type) {
      case MessageType.DATA:
        this.node.count('channel.delivered')
        if (this.receiver) {
          this.lastMeta = peerMeta
          await this.receiver.receive(opened.plaintext)
        } else await this.deliver(opened.plaintext, peerMeta)
        return
      case MessageType.ROUTED: {
        let inner
        try {
          inner = decodeRoutingMessage(opened.plaintext, this.node.limits)
        } catch {
          this.node.count('channel.drop.inner_decode')
          return
        }
        if (inner.onward.length === 0) {
          this.node.count('channel.drop.inner_decode')
          return
        }
        this.node.count('channel.delivered')
        await this.node.route({ onward: inner.onward, returnRoute: [this.enc, ...inner.returnRoute], payload: inner.payload }, peerMeta)
        return
      }
      case MessageType.CONTROL:
        if (opened.plaintext[0] === Control.CLOSE) this.teardown('closed by peer')
        else if (opened.plaintext[0] === Control.ACK && this.sender) {
          try {
            this.sender.onAck(decodeVarint(opened.plaintext, 1).value)
          } catch {
            this.node.count('channel.drop.bad_ack')
          }
        }
        return
      default:
        this.node.count('channel.drop.unknown_type')
    }
  }

  private async deliver(payload: Uint8Array, meta: IncomingMeta): Promise<void> {
    const d = this.deliverTo
    if (!d) {
      this.node.count('channel.drop.no_destination')
      return
    }
    if (typeof d === 'function') d(payload, this.peer, this)
    else await this.node.route({ onward: [d], returnRoute: [this.enc], payload }, meta)
  }

  private async sendSealed(type: MessageType, plaintext: Uint8Array): Promise<void> {
    if (this.closed) throw new HopsealError(ErrorCode.CHANNEL_CLOSED, 'channel is closed')
    const sealed = this.session.seal(type, plaintext)
    this.lastActivity = this.clock.now()
    await this.node.route({ onward: this.remote, returnRoute: [this.dec], payload: sealed }, {})
  }

  private armIdle(): void {
    if (!this.idleTimeoutMs) return
    this.idleTimer = background(this.clock.setTimeout(() => {
      if (this.closed) return
      if (this.clock.now() - this.lastActivity >= this.idleTimeoutMs) {
        this.node.count('channel.idle_closed')
        this.teardown('idle')
      } else this.armIdle()
    }, this.idleTimeoutMs))
  }

  /** @internal */
  teardown(_why: string): void {
    if (this.closed) return
    this.closed = true
    this.clock.clearTimeout(this.idleTimer)
    this.sender?.fail(new HopsealError(ErrorCode.CHANNEL_CLOSED, 'channel closed before the message was acknowledged'))
    this.session.close()
    this.node.stopWorker(this.enc)
    this.node.stopWorker(this.dec)
    for (const fn of this.onCloseHandlers) fn()
  }
}

// ---------------------------------------------------------------- handshakes

function countFailure(node: Node, e: unknown): void {
  node.count(`handshake.failed.${isHopsealError(e) ? e.code.toLowerCase() : 'error'}`)
}

async function identityPayload(auth: ChannelAuthenticator): Promise<Uint8Array> {
  return auth.payload ? await auth.payload() : new Uint8Array(0)
}

/** The message index (0-based) in which this side sends its static key, if any. */
function sendsStaticIn(p: NoiseProtocol, initiator: boolean): number {
  return p.pattern.messages.findIndex((m, i) => m.includes('s') && (i % 2 === 0) === initiator)
}

/**
 * Starts a listener at `name` on `node`. Returns a handle to stop it and to
 * inspect established channels.
 */
export function startSecureChannelListener(node: Node, name: string | Address, opts: ListenerOptions): SecureChannelListener {
  return new SecureChannelListener(node, name, opts)
}

interface Pending {
  hs: HandshakeState
  dec: Address
  enc: Address
  msg1: Uint8Array
  msg2: Uint8Array
  returnRoute: Route
  timer: unknown
}

export class SecureChannelListener {
  readonly address: Address
  readonly channels = new Set<SecureChannel>()
  private readonly protocol: NoiseProtocol
  private readonly pending = new Map<string, Pending>()
  private readonly byPeer = new Map<string, SecureChannel[]>()
  /** Recent msg1 → msg2, so a retransmitted msg1 gets the same answer (KK/IK). */
  private readonly answered = new Map<string, { msg2: Uint8Array; channel: SecureChannel }>()
  private readonly crypto: CryptoProvider
  private readonly clock: Clock

  constructor(
    private readonly node: Node,
    name: string | Address,
    private readonly opts: ListenerOptions,
  ) {
    this.protocol = typeof opts.protocol === 'string' ? parseProtocolName(opts.protocol) : opts.protocol
    if (!['XX', 'IK', 'KK', 'NK', 'NN', 'XK', 'IX'].includes(this.protocol.pattern.name.replace(/psk\d.*/, ''))) {
      throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `secure channels use interactive patterns (XX, IK, KK), not ${this.protocol.pattern.name}`)
    }
    this.crypto = opts.crypto ?? defaultCryptoProvider()
    this.clock = opts.clock ?? systemClock
    this.address = node.startWorker(name, async (_ctx, msg) => this.onMessage1(msg.payload, msg.returnRoute))
  }

  stop(): void {
    this.node.stopWorker(this.address)
    for (const p of this.pending.values()) this.dropPending(p)
    for (const c of this.channels) c.teardown('listener stopped')
  }

  get pendingCount(): number {
    return this.pending.size
  }

  private async onMessage1(msg1: Uint8Array, returnRoute: Route): Promise<void> {
    const key = toHex(msg1.subarray(0, Math.min(64, msg1.length)))
    const again = this.answered.get(key)
    if (again && !again.channel.isClosed) {
      // A retransmitted msg1: answer with the same msg2 (no new state).
      this.node.count('handshake.retransmit_answered')
      await this.node.route({ onward: returnRoute, returnRoute: [again.channel.dec], payload: again.msg2 }, {})
      return
    }
    const pendingAgain = this.pending.get(key)
    if (pendingAgain) {
      this.node.count('handshake.retransmit_answered')
      await this.node.route({ onward: returnRoute, returnRoute: [pendingAgain.dec], payload: pendingAgain.msg2 }, {})
      return
    }
    if (returnRoute.length === 0) {
      this.node.count('handshake.failed.no_return_route')
      return
    }
    let hs: HandshakeState
    let firstPayload: Uint8Array
    try {
      ;[hs, firstPayload] = await this.readFirst(msg1)
    } catch (e) {
      countFailure(this.node, e)
      return
    }
    try {
      const p = this.protocol
      // Message 1 may carry the initiator's static (IK): authenticate now.
      let peer: PeerInfo | undefined
      if (hs.getRemoteStatic() && sendsStaticIn(p, true) !== 2) peer = await this.opts.auth.verify(hs.getRemoteStatic()!, firstPayload)
      const mine = sendsStaticIn(p, false) === 1 ? await identityPayload(this.opts.auth) : new Uint8Array(0)
      const msg2 = await hs.writeMessage(mine)
      const dec = this.node.newAddress()
      const enc = this.node.newAddress()
      if (hs.isFinished()) {
        const ch = this.establish(hs, dec, enc, returnRoute, peer!)
        this.remember(key, msg2, ch)
      } else {
        this.addPending(key, { hs, dec, enc, msg1, msg2, returnRoute, timer: undefined })
      }
      this.node.count('handshake.responded')
      await this.node.route({ onward: returnRoute, returnRoute: [dec], payload: msg2 }, {})
    } catch (e) {
      countFailure(this.node, e)
      hs.destroy()
    }
  }

  /** Reads msg 1, trying each known initiator static for KK. */
  private async readFirst(msg1: Uint8Array): Promise<[HandshakeState, Uint8Array]> {
    const needsRs = this.protocol.pattern.preInitiator.includes('s')
    const candidates = needsRs ? (this.opts.initiatorStatics ?? []) : [undefined]
    if (candidates.length === 0) throw new HopsealError(ErrorCode.NOISE_MISSING_KEY, `${this.protocol.pattern.name} listener needs initiatorStatics`)
    // Memoise this side's DH results: es is the same for every candidate.
    const memo = new Map<string, Uint8Array | Promise<Uint8Array>>()
    const s: StaticKey = { type: this.opts.s.type, publicKey: this.opts.s.publicKey, dh: (peer) => {
      const k = toHex(peer)
      let v = memo.get(k)
      if (!v) {
        v = this.opts.s.dh(peer)
        memo.set(k, v)
      }
      return v
    } }
    let last: unknown
    for (const rs of candidates) {
      const hs = HandshakeState.create({ protocol: this.protocol, initiator: false, s, crypto: this.crypto, ...(rs ? { rs } : {}), ...(this.opts.prologue ? { prologue: this.opts.prologue } : {}) })
      try {
        return [hs, await hs.readMessage(msg1)]
      } catch (e) {
        last = e
        hs.destroy()
      }
    }
    throw last
  }

  private addPending(key: string, p: Pending): void {
    const max = this.opts.maxPending ?? 64
    while (this.pending.size >= max) {
      const oldest = this.pending.keys().next().value as string
      this.node.count('handshake.pending_evicted')
      this.dropPending(this.pending.get(oldest)!)
      this.pending.delete(oldest)
    }
    this.pending.set(key, p)
    // The responder endpoint waits for msg 3 at `dec`.
    this.node.startWorker(p.dec, async (_ctx, msg) => {
      if (!this.pending.has(key)) return
      try {
        const payload = await p.hs.readMessage(msg.payload)
        const peer = await this.opts.auth.verify(p.hs.getRemoteStatic()!, payload)
        this.pending.delete(key)
        this.clock.clearTimeout(p.timer)
        this.node.stopWorker(p.dec)
        const ch = this.establish(p.hs, p.dec, p.enc, msg.returnRoute.length ? msg.returnRoute : p.returnRoute, peer)
        this.remember(key, p.msg2, ch)
      } catch (e) {
        countFailure(this.node, e)
        if (!isHopsealError(e) || e.code.startsWith('NOISE_') || e.code === 'INVALID_POINT' || e.code === 'WEAK_SHARED_SECRET') return // a forged msg 3: keep waiting for the genuine one
        this.pending.delete(key)
        this.dropPending(p)
      }
    })
    const r = this.opts.retransmit === false ? undefined : (this.opts.retransmit ?? DEFAULT_RETRANSMIT)
    const total = r ? r.initialMs * 2 ** r.attempts : 30_000
    p.timer = background(this.clock.setTimeout(() => {
      if (this.pending.get(key) === p) {
        this.pending.delete(key)
        this.node.count('handshake.failed.timeout')
        this.dropPending(p)
      }
    }, Math.min(total, 60_000)))
  }

  private dropPending(p: Pending): void {
    this.clock.clearTimeout(p.timer)
    this.node.stopWorker(p.dec)
    this.node.stopWorker(p.enc)
    p.hs.destroy()
  }

  private remember(key: string, msg2: Uint8Array, channel: SecureChannel): void {
    this.answered.set(key, { msg2, channel })
    while (this.answered.size > (this.opts.maxPending ?? 64)) this.answered.delete(this.answered.keys().next().value as string)
  }

  private establish(hs: HandshakeState, dec: Address, enc: Address, remote: Route, peer: PeerInfo): SecureChannel {
    const t = hs.finish()
    const session = new ChannelSession(t, () => this.clock.now(), this.opts.session)
    const ch = new SecureChannel(this.node, session, { enc, dec, remote, peer, protocol: this.protocol, deliverTo: this.opts.deliverTo, clock: this.clock, idleTimeoutMs: this.opts.idleTimeoutMs ?? IDLE_TIMEOUT_MS, ...(reliableOptions(this.opts.reliable) ? { reliable: reliableOptions(this.opts.reliable)! } : {}) })
    this.node.startWorker(dec, (_ctx, msg, meta) => ch.receive(msg.payload, msg.returnRoute, meta))
    this.channels.add(ch)
    const pk = toHex(peer.staticKey)
    const list = this.byPeer.get(pk) ?? []
    list.push(ch)
    this.byPeer.set(pk, list)
    ch.onClose(() => {
      this.channels.delete(ch)
      const l = this.byPeer.get(pk)
      if (l) {
        const i = l.indexOf(ch)
        if (i >= 0) l.splice(i, 1)
        if (l.length === 0) this.byPeer.delete(pk)
      }
    })
    const max = this.opts.maxChannelsPerPeer ?? 8
    while (list.length > max) {
      this.node.count('channel.evicted_per_peer')
      list[0]!.teardown('too many channels for one peer')
    }
    this.node.count('handshake.completed')
    return ch
  }
}

/**
 * Creates a channel to the listener at `route`. Resolves when this side is
 * established; rejects with CHANNEL_HANDSHAKE_TIMEOUT when no valid answer
 * arrives (failures are silent on the wire), or ABORTED.
 */
export async function createSecureChannel(node: Node, route: Route, opts: InitiatorOptions): Promise<SecureChannel> {
  const protocol = typeof opts.protocol === 'string' ? parseProtocolName(opts.protocol) : opts.protocol
  const crypto = opts.crypto ?? defaultCryptoProvider()
  const clock = opts.clock ?? systemClock
  const hs = HandshakeState.create({ protocol, initiator: true, s: opts.s, crypto, ...(opts.rs ? { rs: opts.rs } : {}), ...(opts.prologue ? { prologue: opts.prologue } : {}) })
  const dec = node.newAddress()
  const enc = node.newAddress()
  const r = opts.retransmit === false ? undefined : (opts.retransmit ?? DEFAULT_RETRANSMIT)
  const p1 = sendsStaticIn(protocol, true) === 0 ? await identityPayload(opts.auth) : new Uint8Array(0)
  const msg1 = await hs.writeMessage(p1)

  return await new Promise<SecureChannel>((resolve, reject) => {
    let timer: unknown
    let attempts = 0
    let done = false
    let channel: SecureChannel | undefined
    let msg2Seen: Uint8Array | undefined
    let msg3: Uint8Array | undefined
    let remote: Route = route
    const finish = (err?: unknown): void => {
      if (done) return
      done = true
      clock.clearTimeout(timer)
      opts.signal?.removeEventListener('abort', onAbort)
      if (err) {
        node.stopWorker(dec)
        node.stopWorker(enc) // releases the reserved address
        hs.destroy()
        reject(err as Error)
      } else resolve(channel!)
    }
    const onAbort = (): void => finish(new HopsealError(ErrorCode.ABORTED, 'channel creation aborted'))
    if (opts.signal?.aborted) return onAbort()
    opts.signal?.addEventListener('abort', onAbort)

    const send = (): void => {
      attempts++
      node.send(route, msg1, [dec]).catch((e: unknown) => finish(e))
      if (!r) {
        timer = clock.setTimeout(() => finish(new HopsealError(ErrorCode.CHANNEL_HANDSHAKE_TIMEOUT, 'no answer to the handshake')), 30_000)
        return
      }
      const wait = Math.min(r.initialMs * 2 ** (attempts - 1), r.maxMs)
      timer = clock.setTimeout(() => {
        if (done) return
        if (attempts >= r.attempts) return finish(new HopsealError(ErrorCode.CHANNEL_HANDSHAKE_TIMEOUT, `no valid answer after ${attempts} attempts`))
        node.count('handshake.retransmitted')
        send()
      }, wait)
    }

    node.startWorker(dec, async (_ctx, msg, meta) => {
      if (channel) {
        // A retransmitted msg 2 means our msg 3 was lost: send it again.
        if (msg3 && msg2Seen && equalConstantTime(msg.payload, msg2Seen)) {
          node.count('handshake.retransmit_answered')
          await node.send(remote, msg3, [dec])
          return
        }
        return channel.receive(msg.payload, msg.returnRoute, meta)
      }
      if (done) return
      try {
        const payload = await hs.readMessage(msg.payload)
        remote = msg.returnRoute
        let peer: PeerInfo | undefined
        if (sendsStaticIn(protocol, false) === 1 || hs.isFinished()) peer = await opts.auth.verify(hs.getRemoteStatic()!, payload)
        if (!hs.isFinished()) {
          msg3 = await hs.writeMessage(sendsStaticIn(protocol, true) === 2 ? await identityPayload(opts.auth) : new Uint8Array(0))
          msg2Seen = msg.payload.slice()
          await node.send(remote, msg3, [dec])
        }
        const t = hs.finish()
        const session = new ChannelSession(t, () => clock.now(), opts.session)
        channel = new SecureChannel(node, session, { enc, dec, remote, peer: peer!, protocol, ...(opts.deliverTo ? { deliverTo: opts.deliverTo } : {}), clock, idleTimeoutMs: opts.idleTimeoutMs ?? IDLE_TIMEOUT_MS, ...(reliableOptions(opts.reliable) ? { reliable: reliableOptions(opts.reliable)! } : {}) })
        node.count('handshake.completed')
        finish()
      } catch (e) {
        // Silent: a forged or corrupted msg 2 is dropped and counted; keep waiting.
        countFailure(node, e)
        if (isHopsealError(e) && (e.code === 'CHANNEL_PEER_REFUSED' || e.code.startsWith('IDENTITY_') || e.code.startsWith('ATTESTATION_') || e.code.startsWith('POLICY_') || e.code.startsWith('CREDENTIAL_'))) finish(e)
      }
    })
    send()
  })
}
