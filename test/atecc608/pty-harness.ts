/**
 * Test harness for the ATECC608 simulator on a real pseudo-terminal
 * (architecture.md §6): `socat -d -d pty,raw,echo=0,link=HOST pty,raw,echo=0,link=DEV`
 * (hil-sim/pty.ts) spawned per test file, the simulator CLI (`hil-sim/atecc608/cli.ts`) serving
 * DEV in a child process, and the driver opening HOST with `serialport` as if
 * it were a KIT board on USB-CDC. Both children are killed by PID.
 */
import { spawn } from 'node:child_process'
import { join, resolve } from 'node:path'
import { startPtyPair, stopChild } from '../../hil-sim/pty.ts'

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
    await stopChild(child)
    throw e
  }
  return { pid: child.pid!, stop: () => stopChild(child), stderr: () => err }
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
    sim = await startSimCli(pair.b, ['--state', stateFile, ...args])
  } catch (e) {
    await pair.close()
    throw e
  }
  return {
    hostPath: pair.a,
    devPath: pair.b,
    stateFile,
    simPid: sim.pid,
    stop: async () => {
      await sim.stop()
      await pair.close()
    },
  }
}
