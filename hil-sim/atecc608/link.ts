/**
 * The packet link (spec A5 layer 2): I²C word addresses, the wake token,
 * the output buffer, the count/CRC check (→ 04 FF 01 42), busy NACKs while a
 * command executes, and the watchdog (spec A1, A2). Two faces: byte-level
 * I²C transactions (`i2cWrite`/`i2cRead`, what i2c-dev does) and the
 * command-level calls a KIT board makes (`wake`/`talk`/`idle`/`sleep`).
 */
import { ConfigOffset, Status, Timing, WordAddress } from '../../vaults/atecc608/constants.ts'
import { checkCrc } from '../../vaults/atecc608/crc.ts'
import { buildResponse, statusPacket } from '../../vaults/atecc608/packet.ts'
import type { CommandEngine } from './engine.ts'
import type { FaultQueue } from './faults.ts'
import { maxExecMs, type ExecTimer, type SimTiming } from './timing.ts'

export type { SimTiming } from './timing.ts'

export interface Clock {
  now(): number
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
}

/** An I²C NACK: the device did not acknowledge its address (asleep or busy). */
export class I2cNack extends Error {
  readonly code = 'EREMOTEIO'
  constructor(what: string) {
    super(`I2C NACK: ${what}`)
  }
}

type Power = 'sleep' | 'idle' | 'active'

export interface LinkOptions {
  timing: SimTiming
  /** Busy time per executed command (./timing.ts `execTimer` for `timing`). */
  execTimer: ExecTimer
  clock: Clock
  /** 7-bit I²C address (spec A1: 0x60). */
  address: number
}

export class PacketLink {
  private power: Power = 'sleep'
  private output: Uint8Array = new Uint8Array(0)
  private readPtr = 0
  private busyUntil = 0
  private hung = false
  private watchdogDeadline = Infinity
  private nackLeft = 0
  /** What a KIT board says when the device hung mid-command. */
  hangReply: 'none' | 'kit-timeout' = 'none'
  /** Commands executed, wakes, CRC errors seen (for tests and the bench). */
  readonly stats = { commands: 0, wakes: 0, crcErrors: 0 }
  /** The last executed command and how long it kept the device busy (ms, injected faults included). */
  lastExec: { opcode: number; ms: number } | undefined

  constructor(
    readonly engine: CommandEngine,
    private readonly faults: FaultQueue,
    private readonly opts: LinkOptions,
  ) {}

  get address(): number {
    return this.opts.address
  }
  get state(): Power {
    return this.power
  }

  private wakeToken(): Uint8Array {
    return statusPacket(this.engine.selfTestFailed ? Status.SELFTEST_ERROR : Status.WAKE)
  }

  private watchdogMs(): number {
    return this.engine.config.watchdogLong ? Timing.WATCHDOG_LONG_MS : Timing.WATCHDOG_SHORT_MS
  }

  /** The wake pulse (spec A2): from sleep or idle to active; output buffer = wake token. Ignored when active. */
  wake(): Uint8Array {
    this.checkWatchdog()
    if (this.power === 'active' && !this.hung) return this.wakeToken()
    if (this.power === 'sleep' || this.hung) {
      if (this.faults.take('watchdog') || this.hung) this.engine.resetVolatile()
    }
    const stf = this.faults.take('selftest-fail')
    if (stf) {
      this.engine.selfTestFailed = true
      this.engine.selfTestFailMask = stf.mask ?? 0
    }
    this.hung = false
    this.power = 'active'
    this.stats.wakes++
    this.watchdogDeadline = this.opts.clock.now() + this.watchdogMs()
    this.output = this.wakeToken()
    this.readPtr = 0
    this.busyUntil = 0
    return this.output
  }

  /** Idle (word address 02): keeps TempKey and MsgDigBuf, resets the watchdog. */
  idle(): void {
    if (this.power !== 'active') return
    this.power = 'idle'
    this.watchdogDeadline = Infinity
  }

  /** Sleep (word address 01): all volatile state is lost. */
  sleep(): void {
    if (this.power === 'sleep') return
    this.power = 'sleep'
    this.watchdogDeadline = Infinity
    this.engine.resetVolatile()
  }

  private checkWatchdog(): void {
    if (this.power === 'active' && this.opts.clock.now() >= this.watchdogDeadline) {
      // spec A2: when the watchdog expires the device goes to sleep and volatile state is lost
      this.power = 'sleep'
      this.watchdogDeadline = Infinity
      this.engine.resetVolatile()
    }
  }

