/**
 * An established channel endpoint: `enc`/`dec` workers, sealing, delivery,
 * reliable mode, renewal, passive keep-alive, idle reaping and close.
 *
 * A channel outlives its keys: its current session is replaced by a renewed
 * one (renewal.ts) before the session's limits, and the application keeps the
 * same object. During a renewal up to three sessions are live:
 * - `session`: the one this side seals with;
 * - `next` (responder only): made by a renewal, not yet confirmed: the
 *   initiator's first message under it promotes it;
 * - `previous`: the one before, kept to open messages still in flight until
 *   it passes its own hard limit or the next renewal.
 */
import { ErrorCode, HopsealError } from '../errors.ts'
import { concat, decodeVarint, encodeVarint, equalConstantTime, wipe } from '../bytes/index.ts'
import type { CryptoProvider, KeyPair } from '../crypto/index.ts'
import { HandshakeState, softwareStaticKey, type NoiseProtocol, type StaticKey } from '../noise/index.ts'
import { addressKey, local, type Address, type Route } from '../routing/address.ts'
import { decodeRoutingMessage, encodeRoutingMessage } from '../routing/codec.ts'
import type { IncomingMeta, Node } from '../routing/node.ts'
import type { Clock } from './clock.ts'
import type { ChannelLimits, RetransmitOptions } from './limits.ts'
import { ChannelSession, type DropReason, type Opened } from './session.ts'
import { Timers } from './timers.ts'
import { CloseReason, Control, MessageType } from './wire.ts'
import { MAX_SACK_BYTES, ReliableReceiver, ReliableSender, type ReliableOptions } from './reliable.ts'
import { fromFlight, isRenewalFlight, renewalEphemeral, renewalPrologue, renewalProtocol, reverifyPeer, toFlight } from './renewal.ts'
import type { ChannelAuthenticator, PeerInfo } from './auth.ts'
import { countFailure, type Delivery } from './options.ts'

/** What every channel of one listener (or one initiator call) shares: immutable per-endpoint state. */
export interface ChannelContext {
  node: Node
  role: 'initiator' | 'responder'
  protocol: NoiseProtocol
  s: StaticKey
  auth: ChannelAuthenticator
  crypto: CryptoProvider
  clock: Clock
  limits: ChannelLimits
  reliable?: ReliableOptions
  /** Initiator: the route the channel was made through (the listener): renewal's fallback to reach the peer's endpoint. */
  listenerRoute?: Route
}

/**
 * Where a channel is: `open`; `renewing` (initiator: a renewal runs, from
 * re-verifying the peer to flight 2); `answering` (responder: a renewal
 * flight 1 is being read and answered, one at a time); `closed`, final.
 */
export type ChannelState = 'open' | 'renewing' | 'answering' | 'closed'

/**
 * The channel's named timer events (channel/timers.ts): `idle` (reaping
 * check), `keepalive` (passive keep-alive due), `renewal-retransmit`
 * (initiator: renewal flight 1 again), `renewal-confirm` (initiator: confirm
 * a renewed session when nothing else goes out), `peer-renewal` (responder:
 * end of the wait for the initiator's renewal).
 */
type ChannelTimer = 'idle' | 'keepalive' | 'renewal-retransmit' | 'renewal-confirm' | 'peer-renewal'

/** Initiator: the renewal waiting for its flight 2. */
interface RenewalWait {
  epoch: number
  hs: HandshakeState
  flight1: Uint8Array
  attempts: number
  busy: boolean
  done: (err?: unknown) => void
}

/** Responder: a renewal flight 1 read for `epoch`, to be answered. */
interface ReadFlight1 {
  hs: HandshakeState
  e: KeyPair
  epoch: number
}

const EMPTY = new Uint8Array(0)
/** Bytes of the binding tag that names a channel to its listener in a renewal's fallback route. */
const BINDING_TAG_BYTES = 8

