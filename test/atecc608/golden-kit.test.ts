/**
 * Golden KIT-protocol transcripts of spec A4, byte for byte, from both sides:
 * the driver emits exactly the host lines (checked against a scripted board
 * that knows nothing else), and the simulator answers exactly the board lines.
 * Also the i2c-dev framing (03 ‖ packet, word addresses 00/02) of spec A1/A2.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createHash } from 'node:crypto'
import { fromHex, toHex } from '../../src/bytes/index.ts'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { Atecc608Device, Atecc608Vault, I2cTransport, KitTransport, checkCrc, type ByteChannel, type I2cBus } from '../../vaults/atecc608/index.ts'
import * as C from '../../vaults/atecc608/commands.ts'
import { Atecc608Sim } from '../../hil-sim/atecc608/index.ts'

/** spec A4 "Full transcript": Info(revision) on a 608A at 0xC0 over CDC. */
const INFO_TRANSCRIPT: [string, string][] = [
  ['board:device(00)', 'ECC608A TWI 00(C0)'],
  ['E:physical:select(C0)', '00()'],
  ['E:w()', '00(04113343)'],
  ['E:t(0730000000035D)', '00(07000060028038)'],
  ['E:i()', '00()'],
]

/** A board that only knows a script: each expected host line gets its scripted reply; anything else fails. */
function scriptedBoard(script: [string, string | ((line: string) => Promise<string>)][]): ByteChannel & { done(): boolean; seen: string[] } {
  let listener: ((b: Uint8Array) => void) | undefined
  let i = 0
  let buf = ''
  const seen: string[] = []
  return {
    seen,
    done: () => i === script.length,
    onData: (cb) => {
      listener = cb
    },
    close: async () => undefined,
    write: async (bytes) => {
      buf += new TextDecoder().decode(bytes)
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        seen.push(line)
        const step = script[i++]
        if (!step) throw new Error(`unexpected extra host line ${line}`)
        const [want, reply] = step
        if (typeof reply === 'string') assert.equal(line, want, `host line ${i}`)
        const out = typeof reply === 'string' ? reply : await reply(line)
        queueMicrotask(() => listener?.(new TextEncoder().encode(out + '\n')))
      }
    },
  }
}

