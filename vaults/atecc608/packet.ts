/**
 * Command and response packets (spec A1): `[count][opcode][p1][p2 lo][p2 hi][data…][crc lo][crc hi]`
 * and `[count][payload…][crc lo][crc hi]`. Builders check their arguments; the
 * response parser is total (any byte string → a value or a typed error).
 */
import { ErrorCode, HopsealError } from '../../src/errors.ts'
import { CMD_SIZE_MAX, RSP_SIZE_MAX, RSP_SIZE_MIN, STATUS_NAMES, Status } from './constants.ts'
import { checkCrc, sealCrc } from './crc.ts'

/** Builds a command packet, `count` … CRC (no I²C word address). */
export function buildCommand(opcode: number, p1: number, p2: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (!Number.isInteger(opcode) || opcode < 0 || opcode > 0xff) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `opcode expected a byte, got ${opcode}`)
  if (!Number.isInteger(p1) || p1 < 0 || p1 > 0xff) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `param1 expected a byte, got ${p1}`)
  if (!Number.isInteger(p2) || p2 < 0 || p2 > 0xffff) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `param2 expected 0..0xFFFF, got ${p2}`)
  const n = 7 + data.length
  if (n > CMD_SIZE_MAX) throw new HopsealError(ErrorCode.INVALID_LENGTH, `command data expected at most ${CMD_SIZE_MAX - 7} bytes, got ${data.length}`)
  const pkt = new Uint8Array(n)
  pkt.set([n, opcode, p1, p2 & 0xff, (p2 >> 8) & 0xff])
  pkt.set(data, 5)
  return sealCrc(pkt)
}

/** A decoded response: either a status (count 4) or data. */
export type Response = { kind: 'status'; status: number } | { kind: 'data'; data: Uint8Array }

/** Thrown by parseResponse for a packet whose count or CRC is wrong: the caller may retry. */
export class ResponseCorrupt extends HopsealError {
  constructor(message: string) {
    super(ErrorCode.VAULT_DEVICE_ERROR, message)
  }
}

/**
 * Parses a response packet. Only count == 4 packets are statuses ([CAL isATCAError]).
 * @throws ResponseCorrupt (code VAULT_DEVICE_ERROR) for a bad count or CRC.
 */
export function parseResponse(pkt: Uint8Array): Response {
  if (pkt.length < RSP_SIZE_MIN) throw new ResponseCorrupt(`response expected at least ${RSP_SIZE_MIN} bytes, got ${pkt.length}`)
  const count = pkt[0]!
  if (count < RSP_SIZE_MIN || count > RSP_SIZE_MAX) throw new ResponseCorrupt(`response count ${count} out of ${RSP_SIZE_MIN}..${RSP_SIZE_MAX}`)
  if (count !== pkt.length) throw new ResponseCorrupt(`response count ${count} does not match its ${pkt.length} bytes`)
  if (!checkCrc(pkt)) throw new ResponseCorrupt('response CRC mismatch')
  if (count === 4) return { kind: 'status', status: pkt[1]! }
  return { kind: 'data', data: pkt.slice(1, count - 2) }
}

/** Builds a response packet (used by the simulator and by tests). */
export function buildResponse(payload: Uint8Array): Uint8Array {
  const pkt = new Uint8Array(payload.length + 3)
  pkt[0] = pkt.length
  pkt.set(payload, 1)
  return sealCrc(pkt)
}

/** The 4-byte status packet for `status` (spec A2 table). */
export function statusPacket(status: number): Uint8Array {
  return buildResponse(Uint8Array.of(status))
}

/** A device answered a non-success status. `status` is the device byte (spec A2). */
export class DeviceStatusError extends HopsealError {
  readonly status: number
  constructor(status: number, context: string) {
    super(ErrorCode.VAULT_DEVICE_ERROR, `${context}: device status 0x${status.toString(16).padStart(2, '0').toUpperCase()} (${STATUS_NAMES[status] ?? 'unknown'})`)
    this.status = status
  }
}

/** True for statuses after which re-running the command (or sequence) may succeed (spec A2). */
export function isRetryableStatus(status: number): boolean {
  return status === Status.CRC_ERROR || status === Status.WATCHDOG || status === Status.ECC_FAULT
}
