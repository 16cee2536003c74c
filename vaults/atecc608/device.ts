/**
 * The command layer: one command at a time per device (a mutex), each
 * command as cryptoauthlib runs it (wake → command → idle, spec A2), response
 * CRC and status checks, and retries of whole sequences on CRC errors,
 * watchdog (EE), ECC faults (05), link failures, and self-test failure mode
 * (07: run SelfTest, then retry). Every wait has a timeout and an AbortSignal.
 */
import { ErrorCode, HopsealError, isHopsealError, throwIfAborted } from '../../src/errors.ts'
import { DEFAULT_RETRIES, EXEC_TIME_M0_MS, Status, Timing } from './constants.ts'
import * as C from './commands.ts'
import { DeviceStatusError, ResponseCorrupt, isRetryableStatus, parseResponse } from './packet.ts'
import { LinkError, type Transport } from './transport.ts'
import { Mutex } from './wait.ts'

export interface DeviceOptions {
  /** Re-runs of a failed sequence (default 3). */
  retries?: number
  /** Per-command answer timeout in ms (default 2500, ATCA_POLLING_MAX_TIME_MSEC). */
  timeoutMs?: number
}

/** Runs commands inside one transaction (the caller holds the device). */
export interface Session {
  /** Runs a command; returns its data (expectedData > 0) or checks a success status. */
  run(cmd: C.Command): Promise<Uint8Array>
  /** Runs a command whose 4-byte answer is a result, not an error (Verify, SelfTest). */
  runStatus(cmd: C.Command): Promise<number>
}

export interface TransactionOptions {
  signal?: AbortSignal
  /** Also retry the whole sequence once on an execution error (state lost between Nonce and Sign). */
  retryOnExecutionError?: boolean
}

/** Counts of commands sent, by name (for the bench's ops-per-handshake). */
export type OpCounter = Map<string, number>

export class Atecc608Device {
  private readonly mutex = new Mutex()
  readonly retries: number
  readonly timeoutMs: number
  readonly ops: OpCounter = new Map()
  /** Retries done so far (tests and operators can watch recoveries). */
  recoveries = 0

  constructor(
    readonly transport: Transport,
    opts: DeviceOptions = {},
  ) {
    this.retries = opts.retries ?? DEFAULT_RETRIES
    this.timeoutMs = opts.timeoutMs ?? Timing.POLL_MAX_MS
  }

  /**
   * Runs `fn` with exclusive use of the device, re-running the whole sequence
   * on retryable failures.
   * @throws VAULT_DEVICE_ERROR (with the device status), VAULT_DEVICE_TIMEOUT, ABORTED
   */
  transaction<T>(fn: (s: Session) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    throwIfAborted(opts.signal)
    return this.mutex.run(async () => {
      let execRetried = false
      for (let attempt = 0; ; attempt++) {
        throwIfAborted(opts.signal)
        try {
          return await fn(this.session(opts.signal))
        } catch (e) {
          if (attempt >= this.retries) throw wrap(e)
          if (e instanceof DeviceStatusError && e.status === Status.SELFTEST_ERROR) {
            // self-test failure mode: a passing SelfTest clears it (spec A2 status 07)
            const r = await this.session(opts.signal).runStatus(C.selfTest())
            if (r !== 0) throw new HopsealError(ErrorCode.VAULT_DEVICE_ERROR, `device self-test failed (result 0x${r.toString(16)})`)
          } else if (e instanceof DeviceStatusError && e.status === Status.EXECUTION_ERROR && opts.retryOnExecutionError && !execRetried) {
            execRetried = true
          } else if (!(e instanceof ResponseCorrupt || e instanceof LinkError || (e instanceof DeviceStatusError && isRetryableStatus(e.status)))) {
            throw wrap(e)
          }
          this.recoveries++
        }
      }
    }, opts.signal)
  }

  private session(signal: AbortSignal | undefined): Session {
    const cycle = async (cmd: C.Command): Promise<Uint8Array> => {
      const budget = { timeoutMs: this.timeoutMs, signal }
      const token = await this.transport.wake(budget)
      if (token.length === 4 && token[1] === Status.SELFTEST_ERROR && cmd.opcode !== 0x77 && cmd.opcode !== 0x30 && cmd.opcode !== 0x02) {
        throw new DeviceStatusError(Status.SELFTEST_ERROR, `${cmd.name} (wake)`)
      }
      this.ops.set(cmd.name, (this.ops.get(cmd.name) ?? 0) + 1)
      const timeoutMs = Math.max(this.timeoutMs, (EXEC_TIME_M0_MS[cmd.opcode] ?? 0) * 2)
      const raw = await this.transport.execute(cmd.packet, { opcode: cmd.opcode, timeoutMs, signal })
      // spec A2 step 5: always idle after every command (keeps TempKey and MsgDigBuf)
      await this.transport.idle(budget)
      return raw
    }
    return {
      run: async (cmd) => {
        const r = parseResponse(await cycle(cmd))
        if (r.kind === 'status') {
          if (r.status === Status.SUCCESS && cmd.expectedData === 0) return new Uint8Array(0)
          throw new DeviceStatusError(r.status === Status.SUCCESS ? Status.PARSE_ERROR : r.status, cmd.name)
        }
        if (cmd.expectedData >= 0 && r.data.length !== cmd.expectedData) throw new ResponseCorrupt(`${cmd.name}: expected ${cmd.expectedData} data bytes, got ${r.data.length}`)
        return r.data
      },
      runStatus: async (cmd) => {
        const r = parseResponse(await cycle(cmd))
        if (r.kind !== 'status') throw new ResponseCorrupt(`${cmd.name}: expected a 4-byte result`)
        if (r.status === Status.CRC_ERROR || r.status === Status.WATCHDOG || r.status === Status.PARSE_ERROR || r.status === Status.EXECUTION_ERROR) {
          throw new DeviceStatusError(r.status, cmd.name)
        }
        return r.status
      },
    }
  }

  /** Sends sleep (volatile state lost); best effort. */
  async sleep(signal?: AbortSignal): Promise<void> {
    await this.mutex.run(async () => {
      try {
        await this.transport.wake({ timeoutMs: this.timeoutMs, signal })
        await this.transport.sleep({ timeoutMs: this.timeoutMs, signal })
      } catch {
        // a device that is gone is asleep enough
      }
    })
  }
}

function wrap(e: unknown): Error {
  if (isHopsealError(e)) return e
  if (e instanceof LinkError) return new HopsealError(ErrorCode.VAULT_DEVICE_ERROR, e.message, { cause: e })
  return new HopsealError(ErrorCode.VAULT_DEVICE_ERROR, `ATECC608: ${(e as Error)?.message ?? String(e)}`, { cause: e })
}
