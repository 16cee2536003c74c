/**
 * The KIT protocol (spec A4): ASCII lines over a byte channel (USB-CDC or
 * UART at 115200 8N1 with DTR, or an in-memory channel to the simulator).
 * Line format, enumeration and select follow cryptoauthlib's
 * `lib/hal/kit_protocol.c` exactly: `board:device(NN)`, `E:physical:select(C0)`,
 * then `E:w()`, `E:t(HEX)`, `E:i()` per command.
 */
import { toHex } from '../../src/bytes/index.ts'
import { ErrorCode, HopsealError, throwIfAborted } from '../../src/errors.ts'
import { DeviceStatusError } from './packet.ts'
import { LinkError, type ExecuteOptions, type Transport } from './transport.ts'

/** A raw byte pipe (a serial port, a PTY, a memory channel). */
export interface ByteChannel {
  write(bytes: Uint8Array): Promise<void>
  /** Registers the (single) receiver of incoming bytes. */
  onData(cb: (chunk: Uint8Array) => void): void
  close(): Promise<void>
}

/** KIT_MAX_SCAN_COUNT (spec A4). */
const KIT_MAX_SCAN_COUNT = 8
/** Longest reply line we accept (KIT_MESSAGE_SIZE_MAX, spec A4). */
const KIT_LINE_MAX = 512

/** [KH] replies device errors as `%02X` of a negative ATCA_STATUS: map back to the device status (spec A2 table). */
const ATCA_TO_DEVICE: Record<number, number> = { 0xd1: 0x01, 0xd2: 0x03, 0xd6: 0x05, 0xd7: 0x07, 0xfa: 0x08, 0xf4: 0x0f, 0xd4: 0xff, 0xe1: 0xee }

/** Splits a byte stream into lines; waits for one with a timeout and an AbortSignal. */
export class LineReader {
  private buf = ''
  private lines: string[] = []
  private waiter: (() => void) | undefined
  private overflow = false

  push(chunk: Uint8Array): void {
    for (const code of chunk) {
      if (code === 0x0a) {
        if (!this.overflow) this.lines.push(this.buf)
        this.buf = ''
        this.overflow = false
      } else if (code === 0x00 || code === 0x0d) {
        // skip NULs (cryptoauthlib's kit_phy_receive skips leading \0) and CRs
      } else if (this.buf.length >= KIT_LINE_MAX) this.overflow = true
      else this.buf += String.fromCharCode(code)
    }
    if (this.lines.length > 0) this.waiter?.()
  }

  /** Drops lines that arrived late (after a timed-out request). */
  discard(): void {
    this.lines.length = 0
  }

  async readLine(timeoutMs: number, signal?: AbortSignal): Promise<string> {
    throwIfAborted(signal)
    if (this.lines.length > 0) return this.lines.shift()!
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => done(new HopsealError(ErrorCode.VAULT_DEVICE_TIMEOUT, `KIT board did not answer within ${timeoutMs} ms`)), timeoutMs)
      const onAbort = (): void => done(new HopsealError(ErrorCode.ABORTED, 'operation aborted', { cause: signal?.reason }))
      const done = (err?: Error): void => {
        clearTimeout(t)
        signal?.removeEventListener('abort', onAbort)
        this.waiter = undefined
        if (err) reject(err)
        else resolve()
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiter = () => done()
    })
    return this.lines.shift()!
  }
}

/** A parsed KIT reply `SS(HEX)`: kit status and data ([CAL kit_parse_rsp]). */
export interface KitReply {
  status: number
  data: Uint8Array
}

/** Parses `<status hex>(<hex>)`; non-hex characters in the data are skipped like atcab_hex2bin. */
export function parseKitReply(line: string): KitReply {
  const open = line.indexOf('(')
  const close = line.indexOf(')', open + 1)
  if (open < 1 || close < 0 || !/^[0-9A-Fa-f]+$/.test(line.slice(0, open))) throw new HopsealError(ErrorCode.DECODE_ERROR, `KIT reply malformed: ${JSON.stringify(line.slice(0, 40))}`)
  const status = parseInt(line.slice(Math.max(0, open - 2), open), 16)
  const hex = line.slice(open + 1, close).replace(/[^0-9A-Fa-f]/g, '')
  if (hex.length % 2 !== 0) throw new HopsealError(ErrorCode.DECODE_ERROR, 'KIT reply has an odd number of hex digits')
  const data = new Uint8Array(hex.length / 2)
  for (let i = 0; i < data.length; i++) data[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16)
  return { status, data }
}