/** One end of an established channel. */
export class SecureChannel {
  /** Send plaintext here (a local worker address): it reaches the peer sealed. */
  readonly enc: Address
  /** The peer's messages arrive here. */
  readonly dec: Address
  private peerInfo: PeerInfo
  private remote: Route
  private current: ChannelSession
  private next: ChannelSession | undefined
  private previous: ChannelSession | undefined
  /** The first handshake's hash: binds renewals to this channel. */
  private readonly channelBinding: Uint8Array
  /** The peer's identity payload of the first handshake (empty for known peers), re-verified at each renewal. */
  private readonly peerPayload: Uint8Array
  private deliverTo: Delivery | undefined
  private sender: ReliableSender | undefined
  private receiver: ReliableReceiver<IncomingMeta> | undefined
  /** Made when the first event is armed: a channel with no armed timer (idle reaping off, nothing pending) holds none. */
  private timers_: Timers<SecureChannel, ChannelTimer> | undefined
  /** Clock ms of the last authenticated message from the peer. */
  private lastHeard: number
  /** Clock ms of the first message sealed after the last one heard (-1: none since). */
  private silentSince = -1
  /** Clock ms when the last renewal started (paces renewals the silence triggers). */
  private lastRenewalStart = -Infinity
  /** Data arrived and nothing was sealed since (a passive keep-alive is due). */
  private owesKeepalive = false
  private state_: ChannelState = 'open'
  private closeError: HopsealError | undefined
  private renewals_ = 0
  /** Initiator, while `renewing`: the running renewal, shared by every caller of renew(). */
  private renewal: Promise<void> | undefined
  private renewWait: RenewalWait | undefined
  /** Responder: the last renewal flight 1 answered and its flight 2 (a retransmitted flight 1 gets the same answer). */
  private renewAnswer: { flight1: Uint8Array; flight2: Uint8Array } | undefined
  /** The session a RENEW request was last sent in, and when. */
  private renewRequested: ChannelSession | undefined
  private renewRequestedAt = 0
  private renewRequestGap = 0
  /** Responder: the wait for the initiator's renewal, shared by every sender. */
  private peerRenewal: Promise<void> | undefined
  private readonly onCloseHandlers: ((error: HopsealError | undefined) => void)[] = []
  private onRenewHandlers: (() => void)[] | undefined
  private peerMetaCache: NonNullable<IncomingMeta['peer']> | undefined
  private peerMetaFor: PeerInfo | undefined

  /** @internal */
  constructor(
    private readonly ctx: ChannelContext,
    session: ChannelSession,
    init: { enc: Address; dec: Address; remote: Route; peer: PeerInfo; peerPayload?: Uint8Array; deliverTo?: Delivery },
  ) {
    this.enc = init.enc
    this.dec = init.dec
    this.remote = init.remote
    this.peerInfo = init.peer
    this.peerPayload = init.peerPayload && init.peerPayload.length > 0 ? init.peerPayload.slice() : EMPTY
    this.current = session
    this.channelBinding = session.handshakeHash // public, never wiped: kept by reference
    this.deliverTo = init.deliverTo
    this.lastHeard = ctx.clock.now()
    const node = ctx.node
    if (ctx.reliable) {
      const count = (r: string): void => node.count(r)
      this.sender = new ReliableSender(ctx.reliable, ctx.clock, (framed) => this.sendSealed(MessageType.DATA, framed), count)
      this.receiver = new ReliableReceiver(
        ctx.reliable,
        (payload, meta) => this.deliver(payload, meta),
        async (next, sack) => void (await this.sendSealed(MessageType.CONTROL, concat(Uint8Array.of(Control.ACK), encodeVarint(next), sack))),
        count,
      )
    }
    node.startWorker(this.enc, async (_ctx, msg) => {
      if (msg.onward.length === 0) {
        if (this.sender) this.sender.send(msg.payload).catch(() => node.count('reliable.local_send_failed'))
        else await this.sendSealed(MessageType.DATA, msg.payload)
        return
      }
      // The inner return route travels too, so replies find their way back through this channel.
      await this.sendSealed(MessageType.ROUTED, encodeRoutingMessage({ onward: msg.onward, returnRoute: msg.returnRoute, payload: msg.payload }, node.limits))
    })
    this.armIdle()
  }

  /** Who the peer is (re-verified at each renewal). */
  get peer(): PeerInfo {
    return this.peerInfo
  }

  get protocol(): NoiseProtocol {
    return this.ctx.protocol
  }

  /** The session this side seals with now. */
  get session(): ChannelSession {
    return this.current
  }

  /** Completed renewals (new handshakes behind this object). */
  get renewals(): number {
    return this.renewals_
  }

  /** Why the channel closed: undefined for an ordinary close, else the typed error (e.g. CHANNEL_PEER_REFUSED). */
  get closeReason(): HopsealError | undefined {
    return this.closeError
  }

