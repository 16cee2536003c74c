/** The demo's live panel on an 80-column terminal (issue 19 item 15): no line wraps, so the cursor-up count is right. */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { fitLine, ttyView, visibleLength } from '../../hil-sim/scenario/view.ts'
import type { Summary } from '../../hil-sim/scenario/run.ts'


it('fitLine cuts to the visible width and keeps colour codes whole', () => {
  assert.equal(fitLine('short', 80), 'short')
  const long = `\x1b[2m${'x'.repeat(100)}\x1b[0m`
  const cut = fitLine(long, 80)
  assert.equal(visibleLength(cut), 80)
  assert.ok(cut.endsWith('…\x1b[0m'))
  assert.ok(cut.startsWith('\x1b[2m'))
})

it('every frame of the live panel fits 80 columns and moves the cursor up by the lines it drew', async () => {
  const frames: string[] = []
  const view = ttyView((s) => frames.push(s), 'heart-rate monitor → LoRa → gateway → MQTT → phone, a title long enough to wrap on a narrow terminal', () => 80)
  view.event({ type: 'phase', text: 'sending readings'.repeat(8) })
  view.event({ type: 'handshake', device: 'monitor', ms: 18, frames: 2, bytes: 104, airtimeMs: 205.3, attempts: 1 })
  for (let seq = 0; seq < 8; seq++) view.event({ type: 'reading', device: 'monitor', seq, value: 72, brokerHex: 'ab'.repeat(24), radioHex: 'cd'.repeat(24) })
  view.event({ type: 'fault', text: 'broker restart (down 500 ms) and a long explanation that goes on past the edge' })
  const summary = { scenario: 'x', ok: true, checks: [], readings: { sent: 8, received: 8, duplicates: 0, out_of_order: 0, failed: 0 }, handshake: { mode: 'kk', protocol: 'p', attempts: 1, failures: 0, frames: 2, bytes: 104, airtime_ms: 1, ms: 1 }, taps: { broker_messages: 1, broker_bytes: 1, gateway_frames: 1, gateway_bytes: 1, plaintext_matches: 0 }, radio: { frames: 1, bytes: 1, airtime_ms: 1, lost: 0, duplicated: 0, reordered: 0, duty_violations: 0 }, faults: [], memory: { heap_max_mb: 1 }, vaults: {}, gateway: {}, seed: 's', durationMs: 1 } as unknown as Summary
  await new Promise((r) => setTimeout(r, 150)) // the panel redraws every 100 ms
  view.done(summary)
  const panels = frames.slice(0, -1) // the last write is the summary
  assert.ok(panels.length >= 2, `${panels.length} panel frames`)
  for (const p of panels) {
    const rows = p.split('\n').filter((l) => l !== '')
    for (const r of rows) assert.ok(visibleLength(r) <= 80, `${visibleLength(r)} columns: ${r}`)
    assert.equal(rows.length, 12, 'title, phase, channel, readings, header, 6 readings, 1 fault: one row each')
  }
  assert.ok(panels.at(-1)!.startsWith('\x1b[12A'), 'the redraw moves up exactly the 12 rows it drew before')
})