  /**
   * Receives one command packet (count … CRC) while active, runs it and fills
   * the output buffer. Returns the execution time in ms the host must wait
   * (0 in instant mode), or 'asleep' when the device did not acknowledge.
   */
  receive(pkt: Uint8Array): number | 'asleep' {
    this.checkWatchdog()
    if (this.power !== 'active' || this.hung) return 'asleep'
    const opcode = pkt.length > 1 ? pkt[1]! : -1
    if (this.faults.take('watchdog', opcode)) {
      this.power = 'sleep'
      this.engine.resetVolatile()
      return 'asleep'
    }
    this.stats.commands++
    this.readPtr = 0
    // spec A1/A2: a count that disagrees with the bytes received, or a bad CRC, answers 04 FF 01 42 before anything else
    const corrupt = this.faults.take('corrupt-command', opcode)
    if (pkt.length < 7 || pkt[0] !== pkt.length || pkt.length > 151 || !checkCrc(pkt) || corrupt) {
      this.stats.crcErrors++
      this.output = statusPacket(Status.CRC_ERROR)
      this.busyUntil = this.opts.clock.now()
      return 0
    }
    const chipMode = this.engine.state.config[ConfigOffset.CHIP_MODE]!
    // the chip refuses to start what it may not finish before the watchdog (spec A2): it must assume the longest time
    const maxMs = maxExecMs(opcode, chipMode) ?? 5
    const now = this.opts.clock.now()
    if (this.faults.take('watchdog-warning', opcode) || now + maxMs > this.watchdogDeadline) {
      this.output = statusPacket(Status.WATCHDOG)
      this.busyUntil = now
      return 0
    }
    const nr = this.faults.take('no-response', opcode)
    if (nr) {
      this.hangReply = nr.reply ?? 'none'
      this.hung = true
      this.output = new Uint8Array(0)
      return Infinity
    }
    let out: Uint8Array
    let status: number | undefined
    if (this.faults.take('ecc-fault', opcode)) out = statusPacket((status = Status.ECC_FAULT))
    else {
      const r = this.engine.execute(opcode, pkt[2]!, pkt[3]! | (pkt[4]! << 8), pkt.subarray(5, pkt.length - 2))
      if ('status' in r) status = r.status
      out = 'status' in r ? statusPacket(r.status) : buildResponse(r.data)
    }
    if (this.faults.take('corrupt-response', opcode)) {
      out = out.slice()
      out[out.length - 1]! ^= 0x5a
    }
    this.output = out
    const busy = this.faults.take('busy', opcode)
    const wait = this.opts.execTimer(opcode, chipMode, status) + (busy?.ms ?? 0)
    this.busyUntil = now + wait
    this.lastExec = { opcode, ms: wait }
    return wait
  }

  /** True while the device NACKs reads (executing, hung, asleep). */
  busy(): boolean {
    this.checkWatchdog()
    return this.power !== 'active' || this.hung || this.opts.clock.now() < this.busyUntil
  }

  /** The current output buffer (after execution). */
  response(): Uint8Array {
    return this.output.slice()
  }

  // ---- I²C face (what /dev/i2c-N sees; spec A1 word addresses, A2 polling) ----

  /**
   * One I²C write transaction to 7-bit `addr`. A write to address 0 (general
   * call, cryptoauthlib's wake) or any write while asleep is a wake pulse and
   * is NACKed. Throws I2cNack like the kernel's EREMOTEIO.
   */
  async i2cWrite(addr: number, bytes: Uint8Array): Promise<void> {
    this.checkWatchdog()
    if (addr === 0x00 || this.power !== 'active') {
      // SDA held low by the address/data bytes: at ≤ 100 kHz ≥ 60 µs (tWLO), so this is a wake pulse
      this.wake()
      throw new I2cNack(addr === 0 ? 'general call (wake pulse)' : 'device asleep (wake pulse)')
    }
    if (addr !== this.opts.address) throw new I2cNack(`no device at 0x${addr.toString(16)}`)
    if (this.nackLeft > 0 || this.takeNack()) {
      this.nackLeft--
      throw new I2cNack('injected NACK')
    }
    if (this.busy()) throw new I2cNack('device busy')
    if (bytes.length === 0) return
    const wa = bytes[0]!
    if (wa === WordAddress.RESET) this.readPtr = 0
    else if (wa === WordAddress.SLEEP) this.sleep()
    else if (wa === WordAddress.IDLE) this.idle()
    else if (wa === WordAddress.COMMAND) {
      const r = this.receive(bytes.slice(1))
      if (r === 'asleep') throw new I2cNack('device asleep')
    }
    // 0x04–0xFF are reserved (spec A1): ignored
  }

  private takeNack(): boolean {
    const f = this.faults.take('nack')
    if (!f) return false
    this.nackLeft = f.count ?? 1
    return true
  }

  /** One I²C read transaction of `n` bytes from the output buffer (continues from the read pointer). */
  async i2cRead(addr: number, n: number): Promise<Uint8Array> {
    if (addr !== this.opts.address) throw new I2cNack(`no device at 0x${addr.toString(16)}`)
    if (this.busy()) throw new I2cNack('device busy or asleep')
    const out = new Uint8Array(n).fill(0xff)
    const avail = Math.max(0, Math.min(n, this.output.length - this.readPtr))
    out.set(this.output.subarray(this.readPtr, this.readPtr + avail))
    this.readPtr += n
    return out
  }

  /** Consumes an injected 'nack' fault on the KIT path (the board's I²C write failed). */
  takeKitNack(): boolean {
    return this.faults.take('nack') !== undefined
  }
}