  /**
   * Sends one application message to the worker behind the peer's endpoint.
   * In reliable mode it resolves once the peer acknowledged it. An initiator
   * whose session passed its hard limit (a device waking after a long sleep)
   * renews first, then sends.
   * @throws CHANNEL_CLOSED, CHANNEL_EXPIRED (a responder whose peer has not renewed), CHANNEL_HANDSHAKE_TIMEOUT (renewal unanswered)
   */
  async send(payload: Uint8Array): Promise<void> {
    if (this.closed) throw this.closedError()
    if (this.sender) return this.sender.send(payload)
    await this.sendSealed(MessageType.DATA, payload)
  }

  /** Unacknowledged reliable messages. */
  get unacked(): number {
    return this.sender?.unacked ?? 0
  }

  /** Sets where the peer's messages are delivered (a worker address becomes channel-only: Node.requireChannel). */
  onMessage(deliver: Delivery): void {
    if (typeof deliver !== 'function') this.ctx.node.requireChannel(deliver)
    this.deliverTo = deliver
  }

  /** Runs `fn` when the channel closes, with the typed reason when it did not close normally. */
  onClose(fn: (error: HopsealError | undefined) => void): void {
    this.onCloseHandlers.push(fn)
  }

  /** Runs `fn` after each completed renewal. */
  onRenew(fn: () => void): void {
    ;(this.onRenewHandlers ??= []).push(fn)
  }

  /** When this channel last heard from its peer (clock ms): the listener evicts the idlest first. */
  get lastHeardAt(): number {
    return this.lastHeard
  }

  get isClosed(): boolean {
    return this.state_ === 'closed'
  }

  /** Where the channel is: open, renewing (initiator), answering a renewal (responder), closed. */
  get state(): ChannelState {
    return this.state_
  }

  private get timers(): Timers<SecureChannel, ChannelTimer> {
    return (this.timers_ ??= new Timers(this.ctx.clock, this))
  }

  private get closed(): boolean {
    return this.state_ === 'closed'
  }

  /** The route to the peer's `dec` (follows the peer's latest authenticated return route). */
  get remoteRoute(): Route {
    return this.remote
  }

  /**
   * Renews the session now. The initiator runs a KK handshake with the peer's
   * endpoint; the responder asks the initiator to (an encrypted RENEW) and
   * resolves when the new session is in use.
   * @throws CHANNEL_CLOSED, CHANNEL_PEER_REFUSED (the peer is no longer acceptable), CHANNEL_HANDSHAKE_TIMEOUT, CHANNEL_EXPIRED
   */
  renew(): Promise<void> {
    if (this.closed) return Promise.reject(this.closedError())
    if (this.ctx.role === 'responder') return this.awaitPeerRenewal()
    if (this.renewal) return this.renewal
    this.state_ = 'renewing'
    this.renewal = this.runRenewal().finally(() => {
      this.renewal = undefined
      if (this.state_ === 'renewing') this.state_ = 'open'
    })
    return this.renewal
  }

  /** Sends an encrypted close and tears down both local addresses. */
  async close(): Promise<void> {
    if (this.closed) return
    try {
      await this.sendSealed(MessageType.CONTROL, Uint8Array.of(Control.CLOSE))
    } catch {
      /* best effort */
    }
    this.teardown()
  }

  /** @internal the dec worker's handler for the peer's messages. */
  async receive(bytes: Uint8Array, returnRoute: Route, meta: IncomingMeta): Promise<void> {
    if (this.closed) return
    if (isRenewalFlight(bytes)) return this.onRenewalFlight(bytes, returnRoute)
    const node = this.ctx.node
    if (this.previous?.receiveExpired) this.dropPrevious()
    const found = this.openWithLiveSession(bytes)
    if (!found) return
    const { from, opened, topBefore } = found
    if (from === this.next) this.promoteNext()
    this.heard()
    // Mobility: follow the latest authenticated return route.
    if (from === this.current && opened.counter > topBefore && returnRoute.length > 0) this.remote = returnRoute
    if (this.ctx.role === 'initiator' && from === this.current && this.current.sendState() !== 'ok') this.renewInBackground()
    const peerMeta: IncomingMeta = { ...meta, peer: this.peerMeta() }
    switch (opened.type) {
      case MessageType.DATA:
        node.count('channel.delivered')
        this.noteDataIn()
        if (this.receiver) await this.receiver.receive(opened.plaintext, peerMeta)
        else await this.deliver(opened.plaintext, peerMeta)
        return
      case MessageType.ROUTED:
        return this.onRouted(opened.plaintext, peerMeta)
      case MessageType.CONTROL:
        return this.onControl(opened.plaintext, from)
    }
  }

