/**
 * Fragmentation of routed messages into radio frames of at most `mtu` bytes.
 *
 *   frame     = whole | fragment
 *   whole     = 0x00 message                          a message that fits one frame
 *   fragment  = u8(0x80 | msgId) u8(index) u8(last) bytes
 *               msgId: 7 bits, per link and direction, wrapping (0..127)
 *               index: 0..last; last = fragment count − 1 (≤ 255)
 *
 * A first byte with bit 7 clear other than 0x00 is reserved (dropped and
 * counted). The sender uses the 1-byte form whenever the message fits in one
 * frame, so a 48-byte Noise KK flight + 2-byte routing header + 1 = 51 bytes
 * fills one LoRa DR0 frame exactly, and a fragmented message carries
 * mtu − 3 bytes per frame (17 on a 20-byte BLE write), up to 256 fragments.
 *
 * Rejected: a length field (the frame length is known from the link) and a
 * per-fragment CRC (the stream framing or the radio already checks each
 * frame; the Noise channel above authenticates whole messages).
 */
import { ErrorCode, HopsealError } from '../../../../src/errors.ts'
import { FRAGMENT_FLAG, FRAGMENT_HEADER_LENGTH, MAX_FRAGMENTS, MIN_MTU, MSG_ID_MODULUS, WHOLE_HEADER, WHOLE_HEADER_LENGTH } from './constants.ts'

/** Largest message `mtu`-byte frames can carry: 256 fragments of mtu − 3 bytes. */
export function maxMessageForMtu(mtu: number): number {
  return MAX_FRAGMENTS * (mtu - FRAGMENT_HEADER_LENGTH)
}

/** Number of frames a message of `length` bytes needs at `mtu`. */
export function fragmentCount(length: number, mtu: number): number {
  if (length + WHOLE_HEADER_LENGTH <= mtu) return 1
  return Math.ceil(length / (mtu - FRAGMENT_HEADER_LENGTH))
}

/**
 * Cuts `message` into frames of at most `mtu` bytes: one `0x00 ‖ message`
 * frame when it fits, else fragments of mtu − 3 bytes (the last one shorter)
 * under message id `msgId`.
 * @throws INVALID_ARGUMENT for an MTU below 4 or a msgId outside 0..127;
 *   FRAME_TOO_LARGE when more than 256 fragments would be needed.
 * @example fragmentMessage(new Uint8Array(40), 20, 5).length // 3 (17 + 17 + 6 bytes)
 */
export function fragmentMessage(message: Uint8Array, mtu: number, msgId: number): Uint8Array[] {
  if (!Number.isInteger(mtu) || mtu < MIN_MTU) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `fragment mtu expected an integer ≥ ${MIN_MTU}, got ${mtu}`)
  if (!Number.isInteger(msgId) || msgId < 0 || msgId >= MSG_ID_MODULUS) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `msgId expected 0..127, got ${msgId}`)
  if (message.length + WHOLE_HEADER_LENGTH <= mtu) {
    const f = new Uint8Array(message.length + WHOLE_HEADER_LENGTH)
    f[0] = WHOLE_HEADER
    f.set(message, WHOLE_HEADER_LENGTH)
    return [f]
  }
  const per = mtu - FRAGMENT_HEADER_LENGTH
  const count = Math.ceil(message.length / per)
  if (count > MAX_FRAGMENTS) {
    throw new HopsealError(ErrorCode.FRAME_TOO_LARGE, `message of ${message.length} bytes needs ${count} fragments at MTU ${mtu}; at most ${MAX_FRAGMENTS} (${maxMessageForMtu(mtu)} bytes)`)
  }
  const out: Uint8Array[] = []
  for (let i = 0; i < count; i++) {
    const part = message.subarray(i * per, Math.min((i + 1) * per, message.length))
    const f = new Uint8Array(FRAGMENT_HEADER_LENGTH + part.length)
    f[0] = FRAGMENT_FLAG | msgId
    f[1] = i
    f[2] = count - 1
    f.set(part, FRAGMENT_HEADER_LENGTH)
    out.push(f)
  }
  return out
}

/** Why a received frame was not a usable message or fragment. */
export type FrameDropReason = 'empty' | 'reserved' | 'truncated' | 'bad_index' | 'empty_fragment' | 'single_fragment'

/** A parsed frame; `payload` is a view into the frame (no copy). */
export type ParsedFrame =
  | { kind: 'whole'; payload: Uint8Array }
  | { kind: 'fragment'; msgId: number; index: number; last: number; payload: Uint8Array }
  | { kind: 'invalid'; reason: FrameDropReason }

/** Parses the fragment header of one received frame. Total: never throws. */
export function parseFrame(frame: Uint8Array): ParsedFrame {
  if (frame.length === 0) return { kind: 'invalid', reason: 'empty' }
  const b0 = frame[0]!
  if ((b0 & FRAGMENT_FLAG) === 0) {
    if (b0 !== WHOLE_HEADER) return { kind: 'invalid', reason: 'reserved' }
    return { kind: 'whole', payload: frame.subarray(WHOLE_HEADER_LENGTH) }
  }
  if (frame.length < FRAGMENT_HEADER_LENGTH) return { kind: 'invalid', reason: 'truncated' }
  const index = frame[1]!
  const last = frame[2]!
  if (index > last) return { kind: 'invalid', reason: 'bad_index' }
  // A message that fits one frame travels whole (0x00 header): a one-fragment message is
  // forged, and accepting it would mark its msgId as done and drop the sender's next real one.
  if (last === 0) return { kind: 'invalid', reason: 'single_fragment' }
  if (frame.length === FRAGMENT_HEADER_LENGTH) return { kind: 'invalid', reason: 'empty_fragment' }
  return { kind: 'fragment', msgId: b0 & (MSG_ID_MODULUS - 1), index, last, payload: frame.subarray(FRAGMENT_HEADER_LENGTH) }
}
