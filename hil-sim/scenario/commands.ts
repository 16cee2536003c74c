/**
 * `hopseal demo` and `hopseal sim`: run scenario files (hil-sim/scenarios).
 *
 *   hopseal demo [--scenario heart-rate|flood] [--mode kk|xx] [--loss P] [--duration 10s] [--seed S] [--json]
 *   hopseal sim run FILE… [--seed S] [--json]
 *   hopseal sim list
 */
import { readFile, readdir } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { ErrorCode, HopsealError } from '../../src/errors.ts'
import type { CliIO, Command } from '../../src/cli/command.ts'
import { parseDuration, parseScenario, type ScenarioSpec } from './spec.ts'
import { runScenario, type RunOptions, type Summary } from './run.ts'
import { lineView, ttyView, type View } from './view.ts'

export const SCENARIO_DIR = resolve(import.meta.dirname, '../scenarios')

export async function loadScenario(file: string): Promise<ScenarioSpec> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (e) {
    throw new HopsealError(ErrorCode.CONFIG_INVALID, `${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'}) (fix: give the path of a scenario file, e.g. hil-sim/scenarios/heart-rate.yaml)`)
  }
  return parseScenario(text, file)
}

function viewFor(io: CliIO, json: boolean, title: string): View | undefined {
  if (json) return undefined
  const tty = process.stdout.isTTY && io.env.NO_COLOR === undefined && io.env.TERM !== 'dumb'
  return tty ? ttyView((s) => process.stdout.write(s), title) : lineView(io.out)
}

async function runAndReport(spec: ScenarioSpec, opts: RunOptions, io: CliIO, json: boolean): Promise<Summary> {
  const view = viewFor(io, json, spec.description || spec.name)
  const summary = await runScenario(spec, { ...opts, ...(view ? { onEvent: (e) => view.event(e) } : {}) })
  if (view) view.done(summary)
  else io.out(JSON.stringify(summary))
  return summary
}

const DEMO_USAGE = `usage: hopseal demo [--scenario heart-rate|flood] [--mode kk|xx] [--loss P] [--duration 10s] [--seed S] [--json]
Runs the heart-rate scenario on embedded defaults (no system packages): a monitor with its
keys in a simulated ATECC608, a LoRa-style link with loss, a gateway, an embedded MQTT
broker and the phone app. --json prints one summary object.`

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run the heart-rate demo (or --scenario flood) end to end, on embedded defaults',
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: { scenario: { type: 'string', default: 'heart-rate' }, mode: { type: 'string' }, loss: { type: 'string' }, duration: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    })
    if (values.help) {
      io.out(DEMO_USAGE)
      return 0
    }
    if (!/^[a-z0-9-]+$/.test(values.scenario)) return usage(io, DEMO_USAGE, `--scenario: unknown scenario "${values.scenario}"`)
    const file = join(SCENARIO_DIR, `${values.scenario}.yaml`)
    const spec = await loadScenario(file).catch((e: unknown) => {
      if (values.scenario !== 'heart-rate' && values.scenario !== 'flood') throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `--scenario: unknown scenario "${values.scenario}" (use heart-rate or flood, or run any file with hopseal sim run FILE)`)
      throw e
    })
    const overrides: NonNullable<RunOptions['overrides']> = {}
    if (values.mode !== undefined) {
      if (values.mode !== 'kk' && values.mode !== 'xx') return usage(io, DEMO_USAGE, `--mode expects kk or xx, got "${values.mode}"`)
      overrides.mode = values.mode
    }
    if (values.loss !== undefined) {
      const p = Number(values.loss)
      if (!(p >= 0 && p <= 0.9)) return usage(io, DEMO_USAGE, `--loss expects a probability 0..0.9, got "${values.loss}"`)
      overrides.loss = p
    }
    if (values.duration !== undefined) {
      const ms = parseDuration(values.duration)
      if (!(ms >= 1000 && ms <= 3_600_000)) return usage(io, DEMO_USAGE, `--duration expects 1s..1h (e.g. 20s), got "${values.duration}"`)
      overrides.readings = Math.max(1, Math.floor(ms / Math.max(1, spec.workload.intervalMs)))
      overrides.durationMs = Math.max(spec.workload.timeoutMs, ms * 3)
    }
    if (values.seed !== undefined) overrides.seed = values.seed
    const s = await runAndReport(spec, { overrides }, io, values.json)
    return s.ok ? 0 : 1
  },
}

const SIM_USAGE = `usage:
  hopseal sim run FILE… [--seed S] [--json]   run scenario files; exit 1 if any expectation fails
  hopseal sim list                             the bundled scenarios (${SCENARIO_DIR})`

function usage(io: CliIO, text: string, why: string): number {
  io.err(`hopseal: ${why}`)
  io.err(text)
  return 2
}

export const simCommand: Command = {
  name: 'sim',
  summary: 'run hardware-in-the-loop scenario files (hil-sim/scenarios/*.yaml)',
  async run(argv, io) {
    const [sub, ...rest] = argv
    if (sub === '--help' || sub === '-h' || sub === 'help') {
      io.out(SIM_USAGE)
      return 0
    }
    if (sub === 'list') {
      for (const f of (await readdir(SCENARIO_DIR)).filter((f) => f.endsWith('.yaml')).sort()) {
        const spec = await loadScenario(join(SCENARIO_DIR, f))
        io.out(`${basename(f, '.yaml').padEnd(24)} ${spec.description}`)
      }
      return 0
    }
    if (sub !== 'run') return usage(io, SIM_USAGE, sub ? `sim: unknown subcommand "${sub}"` : 'sim: missing subcommand')
    const { values, positionals } = parseArgs({ args: rest, options: { seed: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true })
    if (values.help) {
      io.out(SIM_USAGE)
      return 0
    }
    if (positionals.length === 0) return usage(io, SIM_USAGE, 'sim run: give at least one scenario FILE')
    let ok = true
    for (const file of positionals) {
      const spec = await loadScenario(file)
      const s = await runAndReport(spec, { overrides: values.seed !== undefined ? { seed: values.seed } : {} }, io, values.json)
      ok &&= s.ok
    }
    return ok ? 0 : 1
  },
}