describe('KIT protocol golden transcripts (spec A4), driver side', () => {
  it('produces the Info(revision) transcript line for line', async () => {
    const board = scriptedBoard(INFO_TRANSCRIPT)
    const t = await KitTransport.open(board)
    const dev = new Atecc608Device(t)
    const rev = await dev.transaction((s) => s.run(C.info()))
    assert.equal(toHex(rev), '00006002')
    assert.ok(board.done())
    assert.deepEqual(board.seen, INFO_TRANSCRIPT.map(([l]) => l))
    console.log(`KIT Info transcript (driver side): ${board.seen.length} passed, 0 failed`)
  })

  it('produces the Sign transcript: Random, Nonce 43 with the digest, Sign A0 on slot 2, each in w/t/i', async () => {
    const sim = Atecc608Sim.create({ seed: 'kit-sign' })
    // make a key in slot 2 through the simulator directly
    sim.link.wake()
    sim.link.receive(C.genKeyPrivate(2).packet)
    const xy = sim.link.response().subarray(1, 65)
    sim.link.idle()
    const d = createHash('sha256').update('hopseal').digest()
    const nonce = C.noncePassthrough(new Uint8Array(d), 'msgdigbuf').packet
    const server = sim.kitServer()
    const relay = async (line: string): Promise<string> => {
      let out = ''
      server.onOutput((l) => (out = l))
      server.feed(line + '\n')
      await server.idle()
      return out.trimEnd()
    }
    // replies come from the simulator, but every host line is checked against the spec transcript
    const want = ['E:w()', 'E:t(071B00000024CD)', 'E:i()', 'E:w()', `E:t(${toHex(nonce).toUpperCase()})`, 'E:i()', 'E:w()', 'E:t(0741A002007D05)', 'E:i()']
    const board = scriptedBoard([
      ['board:device(00)', 'ECC608A TWI 00(C0)'],
      ['E:physical:select(C0)', '00()'],
      ...want.map((w): [string, (l: string) => Promise<string>] => [
        w,
        async (l) => {
          assert.equal(l, w)
          return relay(l)
        },
      ]),
    ])
    assert.equal(toHex(nonce).toUpperCase().slice(0, 10), '2716430000')
    const t = await KitTransport.open(board)
    const dev = new Atecc608Device(t)
    const sig = await dev.transaction(async (s) => {
      await s.run(C.random(0))
      await s.run(C.noncePassthrough(new Uint8Array(d), 'msgdigbuf'))
      return s.run(C.signExternal(2))
    })
    assert.ok(board.done())
    const pub = cryptoProvider('node').p256Point(Uint8Array.of(4, ...xy), true)
    assert.ok(cryptoProvider('node').verify('p256', pub, new TextEncoder().encode('hopseal'), sig) || cryptoProvider('noble').verify('p256', pub, new TextEncoder().encode('hopseal'), sig))
    const signReply = server.sent[server.sent.length - 2]! // before the final 00() of E:i()
    assert.match(signReply, /^00\(43[0-9A-F]{128}[0-9A-F]{4}\)\n$/)
    assert.ok(checkCrc(fromHex(signReply.slice(3, -2))))
  })

  it('opens the vault with exactly what atcab_init sends first (board:device, select, w, Read config block 0, i)', async () => {
    const sim = Atecc608Sim.create({ seed: 'init' })
    const ch = sim.kitChannel()
    const t = await KitTransport.open(ch)
    const v = await Atecc608Vault.open({ transport: t })
    assert.deepEqual(t.sentLines.slice(0, 5), ['board:device(00)', 'E:physical:select(C0)', 'E:w()', 'E:t(070280000009AD)', 'E:i()'])
    await v.close()
  })

  it('accepts [KH]-style error replies (FFFFFFF4()) as typed device errors', async () => {
    const sim = Atecc608Sim.create({ seed: 'kh' })
    const t = await KitTransport.open(sim.kitChannel({ firmware: 'kh' }))
    const dev = new Atecc608Device(t)
    await assert.rejects(
      dev.transaction((s) => s.run(C.read(2, C.dataAddress(2, 0), 32))), // a private-key slot
      (e: Error & { code?: string; status?: number }) => e.code === 'VAULT_DEVICE_ERROR' && e.status === 0x0f,
    )
  })

  it('fails with VAULT_TOKEN_ABSENT when no ECC608 enumerates, and VAULT_DEVICE_TIMEOUT when the board is silent', async () => {
    const none = scriptedBoard(Array.from({ length: 8 }, (_, i): [string, string] => [`board:device(0${i})`, 'C5()']))
    await assert.rejects(KitTransport.open(none), (e: Error & { code?: string }) => e.code === 'VAULT_TOKEN_ABSENT')
    assert.ok(none.done())
    const silent: ByteChannel = { write: async () => undefined, onData: () => undefined, close: async () => undefined }
    await assert.rejects(KitTransport.open(silent, { lineTimeoutMs: 30 }), (e: Error & { code?: string }) => e.code === 'VAULT_DEVICE_TIMEOUT')
    const ac = new AbortController()
    const p = KitTransport.open(silent, { lineTimeoutMs: 10_000, signal: ac.signal })
    ac.abort()
    await assert.rejects(p, (e: Error & { code?: string }) => e.code === 'ABORTED')
  })
})

