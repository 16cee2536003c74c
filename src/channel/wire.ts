/**
 * Channel message framing (the payload of a routing message to a channel
 * endpoint). One header byte, then a truncated counter, then the AEAD output:
 *
 *   header  = TT P L CCCC
 *     TT   = type: 00 data, 01 data with inner route, 10 control, 11 renewal handshake
 *     P    = key phase (flips at every rekey)
 *     L    = counter form: 0 → 1 more counter byte (12-bit counter),
 *                          1 → 2 more counter bytes (20-bit counter)
 *     CCCC = bits 8–11 (short form) or 16–19 (long form) of the counter
 *   counter = the counter's low 8 or 16 bits, big-endian
 *   body    = AEAD(ciphertext ‖ 16-byte tag), associated data = header ‖ counter
 *
 * A data message therefore costs 1 + 1 + 16 = 18 bytes over its payload in the
 * short form, 19 in the long form (session.ts says when each is used).
 *
 * A message whose first byte has type 11 is a renewal flight: a bare Noise
 * KK message whose ephemeral key was chosen (25519) or whose point prefix was
 * marked (P-256) so that its first byte reads 11xxxxxx (renewal.ts).
 */
import { ErrorCode, HopsealError } from '../errors.ts'

export const MessageType = { DATA: 0, ROUTED: 1, CONTROL: 2, HANDSHAKE: 3 } as const
export type MessageType = (typeof MessageType)[keyof typeof MessageType]

export interface Header {
  type: MessageType
  phase: 0 | 1
  /** Truncated counter value and its width. */
  counter: number
  bits: 12 | 20
  /** Bytes of header + counter (the AEAD associated data). */
  length: number
}

export function encodeHeader(type: MessageType, phase: 0 | 1, counter: bigint, long: boolean): Uint8Array {
  const bits = long ? 20 : 12
  const c = Number(counter & ((1n << BigInt(bits)) - 1n))
  const top = c >>> (bits - 4)
  if (long) return Uint8Array.of((type << 6) | (phase << 5) | 0x10 | top, (c >>> 8) & 0xff, c & 0xff)
  return Uint8Array.of((type << 6) | (phase << 5) | top, c & 0xff)
}

/** Parses the header; throws DECODE_ERROR when the message is too short. */
export function decodeHeader(b: Uint8Array): Header {
  const h = b[0]
  if (h === undefined) throw new HopsealError(ErrorCode.DECODE_ERROR, 'empty channel message')
  const type = (h >>> 6) as MessageType
  const phase = ((h >>> 5) & 1) as 0 | 1
  if (type === MessageType.HANDSHAKE) return { type, phase, counter: 0, bits: 12, length: 1 }
  const [c1, c2] = [b[1], b[2]]
  if ((h & 0x10) === 0) {
    if (c1 === undefined) throw new HopsealError(ErrorCode.DECODE_ERROR, 'channel message header truncated')
    return { type, phase, counter: ((h & 0x0f) << 8) | c1, bits: 12, length: 2 }
  }
  if (c1 === undefined || c2 === undefined) throw new HopsealError(ErrorCode.DECODE_ERROR, 'channel message header truncated')
  return { type, phase, counter: ((h & 0x0f) << 16) | (c1 << 8) | c2, bits: 20, length: 3 }
}

/** Control message subtypes (first plaintext byte of a CONTROL message). */
export const Control = { CLOSE: 1, KEEPALIVE: 2, ACK: 3, RENEW: 4 } as const

/** CLOSE ‖ reason: why the sender closed (absent = an ordinary close). */
export const CloseReason = { NORMAL: 0, PEER_REFUSED: 1 } as const
