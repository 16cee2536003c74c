/**
 * A real Mosquitto broker for system-backed tests and `broker: mosquitto` scenarios: a temp config (loopback
 * listener on a free port, anonymous, Nagle off), the child's PID kept so the
 * test kills exactly its own broker, logs captured for failure messages.
 *
 * Traps (platform-notes item 7): mosquitto started as root drops privileges
 * to user `mosquitto`, which cannot write a root-owned temp dir and exits; so
 * the config says `user root` when we are root, and has no `pid_file`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { stopChild } from './pty.ts'

const FALLBACK_PATH = '/usr/sbin/mosquitto'
/** Lines of broker log kept for error messages. */
const LOG_LINES = 200
const START_TIMEOUT_MS = 5000
const STOP_TIMEOUT_MS = 5000

function which(cmd: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || undefined
  } catch {
    return undefined
  }
}

/** The mosquitto binary: on PATH, else /usr/sbin/mosquitto (not on a non-root PATH on Debian), else undefined. */
export function mosquittoPath(): string | undefined {
  return which('mosquitto') ?? (existsSync(FALLBACK_PATH) ? FALLBACK_PATH : undefined)
}

export interface MosquittoOptions {
  /** Port to listen on (default: a free port). */
  port?: number
  /** Save sessions and queued messages in the temp dir (default false). */
  persistence?: boolean
  /** PEM file paths: the listener speaks TLS (`mqtts://`). */
  tls?: { certfile: string; keyfile: string }
}

export interface Mosquitto {
  readonly url: string
  readonly port: number
  /** PID of the running broker (changes on restart). */
  readonly pid: number
  /** The last log lines (for assertion messages). */
  logs(): string
  /** SIGTERM, waits for the exit (mosquitto saves persistence on SIGTERM), removes the temp dir. Idempotent. */
  stop(): Promise<void>
  /** SIGKILL (a crash: nothing saved), waits for the exit; the temp dir stays for restart(). */
  kill(): Promise<void>
  /** Stops the broker if it runs (SIGTERM), then starts it again on the same port and config; after kill() the saved state (if any) is kept. */
  restart(): Promise<void>
}

async function freePort(): Promise<number> {
  const srv = net.createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as net.AddressInfo).port
  await new Promise<void>((r) => srv.close(() => r()))
  return port
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' })
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => {
      s.destroy()
      resolve(false)
    })
  })
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((r) => child.once('exit', () => r()))
}

/**
 * Starts mosquitto from a temp config and waits until it accepts TCP
 * connections.
 * @example
 * const m = await startMosquitto()
 * after(() => m.stop())
 */
export async function startMosquitto(opts: MosquittoOptions = {}): Promise<Mosquitto> {
  const bin = mosquittoPath()
  if (!bin) throw new Error('mosquitto not found (apt-get install mosquitto)')
  const port = opts.port ?? (await freePort())
  const dir = mkdtempSync(join(tmpdir(), 'hopseal-mosquitto-'))
  const dataDir = join(dir, 'data')
  const conf = join(dir, 'mosquitto.conf')
  const lines = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'set_tcp_nodelay true',
    `persistence ${opts.persistence ? 'true' : 'false'}`,
    `persistence_location ${dataDir}/`,
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    'connection_messages true',
    ...(opts.tls ? [`certfile ${opts.tls.certfile}`, `keyfile ${opts.tls.keyfile}`] : []),
  ]
  if (userInfo().uid === 0) lines.push('user root')
  /** (Re)creates the temp dir and config: restart() after stop() gets the same config, without saved state. */
  const writeConfig = (): void => {
    mkdirSync(dataDir, { recursive: true })
    writeFileSync(conf, lines.join('\n') + '\n')
  }
  writeConfig()

  const log: string[] = []
  let child: ChildProcess | undefined

  const capture = (chunk: Buffer): void => {
    for (const l of chunk.toString('utf8').split('\n')) if (l) log.push(l)
    if (log.length > LOG_LINES) log.splice(0, log.length - LOG_LINES)
  }

  const launch = async (): Promise<void> => {
    const c = spawn(bin, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] })
    child = c
    c.stdout?.on('data', capture)
    c.stderr?.on('data', capture)
    const deadline = Date.now() + START_TIMEOUT_MS
    while (Date.now() < deadline) {
      if (c.exitCode !== null || c.signalCode !== null) throw new Error(`mosquitto exited (${c.exitCode ?? c.signalCode}) at start:\n${log.join('\n')}`)
      if (await canConnect(port)) return
      await new Promise((r) => setTimeout(r, 20))
    }
    c.kill('SIGKILL')
    await exited(c)
    throw new Error(`mosquitto did not listen on 127.0.0.1:${port} within ${START_TIMEOUT_MS} ms:\n${log.join('\n')}`)
  }

  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    if (child) await stopChild(child, sig, STOP_TIMEOUT_MS)
  }

  try {
    await launch()
  } catch (e) {
    rmSync(dir, { recursive: true, force: true })
    throw e
  }

  return {
    url: `${opts.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    port,
    get pid() {
      return child?.pid ?? -1
    },
    logs: () => log.join('\n'),
    async stop() {
      await signal('SIGTERM')
      rmSync(dir, { recursive: true, force: true })
    },
    kill: () => signal('SIGKILL'),
    async restart() {
      await signal('SIGTERM')
      if (!existsSync(conf)) writeConfig()
      try {
        await launch()
      } catch (e) {
        rmSync(dir, { recursive: true, force: true })
        throw e
      }
    },
  }
}