export interface KitTransportOptions {
  /** Which device to select: 8-bit address (default: the first ECC608 found). */
  address?: number
  /** Timeout for enumeration/wake/idle replies, ms. */
  lineTimeoutMs?: number
  signal?: AbortSignal
}

export class KitTransport implements Transport {
  readonly kind = 'kit' as const
  private readonly reader = new LineReader()
  private letter = 'E'
  /** The 8-bit address the board reported and we selected. */
  address = 0
  /** Every line sent (for golden tests). */
  readonly sentLines: string[] = []

  private constructor(private readonly channel: ByteChannel) {
    channel.onData((c) => this.reader.push(c))
  }

  /**
   * Opens the KIT protocol on a channel: enumerates `board:device(00..07)`
   * until an ECC608 answers, then `E:physical:select(AA)` (spec A4 `kit_init`).
   * @throws VAULT_TOKEN_ABSENT when no ECC608 is found; VAULT_DEVICE_TIMEOUT when the board is silent.
   */
  static async open(channel: ByteChannel, opts: KitTransportOptions = {}): Promise<KitTransport> {
    const t = new KitTransport(channel)
    const timeoutMs = opts.lineTimeoutMs ?? 1000
    let found: number | undefined
    for (let i = 0; i < KIT_MAX_SCAN_COUNT && found === undefined; i++) {
      const line = await t.request(`board:device(${i.toString(16).padStart(2, '0').toUpperCase()})`, timeoutMs, opts.signal)
      const [devtype] = line.split(' ')
      // strncmp("ECC608", devtype, 4): ECC608A and ECC608B match (spec A4 "Enumeration matching")
      if (!devtype || devtype.slice(0, 4).toUpperCase() !== 'ECC6') continue
      const m = /\(([0-9A-Fa-f]{2})\)/.exec(line)
      if (!m) continue
      const addr = parseInt(m[1]!, 16)
      if (opts.address === undefined || opts.address === addr) found = addr
    }
    if (found === undefined) throw new HopsealError(ErrorCode.VAULT_TOKEN_ABSENT, 'no ECC608 found on the KIT board (board:device(00..07))')
    t.address = found
    await t.request(`${t.letter}:physical:select(${found.toString(16).padStart(2, '0').toUpperCase()})`, timeoutMs, opts.signal) // reply ignored, like cryptoauthlib
    return t
  }

  private async request(line: string, timeoutMs: number, signal?: AbortSignal): Promise<string> {
    throwIfAborted(signal)
    this.reader.discard()
    this.sentLines.push(line)
    await this.channel.write(new TextEncoder().encode(line + '\n'))
    return this.reader.readLine(timeoutMs, signal)
  }

  async wake(opts: { timeoutMs: number; signal?: AbortSignal }): Promise<Uint8Array> {
    const r = parseKitReply(await this.request(`${this.letter}:w()`, opts.timeoutMs, opts.signal))
    if (r.data.length !== 4) throw new LinkError(`KIT wake failed (kit status ${hex2(r.status)})`)
    return r.data
  }

  async execute(packet: Uint8Array, opts: ExecuteOptions): Promise<Uint8Array> {
    const line = await this.request(`${this.letter}:t(${toHex(packet).toUpperCase()})`, opts.timeoutMs, opts.signal)
    let r: KitReply
    try {
      r = parseKitReply(line)
    } catch (e) {
      throw new LinkError((e as Error).message)
    }
    if (r.data.length > 0) return r.data
    // [KH] style: a device error as a (negative) ATCA_STATUS with no data
    const full = parseInt(line.slice(0, line.indexOf('(')), 16)
    if (full > 0xff) {
      const dev = ATCA_TO_DEVICE[full & 0xff]
      if (dev !== undefined) throw new DeviceStatusError(dev, 'KIT talk')
    }
    throw new LinkError(`KIT talk failed with kit status ${hex2(r.status)} and no data`)
  }

  async idle(opts: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    await this.request(`${this.letter}:i()`, opts.timeoutMs, opts.signal)
  }

  async sleep(opts: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    await this.request(`${this.letter}:s()`, opts.timeoutMs, opts.signal)
  }

  async close(): Promise<void> {
    await this.channel.close()
  }
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0').toUpperCase()
}
