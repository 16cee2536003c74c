/**
 * Linux i2c-dev transport (spec A1, A2): the same `I2C_SLAVE` + write()/read()
 * that cryptoauthlib's Linux HAL does, through a small bus interface that the
 * optional `i2c-bus` package implements on a Raspberry Pi and the simulator
 * implements in tests.
 *
 * Command cycle (spec A2, `calib_execute_command`): write `03 ‖ packet`, wait
 * 1 ms, then every 2 ms (at most 2.5 s) write word address 00 and read the
 * count byte (NACK while busy), then read the remaining count−1 bytes.
 */
import { existsSync } from 'node:fs'
import { ErrorCode, HopsealError, throwIfAborted } from '../../src/errors.ts'
import { DEFAULT_I2C_ADDRESS, RSP_SIZE_MAX, RSP_SIZE_MIN, Timing, WordAddress } from './constants.ts'
import { LinkError, type ExecuteOptions, type Transport } from './transport.ts'
import { sleep as defaultSleep, type Sleep } from './wait.ts'

/** One I²C adapter. `write`/`read` throw on a NACK (EREMOTEIO/ENXIO), like i2c-dev. */
export interface I2cBus {
  write(address: number, bytes: Uint8Array): Promise<void>
  read(address: number, length: number): Promise<Uint8Array>
  close(): Promise<void>
}

export interface I2cTransportOptions {
  /** 7-bit address (default 0x60). */
  address?: number
  /** tWHI after the wake pulse, ms (default 1.5, spec A2). */
  wakeDelayMs?: number
  /** Waits between polls (default setTimeout); with `now`, lets a test run the driver on an injected clock. */
  sleep?: Sleep
  /** The clock the polling and wake deadlines read, ms (default Date.now). */
  now?: () => number
}

export class I2cTransport implements Transport {
  readonly kind = 'i2c' as const
  readonly address: number
  private readonly wakeDelayMs: number
  private readonly sleepFn: Sleep
  private readonly now: () => number

  constructor(
    private readonly bus: I2cBus,
    opts: I2cTransportOptions = {},
  ) {
    this.address = opts.address ?? DEFAULT_I2C_ADDRESS
    if (!Number.isInteger(this.address) || this.address < 0x08 || this.address > 0x77) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `I2C address expected a 7-bit address 0x08..0x77, got ${this.address}`)
    this.wakeDelayMs = opts.wakeDelayMs ?? Timing.WAKE_HIGH_US / 1000
    this.sleepFn = opts.sleep ?? defaultSleep
    this.now = opts.now ?? Date.now
  }

  /**
   * Wake (spec A2, `calib_wakeup_i2c`): write one byte to address 0x00 (the
   * address byte keeps SDA low ≥ 60 µs at ≤ 100 kHz), ignore the NACK, wait
   * tWHI, read the 4-byte wake response.
   */
  async wake(opts: { timeoutMs: number; signal?: AbortSignal }): Promise<Uint8Array> {
    const deadline = this.now() + opts.timeoutMs
    for (;;) {
      throwIfAborted(opts.signal)
      try {
        await this.bus.write(0x00, Uint8Array.of(0x00))
      } catch {
        // the wake pulse is never acknowledged
      }
      await this.sleepFn(this.wakeDelayMs, opts.signal)
      try {
        return await this.bus.read(this.address, 4)
      } catch {
        if (this.now() >= deadline) throw new HopsealError(ErrorCode.VAULT_DEVICE_TIMEOUT, `no wake response from 0x${this.address.toString(16)} within ${opts.timeoutMs} ms`)
      }
    }
  }

  async execute(packet: Uint8Array, opts: ExecuteOptions): Promise<Uint8Array> {
    const frame = new Uint8Array(packet.length + 1)
    frame[0] = WordAddress.COMMAND
    frame.set(packet, 1)
    try {
      await this.bus.write(this.address, frame)
    } catch (e) {
      throw new LinkError(`command write NACKed: ${(e as Error).message}`)
    }
    await this.sleepFn(Timing.POLL_INIT_MS, opts.signal)
    const deadline = this.now() + opts.timeoutMs
    for (;;) {
      throwIfAborted(opts.signal)
      try {
        await this.bus.write(this.address, Uint8Array.of(WordAddress.RESET))
        const head = await this.bus.read(this.address, 1)
        const count = head[0]!
        if (count < RSP_SIZE_MIN || count > RSP_SIZE_MAX) throw new LinkError(`response count ${count} out of range`)
        const rest = await this.bus.read(this.address, count - 1)
        const out = new Uint8Array(count)
        out[0] = count
        out.set(rest.subarray(0, count - 1), 1)
        return out
      } catch (e) {
        if (e instanceof LinkError) throw e
        // NACK: still executing (spec A2 polling)
      }
      if (this.now() >= deadline) throw new HopsealError(ErrorCode.VAULT_DEVICE_TIMEOUT, `device did not answer within ${opts.timeoutMs} ms`)
      await this.sleepFn(Timing.POLL_PERIOD_MS, opts.signal)
    }
  }

  async idle(): Promise<void> {
    try {
      await this.bus.write(this.address, Uint8Array.of(WordAddress.IDLE))
    } catch (e) {
      throw new LinkError(`idle NACKed: ${(e as Error).message}`)
    }
  }

  async sleep(): Promise<void> {
    try {
      await this.bus.write(this.address, Uint8Array.of(WordAddress.SLEEP))
    } catch {
      // already asleep
    }
  }

  async close(): Promise<void> {
    await this.bus.close()
  }
}

