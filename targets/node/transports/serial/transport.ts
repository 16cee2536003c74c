/**
 * The serial transport (architecture.md §3): carries routed messages over any
 * number of FrameLinks (serial ports, BLE UART bridges, LoRa modems, HIL link
 * models), one per peer device. A gateway has one link per device.
 *
 * Per link: messages are fragmented to the profile's MTU (fragment.ts), queued
 * and paced under its duty cycle (send-queue.ts, pacing.ts), and reassembled
 * on receipt with bounded memory (reassembly.ts). The address of a link is
 * `address(TransportType.SERIAL, name)`; a message received on a link comes
 * `from` that address, so replies go back the same way.
 *
 * Properties: `maxPayload` = maxMessage, not reliable, not ordered (radio
 * links lose and reorder frames; the channel layer retransmits).
 */
import { assertBytes } from '../../../../src/bytes/index.ts'
import { ErrorCode, HopsealError } from '../../../../src/errors.ts'
import { address, TransportType, type Address } from '../../../../src/routing/address.ts'
import type { Transport, TransportProperties } from '../../../../src/routing/transport.ts'
import { systemClock, type Clock } from '../../../../src/time/clock.ts'
import type { FrameLink } from '../../../../src/transports/link.ts'
import { DEFAULT_MAX_MESSAGE, DEFAULT_MAX_QUEUED_FRAMES, DEFAULT_REASSEMBLY_MAX_MESSAGES, LINK_NAME_PATTERN, MIN_MTU, MSG_ID_MODULUS } from './constants.ts'
import { fragmentMessage, maxMessageForMtu, parseFrame } from './fragment.ts'
import type { LinkProfile } from './profiles.ts'
import { Reassembler } from './reassembly.ts'
import { SendQueue } from './send-queue.ts'

/** Options of {@link SerialTransport}. */
export interface SerialTransportOptions {
  /** Clock for pacing, duty cycle and reassembly timeouts; default the system clock. */
  clock?: Clock
  /** Largest routed message (bytes), sent or received; default 2048. */
  maxMessage?: number
  /** Send-queue bound per link (frames); default 256. */
  maxQueuedFrames?: number
  reassembly?: {
    /** Partial messages per link; default 4. */
    maxMessages?: number
    /** Buffered fragment bytes per link; default 2 × maxMessage. */
    maxBytes?: number
  }
}

/** Per-link statistics (a snapshot). Bytes count radio frames (fragment header included). */
export interface SerialLinkStats {
  framesSent: number
  framesReceived: number
  bytesSent: number
  bytesReceived: number
  /** Sum of the profile's airtime of the frames sent (ms). */
  airtimeMs: number
  /** Time frames spent waiting for pacing or duty-cycle budget (ms). */
  waitedMs: number
  /**
   * Drops by reason: receive side `empty`, `reserved`, `truncated`,
   * `bad_index`, `empty_fragment`, `duplicate`, `inconsistent`, `evicted`,
   * `expired`, `too_large`, `handler_error`; send side `queue_full`,
   * `link_down` (queued messages failed when the link went down).
   */
  drops: Record<string, number>
}

/** What `onLinkEvent` reports: a link went up or down, or a whole message arrived on it. */
export type SerialLinkEvent = 'up' | 'down' | 'rx'

interface LinkState {
  readonly name: string
  readonly address: Address
  readonly link: FrameLink
  readonly profile: LinkProfile
  readonly queue: SendQueue
  readonly reassembler: Reassembler
  readonly stats: Omit<SerialLinkStats, 'drops'>
  readonly drops: Record<string, number>
  msgId: number
  removed: boolean
}

function positiveInt(label: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `${label} expected a positive integer, got ${v}`)
  return v
}

export class SerialTransport implements Transport {
  readonly type = TransportType.SERIAL
  readonly properties: TransportProperties
  private readonly clock: Clock
  private readonly maxMessage: number
  private readonly maxQueuedFrames: number
  private readonly reassemblyMaxMessages: number
  private readonly reassemblyMaxBytes: number
  private readonly links = new Map<string, LinkState>()
  private handler: ((bytes: Uint8Array, from: Address) => void) | undefined
  private readonly eventHandlers: ((name: string, event: SerialLinkEvent) => void)[] = []
  private closed = false

