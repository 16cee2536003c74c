/**
 * The KIT line server (spec A5 layer 1; A4): ASCII lines in, ASCII lines out,
 * in the dialect of the Trust Platform firmware [KP] (dispatch on the first
 * letter of each section, device errors inside `00(...)`) and also accepting
 * the cryptoauthlib `ascii_kit_host` [KH] prefixes (`ecc:wake()`, `ecc:talk(..)`).
 * `firmware: 'kh'` switches the replies to [KH]'s style (device errors as a
 * non-zero kit status with no data, e.g. `FFFFFFF4()`).
 */
import { toHex } from '../../src/bytes/index.ts'
import { Status } from '../../vaults/atecc608/constants.ts'
import type { PacketLink } from './link.ts'

/** Kit status codes (spec A4, `enum kit_protocol_status`). */
export const KitStatus = {
  SUCCESS: 0x00,
  FAILURE: 0x01,
  INVALID: 0x03,
  UNSUPPORTED: 0x04,
  NO_DEVICE: 0xc5,
  INVALID_PARAM: 0xe2,
  INVALID_ID: 0xe3,
  INVALID_SIZE: 0xe4,
  RX_NO_RESPONSE: 0xe7,
  SMALL_BUFFER: 0xed,
  COMM_FAIL: 0xf0,
  TX_FAIL: 0xf7,
} as const

/** KIT_MESSAGE_SIZE_MAX (spec A4). */
export const KIT_LINE_MAX = 512

/** [KH] maps a device status to a negative ATCA_STATUS (spec A2 table), printed as `%02X` of an int. */
const KH_ATCA: Record<number, number> = { 0x01: 0xd1, 0x03: 0xd2, 0x05: 0xd6, 0x07: 0xd7, 0x08: 0xfa, 0x0f: 0xf4, 0xff: 0xd4, 0xee: 0xe1 }

export interface KitServerOptions {
  /** Reply dialect: 'kp' (Trust Platform, default) or 'kh' (cryptoauthlib ascii_kit_host). */
  firmware?: 'kp' | 'kh'
  /** Device type string for board:device; default from the revision (ECC608A / ECC608B; [KH]: ECC608). */
  deviceName?: string
  sleep?: (ms: number) => Promise<void>
}

const hexRe = /^[0-9a-f]*$/

export class KitLineServer {
  private buf = ''
  private overflow = false
  private chain: Promise<void> = Promise.resolve()
  private out: (line: string) => void = () => undefined
  private readonly firmware: 'kp' | 'kh'
  private readonly sleep: (ms: number) => Promise<void>
  /** Every line received (for golden tests and debugging; like [KP]'s "Received:" prints). */
  readonly received: string[] = []
  readonly sent: string[] = []

