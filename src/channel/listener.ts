/** The responder side: a listener that answers first flights and establishes channels. */
import { ErrorCode, HopsealError, isHopsealError } from '../errors.ts'
import { equalConstantTime, toHex, wipe } from '../bytes/index.ts'
import { defaultCryptoProvider, type CryptoProvider } from '../crypto/index.ts'
import { HandshakeState, parseProtocolName, type NoiseProtocol, type StaticKey } from '../noise/index.ts'
import { addressKey, TransportType, type Address, type Route } from '../routing/address.ts'
import type { IncomingMeta, Node } from '../routing/node.ts'
import type { RoutingMessage } from '../routing/codec.ts'
import { systemClock, type Clock } from './clock.ts'
import { ChannelSession } from './session.ts'
import { Slots, yieldToEventLoop } from './slots.ts'
import { CANDIDATES_PER_YIELD, COOKIE_BYTES, COOKIE_LOAD_MSG1_PER_S, DEFAULT_MAX_CHANNELS, DEFAULT_MAX_HANDSHAKES_IN_PROGRESS, DEFAULT_MAX_HANDSHAKES_QUEUED, DEFAULT_MAX_REMEMBERED_PEERS, HANDSHAKE_TIMEOUT_WITHOUT_RETRANSMIT_MS, PENDING_MAX_WAIT_MS } from './constants.ts'
import { Timers } from './timers.ts'
import { AcceptedCounters, carriesHandshakeCounter, readCounter } from './handshake-counter.ts'
import { ArrivalRate, CookieJar } from './cookie.ts'
import { isRenewalFlight } from './renewal.ts'
import type { PeerInfo } from './auth.ts'
import { SecureChannel, type ChannelContext } from './channel.ts'
import { basePattern, CHANNEL_PATTERNS, channelLimits, guardDelivery, countFailure, identityPayload, sendsStaticIn, reliableOptions, type ListenerOptions, type RetransmitOptions } from './options.ts'

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
  /** `msg3-wait`: the end of the wait for message 3 (then the handshake is dropped, counted as a timeout). */
  timers: Timers<SecureChannelListener, 'msg3-wait'>
  resent: number
  /** When msg 2 last went out (clock ms). */
  lastSent: number
  /** Messages at `dec` are handled one after another: data that arrives with msg 3 waits for it instead of meeting a busy handshake. */
  queue: Promise<void>
  /** Set once msg 3 established the channel: what was queued behind msg 3 goes to it. */
  channel?: SecureChannel
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
  /** The initiator's message-1 schedule as this listener assumes it (msg3-wait, msg2 re-sends): `retransmit`, else the medium's. */
  private readonly retransmit: RetransmitOptions | undefined
  /** Shared by every channel this listener establishes. */
  private readonly context: ChannelContext
  /** Message-1 flights being worked on or queued, by their first bytes. */
  private readonly inProgress = new Map<string, Promise<void>>()
  private readonly slots: Slots
  private readonly counters: AcceptedCounters | undefined
  private readonly cookies: CookieJar
  private readonly arrivals: ArrivalRate
  /** KK: `ss` with each known initiator, computed once (as WireGuard precomputes its static-static DH), so a message 1 costs one DH (`es`) whatever the number of initiators. */
  private readonly staticStatic = new Map<string, Promise<Uint8Array>>()
  /** KK: which initiator last handshook from a return route, tried first. */
  private readonly lastPeerAt = new Map<string, Uint8Array>()

  constructor(
    private readonly node: Node,
    name: string | Address,
    private readonly opts: ListenerOptions,
  ) {
    this.protocol = typeof opts.protocol === 'string' ? parseProtocolName(opts.protocol) : opts.protocol
    if (!CHANNEL_PATTERNS.includes(basePattern(this.protocol))) {
      throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `a listener authenticates its initiators: use ${CHANNEL_PATTERNS.join(', ')}, not ${this.protocol.pattern.name}`)
    }
    this.crypto = opts.crypto ?? defaultCryptoProvider()
    this.clock = opts.clock ?? systemClock
    const limits = channelLimits(opts)
    this.retransmit = opts.retransmit === false ? undefined : (opts.retransmit ?? limits.renewRetransmit)
    const reliable = reliableOptions(opts.reliable, limits)
    guardDelivery(node, opts.deliverTo, opts.deliverToAnyone)
    this.slots = new Slots(opts.maxHandshakesInProgress ?? DEFAULT_MAX_HANDSHAKES_IN_PROGRESS)
    this.counters = carriesHandshakeCounter(this.protocol)
      ? (opts.acceptedCounters ?? new AcceptedCounters(DEFAULT_MAX_REMEMBERED_PEERS, [], () => node.count('handshake.counter_forgotten')))
      : undefined
    this.cookies = new CookieJar(this.crypto, this.clock)
    this.arrivals = new ArrivalRate(this.clock)
    this.context = { node, role: 'responder', protocol: this.protocol, s: opts.s, auth: opts.auth, crypto: this.crypto, clock: this.clock, limits, ...(reliable ? { reliable } : {}) }
    this.address = node.startWorker(name, async (_ctx, msg) => {
      if (msg.onward.length === 0) return this.onMessage1(msg.payload, msg.returnRoute, undefined)
      const head = msg.onward[0]
      if (msg.onward.length === 1 && head?.type === TransportType.LOCAL && head.value.length === COOKIE_BYTES) return this.onMessage1(msg.payload, msg.returnRoute, head.value)
      await this.forwardRenewal(msg.onward, msg.payload, msg.returnRoute)
    })
  }

  stop(): void {
    this.node.stopWorker(this.address)
    for (const p of this.pending.values()) this.dropPending(p)
    this.pending.clear()
    this.answered.clear()
    for (const c of this.channels) c.teardown()
    this.cookies.destroy()
    for (const v of this.staticStatic.values()) void v.then((ss) => wipe(ss), () => undefined)
    this.staticStatic.clear()
  }

  get pendingCount(): number {
    return this.pending.size
  }

  /**
   * Message 1: identical copies that arrive while the first is being worked on
   * wait for it and get its message 2 (a recorded message 1 replayed eight
   * times at once makes one channel, not eight). At most
   * `maxHandshakesInProgress` run at once, `maxHandshakesQueued` more wait,
   * anything beyond is dropped and counted: a burst of bogus flights costs
   * bounded memory and, with the yields between candidate keys, never holds
   * the event loop for more than one DH operation at a time.
   */
  private async onMessage1(msg1: Uint8Array, returnRoute: Route, cookie: Uint8Array | undefined): Promise<void> {
    if (returnRoute.length === 0) {
      this.node.count('handshake.failed.no_return_route')
      return
    }
    if (this.cookieRequired() && !(cookie && this.cookies.valid(cookie, returnRoute))) {
      // Under load, an unproved return route gets 17 bytes and costs no DH (cookie.ts).
      this.node.count(cookie ? 'handshake.cookie_invalid' : 'handshake.cookie_sent')
      if (cookie) return
      await this.node.route({ onward: returnRoute, returnRoute: [this.address], payload: this.cookies.reply(returnRoute) }, {})
      return
    }
    const key = toHex(msg1.subarray(0, Math.min(64, msg1.length)))
    const running = this.inProgress.get(key)
    if (running) {
      this.node.count('handshake.duplicate_in_progress')
      await running
      await this.answerAgain(key, returnRoute)
      return
    }
    if (await this.answerAgain(key, returnRoute)) return
    if (this.inProgress.size >= (this.opts.maxHandshakesInProgress ?? DEFAULT_MAX_HANDSHAKES_IN_PROGRESS) + (this.opts.maxHandshakesQueued ?? DEFAULT_MAX_HANDSHAKES_QUEUED)) {
      this.node.count('handshake.dropped_busy')
      return
    }
    const work = this.slots.run(() => this.respond(key, msg1, returnRoute))
    this.inProgress.set(key, work)
    try {
      await work
    } finally {
      this.inProgress.delete(key)
    }
  }

  /** Answers a message 1 already answered (established or pending) with the same message 2; false when it is new. */
  private async answerAgain(key: string, returnRoute: Route): Promise<boolean> {
    const again = this.answered.get(key)
    if (again && !again.channel.isClosed) {
      // A retransmitted msg1: answer with the same msg2 (no new state).
      this.node.count('handshake.retransmit_answered')
      await this.node.route({ onward: returnRoute, returnRoute: [again.channel.dec], payload: again.msg2 }, {})
      return true
    }
    const pendingAgain = this.pending.get(key)
    if (pendingAgain) {
      this.node.count('handshake.retransmit_answered')
      await this.node.route({ onward: returnRoute, returnRoute: [pendingAgain.dec], payload: pendingAgain.msg2 }, {})
      return true
    }
    return false
  }

  /** Cookies are asked for always, never, or (default) while message 1 flights arrive faster than the load threshold or the handshake queue is half full. */
  private cookieRequired(): boolean {
    const mode = this.opts.cookie ?? 'auto'
    if (mode === 'never') return false
    const rate = this.arrivals.hit()
    if (mode === 'always') return true
    const busy = (this.opts.maxHandshakesInProgress ?? DEFAULT_MAX_HANDSHAKES_IN_PROGRESS) + Math.floor((this.opts.maxHandshakesQueued ?? DEFAULT_MAX_HANDSHAKES_QUEUED) / 2)
    return rate > (this.opts.cookieLoadPerSecond ?? COOKIE_LOAD_MSG1_PER_S) || this.inProgress.size >= busy
  }

  private async respond(key: string, msg1: Uint8Array, returnRoute: Route): Promise<void> {
    let hs: HandshakeState
    let firstPayload: Uint8Array
    try {
      ;[hs, firstPayload] = await this.readFirst(msg1, returnRoute)
    } catch (e) {
      this.failed(e)
      return
    }
    try {
      const p = this.protocol
      const rs = hs.getRemoteStatic()
      // KK/IK: the handshake counter leads the payload; a replay stops here, before any state exists.
      let counter: number | undefined
      if (this.counters && rs) {
        const c = readCounter(firstPayload)
        this.counters.check(toHex(rs), c.counter)
        counter = c.counter
        firstPayload = c.rest
      }
      // Message 1 may carry the initiator's static (IK, KK by pre-message): authenticate now.
      let peer: PeerInfo | undefined
      if (rs && sendsStaticIn(p, true) !== 2) peer = await this.opts.auth.verify(rs, firstPayload)
      const peerPayload = firstPayload
      const mine = sendsStaticIn(p, false) === 1 ? await identityPayload(this.opts.auth) : new Uint8Array(0)
      const msg2 = await hs.writeMessage(mine)
      const dec = this.node.newAddress()
      const enc = this.node.newAddress()
      if (hs.isFinished()) {
        if (!peer) throw new HopsealError(ErrorCode.NOISE_MISSING_KEY, 'the handshake finished without authenticating the initiator')
        const ch = this.establish(hs, dec, enc, returnRoute, peer, peerPayload)
        if (counter !== undefined) this.counters?.accept(toHex(peer.staticKey), counter)
        this.rememberPeerAt(returnRoute, peer.staticKey)
        this.remember(key, msg2, ch)
      } else {
        this.addPending(key, { hs, dec, enc, msg1, msg2, returnRoute, timers: new Timers(this.clock, this), resent: 0, lastSent: this.clock.now(), queue: Promise.resolve() })
      }
      this.node.count('handshake.responded')
      await this.node.route({ onward: returnRoute, returnRoute: [dec], payload: msg2 }, {})
    } catch (e) {
      this.failed(e)
      hs.destroy()
    }
  }

  /**
   * A renewal flight sent through this listener (its initiator could not
   * reach the channel's endpoint): `[tag]` names the channel by its binding
   * tag; the flight goes on to that channel's endpoint, where it is
   * authenticated like any other. Anything else is dropped and counted.
   */
  private async forwardRenewal(onward: Route, payload: Uint8Array, returnRoute: Route): Promise<void> {
    const only = onward.length === 1 ? onward[0] : undefined
    const tag = only?.type === TransportType.LOCAL ? only.value : undefined
    const ch = tag && isRenewalFlight(payload) ? [...this.channels].find((c) => equalConstantTime(c.bindingTag, tag)) : undefined
    if (!ch) {
      this.node.count('handshake.failed.unknown_channel')
      return
    }
    this.node.count('channel.renewal.via_listener')
    await this.node.route({ onward: [ch.dec], returnRoute, payload }, {})
  }

  /**
   * Reads msg 1. KK: tries each known initiator static, the one that last
   * handshook from this return route first. Each candidate costs only
   * symmetric work: `es` is computed once per message 1 and `ss` once per
   * known initiator for the listener's lifetime (G13: one DH per message 1).
   */
  private async readFirst(msg1: Uint8Array, returnRoute: Route): Promise<[HandshakeState, Uint8Array]> {
    const needsRs = this.protocol.pattern.preInitiator.includes('s')
    const known = this.opts.initiatorStatics ?? []
    if (needsRs && known.length === 0) throw new HopsealError(ErrorCode.NOISE_MISSING_KEY, `${this.protocol.pattern.name} listener needs initiatorStatics`)
    const hint = needsRs ? this.lastPeerAt.get(routeKey(returnRoute)) : undefined
    const candidates: (Uint8Array | undefined)[] = !needsRs ? [undefined] : hint ? [hint, ...known.filter((k) => !equalConstantTime(k, hint))] : known
    const ephemeral = new Map<string, Promise<Uint8Array>>()
    const s: StaticKey = { type: this.opts.s.type, publicKey: this.opts.s.publicKey, dh: (peer) => {
      const k = toHex(peer)
      const cache = needsRs && this.knownInitiators().has(k) ? this.staticStatic : ephemeral
      let v = cache.get(k)
      if (!v) {
        v = Promise.resolve(this.opts.s.dh(peer))
        // A failed DH (a busy secure element) is not remembered.
        v.catch(() => cache.get(k) === v && cache.delete(k))
        cache.set(k, v)
        this.node.count('handshake.static_dh')
      }
      // Each handshake gets its own copy: a HandshakeState wipes what it used.
      return v.then((x) => x.slice())
    } }
    let last: unknown
    try {
      for (const [i, rs] of candidates.entries()) {
        // Let other work run between candidates: a KK listener with thousands of known peers stays responsive.
        if (i > 0 && i % CANDIDATES_PER_YIELD === 0) await yieldToEventLoop()
        const hs = HandshakeState.create({ protocol: this.protocol, initiator: false, s, crypto: this.crypto, ...(rs ? { rs } : {}), ...(this.opts.prologue ? { prologue: this.opts.prologue } : {}) })
        try {
          return [hs, await hs.readMessage(msg1)]
        } catch (e) {
          last = e
          hs.destroy()
        }
      }
    } finally {
      for (const v of ephemeral.values()) void v.then((x) => wipe(x), () => undefined)
    }
    // Same code, and a message that says what a refusal on message 1 means (for the operator's log; nothing goes on the wire).
    if (isHopsealError(last) && needsRs) throw new HopsealError(last.code, `message 1 authenticates under none of the ${candidates.length} known initiator key${candidates.length === 1 ? "" : "s"} (an unknown device, a device with the wrong key for this listener, or another Noise suite)`, { cause: last })
    if (isHopsealError(last)) throw new HopsealError(last.code, `message 1 refused: ${last.message.replace(/^[A-Z_]+: /, '')} (another Noise suite or pattern, or a corrupted flight)`, { cause: last })
    throw last
  }

  private rememberPeerAt(route: Route, staticKey: Uint8Array): void {
    const k = routeKey(route)
    this.lastPeerAt.delete(k)
    this.lastPeerAt.set(k, staticKey)
    if (this.lastPeerAt.size > DEFAULT_MAX_REMEMBERED_PEERS) {
      const oldest = this.lastPeerAt.keys().next()
      if (!oldest.done) this.lastPeerAt.delete(oldest.value)
    }
  }

  private knownHex: Set<string> | undefined
  /** The configured initiator keys (KK), as hex. */
  private knownInitiators(): Set<string> {
    this.knownHex ??= new Set((this.opts.initiatorStatics ?? []).map(toHex))
    return this.knownHex
  }

  /** A refused or failed handshake: silent on the wire, counted, and reported to `onHandshakeFailed`. */
  private failed(e: unknown): void {
    countFailure(this.node, e)
    try {
      this.opts.onHandshakeFailed?.(isHopsealError(e) ? e.code : 'ERROR', e)
    } catch {
      this.node.count('handshake.report_failed')
    }
  }

  private addPending(key: string, p: Pending): void {
    const max = this.opts.maxPending ?? 64
    while (this.pending.size >= max) {
      const first = this.pending.entries().next()
      if (first.done) break
      const [oldestKey, oldest] = first.value
      this.node.count('handshake.pending_evicted')
      this.dropPending(oldest)
      this.pending.delete(oldestKey)
    }
    this.pending.set(key, p)
    // The responder endpoint waits for msg 3 at `dec`, one message at a time.
    this.node.startWorker(p.dec, (_ctx, msg, meta) => {
      const run = p.queue.then(() => this.onPendingMessage(key, p, msg, meta))
      p.queue = run.catch(() => undefined)
      return run
    })
    const r = this.retransmit
    const total = r ? r.initialMs * 2 ** r.attempts : HANDSHAKE_TIMEOUT_WITHOUT_RETRANSMIT_MS
    p.timers.arm('msg3-wait', Math.min(total, PENDING_MAX_WAIT_MS), (l) => l.expirePending(key, p), 'background')
  }

  private expirePending(key: string, p: Pending): void {
    if (this.pending.get(key) !== p) return
    this.pending.delete(key)
    this.node.count('handshake.failed.timeout')
    this.dropPending(p)
  }

  private async onPendingMessage(key: string, p: Pending, msg: RoutingMessage, meta: IncomingMeta): Promise<void> {
    if (p.channel) return p.channel.receive(msg.payload, msg.returnRoute, meta)
    if (this.pending.get(key) !== p) return
    {
      try {
        const payload = await p.hs.readMessage(msg.payload)
        const rs = p.hs.getRemoteStatic()
        if (!rs) throw new HopsealError(ErrorCode.NOISE_MISSING_KEY, 'message 3 did not carry the initiator\'s static key')
        const peer = await this.opts.auth.verify(rs, payload)
        this.pending.delete(key)
        p.timers.clear()
        this.node.stopWorker(p.dec)
        const ch = this.establish(p.hs, p.dec, p.enc, msg.returnRoute.length ? msg.returnRoute : p.returnRoute, peer, payload)
        p.channel = ch
        this.remember(key, p.msg2, ch)
      } catch (e) {
        this.failed(e)
        if (!isHopsealError(e) || e.code.startsWith('NOISE_') || e.code === 'INVALID_POINT' || e.code === 'WEAK_SHARED_SECRET') {
          // Not a valid msg 3: a forgery, or sealed data from an initiator whose msg 3 was lost.
          // Re-send msg 2: at once the first time, then at most once per retransmission interval while the handshake is pending
          // (so at most lifetime / initialMs times: bounded amplification); the initiator answers it
          // with msg 3 again. A count limit alone ran out within one burst of the initiator's data
          // on a lossy radio, and the handshake then timed out with the initiator already sending.
          const r = this.retransmit
          if (r && (p.resent === 0 || this.clock.now() - p.lastSent >= r.initialMs)) {
            p.resent++
            p.lastSent = this.clock.now()
            this.node.count('handshake.msg2_resent')
            await this.node.route({ onward: p.returnRoute, returnRoute: [p.dec], payload: p.msg2 }, {})
          }
          return
        }
        this.pending.delete(key)
        this.dropPending(p)
      }
    }
  }

  private dropPending(p: Pending): void {
    p.timers.clear()
    this.node.stopWorker(p.dec)
    this.node.stopWorker(p.enc)
    p.hs.destroy()
  }

  private remember(key: string, msg2: Uint8Array, channel: SecureChannel): void {
    this.answered.set(key, { msg2, channel })
    while (this.answered.size > (this.opts.maxPending ?? 64)) this.answered.delete(this.answered.keys().next().value as string)
  }

  /** At the listener's channel limit, closes the channel that heard nothing for longest (counted). */
  private makeRoom(): void {
    const max = this.opts.maxChannels ?? DEFAULT_MAX_CHANNELS
    while (this.channels.size >= max) {
      let idlest: SecureChannel | undefined
      for (const c of this.channels) if (!idlest || c.lastHeardAt < idlest.lastHeardAt) idlest = c
      if (!idlest) return
      this.node.count('channel.evicted_idlest')
      idlest.teardown(new HopsealError(ErrorCode.LIMIT_EXCEEDED, `evicted: the listener holds its maximum of ${max} channels and this one was the idlest`))
      this.channels.delete(idlest)
    }
  }

  private establish(hs: HandshakeState, dec: Address, enc: Address, remote: Route, peer: PeerInfo, peerPayload: Uint8Array): SecureChannel {
    this.makeRoom()
    const t = hs.finish()
    const session = new ChannelSession(t, this.clock, this.context.limits.session)
    const ch = new SecureChannel(this.context, session, { enc, dec, remote, peer, peerPayload, deliverTo: this.opts.deliverTo })
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
    for (let oldest = list[0]; oldest && list.length > max; oldest = list[0]) {
      this.node.count('channel.evicted_per_peer')
      oldest.teardown(new HopsealError(ErrorCode.LIMIT_EXCEEDED, 'evicted: too many channels for one peer'))
    }
    this.node.count('handshake.completed')
    return ch
  }
}

/** A return route as a map key. */
function routeKey(r: Route): string {
  return r.map(addressKey).join('/')
}