  /** The `peer` of IncomingMeta for this channel's messages, made once per peerInfo (re-verification at a renewal replaces peerInfo). */
  private peerMeta(): NonNullable<IncomingMeta['peer']> {
    const peer = this.peerInfo
    if (this.peerMetaFor !== peer || !this.peerMetaCache) {
      this.peerMetaFor = peer
      this.peerMetaCache = Object.freeze({ channel: addressKey(this.enc), ...(peer.identifier ? { identifier: peer.identifier } : {}), ...(peer.attributes ? { attributes: peer.attributes } : {}) })
    }
    return this.peerMetaCache
  }

  /**
   * Opens with the current session first, then a renewed one the initiator
   * may already use, then the one before (messages in flight). A drop is
   * counted once, on the current session, with the first session's reason.
   */
  private openWithLiveSession(bytes: Uint8Array): { from: ChannelSession; opened: Opened; topBefore: bigint } | undefined {
    const cur = this.current
    const top = cur.highestReceived
    const first = cur.tryOpen(bytes)
    if (typeof first !== 'string') return { from: cur, opened: first, topBefore: top }
    const reason: DropReason = first
    for (const s of [this.next, this.previous]) {
      if (!s) continue
      const topBefore = s.highestReceived
      const r = s.tryOpen(bytes)
      if (typeof r !== 'string') return { from: s, opened: r, topBefore }
    }
    this.current.countDrop(reason)
    this.ctx.node.count('channel.drop')
    return undefined
  }

  /** A ROUTED message: the inner routing message goes on from here, its return route through this channel. */
  private async onRouted(plaintext: Uint8Array, peerMeta: IncomingMeta): Promise<void> {
    const node = this.ctx.node
    let inner
    try {
      inner = decodeRoutingMessage(plaintext, node.limits)
    } catch {
      node.count('channel.drop.inner_decode')
      return
    }
    if (inner.onward.length === 0) {
      node.count('channel.drop.inner_decode')
      return
    }
    node.count('channel.delivered')
    this.noteDataIn()
    await node.route({ onward: inner.onward, returnRoute: [this.enc, ...inner.returnRoute], payload: inner.payload }, peerMeta)
  }

  private onControl(p: Uint8Array, from: ChannelSession): void {
    const node = this.ctx.node
    switch (p[0]) {
      case Control.CLOSE:
        this.teardown(p[1] === CloseReason.PEER_REFUSED ? new HopsealError(ErrorCode.CHANNEL_PEER_REFUSED, 'the peer refused to renew the channel') : undefined)
        return
      case Control.KEEPALIVE:
        node.count('channel.keepalive_received')
        if (p.length > 1) {
          // The peer's report: one past the highest counter it accepted in this session.
          try {
            const v = decodeVarint(p, 1)
            if (v.value > 0) from.confirm(BigInt(v.value - 1))
          } catch {
            node.count('channel.drop.bad_keepalive')
          }
        }
        return
      case Control.ACK:
        if (!this.sender) return
        try {
          const v = decodeVarint(p, 1)
          const sack = p.subarray(1 + v.length)
          if (sack.length > MAX_SACK_BYTES) throw new RangeError('sack too long')
          this.sender.onAck(v.value, sack)
        } catch {
          node.count('channel.drop.bad_ack')
        }
        return
      case Control.RENEW:
        node.count('channel.renewal.requested_by_peer')
        if (this.ctx.role === 'initiator') this.renewInBackground()
        return
      default:
        node.count('channel.drop.unknown_control')
    }
  }

  private async deliver(payload: Uint8Array, meta: IncomingMeta): Promise<void> {
    const d = this.deliverTo
    if (!d) {
      this.ctx.node.count('channel.drop.no_destination')
      return
    }
    if (typeof d === 'function') d(payload, this.peerInfo, this)
    else await this.ctx.node.route({ onward: [d], returnRoute: [this.enc], payload }, meta)
  }

  /**
   * Seals and sends one message with the session that may seal now (renewing
   * first where the initiator must). Resolves with a callback that confirms
   * the message's counter (for reliable mode's ACKs).
   */
  private async sendSealed(type: MessageType, plaintext: Uint8Array): Promise<() => void> {
    if (this.closed) throw this.closedError()
    // The common case (the current session may seal) without a microtask hop.
    const s = this.current.sendState() === 'ok' ? this.current : await this.sealingSession()
    const sealed = s.seal(type, plaintext)
    const counter = s.messagesSent - 1n
    this.owesKeepalive = false
    this.noteSent()
    await this.ctx.node.route({ onward: this.remote, returnRoute: [this.dec], payload: sealed }, {})
    return () => s.confirm(counter)
  }

