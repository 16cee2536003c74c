/**
 * A ByteChannel on a serial port (`serialport`): 115200 baud, 8N1, raw, DTR
 * asserted like cryptoauthlib's UART HAL (spec A4 "Transport"). Opened by path:
 * `SerialPort.list()` needs udev, which containers lack (platform-notes trap 5).
 * Setting DTR fails on a pseudo-terminal; that one failure is harmless and ignored.
 */
import { ErrorCode, HopsealError } from '../../src/errors.ts'
import { loadOptionalPackage } from '../../src/optional-package.ts'
import { reportHangups } from '../../targets/node/serialport/hangup-read.ts'
import type { ByteChannel } from './kit-transport.ts'

export interface SerialOptions {
  baudRate?: number
}

/**
 * Opens `path` as a KIT-protocol byte channel. @throws VAULT_TOKEN_ABSENT when the port cannot be opened;
 * VAULT_OPERATION_UNSUPPORTED naming the package when the optional `serialport` is not installed.
 */
export async function openSerialChannel(path: string, opts: SerialOptions = {}): Promise<ByteChannel & { dtrAsserted: boolean }> {
  const { SerialPort } = await loadOptionalPackage('serialport', () => import('serialport'), ErrorCode.VAULT_OPERATION_UNSUPPORTED, 'the ATECC608 vault on a KIT serial port')
  const port = new SerialPort({ path, baudRate: opts.baudRate ?? 115200, dataBits: 8, parity: 'none', stopBits: 1, autoOpen: false, hupcl: false })
  await new Promise<void>((resolve, reject) =>
    port.open((err) => (err ? reject(new HopsealError(ErrorCode.VAULT_TOKEN_ABSENT, `cannot open serial port ${path}: ${err.message}`, { cause: err })) : resolve())),
  )
  // a hung-up port (device pulled) closes the port instead of spinning a core
  reportHangups(port.port)
  let dtrAsserted = true
  await new Promise<void>((resolve) =>
    port.set({ dtr: true }, (err) => {
      // platform-notes trap 5: the DTR ioctl fails on Linux PTYs; real CDC ports accept it
      if (err) dtrAsserted = false
      resolve()
    }),
  )
  // spec A4: discard stale input before talking
  await new Promise<void>((resolve) => port.flush(() => resolve()))
  let listener: ((b: Uint8Array) => void) | undefined
  port.on('data', (b: Buffer) => listener?.(new Uint8Array(b.buffer, b.byteOffset, b.length)))
  port.on('error', () => undefined)
  return {
    dtrAsserted,
    write: (bytes) =>
      new Promise<void>((resolve, reject) => {
        port.write(Buffer.from(bytes), (err) => (err ? reject(new HopsealError(ErrorCode.VAULT_DEVICE_ERROR, `serial write failed: ${err.message}`, { cause: err })) : resolve()))
      }),
    onData: (cb) => {
      listener = cb
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (!port.isOpen) return resolve()
        port.close(() => resolve())
      }),
  }
}
