/** The initiator side: creates a channel to a listener's route. */
import { ErrorCode, HopsealError } from '../errors.ts'
import { equalConstantTime } from '../bytes/index.ts'
import { defaultCryptoProvider } from '../crypto/index.ts'
import { HandshakeState, parseProtocolName } from '../noise/index.ts'
import { local, type Address, type Route } from '../routing/address.ts'
import type { RoutingMessage } from '../routing/codec.ts'
import type { Node, WorkerHandler } from '../routing/node.ts'
import { systemClock } from './clock.ts'
import { ChannelSession } from './session.ts'
import type { PeerInfo } from './auth.ts'
import { SecureChannel, type ChannelContext } from './channel.ts'
import { carriesHandshakeCounter, clockHandshakeCounter, withCounter } from './handshake-counter.ts'
import { readCookieReply } from './cookie.ts'
import { HANDSHAKE_TIMEOUT_WITHOUT_RETRANSMIT_MS } from './constants.ts'
import type { RetransmitOptions } from './limits.ts'
import { Timers } from './timers.ts'
import { basePattern, CHANNEL_PATTERNS, channelLimits, guardDelivery, countFailure, identityPayload, sendsStaticIn, reliableOptions, type InitiatorOptions } from './options.ts'

/**
 * Creates a channel to the listener at `route`. Resolves when this side is
 * established; rejects with CHANNEL_HANDSHAKE_TIMEOUT when no valid answer
 * arrives (failures are silent on the wire), or ABORTED.
 */
export async function createSecureChannel(node: Node, route: Route, opts: InitiatorOptions): Promise<SecureChannel> {
  return await new Initiator(await prepare(node, route, opts)).run()
}

/** What the handshake needs once message 1 is written. */
interface InitiatorSetup {
  node: Node
  route: Route
  opts: InitiatorOptions
  /** Shared with the channel it makes: holds nothing of the handshake. */
  context: ChannelContext
  hs: HandshakeState
  msg1: Uint8Array
  dec: Address
  enc: Address
  retransmit: RetransmitOptions | undefined
}

/** Checks the options, builds the channel context and writes message 1 (with the identity payload or handshake counter the pattern needs). */
async function prepare(node: Node, route: Route, opts: InitiatorOptions): Promise<InitiatorSetup> {
  const protocol = typeof opts.protocol === 'string' ? parseProtocolName(opts.protocol) : opts.protocol
  if (!CHANNEL_PATTERNS.includes(basePattern(protocol))) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `a channel authenticates both ends: use ${CHANNEL_PATTERNS.join(', ')}, not ${protocol.pattern.name}`)
  const crypto = opts.crypto ?? defaultCryptoProvider()
  const clock = opts.clock ?? systemClock
  guardDelivery(node, opts.deliverTo, opts.deliverToAnyone)
  const limits = channelLimits(opts)
  const reliable = reliableOptions(opts.reliable, limits)
  const context: ChannelContext = { node, role: 'initiator', protocol, s: opts.s, auth: opts.auth, crypto, clock, limits, listenerRoute: route, ...(reliable ? { reliable } : {}) }
  const hs = HandshakeState.create({ protocol, initiator: true, s: opts.s, crypto, ...(opts.rs ? { rs: opts.rs } : {}), ...(opts.prologue ? { prologue: opts.prologue } : {}) })
  const dec = node.newAddress()
  const enc = node.newAddress()
  // By default message 1 follows the medium's schedule (a LoRa flight must not be resent while the first copy is on air)
  const retransmit = opts.retransmit === false ? undefined : (opts.retransmit ?? limits.renewRetransmit)
  let p1 = sendsStaticIn(protocol, true) === 0 ? await identityPayload(opts.auth) : new Uint8Array(0)
  if (carriesHandshakeCounter(protocol)) p1 = withCounter(await (opts.handshakeCounter ?? clockHandshakeCounter(clock, opts.s.publicKey)).next(), p1)
  const msg1 = await hs.writeMessage(p1)
  return { node, route, opts, context, hs, msg1, dec, enc, retransmit }
}

/**
 * Where an initiator's handshake is. `awaiting-msg2`: message 1 is out (and
 * retransmitted) until a valid message 2; `completing`: message 2
 * authenticated, the peer is being verified and message 3 written; then
 * `established` or `failed`, final.
 */
type InitiatorState = 'awaiting-msg2' | 'completing' | 'established' | 'failed'

/** One handshake from the initiator's side, as a small state machine (the listener's counterpart). */
class Initiator {
  private state: InitiatorState = 'awaiting-msg2'
  private attempts = 0
  /** The listener's cookie (cookie.ts), once it asked for one: message 1 then goes to `route ‖ [cookie]`. */
  private cookie: Uint8Array | undefined
  private outcome: { resolve: (channel: SecureChannel) => void; reject: (reason: unknown) => void } | undefined
  private readonly timers: Timers<Initiator, 'handshake-retransmit'>
  private readonly onAbort = (): void => this.fail(new HopsealError(ErrorCode.ABORTED, 'channel creation aborted'))

  constructor(private readonly s: InitiatorSetup) {
    this.timers = new Timers(s.context.clock, this)
  }

  run(): Promise<SecureChannel> {
    return new Promise<SecureChannel>((resolve, reject) => {
      this.outcome = { resolve, reject }
      const signal = this.s.opts.signal
      if (signal?.aborted) return this.onAbort()
      signal?.addEventListener('abort', this.onAbort)
      this.s.node.startWorker(this.s.dec, (_ctx, msg) => this.onMessage(msg))
      this.sendMessage1()
    })
  }

  private get settled(): boolean {
    return this.state === 'established' || this.state === 'failed'
  }