  private async sealingSession(): Promise<ChannelSession> {
    const state = this.current.sendState()
    if (state === 'ok') return this.current
    if (this.ctx.role === 'initiator') {
      if (state === 'renew') {
        this.renewInBackground()
        return this.current
      }
      await this.renew()
      if (this.closed) throw this.closedError()
      return this.current
    }
    if (state === 'renew') {
      this.requestRenewal()
      return this.current
    }
    // Past the hard limit: a renewed session the initiator made is usable even before it confirmed it;
    // otherwise ask the initiator to renew (a RENEW is accepted past the hard limit) and wait for it.
    if (this.next) {
      this.promoteNext()
      return this.current
    }
    await this.awaitPeerRenewal()
    if (this.closed) throw this.closedError()
    return this.current
  }

  private heard(): void {
    this.lastHeard = this.ctx.clock.now()
    this.silentSince = -1
  }

  /**
   * The initiator's path check: it keeps sending messages that call for an
   * answer (reliable mode, keep-alive on) and hears nothing: renew, which
   * probes the path and falls back to the listener's route (a gateway that
   * restarted forgot the route to the peer's endpoint). Paced by renewAfterSilenceMs.
   */
  private noteSent(): void {
    const { clock, limits, role } = this.ctx
    if (role !== 'initiator' || !limits.renewAfterSilenceMs || (!this.sender && !limits.keepaliveMs)) return
    const now = clock.now()
    if (this.silentSince < 0) this.silentSince = now
    else if (now - this.silentSince >= limits.renewAfterSilenceMs && now - this.lastRenewalStart >= limits.renewAfterSilenceMs && this.state_ !== 'renewing') {
      this.ctx.node.count('channel.renewal.silence')
      this.renewInBackground()
    }
  }

  private renewInBackground(): void {
    if (this.state_ !== 'open') return
    this.renew().catch((e: unknown) => countFailure(this.ctx.node, e, 'channel.renewal.failed'))
  }

  /**
   * Responder: asks the initiator to renew, sealed in the current session
   * (past its hard limit too: RENEW is the one message a receiver opens
   * then). Once per session; again only when the request may have been lost,
   * at intervals that double from the renewal retransmission interval up to
   * its maximum (on a duty-cycled radio a request with every ACK would eat the
   * downlink budget the renewal itself needs).
   */
  private requestRenewal(): void {
    const now = this.ctx.clock.now()
    const r = this.ctx.limits.renewRetransmit
    if (this.renewRequested === this.current) {
      if (now - this.renewRequestedAt < this.renewRequestGap) return
      this.renewRequestGap = Math.min(this.renewRequestGap * 2, r.maxMs)
    } else this.renewRequestGap = r.initialMs
    if (this.closed || this.current.isClosed) return
    this.renewRequested = this.current
    this.renewRequestedAt = now
    const sealed = this.current.sealRenewRequest()
    this.ctx.node.count('channel.renewal.requested')
    this.ctx.node.route({ onward: this.remote, returnRoute: [this.dec], payload: sealed }, {}).catch(() => this.ctx.node.count('channel.renewal.request_failed'))
  }

  /** Responder: sends RENEW and resolves at the next renewal (rejects on close, or after the renewal retransmission span). */
  private awaitPeerRenewal(): Promise<void> {
    this.requestRenewal()
    this.peerRenewal ??= new Promise<void>((resolve, reject) => {
      const r = this.ctx.limits.renewRetransmit
      const before = this.renewals_
      this.timers.arm('peer-renewal', retransmitSpan(r), () => settle(new HopsealError(ErrorCode.CHANNEL_HANDSHAKE_TIMEOUT, 'the peer did not renew the channel')))
      const settle = (e?: HopsealError): void => {
        if (this.peerRenewal !== wait) return
        this.peerRenewal = undefined
        this.timers_?.disarm('peer-renewal')
        if (e) reject(e)
        else resolve()
      }
      this.onRenew(() => this.renewals_ > before && settle())
      this.onClose((e) => settle(e ?? new HopsealError(ErrorCode.CHANNEL_CLOSED, 'channel closed before the renewal')))
    })
    const wait = this.peerRenewal
    return wait
  }

