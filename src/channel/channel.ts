/** An established channel endpoint: `enc`/`dec` workers, sealing, delivery, reliable mode, idle timeout, close. */
import { ErrorCode, HopsealError } from '../errors.ts'
import { concat, decodeVarint, encodeVarint } from '../bytes/index.ts'
import { type NoiseProtocol } from '../noise/index.ts'
import { addressKey, type Address, type Route } from '../routing/address.ts'
import { decodeRoutingMessage, encodeRoutingMessage } from '../routing/codec.ts'
import type { IncomingMeta, Node } from '../routing/node.ts'
import { background, type Clock } from './clock.ts'
import type { ChannelSession } from './session.ts'
import { Control, MessageType } from './wire.ts'
import { MAX_SACK_BYTES, ReliableReceiver, ReliableSender, type ReliableOptions } from './reliable.ts'
import type { PeerInfo } from './auth.ts'
import { type Delivery } from './options.ts'

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
        (payload, meta) => this.deliver(payload, meta),
        (next, sack) => this.sendSealed(MessageType.CONTROL, concat(Uint8Array.of(Control.ACK), encodeVarint(next), sack)),
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
  private receiver: ReliableReceiver<IncomingMeta> | undefined

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
          await this.receiver.receive(opened.plaintext, peerMeta)
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
            const v = decodeVarint(opened.plaintext, 1)
            const sack = opened.plaintext.subarray(1 + v.length)
            if (sack.length > MAX_SACK_BYTES) throw new RangeError('sack too long')
            this.sender.onAck(v.value, sack)
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
