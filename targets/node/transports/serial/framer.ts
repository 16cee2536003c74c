/**
 * Stream framing: how whole frames cross a byte stream (UART, USB-CDC, PTY,
 * TCP socket) that loses, corrupts and splits bytes.
 *
 *   wire frame = COBS(payload ‖ CRC-16/CCITT-FALSE(payload) as u16 big-endian) ‖ 0x00
 *
 * COBS (cobs.ts) keeps 0x00 out of the encoded bytes, so a receiver that
 * starts mid-stream or loses bytes resynchronises at the next 0x00. The CRC
 * (crc16.ts) rejects frames that noise or a torn write corrupted. Two 0x00 in a
 * row make an empty frame, which is ignored: a sender may emit a lone 0x00 to
 * flush whatever partial frame the receiver holds.
 *
 * Example: payload 01 00 02 has CRC 0xDBEE; COBS(01 00 02 DB EE) = 02 01 04 02 DB EE,
 * so the wire carries 02 01 04 02 DB EE 00. An empty payload is 03 FF FF 00.
 */
import { ErrorCode, HopsealError } from '../../../../src/errors.ts'
import { cobsDecodeInto, cobsEncodeInto, cobsMaxEncodedLength } from './cobs.ts'
import { CRC_LENGTH, FRAME_DELIMITER } from './constants.ts'
import { crc16 } from './crc16.ts'

/** Largest wire size (bytes, delimiter included) of a frame carrying `payloadLength` bytes. */
export function maxWireFrameLength(payloadLength: number): number {
  return cobsMaxEncodedLength(payloadLength + CRC_LENGTH) + 1
}

/**
 * Encodes one payload as a wire frame: COBS(payload ‖ CRC) ‖ 0x00.
 * @example encodeFrame(new Uint8Array(0)) // COBS(FF FF) 00 = 03 FF FF 00
 */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  const n = payload.length
  const raw = new Uint8Array(n + CRC_LENGTH)
  raw.set(payload)
  const c = crc16(payload)
  raw[n] = c >> 8
  raw[n + 1] = c & 0xff
  const out = new Uint8Array(maxWireFrameLength(n))
  const len = cobsEncodeInto(raw, out, 0)
  out[len] = FRAME_DELIMITER
  return len + 1 === out.length ? out : out.slice(0, len + 1)
}

/** Receive counters of a {@link FrameDecoder} (monotonic). */
export interface FrameDecoderCounters {
  /** Good frames delivered. */
  frames: number
  /** Frames whose CRC did not match. */
  crc: number
  /** Frames that were not valid COBS. */
  cobs: number
  /** Frames that decoded to fewer bytes than the CRC. */
  short: number
  /** Runs longer than `maxFrame` (dropped up to the next delimiter). */
  oversize: number
  /** Bytes thrown away by any of the above (delimiters not counted). */
  garbageBytes: number
  /** Exceptions thrown by the frame handler (caught, so the stream survives). */
  handlerErrors: number
}

/**
 * A streaming frame decoder with a fixed buffer of `maxFrame` bytes (the
 * largest encoded frame accepted, delimiter excluded). Feed it arbitrary
 * chunks; it calls `onFrame` with a fresh copy of each good payload, and on a
 * bad CRC, bad COBS or an oversize run it drops bytes up to the next 0x00,
 * counts the reason and carries on. It never throws on input.
 */
export class FrameDecoder {
  readonly counters: FrameDecoderCounters = { frames: 0, crc: 0, cobs: 0, short: 0, oversize: 0, garbageBytes: 0, handlerErrors: 0 }
  private readonly buf: Uint8Array
  private len = 0
  private discarding = false

  /**
   * @param maxFrame largest encoded frame (bytes between delimiters) accepted;
   *   `cobsMaxEncodedLength(mtu + 2)` accepts every frame of an `mtu`-byte link.
   * @throws INVALID_ARGUMENT when `maxFrame` is not an integer in 3..1 048 576.
   */
  constructor(
    private readonly onFrame: (payload: Uint8Array) => void,
    readonly maxFrame: number,
  ) {
    if (!Number.isInteger(maxFrame) || maxFrame < 3 || maxFrame > 1 << 20) {
      throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `maxFrame expected an integer in 3..${1 << 20}, got ${maxFrame}`)
    }
    this.buf = new Uint8Array(maxFrame)
  }

  /** Bytes of the partial frame held now (≤ maxFrame). */
  get buffered(): number {
    return this.len
  }

  /** Feeds received bytes. */
  push(chunk: Uint8Array): void {
    let i = 0
    while (i < chunk.length) {
      const z = chunk.indexOf(FRAME_DELIMITER, i)
      const end = z < 0 ? chunk.length : z
      const n = end - i
      if (this.discarding) {
        this.counters.garbageBytes += n
      } else if (this.len + n > this.maxFrame) {
        this.counters.oversize++
        this.counters.garbageBytes += this.len + n
        this.len = 0
        this.discarding = true
      } else {
        this.buf.set(chunk.subarray(i, end), this.len)
        this.len += n
      }
      if (z < 0) return
      if (this.discarding) this.discarding = false
      else if (this.len > 0) this.finish()
      i = z + 1
    }
  }

  /** Drops any partial frame (e.g. after the port was re-opened); its bytes count as garbage. */
  reset(): void {
    this.counters.garbageBytes += this.len
    this.len = 0
    this.discarding = false
  }

  private finish(): void {
    const encodedLength = this.len
    this.len = 0
    const n = cobsDecodeInto(this.buf, encodedLength, this.buf)
    if (n < 0) {
      this.counters.cobs++
      this.counters.garbageBytes += encodedLength
      return
    }
    if (n < CRC_LENGTH) {
      this.counters.short++
      this.counters.garbageBytes += encodedLength
      return
    }
    const body = n - CRC_LENGTH
    if (crc16(this.buf, 0, body) !== ((this.buf[body]! << 8) | this.buf[body + 1]!)) {
      this.counters.crc++
      this.counters.garbageBytes += encodedLength
      return
    }
    this.counters.frames++
    try {
      this.onFrame(this.buf.slice(0, body))
    } catch {
      this.counters.handlerErrors++
    }
  }
}