  /** A KK handshake state for the renewal to `epoch`, with an ephemeral that can lead a flight. */
  private renewalHandshake(initiator: boolean, epoch: number): { hs: HandshakeState; e: KeyPair } {
    const { crypto, s, protocol } = this.ctx
    const p = renewalProtocol(protocol)
    const e = renewalEphemeral(crypto, p)
    const hs = HandshakeState.create({ protocol: p, initiator, s, rs: this.peerInfo.staticKey, prologue: renewalPrologue(this.channelBinding, epoch), crypto, e: () => Promise.resolve(softwareStaticKey(crypto, e)) })
    return { hs, e }
  }

  /** Initiator: one renewal, flight 1 retransmitted with backoff until a valid flight 2. */
  private async runRenewal(): Promise<void> {
    const { node, clock } = this.ctx
    node.count('channel.renewal.started')
    this.lastRenewalStart = clock.now()
    await this.reverify()
    const epoch = this.current.epoch + 1
    const { hs, e } = this.renewalHandshake(true, epoch)
    const flight1 = toFlight(hs.protocol, await hs.writeMessage(EMPTY))
    await new Promise<void>((resolve, reject) => {
      const wait: RenewalWait = {
        epoch,
        hs,
        flight1,
        attempts: 0,
        busy: false,
        done: (err) => {
          if (this.renewWait !== wait) return
          this.renewWait = undefined
          this.timers_?.disarm('renewal-retransmit')
          wipe(e.privateKey)
          if (err) {
            hs.destroy()
            reject(err as Error)
          } else resolve()
        },
      }
      this.renewWait = wait
      this.sendRenewalFlight(wait)
    })
  }

  /** Initiator: sends renewal flight 1 (again) and arms the renewal retransmit event, or ends the wait after the last attempt. */
  private sendRenewalFlight(wait: RenewalWait): void {
    if (this.renewWait !== wait) return
    if (this.closed) return wait.done(this.closedError())
    const node = this.ctx.node
    const r: RetransmitOptions = this.ctx.limits.renewRetransmit
    if (wait.attempts >= r.attempts) return wait.done(new HopsealError(ErrorCode.CHANNEL_HANDSHAKE_TIMEOUT, `renewal unanswered after ${wait.attempts} attempts`))
    if (wait.attempts > 0) node.count('channel.renewal.retransmitted')
    wait.attempts++
    // Every second attempt goes through the listener's route to the peer's endpoint, in case the remote route died.
    const fallback = wait.attempts % 2 === 0 ? this.fallbackRoute() : undefined
    if (fallback) node.count('channel.renewal.via_listener')
    node.route({ onward: fallback ?? this.remote, returnRoute: [this.dec], payload: wait.flight1 }, {}).catch(() => node.count('channel.renewal.send_failed'))
    this.timers.arm('renewal-retransmit', Math.min(r.initialMs * 2 ** (wait.attempts - 1), r.maxMs), (ch) => ch.sendRenewalFlight(wait))
  }

  /** A renewal flight arrived at `dec`: flight 2 at the initiator, flight 1 at the responder. */
  private onRenewalFlight(bytes: Uint8Array, returnRoute: Route): Promise<void> {
    return this.ctx.role === 'initiator' ? this.onFlight2(bytes, returnRoute) : this.onFlight1(bytes, returnRoute)
  }

  /** Initiator: flight 2 of the running renewal; a valid one installs the renewed session. */
  private async onFlight2(bytes: Uint8Array, returnRoute: Route): Promise<void> {
    const node = this.ctx.node
    const w = this.renewWait
    if (!w || w.busy) {
      node.count('channel.renewal.unexpected_flight')
      return
    }
    w.busy = true
    try {
      await w.hs.readMessage(fromFlight(w.hs.protocol, bytes))
    } catch (e) {
      // A forged or corrupted flight 2 moved nothing: keep waiting for the genuine one.
      countFailure(node, e, 'channel.renewal.failed')
      return
    } finally {
      w.busy = false
    }
    if (this.renewWait !== w || this.closed) return
    // The way flight 2 came is a working way to the peer's endpoint (it may be new: a gateway restarted).
    if (returnRoute.length > 0) this.remote = returnRoute
    const fresh = new ChannelSession(w.hs.finish(), this.ctx.clock, this.ctx.limits.session, w.epoch)
    this.install(fresh)
    w.done()
    this.sender?.retransmitFailed()
    // The responder seals with the old keys until a message under the new ones arrives: when nothing
    // else goes out right away (a send that waited for this renewal does), a keep-alive confirms them.
    this.timers.arm('renewal-confirm', 0, (ch) => {
      if (ch.current === fresh && fresh.messagesSent === 0n) ch.sendKeepalive()
    })
  }

