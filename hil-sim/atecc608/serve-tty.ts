/**
 * Serves a simulator's KIT line server on a TTY path (the far end of a socat
 * PTY pair, or a real UART). DTR cannot be set on a PTY; nothing here needs it.
 */
import { SerialPort } from 'serialport'
import { ErrorCode, HopsealError } from '../../src/errors.ts'
import type { KitServerOptions } from './kit-server.ts'
import type { Atecc608Sim } from './sim.ts'

export interface TtyServer {
  close(): Promise<void>
}

export async function serveKitOnTty(sim: Atecc608Sim, path: string, opts: KitServerOptions = {}): Promise<TtyServer> {
  const port = new SerialPort({ path, baudRate: 115200, autoOpen: false, hupcl: false })
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(new HopsealError(ErrorCode.VAULT_DEVICE_ERROR, `cannot open ${path}: ${err.message}`, { cause: err })) : resolve())))
  // spec A4: hosts do not flush, so drop stale input when we start
  await new Promise<void>((resolve) => port.flush(() => resolve()))
  const server = sim.kitServer(opts)
  server.onOutput((line) => {
    port.write(line)
  })
  port.on('data', (b: Buffer) => server.feed(new Uint8Array(b)))
  port.on('error', () => undefined)
  return {
    close: () =>
      new Promise<void>((resolve) => {
        if (!port.isOpen) return resolve()
        port.close(() => resolve())
      }),
  }
}
