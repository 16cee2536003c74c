/**
 * A FrameLink on any byte stream: net sockets, PTYs, serial ports, in-memory
 * pairs. Each frame crosses the stream as COBS(frame ‖ CRC-16) ‖ 0x00
 * (framer.ts); the very first frame written is preceded by one extra 0x00 so
 * that a receiver holding leftover bytes from before starts clean.
 */
import type { FrameLink } from '../../../../src/transports/link.ts'
import { FrameCodecLink, type ByteStream } from './frame-codec-link.ts'

export type { ByteStream } from './frame-codec-link.ts'

/** Options of {@link streamFrameLink}. */
export interface StreamLinkOptions {
  /** Largest frame one send carries (bytes); default 1024. */
  mtu?: number
  /**
   * Largest encoded frame the receiver buffers (bytes between delimiters);
   * default `cobsMaxEncodedLength(mtu + 2)`, which accepts every frame a peer
   * with the same MTU sends. Longer runs are dropped (counter `oversize`).
   */
  maxFrame?: number
}

/** A framed link with its counters. */
export type StreamFrameLink = FrameLink & { counters: Readonly<Record<string, number>> }

/**
 * Frames a byte stream. The link is up until `close()` or until the stream
 * emits 'close' or 'end' (if it emits events of that name); after that sends
 * reject TRANSPORT_UNAVAILABLE. 'error' events are counted (`streamErrors`)
 * rather than crashing the process; the stream itself stays the caller's to
 * end or destroy.
 *
 * Counters: `frames`, `crc`, `cobs`, `short`, `oversize`, `garbageBytes`,
 * `handlerErrors` (receive side, framer.ts), `framesSent`, `bytesSent`,
 * `bytesReceived`, `writeErrors`.
 *
 * @throws INVALID_ARGUMENT for an MTU outside 1..65 536 or a bad `maxFrame`.
 * @example
 *   const [s1, s2] = duplexPair()            // or a net.Socket, a SerialPort
 *   const a = streamFrameLink(s1, { mtu: 222 }), b = streamFrameLink(s2, { mtu: 222 })
 *   b.onFrame((f) => console.log(f))
 *   await a.send(Uint8Array.of(1, 0, 2))
 */
export function streamFrameLink(stream: ByteStream, opts: StreamLinkOptions = {}): StreamFrameLink {
  const core = new FrameCodecLink('stream link', opts)
  stream.on('data', (b) => core.receive(b))
  const on = (stream as { on(ev: string, f: (...a: unknown[]) => void): unknown }).on.bind(stream)
  on('close', () => core.detach('stream closed'))
  on('end', () => core.detach('stream ended'))
  on('error', () => core.count('streamErrors'))
  core.attach(stream)
  return {
    get mtu() {
      return core.mtu
    },
    get up() {
      return core.up
    },
    get counters() {
      return core.counters
    },
    send: (frame) => core.send(frame),
    onFrame: (h) => core.onFrame(h),
    onStateChange: (h) => core.onStateChange(h),
    close: async () => core.close(),
  }
}
