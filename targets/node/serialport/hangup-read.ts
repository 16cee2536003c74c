/**
 * A read for serialport's Unix bindings that reports a hung-up TTY.
 *
 * When a TTY is hung up (a USB serial adapter pulled out, the master side of
 * a PTY closed) `read(2)` returns 0, end of file. `@serialport/bindings-cpp`
 * 13 retries a 0-byte read at once and forever (its issue #162): the port
 * never reports the disconnect and the process spins a core. Which of 0 or
 * EIO a PTY slave returns depends on whether the read raced the hang-up, so
 * an unplug went unseen in roughly one run in twelve on a loaded machine.
 *
 * `reportHangups` swaps the opened binding's `read` for the same loop with
 * one change: a 0-byte read rejects with a disconnect error, which
 * `@serialport/stream` turns into a close with a DisconnectedError (the
 * link's `lost()` path). Bindings without a file descriptor and a poller
 * (Windows) are left alone.
 */
import { read as fsRead } from 'node:fs'
import { promisify } from 'node:util'

const readAsync = promisify(fsRead)

/** What this module needs of an opened Unix port binding (LinuxPortBinding, DarwinPortBinding). */
interface UnixPortBinding {
  fd: number | null
  isOpen: boolean
  poller: { once(event: 'readable', cb: (err: Error | null) => void): unknown }
  read(buffer: Buffer, offset: number, length: number): Promise<{ bytesRead: number; buffer: Buffer }>
}

/** The error codes after which the read waits for the poller instead of failing. */
const RETRY_CODES = new Set(['EAGAIN', 'EWOULDBLOCK', 'EINTR'])

function isUnixPortBinding(b: unknown): b is UnixPortBinding {
  if (typeof b !== 'object' || b === null) return false
  const r = b as Record<string, unknown>
  const poller = r['poller']
  return typeof r['fd'] === 'number' && typeof r['read'] === 'function' && typeof poller === 'object' && poller !== null && typeof (poller as Record<string, unknown>)['once'] === 'function'
}

/** serialport's stream re-queues a read that failed with `canceled` instead of disconnecting. */
function canceled(): Error {
  return Object.assign(new Error('Port is not open'), { canceled: true })
}

function waitReadable(b: UnixPortBinding): Promise<void> {
  return new Promise((resolve, reject) => {
    b.poller.once('readable', (err) => (err ? reject(err) : resolve()))
  })
}

/** One read of at least one byte; rejects with `disconnect: true` on end of file (the TTY hung up). */
async function readOrHangup(b: UnixPortBinding, buffer: Buffer, offset: number, length: number): Promise<{ bytesRead: number; buffer: Buffer }> {
  for (;;) {
    if (!b.isOpen || b.fd === null) throw canceled()
    try {
      const { bytesRead } = await readAsync(b.fd, buffer, offset, length, null)
      if (bytesRead === 0) throw Object.assign(new Error('serial port hung up (read returned end of file)'), { code: 'EOF', disconnect: true })
      return { bytesRead, buffer }
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (code === undefined || !RETRY_CODES.has(code)) throw e
      if (!b.isOpen) throw canceled()
      await waitReadable(b)
    }
  }
}

/**
 * Makes the opened port binding `binding` (serialport's `port.port`) report a
 * hang-up as a disconnect. Returns whether it did (false: not a Unix binding).
 */
export function reportHangups(binding: unknown): boolean {
  if (!isUnixPortBinding(binding)) return false
  binding.read = (buffer, offset, length) => readOrHangup(binding, buffer, offset, length)
  return true
}
