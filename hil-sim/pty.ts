/**
 * Real serial lines for hardware-in-the-loop runs: a socat pseudo-terminal
 * pair (`socat pty,raw,echo=0,link=A pty,raw,echo=0,link=B`, architecture.md
 * §6) whose two ends are opened with `serialport` exactly like a USB-CDC
 * modem, so the framing, the kernel tty layer and the re-open path all run
 * for real. `unplug()` kills socat (both ends see the port close, like a
 * device pulled out) and `replug()` starts it again on the same paths.
 *
 * The socat child is killed by PID on close; a stale pair never outlives its
 * owner's `close()`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ErrorCode, HopsealError } from '../src/errors.ts'
import { openSerialLink, type SerialLink, type SerialLinkOptions } from '../targets/node/transports/serial/serialport-link.ts'

/** How long socat may take to create both links (ms). */
const PTY_START_TIMEOUT_MS = 5000
/** Grace before SIGKILL when stopping socat (ms). */
const PTY_KILL_GRACE_MS = 2000
const POLL_MS = 10

export interface PtyPair {
  /** Path of end A (a symlink to /dev/pts/N). */
  readonly a: string
  /** Path of end B. */
  readonly b: string
  /** The pair's temp dir (removed by close(); callers may keep files there). */
  readonly dir: string
  /** socat's PID, -1 while unplugged. */
  readonly pid: number
  /** Kills socat: both ends close, like a cable pulled out. */
  unplug(): Promise<void>
  /** Starts socat again on the same paths. */
  replug(): Promise<void>
  /** Stops socat and removes the temp dir. Idempotent. */
  close(): Promise<void>
}

let socatChecked: boolean | undefined
/** Whether `socat` is on the PATH. */
export function hasSocat(): boolean {
  socatChecked ??= spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0
  return socatChecked
}

/** Sends `signal` (SIGTERM by default), then SIGKILL after `graceMs`; resolves when the child has exited. */
export function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = PTY_KILL_GRACE_MS): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve()
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      try {
        process.kill(child.pid!, 'SIGKILL')
      } catch {
        // already gone
      }
    }, graceMs)
    child.once('exit', () => {
      clearTimeout(t)
      resolve()
    })
    try {
      process.kill(child.pid!, signal)
    } catch {
      clearTimeout(t)
      resolve()
    }
  })
}

/**
 * Starts a socat PTY pair in a fresh temp dir and waits until both links exist.
 * @throws HopsealError TRANSPORT_UNAVAILABLE when socat is missing or does not
 *   create the links within 5 s.
 */
export async function startPtyPair(): Promise<PtyPair> {
  if (!hasSocat()) throw new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, 'socat is not installed (apt-get install socat): PTY links need it; use the memory medium instead')
  const dir = mkdtempSync(join(tmpdir(), 'hopseal-pty-'))
  const a = join(dir, 'a')
  const b = join(dir, 'b')
  let child: ChildProcess | undefined
  let closed = false

  const start = async (): Promise<void> => {
    rmSync(a, { force: true })
    rmSync(b, { force: true })
    let log = ''
    const c = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ['ignore', 'ignore', 'pipe'] })
    c.stderr!.on('data', (d: Buffer) => {
      if (log.length < 4096) log += d.toString()
    })
    c.on('error', () => undefined)
    child = c
    const end = Date.now() + PTY_START_TIMEOUT_MS
    while (!(existsSync(a) && existsSync(b))) {
      if (c.exitCode !== null || Date.now() > end) {
        await stopChild(c)
        child = undefined
        throw new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, `socat did not create the PTY pair within ${PTY_START_TIMEOUT_MS} ms: ${log.trim() || 'no output'}`)
      }
      await new Promise((r) => setTimeout(r, POLL_MS))
    }
  }

  try {
    await start()
  } catch (e) {
    rmSync(dir, { recursive: true, force: true })
    throw e
  }
  return {
    a,
    b,
    dir,
    get pid() {
      return child?.pid ?? -1
    },
    async unplug() {
      const c = child
      child = undefined
      if (c) await stopChild(c)
    },
    async replug() {
      if (closed) throw new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, 'PTY pair is closed')
      if (!child) await start()
    },
    async close() {
      if (closed) return
      closed = true
      const c = child
      child = undefined
      if (c) await stopChild(c)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export interface PtyLinkPair {
  /** End A, opened with serialport (COBS + CRC-16 framing). */
  a: SerialLink
  /** End B. */
  b: SerialLink
  pty: PtyPair
  /** Closes both links, then socat. */
  close(): Promise<void>
}

/**
 * A FrameLink pair over a real socat PTY pair: what `memoryLinkPair` gives in
 * memory, through the kernel's tty layer and `serialport`. Wrap either end
 * with `modelLink` for loss, airtime and duty cycle. Both links re-open on
 * their own after `pty.unplug()` + `pty.replug()` (default backoff 50..500 ms).
 */
export async function ptyLinkPair(opts: SerialLinkOptions = {}): Promise<PtyLinkPair> {
  const pty = await startPtyPair()
  const linkOpts: SerialLinkOptions = { reopen: { initialMs: 50, maxMs: 500 }, ...opts }
  let a: SerialLink | undefined
  try {
    a = await openSerialLink(pty.a, linkOpts)
    const b = await openSerialLink(pty.b, linkOpts)
    return {
      a,
      b,
      pty,
      async close() {
        await a!.close()
        await b.close()
        await pty.close()
      },
    }
  } catch (e) {
    await a?.close()
    await pty.close()
    throw e
  }
}