  constructor(
    private readonly link: PacketLink,
    private readonly opts: KitServerOptions = {},
  ) {
    this.firmware = opts.firmware ?? 'kp'
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)))
  }

  /** Where reply lines go (each ends with `\n`). */
  onOutput(cb: (line: string) => void): void {
    this.out = cb
  }

  /** Feeds raw bytes from the host; lines are processed one at a time, in order. */
  feed(chunk: Uint8Array | string): void {
    const s = typeof chunk === 'string' ? chunk : new TextDecoder('latin1').decode(chunk)
    for (const ch of s) {
      if (ch === '\n') {
        const line = this.buf
        const over = this.overflow
        this.buf = ''
        this.overflow = false
        if (over) this.enqueue(async () => this.reply(KitStatus.SMALL_BUFFER))
        else if (line.length > 0) this.enqueue(() => this.handle(line))
      } else if (ch === '\0' || ch === '\r') {
        // stray NULs (cryptoauthlib sends sizeof(str) incl. NUL over HID) and CRs are tolerated (spec A4)
      } else if (this.buf.length >= KIT_LINE_MAX) {
        this.overflow = true
      } else this.buf += ch
    }
  }

  /** Drops any partial line (a new host connected: spec A4 "discard stale input"). */
  reset(): void {
    this.buf = ''
    this.overflow = false
  }

  /** Resolves when every line fed so far has been answered. */
  idle(): Promise<void> {
    return this.chain
  }

  private enqueue(fn: () => Promise<void> | void): void {
    this.chain = this.chain.then(fn).catch(() => undefined)
  }

  private send(line: string): void {
    this.sent.push(line)
    this.out(line)
  }

  private reply(status: number, data?: Uint8Array): void {
    this.send(`${status.toString(16).padStart(2, '0').toUpperCase()}(${data ? toHex(data).toUpperCase() : ''})\n`)
  }

  /** [KH] error reply: `%02X` of a negative int, e.g. FFFFFFF4(). */
  private replyKhError(atca: number): void {
    this.send(`${((0xffffff00 | atca) >>> 0).toString(16).toUpperCase()}()\n`)
  }

  private deviceName(): string {
    if (this.opts.deviceName) return this.opts.deviceName
    if (this.firmware === 'kh') return 'ECC608'
    const rev = this.link.engine.config.revision
    return rev[3]! > 0x02 ? 'ECC608B' : 'ECC608A'
  }

  private async handle(raw: string): Promise<void> {
    const line = raw.toLowerCase()
    this.received.push(raw)
    const sections = line.split(':')
    const last = sections[sections.length - 1]!
    const open = last.indexOf('(')
    const close = last.lastIndexOf(')')
    const arg = open >= 0 && close > open ? last.slice(open + 1, close) : undefined
    const target = sections[0]!
    const cmd = sections[1] ?? ''
    const t = target[0]
    if (sections.length < 2 || !t) return this.reply(KitStatus.INVALID)
    if (t === 'b') return this.board(cmd, sections, arg)
    if (t === 'a' || t === 'e' || t === 's' || t === 'd') {
      // a per-message handle, e.g. e(C0):t(...)
      const h = target.indexOf('(')
      if (h >= 0) {
        const handle = parseInt(target.slice(h + 1, target.indexOf(')', h)), 16)
        if (handle !== this.link.address << 1) return this.reply(KitStatus.NO_DEVICE)
      }
      return this.device(cmd, sections, arg)
    }
    return this.reply(KitStatus.INVALID)
  }

  private board(cmd: string, _sections: string[], arg: string | undefined): void {
    const c = cmd[0]
    if (c === 'v') return this.send('hopseal ATECC608 simulator KIT 1.0\n')
    if (c === 'f') return this.send('hopseal-sim 1.0.0\n')
    if (c === 'd' && cmd[1] === 'i') return this.reply(KitStatus.UNSUPPORTED) // board:discover is supported by neither parser
    if (c === 'd') {
      if (arg === undefined || !/^[0-9a-f]{1,2}$/.test(arg)) return this.reply(KitStatus.INVALID_PARAM)
      if (parseInt(arg, 16) !== 0) return this.reply(KitStatus.NO_DEVICE)
      const addr = (this.link.address << 1).toString(16).padStart(2, '0').toUpperCase()
      return this.send(`${this.deviceName()} TWI 00(${addr})\n`)
    }
    if (c === 'g') return this.send(`${this.deviceName()} TWI ${(this.link.address << 1).toString(16).toUpperCase()}\n`)
    if (c === 'l') return this.reply(KitStatus.SUCCESS)
    return this.reply(KitStatus.INVALID)
  }

  private async device(cmd: string, sections: string[], arg: string | undefined): Promise<void> {
    const c = cmd[0]
    switch (c) {
      case 'p': {
        const sub = sections[2] ?? ''
        if (sub.startsWith('select') || sub.startsWith('s')) {
          if (this.firmware === 'kh') return this.reply(KitStatus.SUCCESS) // [KH] always answers 00()
          if (arg === undefined || !/^[0-9a-f]{2}$/.test(arg)) return this.reply(KitStatus.INVALID_PARAM)
          return this.reply(parseInt(arg, 16) === this.link.address << 1 ? KitStatus.SUCCESS : KitStatus.INVALID_ID)
        }
        return this.reply(KitStatus.SUCCESS) // physical:interface:… reply is ignored by the host
      }
      case 'w':
        return this.reply(KitStatus.SUCCESS, this.link.wake())
      case 'i':
        this.link.idle()
        return this.reply(KitStatus.SUCCESS)
      case 's':
        if (cmd[1] === 'e') return this.reply(KitStatus.UNSUPPORTED) // send: TA devices only
        this.link.sleep()
        return this.reply(KitStatus.SUCCESS)
      case 'r':
        return this.reply(KitStatus.UNSUPPORTED)
      case 't':
        return this.talk(arg)
      default:
        return this.reply(KitStatus.INVALID)
    }
  }

  private async talk(arg: string | undefined): Promise<void> {
    if (arg === undefined || arg.length % 2 !== 0 || !hexRe.test(arg)) return this.reply(KitStatus.INVALID_PARAM)
    const pkt = new Uint8Array(arg.length / 2)
    for (let i = 0; i < pkt.length; i++) pkt[i] = parseInt(arg.slice(2 * i, 2 * i + 2), 16)
    if (pkt.length === 0 || pkt.length > 255) return this.reply(KitStatus.INVALID_SIZE)
    if (this.link.takeKitNack()) return this.reply(KitStatus.TX_FAIL)
    const wait = this.link.receive(pkt)
    if (wait === 'asleep') return this.reply(KitStatus.COMM_FAIL) // the device did not acknowledge (asleep)
    if (wait === Infinity) {
      if (this.link.hangReply === 'kit-timeout') return this.reply(KitStatus.RX_NO_RESPONSE)
      return // the device hung and the board says nothing: the host's timeout must fire
    }
    // the kit does the execution wait and replies only when the command is done (spec A4)
    if (wait > 0) await this.sleep(wait)
    const rsp = this.link.response()
    if (this.firmware === 'kh' && rsp.length === 4 && rsp[1] !== Status.SUCCESS) {
      return this.replyKhError(KH_ATCA[rsp[1]!] ?? 0xf0)
    }
    return this.reply(KitStatus.SUCCESS, rsp)
  }
}