/**
 * Opens `/dev/i2c-<bus>` through the optional `i2c-bus` package (dynamic
 * import, so hosts without it still load the rest of the driver).
 * @throws VAULT_OPERATION_UNSUPPORTED when i2c-bus is not installed; VAULT_TOKEN_ABSENT when the bus cannot be opened.
 */
export async function openI2cDevBus(busNumber: number): Promise<I2cBus> {
  if (!Number.isInteger(busNumber) || busNumber < 0 || busNumber > 255) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `I2C bus expected 0..255, got ${busNumber}`)
  // i2c-bus opens lazily on some versions: check the device node first for a clear error
  if (!existsSync(`/dev/i2c-${busNumber}`)) throw new HopsealError(ErrorCode.VAULT_TOKEN_ABSENT, `/dev/i2c-${busNumber} does not exist (enable I2C: raspi-config, dtparam=i2c_arm=on)`)
  let mod: { openPromisified(bus: number): Promise<PromisifiedBus> }
  try {
    const name = 'i2c-bus'
    const m = (await import(name)) as { default?: typeof mod } & typeof mod
    mod = m.default ?? m
  } catch (e) {
    throw new HopsealError(ErrorCode.VAULT_OPERATION_UNSUPPORTED, 'the optional package i2c-bus is not installed (npm install i2c-bus)', { cause: e })
  }
  let bus: PromisifiedBus
  try {
    bus = await mod.openPromisified(busNumber)
  } catch (e) {
    throw new HopsealError(ErrorCode.VAULT_TOKEN_ABSENT, `cannot open /dev/i2c-${busNumber}: ${(e as Error).message}`, { cause: e })
  }
  return {
    write: async (addr, bytes) => {
      await bus.i2cWrite(addr, bytes.length, Buffer.from(bytes))
    },
    read: async (addr, n) => {
      const r = await bus.i2cRead(addr, n, Buffer.alloc(n))
      return new Uint8Array(r.buffer.subarray(0, r.bytesRead))
    },
    close: () => bus.close(),
  }
}

interface PromisifiedBus {
  i2cWrite(addr: number, length: number, buffer: Buffer): Promise<{ bytesWritten: number; buffer: Buffer }>
  i2cRead(addr: number, length: number, buffer: Buffer): Promise<{ bytesRead: number; buffer: Buffer }>
  close(): Promise<void>
}
