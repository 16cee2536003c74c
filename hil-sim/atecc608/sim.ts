/**
 * The ATECC608 simulator: engine + link + KIT line server, with a state
 * file, a deterministic-RNG option, `realtime`/`instant` timing and fault
 * injection. Reachable in-process (a memory byte channel or an I²C bus
 * object) or on the far end of a real PTY (./cli.ts, ./serve-tty.ts).
 *
 * @example
 * const sim = Atecc608Sim.create({ timing: 'instant', seed: 'test' })
 * const vault = await Atecc608Vault.open({ transport: kitTransport(sim.kitChannel()) })
 */
import { ErrorCode, HopsealError } from '../../src/errors.ts'
import type { CryptoProvider } from '../../src/crypto/index.ts'
import { DEFAULT_I2C_ADDRESS, ConfigOffset, LOCK_LOCKED } from '../../vaults/atecc608/constants.ts'
import { hopsealConfig } from '../../vaults/atecc608/config.ts'
import { encodeSlotMap } from '../../vaults/atecc608/slot-map.ts'
import type { ByteChannel } from '../../vaults/atecc608/kit-transport.ts'
import type { I2cBus } from '../../vaults/atecc608/i2c-transport.ts'
import { CommandEngine } from './engine.ts'
import { FaultQueue, type Fault } from './faults.ts'
import { KitLineServer, type KitServerOptions } from './kit-server.ts'
import { PacketLink, realClock, type Clock, type SimTiming } from './link.ts'
import { deterministicRng } from './rng.ts'
import { blankState, loadStateFile, saveStateFile, type DeviceState } from './state.ts'

export interface SimOptions {
  /** 'instant' (default: tests) or 'realtime' (M0 execution times, spec A3). */
  timing?: SimTiming
  /** Deterministic RNG seed (keys and Random become reproducible). */
  seed?: string
  /** Config zone to start from (128 bytes); default hopseal's configuration. */
  config?: Uint8Array
  /**
   * Start provisioned: config and data zones locked with an empty slot map
   * (default true). False gives a factory-fresh, unlocked device.
   */
  provisioned?: boolean
  /** Revision bytes 4–7: 608A `00 00 60 02` (default) or 608B `00 00 60 03`. */
  revision?: 'A' | 'B'
  /** Enforce the † lock rules (spec A3). */
  strict?: boolean
  /** State file: loaded when it exists, written after every non-volatile change. */
  stateFile?: string
  /** 7-bit I²C address (default 0x60; the KIT address is the 8-bit form 0xC0). */
  address?: number
  crypto?: CryptoProvider
  clock?: Clock
}

export class Atecc608Sim {
  readonly engine: CommandEngine
  readonly link: PacketLink
  readonly faults = new FaultQueue()
  readonly timing: SimTiming
  private readonly stateFile: string | undefined

  private constructor(state: DeviceState, opts: SimOptions) {
    this.timing = opts.timing ?? 'instant'
    this.stateFile = opts.stateFile
    this.engine = new CommandEngine(state, {
      crypto: opts.crypto,
      rng: opts.seed !== undefined ? deterministicRng(opts.seed) : undefined,
      strict: opts.strict,
      onPersist: () => this.persist(),
    })
    this.link = new PacketLink(this.engine, this.faults, { timing: this.timing, clock: opts.clock ?? realClock, address: opts.address ?? DEFAULT_I2C_ADDRESS })
  }

  /** Creates a simulator; with `stateFile`, resumes the device saved there. */
  static create(opts: SimOptions = {}): Atecc608Sim {
    let state = opts.stateFile ? loadStateFile(opts.stateFile) : undefined
    const fresh = !state
    if (!state) {
      const config = (opts.config ?? hopsealConfig()).slice()
      if (config.length !== 128) throw new HopsealError(ErrorCode.INVALID_LENGTH, `config expected 128 bytes, got ${config.length}`)
      if (opts.revision === 'B') config[ConfigOffset.REVISION + 3] = 0x03
      state = blankState(config)
      if (opts.provisioned !== false) {
        state.config[ConfigOffset.LOCK_CONFIG] = LOCK_LOCKED
        state.config[ConfigOffset.LOCK_VALUE] = LOCK_LOCKED
        state.data[8]!.set(encodeSlotMap([]))
      }
    }
    const sim = new Atecc608Sim(state, opts)
    if (fresh) sim.persist()
    return sim
  }

  /** Queues a fault for the next matching command (see ./faults.ts). */
  injectFault(f: Fault): void {
    this.faults.push(f)
  }

  /** Commands executed by opcode since creation (or the last reset). */
  opCounts(): Map<number, number> {
    return new Map(this.engine.opCounts)
  }
  resetOpCounts(): void {
    this.engine.opCounts.clear()
  }

  /** A KIT line server on this device (one per host connection). */
  kitServer(opts: KitServerOptions = {}): KitLineServer {
    return new KitLineServer(this.link, opts)
  }

  /**
   * An in-memory byte channel to a fresh KIT line server, as if a USB-CDC
   * port were open: the driver's bytes go in, the server's lines come back
   * asynchronously.
   */
  kitChannel(opts: KitServerOptions = {}): ByteChannel & { server: KitLineServer } {
    const server = this.kitServer(opts)
    let listener: ((b: Uint8Array) => void) | undefined
    let closed = false
    server.onOutput((line) => {
      const bytes = new TextEncoder().encode(line)
      queueMicrotask(() => {
        if (!closed) listener?.(bytes)
      })
    })
    return {
      server,
      write: async (b) => {
        if (closed) throw new HopsealError(ErrorCode.VAULT_DEVICE_ERROR, 'channel closed')
        server.feed(b.slice())
      },
      onData: (cb) => {
        listener = cb
      },
      close: async () => {
        closed = true
      },
    }
  }

  /** The I²C face of the device, as the driver's I2cBus (what /dev/i2c-N would carry). */
  i2cBus(): I2cBus {
    return {
      write: (addr, bytes) => this.link.i2cWrite(addr, bytes),
      read: (addr, n) => this.link.i2cRead(addr, n),
      close: async () => undefined,
    }
  }

  /** Simulates a power cycle: volatile state lost, device asleep. */
  powerCycle(): void {
    this.link.sleep()
  }

  private persist(): void {
    if (this.stateFile) saveStateFile(this.stateFile, this.engine.state)
  }
}
