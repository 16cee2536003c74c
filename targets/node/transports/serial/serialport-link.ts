/**
 * A FrameLink on a serial port (USB-CDC, UART, PTY) that survives unplugging:
 * COBS + CRC framing (framer.ts) over the `serialport` package, and when the
 * device disappears the link goes down and re-opens the same path with
 * exponential backoff until the device is back (re-plug).
 *
 * Platform notes (platform-notes.md trap 4, 5): the port is opened by path
 * (`SerialPort.list()` needs udev); DTR is asserted like a USB-CDC host does,
 * and the ioctl's failure on a Linux PTY is harmless and ignored; PTYs ignore
 * the baud rate, so BLE and LoRa timing comes from the link profiles. A
 * hung-up TTY (read returns end of file) counts as an unplug
 * (targets/node/serialport/hangup-read.ts).
 */
import type { SerialPort } from 'serialport'
import { ErrorCode, HopsealError } from '../../../../src/errors.ts'
import { loadOptionalPackage } from '../../../../src/optional-package.ts'
import { systemClock, type Clock } from '../../../../src/time/clock.ts'
import { reportHangups } from '../../serialport/hangup-read.ts'
import type { FrameLink } from '../../../../src/transports/link.ts'
import { DEFAULT_BAUD_RATE, DEFAULT_REOPEN_INITIAL_MS, DEFAULT_REOPEN_MAX_MS } from './constants.ts'
import { FrameCodecLink } from './frame-codec-link.ts'

/** Options of {@link openSerialLink}. */
export interface SerialLinkOptions {
  /** Line speed in bits/s; default 115 200 (ignored by PTYs). */
  baudRate?: number
  /** Largest frame one send carries (bytes); default 1024. */
  mtu?: number
  /** Largest encoded frame the receiver buffers; default fits `mtu` (see streamFrameLink). */
  maxFrame?: number
  /**
   * Re-open backoff after the device disappears: the first retry after
   * `initialMs`, doubling up to `maxMs`; default { initialMs: 100, maxMs: 5000 }.
   * `false`: stay down after an unplug.
   */
  reopen?: { initialMs: number; maxMs: number } | false
  /** Clock for the backoff timers; default the system clock. */
  clock?: Clock
}

/**
 * A serial FrameLink. Counters: those of a stream link (framer.ts) plus
 * `disconnects`, `reopenAttempts`, `reopens`, `portErrors`, `dtrFailed`.
 */
export interface SerialLink extends FrameLink {
  readonly counters: Readonly<Record<string, number>>
  readonly path: string
}

/** @throws TRANSPORT_UNAVAILABLE naming the package when the optional `serialport` is not installed. */
async function openPort(path: string, baudRate: number): Promise<SerialPort> {
  const { SerialPort } = await loadOptionalPackage('serialport', () => import('serialport'), ErrorCode.TRANSPORT_UNAVAILABLE, 'the serial transport')
  const port = new SerialPort({ path, baudRate, dataBits: 8, parity: 'none', stopBits: 1, autoOpen: false, hupcl: false })
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())))
  reportHangups(port.port)
  return port
}

class SerialPortLink implements SerialLink {
  private readonly core: FrameCodecLink
  private port: SerialPort | undefined
  private timer: unknown
  private delay: number
  private closing = false

  constructor(
    readonly path: string,
    private readonly baudRate: number,
    private readonly reopen: { initialMs: number; maxMs: number } | false,
    private readonly clock: Clock,
    opts: SerialLinkOptions,
  ) {
    this.core = new FrameCodecLink(`serial link ${path}`, opts)
    this.delay = reopen ? reopen.initialMs : 0
  }

  get mtu(): number {
    return this.core.mtu
  }
  get up(): boolean {
    return this.core.up
  }
  get counters(): Readonly<Record<string, number>> {
    return this.core.counters
  }

