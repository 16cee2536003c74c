/**
 * `atecc608-sim`: serves the ATECC608 simulator's KIT line server on a TTY
 * path, e.g. the far end of a socat PTY pair (architecture.md §6), so that a
 * host (hopseal's driver, or cryptoauthlib's KIT-UART HAL) opens the other end
 * as if it were a KIT board on USB-CDC.
 *
 * Prints one line `atecc608-sim: serving PATH` on stdout when the port is open
 * (tests wait for it), then runs until SIGTERM/SIGINT or stdin closes with
 * `--exit-on-stdin-close`. Exit codes: 0 normal stop, 2 bad arguments or a
 * port that cannot be opened.
 *
 * @example
 * socat -d -d pty,raw,echo=0,link=/tmp/kit-host pty,raw,echo=0,link=/tmp/kit-dev &
 * npx tsx hil-sim/atecc608/cli.ts --tty /tmp/kit-dev --state /tmp/atecc.json --seed demo
 * node bin/hopseal.js vault list --vault atecc608:kit=/tmp/kit-host
 */
import { parseArgs } from 'node:util'
import { isHopsealError } from '../../src/errors.ts'
import { Atecc608Sim } from './sim.ts'
import { serveKitOnTty } from './serve-tty.ts'

const USAGE = `usage: atecc608-sim --tty PATH [--state FILE] [--seed TEXT] [--timing instant|realtime|max]
                    [--firmware kp|kh] [--revision A|B] [--lax] [--unprovisioned]
  --tty PATH        serial device to serve on (a socat PTY end, or a real UART)
  --state FILE      device state file: loaded when present, written on every non-volatile change
  --seed TEXT       deterministic RNG and serial number for a new device; a device restarted
                    from --state continues its RNG stream (Random never repeats, as on silicon)
  --timing MODE     instant (default), realtime (typical execution times with seeded jitter,
                    never above the maximum) or max (the maximum times, spec A3)
  --firmware D      reply dialect: kp (Trust Platform, default) or kh (cryptoauthlib kit_host)
  --revision R      A (00 00 60 02, default) or B (00 00 60 03)
  --lax             do not enforce the data-sheet (†) lock rules (strict is the default;
                    --strict is accepted and changes nothing)
  --unprovisioned   start factory-fresh (zones unlocked) instead of hopseal-provisioned
  --io-key HEX      provision this 32-byte I/O protection key (64 hex digits): every ECDH
                    output must then be encrypted with it (ChipOptions ECDHProt = 1)`

interface CliArgs {
  tty: string
  state?: string
  seed?: string
  timing: 'instant' | 'realtime' | 'max'
  firmware: 'kp' | 'kh'
  revision: 'A' | 'B'
  strict: boolean
  provisioned: boolean
  ioKey?: Uint8Array
  exitOnStdinClose: boolean
}

/** Parses the command line; throws an Error with the usage text on bad input. */
export function parseCliArgs(argv: string[]): CliArgs {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      tty: { type: 'string' },
      state: { type: 'string' },
      seed: { type: 'string' },
      timing: { type: 'string', default: 'instant' },
      firmware: { type: 'string', default: 'kp' },
      revision: { type: 'string', default: 'A' },
      strict: { type: 'boolean', default: false },
      lax: { type: 'boolean', default: false },
      unprovisioned: { type: 'boolean', default: false },
      'io-key': { type: 'string' },
      'exit-on-stdin-close': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) throw new Error(USAGE)
  if (!values.tty) throw new Error(`--tty is required\n${USAGE}`)
  if (values.lax && values.strict) throw new Error(`--lax and --strict contradict each other\n${USAGE}`)
  const oneOf = <T extends string>(name: string, v: string | undefined, allowed: readonly T[]): T => {
    if (!allowed.includes(v as T)) throw new Error(`--${name} expected ${allowed.join('|')}, got ${String(v)}\n${USAGE}`)
    return v as T
  }
  const io = values['io-key']
  if (io !== undefined && !/^[0-9a-fA-F]{64}$/.test(io)) throw new Error(`--io-key expected 64 hex digits (32 bytes)\n${USAGE}`)
  return {
    ...(io !== undefined ? { ioKey: Uint8Array.from(Buffer.from(io, 'hex')) } : {}),
    tty: values.tty,
    state: values.state,
    seed: values.seed,
    timing: oneOf('timing', values.timing, ['instant', 'realtime', 'max'] as const),
    firmware: oneOf('firmware', values.firmware, ['kp', 'kh'] as const),
    revision: oneOf('revision', values.revision, ['A', 'B'] as const),
    strict: values.lax !== true,
    provisioned: values.unprovisioned !== true,
    exitOnStdinClose: values['exit-on-stdin-close'] === true,
  }
}

async function main(): Promise<void> {
  let args: CliArgs
  try {
    args = parseCliArgs(process.argv.slice(2))
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`)
    process.exitCode = 2
    return
  }
  let server: { close(): Promise<void> }
  try {
    const sim = Atecc608Sim.create({
      stateFile: args.state,
      seed: args.seed,
      timing: args.timing,
      strict: args.strict,
      revision: args.revision,
      provisioned: args.provisioned,
      ...(args.ioKey ? { ioProtectionKey: args.ioKey } : {}),
    })
    server = await serveKitOnTty(sim, args.tty, { firmware: args.firmware })
  } catch (e) {
    const code = isHopsealError(e) ? `${e.code}: ` : ''
    process.stderr.write(`atecc608-sim: ${code}${(e as Error).message}\n`)
    process.exitCode = 2
    return
  }
  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    void server.close().finally(() => process.exit(0))
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  if (args.exitOnStdinClose) {
    process.stdin.on('end', stop)
    process.stdin.on('close', stop)
    process.stdin.resume()
  }
  process.stdout.write(`atecc608-sim: serving ${args.tty}\n`)
}

// Run only when executed directly (tests import parseCliArgs).
if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/hil-sim/atecc608/cli.ts')) {
  void main()
}