  /** Sends message 1 (again) and arms the handshake retransmit event: the next attempt, or the end of waiting. */
  private sendMessage1(): void {
    const { node, route, msg1, dec, retransmit: r } = this.s
    this.attempts++
    node.send(this.cookie ? [...route, local(this.cookie)] : route, msg1, [dec]).catch((e: unknown) => this.fail(e))
    if (!r) return this.timers.arm('handshake-retransmit', HANDSHAKE_TIMEOUT_WITHOUT_RETRANSMIT_MS, (i) => i.fail(new HopsealError(ErrorCode.CHANNEL_HANDSHAKE_TIMEOUT, 'no answer to the handshake')))
    this.timers.arm('handshake-retransmit', Math.min(r.initialMs * 2 ** (this.attempts - 1), r.maxMs), (i) => i.onRetransmitTimer(r))
  }

  private onRetransmitTimer(r: RetransmitOptions): void {
    if (this.settled) return
    if (this.attempts >= r.attempts) return this.fail(new HopsealError(ErrorCode.CHANNEL_HANDSHAKE_TIMEOUT, `no valid answer after ${this.attempts} attempts`))
    this.s.node.count('handshake.retransmitted')
    this.sendMessage1()
  }

  /** A message at `dec` before the channel exists: a cookie reply, or message 2. */
  private async onMessage(msg: RoutingMessage): Promise<void> {
    if (this.settled) return
    const asked = readCookieReply(msg.payload)
    if (asked) return this.onCookie(asked)
    const { node, hs } = this.s
    let payload: Uint8Array
    try {
      payload = await hs.readMessage(msg.payload)
    } catch (e) {
      // Silent: a forged or corrupted msg 2 is dropped and counted (the state did not move); keep waiting.
      countFailure(node, e)
      return
    }
    this.state = 'completing'
    try {
      this.succeed(await this.complete(msg, payload))
    } catch (e) {
      // msg 2 authenticated and the handshake moved on: a refused peer, a
      // malformed identity payload or a vault that failed (a busy secure
      // element) cannot be retried with this handshake state. Fail now with
      // the typed error (the caller may start a new handshake), counted locally.
      countFailure(node, e)
      this.fail(e)
    }
  }

  /**
   * The listener is under load and wants proof of this return route: send message 1 again, with the cookie, now
   * (once per cookie: a forged reply costs one extra message 1, and the retransmission schedule goes on).
   */
  private onCookie(asked: Uint8Array): void {
    if (this.cookie && equalConstantTime(this.cookie, asked)) return
    const { node, route, msg1, dec } = this.s
    node.count('handshake.cookie_received')
    this.cookie = asked
    node.send([...route, local(asked)], msg1, [dec]).catch((e: unknown) => this.fail(e))
  }

  /** Message 2 authenticated: verify the responder, send message 3 where the pattern has one, and make the channel. */
  private async complete(msg: RoutingMessage, payload: Uint8Array): Promise<SecureChannel> {
    const { node, hs, opts, context, dec, enc } = this.s
    const remote = msg.returnRoute
    // Every channel pattern knows the responder's static by message 2 (pre-message or sent in it), and message 2 proves it.
    const rs = hs.getRemoteStatic()
    if (!rs) throw new HopsealError(ErrorCode.NOISE_MISSING_KEY, `${context.protocol.pattern.name} gave no responder static key by message 2`)
    const peer: PeerInfo = await opts.auth.verify(rs, payload)
    let msg3: Uint8Array | undefined
    if (!hs.isFinished()) {
      msg3 = await hs.writeMessage(sendsStaticIn(context.protocol, true) === 2 ? await identityPayload(opts.auth) : new Uint8Array(0))
      await node.send(remote, msg3, [dec])
    }
    const session = new ChannelSession(hs.finish(), context.clock, context.limits.session)
    const channel = new SecureChannel(context, session, { enc, dec, remote, peer, peerPayload: payload, ...(opts.deliverTo ? { deliverTo: opts.deliverTo } : {}) })
    node.count('handshake.completed')
    // Swap in a handler that holds only the channel (and msg 2/3 until the
    // peer proves it has msg 3), so the handshake's state can be collected.
    node.stopWorker(dec)
    node.startWorker(dec, establishedHandler(node, channel, msg3 ? { msg2: msg.payload.slice(), msg3, remote } : undefined))
    return channel
  }

  /** Moves to a final state once: disarms the retransmit event and lets go of the abort signal. False when already final. */
  private settle(final: 'established' | 'failed'): boolean {
    if (this.settled) return false
    this.state = final
    this.timers.clear()
    this.s.opts.signal?.removeEventListener('abort', this.onAbort)
    return true
  }

  private succeed(channel: SecureChannel): void {
    if (this.settle('established')) this.outcome?.resolve(channel)
  }

  /** Fails the handshake: releases both reserved addresses and wipes the handshake state. */
  private fail(err: unknown): void {
    if (!this.settle('failed')) return
    const { node, dec, enc, hs } = this.s
    node.stopWorker(dec)
    node.stopWorker(enc) // releases the reserved address
    hs.destroy()
    this.outcome?.reject(err)
  }
}

/** The established initiator's `dec` handler: answers a repeated msg 2 with msg 3, else delivers. */
function establishedHandler(node: Node, channel: SecureChannel, resend: { msg2: Uint8Array; msg3: Uint8Array; remote: Route } | undefined): WorkerHandler {
  return async (_ctx, msg, meta) => {
    if (resend && equalConstantTime(msg.payload, resend.msg2)) {
      node.count('handshake.retransmit_answered')
      await node.send(resend.remote, resend.msg3, [channel.dec])
      return
    }
    const before = channel.session.highestReceived
    await channel.receive(msg.payload, msg.returnRoute, meta)
    if (channel.session.highestReceived > before) resend = undefined // the peer has our msg 3
  }
}