  /** Responder: the initiator's renewal flight 1. A retransmitted one gets the same flight 2; a new one is read and answered, one at a time. */
  private async onFlight1(bytes: Uint8Array, returnRoute: Route): Promise<void> {
    const node = this.ctx.node
    const answered = this.renewAnswer
    if (answered && equalConstantTime(answered.flight1, bytes)) {
      node.count('channel.renewal.retransmit_answered')
      await node.route({ onward: returnRoute, returnRoute: [this.dec], payload: answered.flight2 }, {})
      return
    }
    if (this.state_ === 'answering') {
      node.count('channel.renewal.busy')
      return
    }
    this.state_ = 'answering'
    try {
      const made = await this.readFlight1(bytes)
      if (made) await this.answerFlight1(made, bytes, returnRoute)
    } catch (e) {
      countFailure(node, e, 'channel.renewal.failed')
    } finally {
      if (this.state_ === 'answering') this.state_ = 'open'
    }
  }

  /**
   * Responder: reads flight 1 for the epoch after the current session; while a renewed session
   * awaits confirmation, the initiator may already have it (its confirmation was lost) and renew
   * once more: that epoch is tried too. Undefined (the failure counted) when neither reads it.
   */
  private async readFlight1(bytes: Uint8Array): Promise<ReadFlight1 | undefined> {
    const epochs = [this.current.epoch + 1]
    if (this.next) epochs.push(this.next.epoch + 1)
    let failure: unknown
    for (const epoch of epochs) {
      const { hs, e } = this.renewalHandshake(false, epoch)
      try {
        await hs.readMessage(fromFlight(hs.protocol, bytes))
        return { hs, e, epoch }
      } catch (err) {
        failure = err
        hs.destroy()
        wipe(e.privateKey)
      }
    }
    countFailure(this.ctx.node, failure, 'channel.renewal.failed')
    return undefined
  }

  /** Responder: re-verifies the peer, answers with flight 2 and keeps the renewed session as `next` until the initiator uses it. */
  private async answerFlight1(made: ReadFlight1, flight1: Uint8Array, returnRoute: Route): Promise<void> {
    try {
      await this.reverify()
      const flight2 = toFlight(made.hs.protocol, await made.hs.writeMessage(EMPTY))
      if (this.closed) return
      if (made.epoch > this.current.epoch + 1) this.promoteNext() // the initiator had the renewed session: it is confirmed
      this.next?.close()
      this.next = new ChannelSession(made.hs.finish(), this.ctx.clock, this.ctx.limits.session, made.epoch)
      this.renewAnswer = { flight1: flight1.slice(), flight2 }
      this.ctx.node.count('channel.renewal.answered')
      await this.ctx.node.route({ onward: returnRoute, returnRoute: [this.dec], payload: flight2 }, {})
    } finally {
      made.hs.destroy()
      wipe(made.e.privateKey)
    }
  }

  /**
   * The listener's route followed by this channel's binding tag: the
   * listener hands a renewal flight with that tag to the channel it belongs
   * to (routes to the peer's endpoint can die with a gateway's alias table;
   * the listener's route is configuration and survives).
   */
  private fallbackRoute(): Route | undefined {
    const via = this.ctx.listenerRoute
    return via ? [...via, local(this.bindingTag)] : undefined
  }

  /** @internal The first bytes of the first handshake hash: names this channel to its listener (public: the handshake hash is a function of the public transcript). */
  get bindingTag(): Uint8Array {
    return this.channelBinding.subarray(0, BINDING_TAG_BYTES)
  }

  /**
   * Checks the peer against the authenticator again. A refusal closes the
   * channel on both ends with CHANNEL_PEER_REFUSED (an encrypted CLOSE with
   * that reason, while a session can still seal) and is rethrown.
   */
  private async reverify(): Promise<void> {
    try {
      this.peerInfo = await reverifyPeer(this.ctx.auth, this.peerInfo, this.peerPayload)
    } catch (e) {
      const refused = new HopsealError(ErrorCode.CHANNEL_PEER_REFUSED, `renewal refused: the peer is no longer acceptable (${e instanceof Error ? e.message : String(e)})`, { cause: e })
      this.ctx.node.count('channel.renewal.refused')
      try {
        const sealed = this.current.seal(MessageType.CONTROL, Uint8Array.of(Control.CLOSE, CloseReason.PEER_REFUSED))
        await this.ctx.node.route({ onward: this.remote, returnRoute: [this.dec], payload: sealed }, {})
      } catch {
        /* the session cannot seal any more: the peer's renewal times out instead */
      }
      this.teardown(refused)
      throw refused
    }
  }

