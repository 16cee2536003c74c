/**
 * Test harness for the ATECC608 simulator on a real pseudo-terminal
 * (architecture.md §6): `socat -d -d pty,raw,echo=0,link=HOST pty,raw,echo=0,link=DEV`
 * spawned per test file, the simulator CLI (`hil-sim/atecc608/cli.ts`) serving
 * DEV in a child process, and the driver opening HOST with `serialport` as if
 * it were a KIT board on USB-CDC. Both children are killed by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '../..')
const CLI = join(ROOT, 'hil-sim/atecc608/cli.ts')

/** Waits until `cond()` holds, polling every 20 ms; rejects after `timeoutMs`. */
async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

export interface PtyPair {
  /** The end the host (driver) opens. */
  host: string
  /** The end the simulator serves. */
  dev: string
  dir: string
  stop(): Promise<void>
}

function killAndWait(child: ChildProcess, timeoutMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve()
  return new Promise((res) => {
    const t = setTimeout(() => {
      try {
        process.kill(child.pid!, 'SIGKILL')
      } catch {
        // already gone
      }
      res()
    }, timeoutMs)
    child.once('exit', () => {
      clearTimeout(t)
      res()
    })
    try {
      process.kill(child.pid!, 'SIGTERM')
    } catch {
      clearTimeout(t)
      res()
    }
  })
}

/** Spawns a socat PTY pair in a fresh temp dir and waits for both links. */
export async function startPtyPair(): Promise<PtyPair> {
  const dir = mkdtempSync(join(tmpdir(), 'hopseal-pty-'))
  const host = join(dir, 'kit-host')
  const dev = join(dir, 'kit-dev')
  const socat = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${host}`, `pty,raw,echo=0,link=${dev}`], { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  socat.stderr!.on('data', (d: Buffer) => (log += d.toString()))
  try {
    await waitFor(() => (existsSync(host) && existsSync(dev)) || socat.exitCode !== null, 5000, 'the socat PTY links')
    if (socat.exitCode !== null) throw new Error(`socat exited (${socat.exitCode}): ${log}`)
  } catch (e) {
    await killAndWait(socat)
    rmSync(dir, { recursive: true, force: true })
    throw e
  }
  return {
    host,
    dev,
    dir,
    stop: async () => {
      await killAndWait(socat)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export interface SimProcess {
  pid: number
  stop(): Promise<void>
  /** stderr seen so far (for failure messages). */
  stderr(): string
}

/** Starts `hil-sim/atecc608/cli.ts` on `tty` in a child process and waits for its ready line. */
export async function startSimCli(tty: string, args: string[] = []): Promise<SimProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, '--tty', tty, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  try {
    await waitFor(() => out.includes('atecc608-sim: serving') || child.exitCode !== null, 30_000, 'the simulator CLI')
    if (child.exitCode !== null) throw new Error(`simulator CLI exited (${child.exitCode}): ${err}`)
  } catch (e) {
    await killAndWait(child)
    throw e
  }
  return { pid: child.pid!, stop: () => killAndWait(child), stderr: () => err }
}

export interface PtySim {
  /** The PTY end the driver opens. */
  hostPath: string
  /** The PTY end the simulator serves. */
  devPath: string
  /** The simulator's state file (inside the pair's temp dir). */
  stateFile: string
  simPid: number
  stop(): Promise<void>
}

/**
 * A socat PTY pair with the simulator CLI serving one end, its state in a file
 * in the pair's temp dir; `args` go to the CLI (e.g. `['--seed', 'pty']`).
 */
export async function startPtySim(args: string[] = []): Promise<PtySim> {
  const pair = await startPtyPair()
  const stateFile = join(pair.dir, 'atecc608-state.json')
  let sim: SimProcess
  try {
    sim = await startSimCli(pair.dev, ['--state', stateFile, ...args])
  } catch (e) {
    await pair.stop()
    throw e
  }
  return {
    hostPath: pair.host,
    devPath: pair.dev,
    stateFile,
    simPid: sim.pid,
    stop: async () => {
      await sim.stop()
      await pair.stop()
    },
  }
}
