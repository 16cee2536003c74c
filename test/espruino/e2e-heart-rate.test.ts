/**
 * Issue 15's end-to-end run: the heart-rate monitor in the real Espruino
 * interpreter (targets/espruino), built as a board application
 * (`--entry --minify`: codes without messages, the API names the script
 * does not write renamed), its static P-256 key in the simulated
 * ATECC608 served on a socat PTY (KIT protocol), its LoRa radio on another
 * PTY; a Node relay puts seeded 10 % loss on both directions (hil-sim link
 * models on a memory pair); the Node gateway (src/transports/gateway, serial
 * transport) forwards over MQTT (embedded aedes) to the Node phone, a KK
 * listener with a software vault.
 *
 *   interpreter ── PTY ── relay (loss, both ways) ── gateway ── MQTT ── phone
 *        └── PTY ── ATECC608 simulator
 *
 * Checks: 100 readings in reliable mode, delivered exactly once and in order;
 * at least one renewal during the run (the device renews after 40 messages);
 * no reading's plaintext in what the broker's `#` tap or the gateway's
 * serial tap saw. Prints the handshake time, the run's wall time and the
 * device's peak variable count.
 *
 * The topology is test/espruino/e2e-topology.ts (shared with the bench).
 * Skips with a printed reason without the interpreter or socat; fails then
 * when HOPSEAL_REQUIRE_SYSTEM=1 (or CI).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { countPlaintext } from '../../hil-sim/scenario/readings.ts'
import { needSystem } from '../helpers/system.ts'
import { skipUnlessEspruino } from './harness.ts'
import { runHeartRate } from './e2e-topology.ts'

const READINGS = 100
/** The device renews after this many sealed messages, so renewals happen mid-run. */
const RENEW_AFTER_MESSAGES = 40
/** Wall-clock budget of the whole run (the issue asks for well under 90 s; it takes about 25 s). */
const RUN_TIMEOUT_MS = 150_000

const skipReason = (): false | string => skipUnlessEspruino() || needSystem('socat')
const skip = skipReason()

describe('heart-rate end to end with the monitor in the Espruino interpreter', { skip }, () => {
  it('delivers 100 readings at 10 % loss exactly once, in order, with a renewal and no plaintext at the taps', { timeout: RUN_TIMEOUT_MS + 30_000 }, async () => {
    const r = await runHeartRate({
      seed: 'e2e-heart-rate', loss: 0.1, readings: READINGS, renewAfterMessages: RENEW_AFTER_MESSAGES, timeoutMs: RUN_TIMEOUT_MS, appEntry: true,
      ...(process.env.HOPSEAL_E2E_DEBUG ? { log: (l: string) => console.log(`# device: ${l}`) } : {}),
    })
    assert.equal(r.opened.ev, 'open', `the handshake failed: ${JSON.stringify(r.opened)}`)
    assert.equal(r.last.ev, 'done', `the device stopped before every reading was acknowledged: ${JSON.stringify(r.last)}; last lines:\n${r.device.lines.slice(-10).join('\n')}`)
    // Exactly once, in order.
    assert.deepEqual(r.received, r.readings.map((_, i) => i))
    // Renewals happened during the run, on both ends.
    const renewals = r.events.filter((e) => e.ev === 'renew').length
    assert.ok(renewals >= 1, 'the device renewed at least once')
    assert.ok((r.phoneChannel?.renewals ?? 0) >= 1, 'the phone saw the renewal')
    // Loss really happened both ways.
    assert.ok(r.up.lost > 0 && r.down.lost > 0, `frames lost up ${r.up.lost}, down ${r.down.lost}`)
    // No plaintext at the intermediaries (who did see traffic).
    assert.ok(r.brokerTap.items.length > 0 && r.gatewayTap.items.length > 0)
    assert.equal(countPlaintext(r.readings, [...r.brokerTap.items, ...r.gatewayTap.items]), 0)
    console.log(`# handshake ${String(r.opened.ms)} ms (interpreter, simulated ATECC608 instant), run ${r.wallMs} ms wall, device variables ${String(r.last.base)} after load, ${String(r.last.vars)} at peak, ${renewals} renewal(s), radio frames up ${r.up.sent} (lost ${r.up.lost}) down ${r.down.sent} (lost ${r.down.lost})`)
  })
})
