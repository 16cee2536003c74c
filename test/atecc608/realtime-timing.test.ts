/**
 * The simulator's execution times (hil-sim/atecc608/timing.ts), all on an
 * injected clock (no wall-clock assertion): `realtime` draws a typical time
 * with seeded jitter and never exceeds the maximum for the device's clock
 * divider; `max` is that maximum; a cryptoauthlib-style host that polls
 * (1 ms, then every 2 ms: the I²C transport) is NACKed while the chip works
 * and reads the answer at the first poll after it; a KIT board waits exactly
 * the busy time; the watchdog check uses the divider's maximum.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { toHex } from '../../src/bytes/index.ts'
import { Atecc608Vault, I2cTransport, KitTransport, hopsealConfig, type I2cBus } from '../../vaults/atecc608/index.ts'
import * as C from '../../vaults/atecc608/commands.ts'
import { ConfigOffset, EXEC_TIME_M0_MS, EXEC_TIME_M1_MS, EXEC_TIME_M2_MS, Opcode, Status, Timing } from '../../vaults/atecc608/constants.ts'
import { Atecc608Sim, JITTER_FRACTION, REFUSED_MS, deterministicRng, execTimer, maxExecMs, typicalExecMs, type Clock } from '../../hil-sim/atecc608/index.ts'

interface FakeClock extends Clock {
  /** Every sleep asked for, ms. */
  readonly sleeps: number[]
}
function fakeClock(): FakeClock {
  let t = 0
  const sleeps: number[] = []
  return {
    sleeps,
    now: () => t,
    sleep: async (ms) => {
      sleeps.push(ms)
      t += ms
    },
  }
}

const MSG = new TextEncoder().encode('timed on a clock that is not the wall')
const M0 = 0x00
const M1 = 0x28
const M2 = 0x68

describe('execution-time model (timing.ts)', () => {
  it('typical ≤ maximum for every command and divider; the divider picks cryptoauthlib’s table', () => {
    let n = 0
    for (const [chipMode, table] of [
      [M0, EXEC_TIME_M0_MS],
      [M1, EXEC_TIME_M1_MS],
      [M2, EXEC_TIME_M2_MS],
    ] as const) {
      for (const [op, max] of Object.entries(table)) {
        assert.equal(maxExecMs(Number(op), chipMode), max)
        const typ = typicalExecMs(Number(op), chipMode)!
        assert.ok(typ > 0 && typ * (1 + JITTER_FRACTION) <= max, `opcode ${op}: typical ${typ} (+jitter) within the maximum ${max}`)
        n++
      }
    }
    assert.equal(n, 66, '22 commands × 3 dividers')
    assert.equal(maxExecMs(Opcode.SIGN, M0), 115)
    assert.equal(maxExecMs(Opcode.SIGN, M1), 220)
    assert.equal(maxExecMs(Opcode.SIGN, M2), 665)
    assert.equal(maxExecMs(Opcode.SIGN, 0x04 | M2), 665, 'the watchdog bit does not change the divider')
    assert.equal(maxExecMs(Opcode.SIGN, 0x10), 115, 'an unknown divider falls back to M0, as cryptoauthlib does')
    assert.equal(maxExecMs(0x11, M0), undefined, 'HMAC (508A) is not a 608 command')
  })

  it('realtime: 2 000 Signs stay in typical ± 25 % and ≤ max, average the typical time, and jitter', () => {
    const t = execTimer('realtime', deterministicRng('jitter'))
    const typ = typicalExecMs(Opcode.SIGN, M0)!
    const xs = Array.from({ length: 2000 }, () => t(Opcode.SIGN, M0, undefined))
    const lo = Math.min(...xs)
    const hi = Math.max(...xs)
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length
    assert.ok(lo >= typ * (1 - JITTER_FRACTION) && hi <= Math.min(115, typ * (1 + JITTER_FRACTION)), `range ${lo}..${hi} for typical ${typ}`)
    assert.ok(hi - lo > typ * JITTER_FRACTION, `the times jitter (${lo}..${hi})`)
    assert.ok(Math.abs(mean - typ) < typ * 0.03, `mean ${mean} ≈ typical ${typ}`)
  })

  it('realtime: the jitter is reproducible from a seed and differs between seeds', () => {
    const draw = (seed: string): number[] => {
      const t = execTimer('realtime', deterministicRng(seed))
      return Array.from({ length: 20 }, () => t(Opcode.ECDH, M0, undefined))
    }
    assert.deepEqual(draw('a'), draw('a'))
    assert.notDeepEqual(draw('a'), draw('b'))
  })

  it('refused commands (03, 0F) answer after 1 ms; results that are statuses (Verify 01) take the full time; max and instant', () => {
    const t = execTimer('realtime', deterministicRng('refused'))
    assert.equal(t(Opcode.SIGN, M0, Status.EXECUTION_ERROR), REFUSED_MS)
    assert.equal(t(Opcode.GENKEY, M2, Status.PARSE_ERROR), REFUSED_MS)
    assert.ok(t(Opcode.VERIFY, M0, Status.MISCOMPARE) >= typicalExecMs(Opcode.VERIFY, M0)! * (1 - JITTER_FRACTION))
    assert.equal(t(0x11, M0, Status.PARSE_ERROR), 1)
    const max = execTimer('max', deterministicRng('max'))
    assert.equal(max(Opcode.ECDH, M1, undefined), 172)
    assert.equal(max(Opcode.SIGN, M0, Status.EXECUTION_ERROR), 115)
    assert.equal(execTimer('instant', deterministicRng('i'))(Opcode.SELFTEST, M2, undefined), 0)
  })
})

