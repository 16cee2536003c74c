/**
 * Soak figures (issue 12): hil-sim/scenarios/month.yaml, a sleepy LoRa SF12
 * monitor for 30 simulated days (43 200 readings, daily broker restarts, a
 * gateway restart, a 3-hour blackout) on the warp clock.
 *
 * - `soak.month.delivered_ratio`: readings delivered once ÷ sent (target 1);
 * - `soak.month.heap_growth_ratio`: heap after a full GC at the last simulated
 *   day ÷ day 1 (target ≤ 1.1; run with --expose-gc, as `npm run bench` does);
 * - `soak.month.wall_s`: wall seconds for the month, baseline the simulated
 *   seconds it covered (the ratio is the speed-up).
 * `--quick` runs week.yaml instead (figures named soak.week.*).
 */
import { readFile } from 'node:fs/promises'
import { parseScenario } from '../hil-sim/scenario/spec.ts'
import { runSoak } from '../hil-sim/scenario/soak.ts'
import type { BenchModule, Figure } from './figure.ts'

const run: BenchModule = async (ctx) => {
  const which = ctx.quick ? 'week' : 'month'
  const file = `hil-sim/scenarios/${which}.yaml`
  const spec = parseScenario(await readFile(file, 'utf8'), file)
  ctx.log(`running ${file}: ${spec.workload.readings} readings, ${(spec.workload.readings * spec.workload.intervalMs) / 86_400_000} simulated days`)
  const s = await runSoak(spec)
  const failed = s.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`)
  const note = `${s.readings.received}/${s.readings.sent} delivered, ${s.readings.duplicates} duplicates, ${s.taps.plaintext_matches} plaintext matches, ${s.soak.renewals} renewals, heap ${s.soak.heap_mb_by_day[0]} → ${s.soak.heap_mb_by_day.at(-1)} MB, outbox max ${s.soak.outbox_max}, radio ${s.radio.frames} frames (${s.radio.duty_violations} duty-cycle violations measured), ${s.soak.simulated_days} simulated days in ${s.soak.wall_s} s (${Math.round(s.soak.skipped_ratio * 100)} % skipped)${failed.length ? `; FAILED: ${failed.join('; ')}` : ''}`
  ctx.log(`soak ${which}: ${note}`)
  const figures: Figure[] = [
    { name: `soak.${which}.delivered_ratio`, value: s.readings.sent ? Math.round(((s.readings.received - s.readings.duplicates) / s.readings.sent) * 10_000) / 10_000 : 0, unit: 'ratio', target: '>= 1', note },
    { name: `soak.${which}.heap_growth_ratio`, value: s.soak.heap_growth_ratio, unit: 'ratio', target: '<= 1.1', note },
    { name: `soak.${which}.wall_s`, value: s.soak.wall_s, unit: 's', baseline: { name: `soak.${which}.simulated_s`, value: Math.round(s.soak.simulated_days * 86_400) } },
    { name: `soak.${which}.renewals`, value: s.soak.renewals, unit: 'count' },
  ]
  return figures
}

export default run