describe('KIT protocol golden transcripts (spec A4), simulator side', () => {
  it('answers the Info transcript byte for byte', async () => {
    const sim = Atecc608Sim.create({ provisioned: false })
    const server = sim.kitServer()
    server.feed(INFO_TRANSCRIPT.map(([l]) => l + '\n').join(''))
    await server.idle()
    assert.deepEqual(server.sent, INFO_TRANSCRIPT.map(([, r]) => r + '\n'))
    console.log(`KIT Info transcript (simulator side): ${server.sent.length} passed, 0 failed`)
  })

  it('accepts both host dialects, any case, stray NULs and CRs, and a per-message handle', async () => {
    const sim = Atecc608Sim.create({ provisioned: false })
    const server = sim.kitServer()
    server.feed('\0board:device(00)\n\0ecc:wake()\0\ne(C0):t(0730000000035d)\r\nECC:TALK(0730000000035D)\necc:idle()\nE:physical:interface:i2c\nsha:sleep()\n')
    await server.idle()
    assert.deepEqual(server.sent, ['ECC608A TWI 00(C0)\n', '00(04113343)\n', '00(07000060028038)\n', '00(07000060028038)\n', '00()\n', '00()\n', '00()\n'])
  })

  it('[KH] firmware: ECC608 device name, select always 00(), device errors as FFFFFFxx()', async () => {
    const sim = Atecc608Sim.create({ provisioned: false })
    const server = sim.kitServer({ firmware: 'kh' })
    server.feed('board:device(00)\necc:physical:select(C2)\necc:wake()\necc:talk(07021402000000)\n') // bad CRC
    server.feed(`ecc:talk(${toHex(C.read(2, C.dataAddress(2, 0), 32).packet)})\n`) // config unlocked: data read not allowed
    await server.idle()
    assert.deepEqual(server.sent.slice(0, 3), ['ECC608 TWI 00(C0)\n', '00()\n', '00(04113343)\n'])
    assert.equal(server.sent[3], 'FFFFFFD4()\n')
    assert.equal(server.sent[4], 'FFFFFFF4()\n')
  })

  it('[KP] replies: device errors inside 00(...), bad lines get kit statuses, missing devices C5()', async () => {
    const sim = Atecc608Sim.create({ provisioned: false })
    const server = sim.kitServer()
    server.feed('board:device(01)\nE:physical:select(C2)\nE:w()\nE:t(07021402000000)\nE:t(0G)\nE:t(123)\nx:y()\nE:r()\nE:send(00)\n')
    server.feed('E:t(' + '00'.repeat(300) + ')\n') // longer than KIT_MESSAGE_SIZE_MAX
    await server.idle()
    assert.deepEqual(server.sent, ['C5()\n', 'E3()\n', '00(04113343)\n', '00(04FF0142)\n', 'E2()\n', 'E2()\n', '03()\n', '04()\n', '04()\n', 'ED()\n'])
  })
})

describe('i2c-dev framing (spec A1, A2)', () => {
  it('writes 03 ‖ packet, polls with word address 00, reads count then the rest, and idles with 02', async () => {
    const sim = Atecc608Sim.create({ provisioned: false })
    const inner = sim.i2cBus()
    const log: string[] = []
    const bus: I2cBus = {
      write: async (a, b) => {
        log.push(`W ${a.toString(16)} ${toHex(b).toUpperCase()}`)
        return inner.write(a, b)
      },
      read: async (a, n) => {
        const r = await inner.read(a, n)
        log.push(`R ${a.toString(16)} ${n} ${toHex(r).toUpperCase()}`)
        return r
      },
      close: async () => undefined,
    }
    const dev = new Atecc608Device(new I2cTransport(bus, { wakeDelayMs: 0 }))
    assert.equal(toHex(await dev.transaction((s) => s.run(C.info()))), '00006002')
    assert.deepEqual(log, [
      'W 0 00', // wake pulse: one byte to the general-call address (NACKed)
      'R 60 4 04113343', // wake token
      'W 60 030730000000035D', // word address 03 + Info packet
      'W 60 00', // poll: reset the address counter
      'R 60 1 07', // count
      'R 60 6 000060028038', // the rest
      'W 60 02', // idle
    ])
  })
})