  /** Initiator: the renewed session becomes the sealing one; the old one keeps opening what is in flight. */
  private install(fresh: ChannelSession): void {
    this.dropPrevious()
    this.previous = this.current
    this.current = fresh
    this.renewed()
  }

  /** Responder: the initiator used the renewed session, so this side seals with it too. */
  private promoteNext(): void {
    const next = this.next
    if (!next) return
    this.next = undefined
    this.dropPrevious()
    this.previous = this.current
    this.current = next
    this.renewed()
  }

  private renewed(): void {
    this.renewals_++
    this.heard()
    this.ctx.node.count('channel.renewed')
    for (const fn of this.onRenewHandlers ?? []) fn()
    if (this.ctx.role === 'responder') this.sender?.retransmitFailed()
  }

  private dropPrevious(): void {
    this.previous?.close()
    this.previous = undefined
  }

  /** A keep-alive with this side's report: one past the highest counter accepted in the session it is sealed in. */
  private sendKeepalive(): void {
    if (this.closed) return
    const report = this.current.highestReceived + 1n
    this.sendSealed(MessageType.CONTROL, concat(Uint8Array.of(Control.KEEPALIVE), encodeVarint(Number(report)))).then(
      () => this.ctx.node.count('channel.keepalive_sent'),
      () => this.ctx.node.count('channel.keepalive_failed'),
    )
  }

  /** Passive keep-alive: when data arrived and nothing goes back within keepaliveMs, answer with a keep-alive. */
  private noteDataIn(): void {
    const ms = this.ctx.limits.keepaliveMs
    if (!ms) return
    this.owesKeepalive = true
    if (!this.timers_?.isArmed('keepalive')) this.timers.arm('keepalive', ms, SecureChannel.keepaliveDue, 'background')
  }

  /** The keep-alive event: shared by every channel, so an armed event holds no closure of its own. */
  private static readonly keepaliveDue = (ch: SecureChannel): void => {
    if (!ch.closed && ch.owesKeepalive) ch.sendKeepalive()
  }

  /**
   * Idle reaping: a channel that heard nothing from its peer for idleTimeoutMs
   * and whose session can no longer seal is closed; a channel with a valid
   * session is never closed for idleness (a sleepy device may stay silent for
   * hours and then send without a handshake).
   */
  private armIdle(): void {
    const ms = this.ctx.limits.idleTimeoutMs
    if (!ms) return
    const clock = this.ctx.clock
    const sinceHeard = clock.now() - this.lastHeard
    const untilExpiry = this.current.born + this.current.limits.rejectAfterMs - clock.now()
    this.timers.arm('idle', Math.max(ms - sinceHeard, untilExpiry, 1), SecureChannel.idleDue, 'background')
  }

  /** The idle event: close when silent for idleTimeoutMs with a session that cannot seal, else check again later. */
  private static readonly idleDue = (ch: SecureChannel): void => {
    if (ch.closed) return
    if (ch.ctx.clock.now() - ch.lastHeard >= ch.ctx.limits.idleTimeoutMs && ch.current.sendState() === 'expired' && ch.state_ !== 'renewing') {
      ch.ctx.node.count('channel.idle_closed')
      ch.teardown(new HopsealError(ErrorCode.CHANNEL_EXPIRED, 'channel idle past its idle timeout with an expired session'))
    } else ch.armIdle()
  }

  private closedError(): HopsealError {
    return this.closeError ?? new HopsealError(ErrorCode.CHANNEL_CLOSED, 'channel is closed')
  }

  /** @internal */
  teardown(error?: HopsealError): void {
    if (this.closed) return
    this.state_ = 'closed'
    this.closeError = error
    this.timers_?.clear()
    this.renewWait?.done(this.closedError())
    this.sender?.fail(error ?? new HopsealError(ErrorCode.CHANNEL_CLOSED, 'channel closed before the message was acknowledged'))
    this.current.close()
    this.next?.close()
    this.previous?.close()
    this.ctx.node.stopWorker(this.enc)
    this.ctx.node.stopWorker(this.dec)
    for (const fn of this.onCloseHandlers) fn(error)
  }
}

/** The longest a flight's retransmission schedule runs (ms). */
export function retransmitSpan(r: RetransmitOptions): number {
  let t = 0
  for (let i = 0; i < r.attempts; i++) t += Math.min(r.initialMs * 2 ** i, r.maxMs)
  return t
}