  /** Opens the port and makes it current. Rejects with the open error. */
  async connect(): Promise<void> {
    const port = await openPort(this.path, this.baudRate)
    if (this.closing) {
      await closePort(port)
      return
    }
    await new Promise<void>((resolve) =>
      port.set({ dtr: true }, (err) => {
        // platform-notes trap 5: the DTR ioctl fails on Linux PTYs; real CDC ports accept it
        if (err) this.core.count('dtrFailed')
        resolve()
      }),
    )
    // Stale input from before this open belongs to no frame of ours.
    await new Promise<void>((resolve) => port.flush(() => resolve()))
    port.on('data', (b: Buffer) => {
      if (this.port === port) this.core.receive(b)
    })
    port.on('error', () => this.core.count('portErrors'))
    port.on('close', () => this.lost(port))
    this.port = port
    if (this.reopen) this.delay = this.reopen.initialMs
    this.core.attach(port)
  }

  /** The port closed without us asking: the device is gone (unplug, socat killed). */
  private lost(port: SerialPort): void {
    if (this.port !== port) return
    this.port = undefined
    port.removeAllListeners('data')
    if (this.closing) return
    this.core.count('disconnects')
    this.core.detach('device disconnected')
    this.scheduleReopen()
  }

  private scheduleReopen(): void {
    if (!this.reopen || this.closing) return
    const wait = this.delay
    this.delay = Math.min(this.delay * 2, this.reopen.maxMs)
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined
      if (this.closing) return
      this.core.count('reopenAttempts')
      this.connect().then(
        () => {
          if (!this.closing) this.core.count('reopens')
        },
        () => this.scheduleReopen(),
      )
    }, wait)
  }

  send(frame: Uint8Array): Promise<void> {
    return this.core.send(frame)
  }
  onFrame(handler: (frame: Uint8Array) => void): void {
    this.core.onFrame(handler)
  }
  onStateChange(handler: (up: boolean) => void): void {
    this.core.onStateChange(handler)
  }

  async close(): Promise<void> {
    if (this.closing) return
    this.closing = true
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.timer = undefined
    const port = this.port
    this.port = undefined
    this.core.close()
    if (port) await closePort(port)
  }
}

function closePort(port: SerialPort): Promise<void> {
  return new Promise((resolve) => {
    if (!port.isOpen) return resolve()
    port.close(() => resolve())
  })
}

function checkPositive(label: string, v: number): void {
  if (!Number.isFinite(v) || v <= 0) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `${label} expected a positive number, got ${v}`)
}

/**
 * Opens `path` (e.g. `/dev/ttyACM0`, a PTY) as a framed FrameLink.
 *
 * While the device is present the link is up. When the port closes on its own
 * (the device was unplugged, the PTY's socat died) the link goes down
 * (`up === false`, `onStateChange(false)`; writes in flight and later sends
 * reject TRANSPORT_UNAVAILABLE) and re-opens the same path with exponential
 * backoff; when it succeeds the link is up again (`onStateChange(true)`).
 * Partial frames from before the unplug are discarded.
 *
 * @throws TRANSPORT_UNAVAILABLE when the first open fails (no such device, busy);
 *   INVALID_ARGUMENT for bad options.
 * @example
 *   const link = await openSerialLink('/dev/ttyUSB0', { mtu: 222 })
 *   link.onStateChange?.((up) => console.log(up ? 'plugged' : 'unplugged'))
 */
export async function openSerialLink(path: string, opts: SerialLinkOptions = {}): Promise<SerialLink> {
  if (typeof path !== 'string' || path.length === 0) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'serial link path expected a non-empty string')
  const baudRate = opts.baudRate ?? DEFAULT_BAUD_RATE
  if (!Number.isInteger(baudRate) || baudRate <= 0) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `baudRate expected a positive integer, got ${baudRate}`)
  const reopen = opts.reopen === undefined ? { initialMs: DEFAULT_REOPEN_INITIAL_MS, maxMs: DEFAULT_REOPEN_MAX_MS } : opts.reopen
  if (reopen) {
    checkPositive('reopen.initialMs', reopen.initialMs)
    checkPositive('reopen.maxMs', reopen.maxMs)
  }
  const link = new SerialPortLink(path, baudRate, reopen, opts.clock ?? systemClock, opts)
  try {
    await link.connect()
  } catch (e) {
    await link.close()
    throw new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, `cannot open serial port ${path}: ${e instanceof Error ? e.message : String(e)}`, { cause: e })
  }
  return link
}
