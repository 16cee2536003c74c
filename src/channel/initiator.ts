/** The initiator side: creates a channel to a listener's route. */
import { ErrorCode, HopsealError } from '../errors.ts'
import { equalConstantTime } from '../bytes/index.ts'
import { defaultCryptoProvider } from '../crypto/index.ts'
import { HandshakeState, parseProtocolName } from '../noise/index.ts'
import { local, type Route } from '../routing/address.ts'
import type { Node, WorkerHandler } from '../routing/node.ts'
import { systemClock } from './clock.ts'
import { ChannelSession } from './session.ts'
import type { PeerInfo } from './auth.ts'
import { SecureChannel, type ChannelContext } from './channel.ts'
import { carriesHandshakeCounter, clockHandshakeCounter, withCounter } from './handshake-counter.ts'
import { readCookieReply } from './cookie.ts'
import { basePattern, CHANNEL_PATTERNS, channelLimits, guardDelivery, countFailure, identityPayload, sendsStaticIn, reliableOptions, DEFAULT_RETRANSMIT, type InitiatorOptions } from './options.ts'

/**
 * Creates a channel to the listener at `route`. Resolves when this side is
 * established; rejects with CHANNEL_HANDSHAKE_TIMEOUT when no valid answer
 * arrives (failures are silent on the wire), or ABORTED.
 */
export async function createSecureChannel(node: Node, route: Route, opts: InitiatorOptions): Promise<SecureChannel> {
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
  const r = opts.retransmit === false ? undefined : (opts.retransmit ?? DEFAULT_RETRANSMIT)
  let p1 = sendsStaticIn(protocol, true) === 0 ? await identityPayload(opts.auth) : new Uint8Array(0)
  if (carriesHandshakeCounter(protocol)) p1 = withCounter(await (opts.handshakeCounter ?? clockHandshakeCounter(clock, opts.s.publicKey)).next(), p1)
  const msg1 = await hs.writeMessage(p1)

  return await new Promise<SecureChannel>((resolve, reject) => {
    let timer: unknown
    let attempts = 0
    let done = false
    let channel: SecureChannel | undefined
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

    /** The listener's cookie (cookie.ts), once it asked for one: message 1 then goes to `route ‖ [cookie]`. */
    let cookie: Uint8Array | undefined
    const send = (): void => {
      attempts++
      node.send(cookie ? [...route, local(cookie)] : route, msg1, [dec]).catch((e: unknown) => finish(e))
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

    node.startWorker(dec, async (_ctx, msg) => {
      if (done) return
      const asked = readCookieReply(msg.payload)
      if (asked) {
        // The listener is under load and wants proof of this return route: send message 1 again, with the cookie, now
        // (once per cookie: a forged reply costs one extra message 1, and the retransmission schedule goes on).
        if (cookie && equalConstantTime(cookie, asked)) return
        node.count('handshake.cookie_received')
        cookie = asked
        node.send([...route, local(cookie)], msg1, [dec]).catch((e: unknown) => finish(e))
        return
      }
      let payload: Uint8Array
      try {
        payload = await hs.readMessage(msg.payload)
      } catch (e) {
        // Silent: a forged or corrupted msg 2 is dropped and counted (the state did not move); keep waiting.
        countFailure(node, e)
        return
      }
      try {
        remote = msg.returnRoute
        // Every channel pattern knows the responder's static by message 2 (pre-message or sent in it), and message 2 proves it.
        const rs = hs.getRemoteStatic()
        if (!rs) throw new HopsealError(ErrorCode.NOISE_MISSING_KEY, `${protocol.pattern.name} gave no responder static key by message 2`)
        const peer: PeerInfo = await opts.auth.verify(rs, payload)
        if (!hs.isFinished()) {
          msg3 = await hs.writeMessage(sendsStaticIn(protocol, true) === 2 ? await identityPayload(opts.auth) : new Uint8Array(0))
          await node.send(remote, msg3, [dec])
        }
        const t = hs.finish()
        const session = new ChannelSession(t, clock, limits.session)
        channel = new SecureChannel(context, session, { enc, dec, remote, peer, peerPayload: payload, ...(opts.deliverTo ? { deliverTo: opts.deliverTo } : {}) })
        node.count('handshake.completed')
        // Swap in a handler that holds only the channel (and msg 2/3 until the
        // peer proves it has msg 3), so the handshake's state can be collected.
        node.stopWorker(dec)
        node.startWorker(dec, establishedHandler(node, channel, msg3 ? { msg2: msg.payload.slice(), msg3, remote } : undefined))
        finish()
      } catch (e) {
        // msg 2 authenticated and the handshake moved on: a refused peer, a
        // malformed identity payload or a vault that failed (a busy secure
        // element) cannot be retried with this handshake state. Fail now with
        // the typed error (the caller may start a new handshake), counted locally.
        countFailure(node, e)
        finish(e)
      }
    })
    send()
  })
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
