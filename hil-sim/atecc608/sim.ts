/**
 * The ATECC608 simulator: engine + link + KIT line server, with a state
 * file, a deterministic-RNG option, `realtime`/`instant` timing and fault
 * injection. Reachable in-process (a memory byte channel or an I²C bus
 * object) or on the far end of a real PTY (./cli.ts, ./serve-tty.ts).
 *
 * A new device gets its own serial number (random, or derived from `seed`),
 * kept in its state file. The default device is provisioned the way a host
 * provisions silicon: the packets of vaults/atecc608/provision.ts
 * (`configWriteCommands`, Lock config with the CRC read back, `dataWriteCommands`,
 * Lock data) go through the packet link; no lock byte is set behind its back.
 *
 * @example
 * const sim = Atecc608Sim.create({ timing: 'instant', seed: 'test' })
 * const vault = await Atecc608Vault.open({ transport: kitTransport(sim.kitChannel()) })
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { ErrorCode, HopsealError } from '../../src/errors.ts'
import type { CryptoProvider } from '../../targets/node/crypto/index.ts'
import { DEFAULT_I2C_ADDRESS, ConfigOffset, Status } from '../../vaults/atecc608/constants.ts'
import * as C from '../../vaults/atecc608/commands.ts'
import { ConfigZone, HOPSEAL_IO_KEY_SLOT, hopsealConfig } from '../../vaults/atecc608/config.ts'
import { atcaCrc16 } from '../../vaults/atecc608/crc.ts'
import { parseResponse } from '../../vaults/atecc608/packet.ts'
import { configWriteCommands, dataWriteCommands } from '../../vaults/atecc608/provision.ts'
import type { ByteChannel } from '../../vaults/atecc608/kit-transport.ts'
import type { I2cBus } from '../../vaults/atecc608/i2c-transport.ts'
import { CommandEngine } from './engine.ts'
import { FaultQueue, type Fault } from './faults.ts'
import { KitLineServer, type KitServerOptions } from './kit-server.ts'
import { PacketLink, realClock, type Clock } from './link.ts'
import { deterministicRng } from './rng.ts'
import { execTimer, type SimTiming } from './timing.ts'
import { blankState, loadStateFile, saveStateFile, type DeviceState } from './state.ts'

export interface SimOptions {
  /**
   * 'instant' (default: tests), 'realtime' (typical execution times for the
   * device's clock divider with seeded jitter, never above the maximum) or
   * 'max' (the maximum times, spec A3 table). See ./timing.ts.
   */
  timing?: SimTiming
  /**
   * Deterministic RNG seed: a new device's serial number, keys and Random
   * become reproducible. A device restarted from its state file continues its
   * RNG stream instead of repeating it (./rng.ts).
   */
  seed?: string
  /**
   * The configuration (128 bytes; bytes 16–127 are used). Provisioned devices
   * (the default) get it through Write commands; a factory-fresh device starts
   * with it, unlocked. Default hopseal's configuration.
   */
  config?: Uint8Array
  /**
   * Start provisioned (default true): hopseal's provisioning runs over the
   * packet link with generic commands (config writes, Lock config with its CRC,
   * slot map write, Lock data). False gives a factory-fresh, unlocked device.
   */
  provisioned?: boolean
  /**
   * An I/O protection key to provision (32 bytes): with no `config`, hopseal's
   * configuration with the key in slot 9 and every ECDH output encrypted.
   */
  ioProtectionKey?: Uint8Array
  /** The 9-byte serial number of a new device (default: random, or derived from `seed`); SN[0:1] of real parts is 01 23. */
  serialNumber?: Uint8Array
  /** Revision bytes 4–7: 608A `00 00 60 02` (default) or 608B `00 00 60 03`. */
  revision?: 'A' | 'B'
  /**
   * Enforce the † lock rules of spec A3 (default true, as silicon does):
   * GenKey needs the config lock; Sign, ECDH and data reads the data lock.
   */
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
  /** The clock the link's busy times, the watchdog and the KIT board's execution wait run on. */
  readonly clock: Clock
  private readonly stateFile: string | undefined

  private constructor(state: DeviceState, opts: SimOptions) {
    this.timing = opts.timing ?? 'instant'
    this.clock = opts.clock ?? realClock
    this.stateFile = opts.stateFile
    this.engine = new CommandEngine(state, {
      crypto: opts.crypto,
      rng: opts.seed !== undefined ? deterministicRng(opts.seed, state.rngEpoch) : undefined,
      strict: opts.strict,
      onPersist: () => this.persist(),
    })
    // the jitter has its own stream, so a seed gives the same keys and Random output in every timing mode
    const jitter = opts.seed !== undefined ? deterministicRng(`${opts.seed}/exec-timing`, state.rngEpoch) : (n: number) => crypto.getRandomValues(new Uint8Array(n))
    if (!['instant', 'realtime', 'max'].includes(this.timing)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `timing expected instant|realtime|max, got ${String(this.timing)}`)
    this.link = new PacketLink(this.engine, this.faults, {
      timing: this.timing,
      execTimer: execTimer(this.timing, jitter),
      clock: this.clock,
      address: opts.address ?? DEFAULT_I2C_ADDRESS,
    })
  }

  /**
   * Creates a simulator; with `stateFile`, resumes the device saved there
   * (a power-up: its RNG moves to a new stream, volatile state is empty).
   * @throws INVALID_LENGTH for a config or serial number of the wrong size; VAULT_STORE_CORRUPT for a bad state file
   */
  static create(opts: SimOptions = {}): Atecc608Sim {
    const loaded = opts.stateFile ? loadStateFile(opts.stateFile) : undefined
    if (loaded) {
      loaded.rngEpoch++
      const sim = new Atecc608Sim(loaded, opts)
      sim.persist()
      return sim
    }
    const target = (opts.config ?? hopsealConfig(opts.ioProtectionKey !== undefined ? { ioProtectionKeySlot: HOPSEAL_IO_KEY_SLOT } : {})).slice()
    if (target.length !== 128) throw new HopsealError(ErrorCode.INVALID_LENGTH, `config expected 128 bytes, got ${target.length}`)
    // the factory image: the target's bytes (a provisioned device rewrites 16–127 anyway), this device's serial number and revision
    const factory = target.slice()
    const sn = newSerialNumber(opts)
    factory.set(sn.subarray(0, 4), 0)
    factory.set(sn.subarray(4, 9), 8)
    if (opts.revision === 'B') factory[ConfigOffset.REVISION + 3] = 0x03
    const sim = new Atecc608Sim(blankState(factory), opts)
    if (opts.provisioned !== false) sim.provisionWithGenericCommands(target, opts.ioProtectionKey)
    else if (opts.ioProtectionKey !== undefined) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'ioProtectionKey is written by provisioning: not with provisioned: false')
    sim.persist()
    return sim
  }

  /**
   * hopseal's provisioning, packet by packet through the link as a host sends
   * it (vaults/atecc608/provision.ts): config writes, a read-back, Lock config
   * with the CRC of what was read, the data-zone writes, Lock data.
   */
  private provisionWithGenericCommands(target: Uint8Array, ioProtectionKey: Uint8Array | undefined): void {
    const talk = (cmd: C.Command): Uint8Array => {
      this.link.wake()
      if (this.link.receive(cmd.packet) === 'asleep') throw new HopsealError(ErrorCode.VAULT_DEVICE_ERROR, 'simulator asleep during provisioning')
      const r = parseResponse(this.link.response())
      this.link.idle()
      if (r.kind === 'status') {
        if (r.status !== Status.SUCCESS) throw new HopsealError(ErrorCode.VAULT_DEVICE_ERROR, `provisioning: ${cmd.name} answered 0x${r.status.toString(16)}`)
        return new Uint8Array(0)
      }
      return r.data
    }
    for (const w of configWriteCommands(target)) talk(w)
    const written = new Uint8Array(128)
    for (let b = 0; b < 4; b++) written.set(talk(C.read(0, C.zoneAddress(b), 32)), b * 32)
    talk(C.lockConfig(atcaCrc16(written)))
    for (const w of dataWriteCommands(new ConfigZone(written), { ioProtectionKey })) talk(w)
    talk(C.lockData())
  }

  /** Queues a fault for the next matching command (see ./faults.ts). */
  injectFault(f: Fault): void {
    this.faults.push(f)
  }

  /** Commands executed by opcode since creation (including a default device's provisioning) or the last reset. */
  opCounts(): Map<number, number> {
    return new Map(this.engine.opCounts)
  }
  resetOpCounts(): void {
    this.engine.opCounts.clear()
  }

  /** A KIT line server on this device (one per host connection); its execution wait runs on the simulator's clock. */
  kitServer(opts: KitServerOptions = {}): KitLineServer {
    return new KitLineServer(this.link, { sleep: (ms) => this.clock.sleep(ms), ...opts })
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

  /** Simulates a power cycle: volatile state and the persistent latch lost, device asleep. */
  powerCycle(): void {
    this.link.sleep()
    this.engine.powerOn()
  }

  private persist(): void {
    if (this.stateFile) saveStateFile(this.stateFile, this.engine.state)
  }
}

/**
 * A new device's serial number: `serialNumber` when given, else 01 23 ‖ 6 bytes
 * (random, or SHA-256 of the seed) ‖ EE (spec A3: SN[0:1] = 01 23, SN[8] = EE
 * on catalogue parts).
 */
function newSerialNumber(opts: SimOptions): Uint8Array {
  if (opts.serialNumber !== undefined) {
    if (!(opts.serialNumber instanceof Uint8Array) || opts.serialNumber.length !== 9) throw new HopsealError(ErrorCode.INVALID_LENGTH, 'serialNumber expected 9 bytes')
    return opts.serialNumber.slice()
  }
  const mid = opts.seed !== undefined ? sha256(new TextEncoder().encode(`atecc608-sim serial number/${opts.seed}`)).subarray(0, 6) : crypto.getRandomValues(new Uint8Array(6))
  return Uint8Array.of(0x01, 0x23, mid[0]!, mid[1]!, mid[2]!, mid[3]!, mid[4]!, mid[5]!, 0xee)
}
