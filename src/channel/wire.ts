/**
 * Sealed channel messages (the payload of a routing message to a channel
 * endpoint; protocol.md "Sealed messages" is normative). One header byte,
 * then the truncated counter, then the AEAD output:
 *
 *   header  = TT P L CCCC
 *     TT   = type: 00 DATA, 01 ROUTED (an inner routing message), 10 CONTROL;
 *            11 is never sealed (below)
 *     P    = key phase (flips at every rekey)
 *     L    = counter form: 0 short, 1 long
 *     CCCC = bits 8–11 (short form) or bits 16–19 (long form) of the counter
 *   counter = the counter's bits 0–7 (short form: 1 byte) or bits 0–15
 *             (long form: 2 bytes, big-endian): 12 or 20 bits in all
 *   body    = AEAD(ciphertext ‖ 16-byte tag), associated data = header ‖ counter
 *
 * A data message therefore costs 1 + 1 + 16 = 18 bytes over its payload in the
 * short form, 19 in the long form (session.ts says when each is used).
 *
 * A message whose top two bits are 11 is not sealed: it is a renewal flight,
 * a bare Noise KK message with no header and no counter, whose ephemeral key
 * was chosen (25519) or whose point prefix was marked (P-256) so that its
 * first byte reads 11xxxxxx (renewal.ts). decodeHeader() reports such a
 * message as HANDSHAKE (length 1, no counter) and a session drops it.
 */
import { ErrorCode, HopsealError } from '../errors.ts'
import { LONG_COUNTER_BITS, SHORT_COUNTER_BITS } from './constants.ts'

/** The header's TT bits. HANDSHAKE (11) marks a renewal flight, never a sealed message. */
export const MessageType = { DATA: 0, ROUTED: 1, CONTROL: 2, HANDSHAKE: 3 } as const
export type MessageType = (typeof MessageType)[keyof typeof MessageType]

export interface Header {
  type: MessageType
  phase: 0 | 1
  /** Truncated counter value and its width. */
  counter: number
  bits: typeof SHORT_COUNTER_BITS | typeof LONG_COUNTER_BITS
  /** Bytes of header + counter (the AEAD associated data). */
  length: number
}

/** `counter`: a bigint, or a number up to 2^53 - 1 (the session's counters: no BigInt arithmetic per message). */
export function encodeHeader(type: MessageType, phase: 0 | 1, counter: bigint | number, long: boolean): Uint8Array {
  const bits = long ? LONG_COUNTER_BITS : SHORT_COUNTER_BITS
  const c = typeof counter === 'number' ? counter % 2 ** bits : Number(counter & ((1n << BigInt(bits)) - 1n))
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
  if (type === MessageType.HANDSHAKE) return { type, phase, counter: 0, bits: SHORT_COUNTER_BITS, length: 1 }
  const [c1, c2] = [b[1], b[2]]
  if ((h & 0x10) === 0) {
    if (c1 === undefined) throw new HopsealError(ErrorCode.DECODE_ERROR, 'channel message header truncated')
    return { type, phase, counter: ((h & 0x0f) << 8) | c1, bits: SHORT_COUNTER_BITS, length: 2 }
  }
  if (c1 === undefined || c2 === undefined) throw new HopsealError(ErrorCode.DECODE_ERROR, 'channel message header truncated')
  return { type, phase, counter: ((h & 0x0f) << 16) | (c1 << 8) | c2, bits: LONG_COUNTER_BITS, length: 3 }
}

/** Control message subtypes (first plaintext byte of a CONTROL message). */
export const Control = { CLOSE: 1, KEEPALIVE: 2, ACK: 3, RENEW: 4 } as const

/** CLOSE ‖ reason: why the sender closed (absent = an ordinary close). */
export const CloseReason = { NORMAL: 0, PEER_REFUSED: 1 } as const