  /**
   * @throws INVALID_ARGUMENT for non-positive limits.
   * @example
   *   const t = new SerialTransport()
   *   t.addLink('dev1', await openSerialLink('/dev/ttyACM0', { mtu: 51 }), loraProfile({ dataRate: 0 }))
   *   node.registerTransport(t)
   *   await node.send([t.linkAddress('dev1'), local('app')], payload, [local('me')])
   */
  constructor(opts: SerialTransportOptions = {}) {
    this.clock = opts.clock ?? systemClock
    this.maxMessage = positiveInt('maxMessage', opts.maxMessage ?? DEFAULT_MAX_MESSAGE)
    this.maxQueuedFrames = positiveInt('maxQueuedFrames', opts.maxQueuedFrames ?? DEFAULT_MAX_QUEUED_FRAMES)
    this.reassemblyMaxMessages = positiveInt('reassembly.maxMessages', opts.reassembly?.maxMessages ?? DEFAULT_REASSEMBLY_MAX_MESSAGES)
    this.reassemblyMaxBytes = positiveInt('reassembly.maxBytes', opts.reassembly?.maxBytes ?? 2 * this.maxMessage)
    this.properties = Object.freeze({ maxPayload: this.maxMessage, reliable: false, ordered: false })
  }

  /**
   * Adds a link to a peer under `name` (1..32 of `[A-Za-z0-9._-]`). The
   * transport takes the link over: it installs the link's frame handler and
   * closes it on `removeLink()` / `close()`.
   * @throws INVALID_ARGUMENT for a bad or taken name, or a profile MTU outside
   *   4..link.mtu; TRANSPORT_UNAVAILABLE once the transport is closed.
   */
  addLink(name: string, link: FrameLink, profile: LinkProfile): void {
    if (this.closed) throw new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, 'serial transport is closed')
    if (typeof name !== 'string' || !LINK_NAME_PATTERN.test(name)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `link name expected 1..32 of [A-Za-z0-9._-], got ${JSON.stringify(name)}`)
    if (this.links.has(name)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `a link named ${name} exists`)
    if (!link || typeof link.send !== 'function' || typeof link.onFrame !== 'function') throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `link ${name} is not a FrameLink`)
    if (!profile || typeof profile.airtimeMs !== 'function') throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `link ${name}: profile expected a LinkProfile`)
    if (!Number.isInteger(profile.mtu) || profile.mtu < MIN_MTU || profile.mtu > link.mtu) {
      throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `link ${name}: profile ${profile.name} MTU ${profile.mtu} expected ${MIN_MTU}..${link.mtu} (the link's MTU)`)
    }
    const stats = { framesSent: 0, framesReceived: 0, bytesSent: 0, bytesReceived: 0, airtimeMs: 0, waitedMs: 0 }
    const drops: Record<string, number> = {}
    const drop = (reason: string): void => {
      drops[reason] = (drops[reason] ?? 0) + 1
    }
    const st: LinkState = {
      name,
      address: address(TransportType.SERIAL, name),
      link,
      profile,
      stats,
      drops,
      queue: new SendQueue(link, profile, this.clock, this.maxQueuedFrames, stats),
      reassembler: new Reassembler({
        clock: this.clock,
        timeoutMs: profile.reassemblyTimeoutMs,
        maxMessages: this.reassemblyMaxMessages,
        maxBytes: this.reassemblyMaxBytes,
        maxMessage: this.maxMessage,
        onDrop: drop,
      }),
      // Random start: a restarted peer is unlikely to reuse the id a receiver just completed.
      msgId: Math.floor(Math.random() * MSG_ID_MODULUS),
      removed: false,
    }
    this.links.set(name, st)
    link.onFrame((frame) => this.receiveFrame(st, frame))
    link.onStateChange?.((up) => {
      if (st.removed) return
      if (!up) {
        const n = st.queue.failAll(new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, `serial link ${name} went down`))
        if (n > 0) drops.link_down = (drops.link_down ?? 0) + n
      }
      this.emit(name, up ? 'up' : 'down')
    })
  }

  /** Removes a link and closes it; resolves false when there is no such link. Never rejects. */
  async removeLink(name: string): Promise<boolean> {
    const st = this.links.get(name)
    if (!st) return false
    this.links.delete(name)
    await this.shutLink(st, 'removed')
    return true
  }

  /** The address peers of this node use for link `name`. @throws INVALID_ARGUMENT for a bad name. */
  linkAddress(name: string): Address {
    if (typeof name !== 'string' || !LINK_NAME_PATTERN.test(name)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `link name expected 1..32 of [A-Za-z0-9._-], got ${JSON.stringify(name)}`)
    return address(TransportType.SERIAL, name)
  }

  /** Names of the links, in the order added. */
  linkNames(): string[] {
    return [...this.links.keys()]
  }

  /**
   * Sends one routed message on the link `to` names. Resolves when all its
   * frames were handed to the link (after pacing and duty-cycle waits).
   * @throws NO_ROUTE for an address that names no link; FRAME_TOO_LARGE over
   *   maxMessage or over what 256 fragments of the link's MTU carry;
   *   TRANSPORT_UNAVAILABLE when the link is down (or goes down before the
   *   message was sent) or the transport is closed; LIMIT_EXCEEDED when the
   *   link's send queue is full.
   */
  async send(to: Address, bytes: Uint8Array): Promise<void> {
    if (this.closed) throw new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, 'serial transport is closed')
    assertBytes('bytes', bytes)
    const st = this.lookup(to)
    if (bytes.length > this.maxMessage) throw new HopsealError(ErrorCode.FRAME_TOO_LARGE, `message of ${bytes.length} bytes exceeds maxMessage ${this.maxMessage}`)
    if (bytes.length > maxMessageForMtu(st.profile.mtu)) {
      throw new HopsealError(ErrorCode.FRAME_TOO_LARGE, `message of ${bytes.length} bytes exceeds the ${maxMessageForMtu(st.profile.mtu)} bytes 256 fragments carry on link ${st.name} (MTU ${st.profile.mtu})`)
    }
    if (!st.link.up) throw new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, `serial link ${st.name} is down`)
    const frames = fragmentMessage(bytes, st.profile.mtu, st.msgId)
    if (!st.queue.hasRoom(frames.length)) {
      st.drops.queue_full = (st.drops.queue_full ?? 0) + 1
      throw new HopsealError(ErrorCode.LIMIT_EXCEEDED, `serial link ${st.name} send queue full: ${st.queue.length} + ${frames.length} frames > ${this.maxQueuedFrames}`)
    }
    const sent = st.queue.enqueue(frames)
    if (frames.length > 1) st.msgId = (st.msgId + 1) % MSG_ID_MODULUS
    await sent
  }

  /** Installs the receive handler: `bytes` is a whole message, `from` the link's address. */
  onReceive(handler: (bytes: Uint8Array, from: Address) => void): void {
    this.handler = handler
  }

  /** Observes link events: 'up', 'down', and 'rx' after each whole message received on a link. */
  onLinkEvent(handler: (name: string, event: SerialLinkEvent) => void): void {
    this.eventHandlers.push(handler)
  }

  /** A snapshot of a link's statistics. @throws NO_ROUTE for an unknown link. */
  stats(name: string): SerialLinkStats {
    const st = this.links.get(name)
    if (!st) throw new HopsealError(ErrorCode.NO_ROUTE, `no serial link named ${JSON.stringify(name)}`)
    return { ...st.stats, drops: { ...st.drops } }
  }

  /** Fragment bytes a link holds for reassembly now (bounded by reassembly.maxBytes). */
  reassemblyBytes(name: string): number {
    return this.links.get(name)?.reassembler.bufferedBytes ?? 0
  }

  /** Rejects queued sends, closes every link. Later sends reject TRANSPORT_UNAVAILABLE. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const all = [...this.links.values()]
    this.links.clear()
    await Promise.all(all.map((st) => this.shutLink(st, 'transport closed')))
    this.eventHandlers.length = 0
    this.handler = undefined
  }

  private lookup(to: Address): LinkState {
    const name = to && to.type === TransportType.SERIAL && to.value instanceof Uint8Array ? new TextDecoder().decode(to.value) : undefined
    const st = name === undefined ? undefined : this.links.get(name)
    if (!st) throw new HopsealError(ErrorCode.NO_ROUTE, `no serial link for address ${name === undefined ? '(not a serial address)' : JSON.stringify(name)}`)
    return st
  }

  private async shutLink(st: LinkState, why: string): Promise<void> {
    st.removed = true
    st.queue.close(new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, `serial link ${st.name}: ${why}`))
    st.reassembler.clear()
    try {
      await st.link.close()
    } catch {
      // a link that fails to close is gone for us anyway
    }
  }

  private receiveFrame(st: LinkState, frame: Uint8Array): void {
    if (st.removed || this.closed) return
    st.stats.framesReceived++
    st.stats.bytesReceived += frame.length
    const drop = (reason: string): void => {
      st.drops[reason] = (st.drops[reason] ?? 0) + 1
    }
    const p = parseFrame(frame)
    if (p.kind === 'invalid') return drop(p.reason)
    let message: Uint8Array | undefined
    if (p.kind === 'whole') {
      if (p.payload.length > this.maxMessage) return drop('too_large')
      message = p.payload
    } else {
      message = st.reassembler.push(p)
    }
    if (!message) return
    try {
      this.handler?.(message, st.address)
    } catch {
      drop('handler_error')
    }
    this.emit(st.name, 'rx')
  }

  private emit(name: string, event: SerialLinkEvent): void {
    for (const h of this.eventHandlers) {
      try {
        h(name, event)
      } catch {
        // an observer's bug must not break the receive path
      }
    }
  }
}