/** The simulated I²C bus with a log of every transaction: [simulated time, 'w'|'r', ok]. */
function loggedBus(sim: Atecc608Sim, clock: Clock): { bus: I2cBus; log: { t: number; op: 'w' | 'r'; ok: boolean }[] } {
  const inner = sim.i2cBus()
  const log: { t: number; op: 'w' | 'r'; ok: boolean }[] = []
  const wrap =
    <A extends unknown[], R>(op: 'w' | 'r', fn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      try {
        const r = await fn(...a)
        log.push({ t: clock.now(), op, ok: true })
        return r
      } catch (e) {
        log.push({ t: clock.now(), op, ok: false })
        throw e
      }
    }
  return { bus: { write: wrap('w', inner.write), read: wrap('r', inner.read), close: inner.close }, log }
}

describe('realtime simulator on an injected clock', () => {
  it('I²C: a polling host is NACKed while the chip works and reads the answer at the first poll after it', async () => {
    const clock = fakeClock()
    const sim = Atecc608Sim.create({ seed: 'poll', timing: 'realtime', clock })
    const { bus, log } = loggedBus(sim, clock)
    const v = await Atecc608Vault.open({ transport: new I2cTransport(bus, { sleep: clock.sleep, now: clock.now }) })
    const key = await v.generateKey('p256')
    await v.publicKey(key)
    // record each command's start (the command write) and busy time
    const cmds: { opcode: number; start: number; ms: number }[] = []
    const receive = sim.link.receive.bind(sim.link)
    sim.link.receive = (pkt) => {
      const start = clock.now()
      const r = receive(pkt)
      cmds.push({ opcode: pkt[1]!, start, ms: sim.link.lastExec!.ms })
      return r
    }
    const logFrom = log.length
    await v.sign(key, MSG)
    assert.deepEqual(
      cmds.map((c) => c.opcode),
      [Opcode.RANDOM, Opcode.NONCE, Opcode.SIGN],
    )
    for (const c of cmds) {
      assert.ok(c.ms >= typicalExecMs(c.opcode, M0)! * (1 - JITTER_FRACTION) && c.ms <= maxExecMs(c.opcode, M0)!, `opcode ${c.opcode}: ${c.ms} ms`)
      // the polls after this command (write 00, read the count): NACKed while busy, the first good read within a poll period of the end
      const polls = log.slice(logFrom).filter((e) => e.t > c.start && e.t < c.start + c.ms + 3 * Timing.POLL_PERIOD_MS)
      const firstOk = polls.find((e) => e.op === 'r' && e.ok)!
      assert.ok(firstOk, `opcode ${c.opcode}: answered`)
      assert.ok(firstOk.t >= c.start + c.ms && firstOk.t < c.start + c.ms + Timing.POLL_PERIOD_MS + 1e-9, `opcode ${c.opcode}: read at +${firstOk.t - c.start} for ${c.ms} ms of work`)
      const nacked = polls.filter((e) => !e.ok && e.t < c.start + c.ms).length
      assert.ok(nacked >= Math.floor((c.ms - Timing.POLL_INIT_MS) / Timing.POLL_PERIOD_MS) - 1, `opcode ${c.opcode}: ${nacked} NACKed polls`)
    }
    await v.close()
  })

  it('KIT: the board waits exactly the busy time before it answers', async () => {
    const clock = fakeClock()
    const sim = Atecc608Sim.create({ seed: 'kit-wait', timing: 'realtime', clock })
    const v = await Atecc608Vault.open({ transport: await KitTransport.open(sim.kitChannel()) })
    const key = await v.generateKey('p256')
    await v.publicKey(key)
    const busy: number[] = []
    const receive = sim.link.receive.bind(sim.link)
    sim.link.receive = (pkt) => {
      const r = receive(pkt)
      busy.push(sim.link.lastExec!.ms)
      return r
    }
    const from = clock.sleeps.length
    const t0 = clock.now()
    await v.sign(key, MSG)
    assert.equal(busy.length, 3)
    assert.deepEqual(clock.sleeps.slice(from), busy)
    assert.equal(clock.now() - t0, busy[0]! + busy[1]! + busy[2]!)
    await v.close()
  })

  it('max: a no-poll host that waits the table time finds the answer; a moment earlier the chip is still busy', () => {
    const clock = fakeClock()
    const sim = Atecc608Sim.create({ seed: 'max', timing: 'max', clock })
    sim.link.wake()
    assert.equal(sim.link.receive(C.genKeyPrivate(2).packet), 115)
    clock.sleep(114.9)
    assert.equal(sim.link.busy(), true)
    clock.sleep(0.1)
    assert.equal(sim.link.busy(), false)
    assert.equal(sim.link.response()[0], 67)
  })

  it('a seed gives the same keys and Random output in realtime and instant mode (the jitter has its own stream)', async () => {
    const run = async (timing: 'realtime' | 'instant'): Promise<string[]> => {
      const clock = fakeClock()
      const sim = Atecc608Sim.create({ seed: 'same-bytes', timing, clock })
      const v = await Atecc608Vault.open({ transport: new I2cTransport(sim.i2cBus(), { sleep: clock.sleep, now: clock.now }) })
      const k = await v.generateKey('p256')
      const out = [toHex(await v.publicKey(k)), toHex(await v.random(32))]
      await v.close()
      return out
    }
    assert.deepEqual(await run('realtime'), await run('instant'))
  })

  it('clock divider M2: Sign takes M2 times, and the watchdog check (EE) uses the M2 maximum', () => {
    const config = hopsealConfig()
    config[ConfigOffset.CHIP_MODE] = (config[ConfigOffset.CHIP_MODE]! & 0x07) | M2
    const clock = fakeClock()
    const sim = Atecc608Sim.create({ seed: 'm2', timing: 'realtime', clock, config })
    assert.equal(sim.engine.state.config[ConfigOffset.CHIP_MODE]! & 0xf8, M2, 'provisioning wrote the divider')
    sim.link.wake()
    const gen = sim.link.receive(C.genKeyPrivate(2).packet) as number
    assert.ok(gen > maxExecMs(Opcode.GENKEY, M0)! && gen <= 653, `GenKey at M2: ${gen} ms`)
    clock.sleep(gen)
    sim.link.idle()
    sim.link.wake()
    sim.link.receive(C.noncePassthrough(new Uint8Array(32).fill(7)).packet)
    clock.sleep(700) // 1300 − 700 = 600 ms left: enough for a Sign at M0 (115), not at M2 (665)
    sim.link.receive(C.signExternal(2).packet)
    assert.equal(toHex(sim.link.response()), '04ee3141')
  })
})
