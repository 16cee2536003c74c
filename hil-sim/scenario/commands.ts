/**
 * `hopseal demo` and `hopseal sim`: run scenario files (hil-sim/scenarios).
 *
 *   hopseal demo [--scenario heart-rate|flood] [--mode kk|xx] [--device node|espruino] [--loss P] [--duration 10s] [--seed S] [--json]
 *   hopseal sim run FILE… [--seed S] [--json]
 *   hopseal sim list
 */
import { readFile, readdir } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { ErrorCode, HopsealError } from '../../src/errors.ts'
import { defineCommand, type CliIO } from '../../targets/node/cli/command.ts'
import type { CommandHelp } from '../../targets/node/cli/help.ts'
import { parseDuration, parseScenario, type ScenarioSpec } from './spec.ts'
import { runScenario, type RunOptions, type ScenarioEvent, type Summary } from './run.ts'
import { runSoak } from './soak.ts'
import { lineView, ttyView, type View } from './view.ts'

export const SCENARIO_DIR = resolve(import.meta.dirname, '../scenarios')

export async function loadScenario(file: string): Promise<ScenarioSpec> {
  // A bare name, as `hopseal sim list` prints it, is a bundled scenario.
  if (/^[A-Za-z0-9_-]+$/.test(file)) {
    const bundled = join(SCENARIO_DIR, `${file}.yaml`)
    if (await readFile(bundled, 'utf8').then(() => true, () => false)) file = bundled
  }
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
  const onEvent = view ? { onEvent: (e: ScenarioEvent) => view.event(e) } : {}
  const summary = spec.time === 'simulated' ? await runSoak(spec, { ...onEvent, ...(opts.overrides?.seed ? { seed: opts.overrides.seed } : {}) }) : await runScenario(spec, { ...opts, ...onEvent })
  if (view) view.done(summary)
  else io.out(JSON.stringify(summary))
  return summary
}

const DEMO_HELP: CommandHelp = {
  help: {
    usage: ['demo [--scenario heart-rate|flood] [--mode kk|xx] [--device node|espruino] [--loss P] [--duration 10s] [--seed S] [--json]'],
    summary: 'run the heart-rate demo (or --scenario flood) end to end, on embedded defaults',
    details: [
      'A monitor with its keys in a simulated ATECC608, a LoRa-style link with loss, a gateway, an',
      'embedded MQTT broker and the phone app (SoftHSM2 when installed). No system packages needed.',
      'Exit 0 when every check of the scenario holds (delivered = sent, no plaintext at the taps), else 1.',
    ],
    options: [
      ['--scenario NAME', 'heart-rate (default) or flood (12 river-level sensors to a dashboard)'],
      ['--mode kk|xx', 'KK: keys known in advance (default); XX: first contact with identities'],
      ['--device node|espruino', 'where the monitor runs: this process (default) or the Espruino interpreter on a PTY radio (KK only)'],
      ['--loss P', 'radio frame loss probability, 0..0.9'],
      ['--duration D', 'how long to send readings (1s..1h, e.g. 20s)'],
      ['--seed S', 'seed of every random choice (same seed, same run)'],
      ['--json', 'print one summary object, no live view'],
    ],
    examples: ['hopseal demo', 'hopseal demo --mode xx --loss 0.2 --duration 20s', 'hopseal demo --device espruino', 'hopseal demo --scenario flood --json'],
  },
  subcommands: {},
}

export const demoCommand = defineCommand({
  name: 'demo',
  summary: 'run the heart-rate demo (or --scenario flood) end to end, on embedded defaults',
  help: DEMO_HELP,
  options: { scenario: { type: 'string', default: 'heart-rate' }, mode: { type: 'string' }, device: { type: 'string' }, loss: { type: 'string' }, duration: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean', default: false } },
  maxArgs: 0,
  async run({ values, usage }, io) {
    if (!/^[a-z0-9-]+$/.test(values.scenario)) return usage(`--scenario: unknown scenario "${values.scenario}"`)
    const file = join(SCENARIO_DIR, `${values.scenario}.yaml`)
    const spec = await loadScenario(file).catch((e: unknown) => {
      if (values.scenario !== 'heart-rate' && values.scenario !== 'flood') throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `--scenario: unknown scenario "${values.scenario}" (use heart-rate or flood, or run any file with hopseal sim run FILE)`)
      throw e
    })
    const overrides: NonNullable<RunOptions['overrides']> = {}
    if (values.mode !== undefined) {
      if (values.mode !== 'kk' && values.mode !== 'xx') return usage(`--mode expects kk or xx, got "${values.mode}"`)
      overrides.mode = values.mode
    }
    if (values.device !== undefined) {
      if (values.device !== 'node' && values.device !== 'espruino') return usage(`--device expects node or espruino, got "${values.device}"`)
      overrides.runtime = values.device
    }
    if (values.loss !== undefined) {
      const p = Number(values.loss)
      if (!(p >= 0 && p <= 0.9)) return usage(`--loss expects a probability 0..0.9, got "${values.loss}"`)
      overrides.loss = p
    }
    if (values.duration !== undefined) {
      const ms = parseDuration(values.duration)
      if (!(ms >= 1000 && ms <= 3_600_000)) return usage(`--duration expects 1s..1h (e.g. 20s), got "${values.duration}"`)
      overrides.readings = Math.max(1, Math.floor(ms / Math.max(1, spec.workload.intervalMs)))
      overrides.durationMs = Math.max(spec.workload.timeoutMs, ms * 3)
    }
    if (values.seed !== undefined) overrides.seed = values.seed
    const s = await runAndReport(spec, { overrides }, io, values.json)
    return s.ok ? 0 : 1
  },
})

const SIM_HELP: CommandHelp = {
  help: {
    usage: ['sim run FILE… [--seed S] [--json]', 'sim list'],
    summary: 'run hardware-in-the-loop scenario files (hil-sim/scenarios/*.yaml)',
    examples: ['hopseal sim list', 'hopseal sim run hil-sim/scenarios/broker-restart.yaml'],
  },
  subcommands: {
    run: {
      usage: ['sim run FILE… [--seed S] [--json]'],
      summary: 'run scenario files; exit 1 if any expectation fails',
      details: ['A scenario file describes a topology, a workload, faults over time and the checks.'],
      options: [['--seed S', "override the file's seed"], ['--json', 'one summary object per file']],
      examples: ['hopseal sim run hil-sim/scenarios/broker-restart.yaml', 'hopseal sim run hil-sim/scenarios/heart-rate.yaml --seed docs --json'],
    },
    list: {
      usage: ['sim list'],
      summary: 'list the bundled scenarios (hil-sim/scenarios)',
      examples: ['hopseal sim list'],
    },
  },
}

export const simCommand = defineCommand({
  name: 'sim',
  summary: 'run hardware-in-the-loop scenario files (hil-sim/scenarios/*.yaml)',
  help: SIM_HELP,
  options: { seed: { type: 'string' }, json: { type: 'boolean', default: false } },
  async run({ values, sub, args: positionals, usage }, io) {
    if (sub === 'list') {
      if (positionals.length > 0) return usage(`sim list takes no arguments, got "${positionals.join(' ')}"`)
      for (const f of (await readdir(SCENARIO_DIR)).filter((f) => f.endsWith('.yaml')).sort()) {
        const spec = await loadScenario(join(SCENARIO_DIR, f))
        io.out(`${basename(f, '.yaml').padEnd(24)} ${spec.description}`)
      }
      return 0
    }
    if (positionals.length === 0) return usage('give at least one scenario FILE')
    let ok = true
    for (const file of positionals) {
      const spec = await loadScenario(file)
      const s = await runAndReport(spec, { overrides: values.seed !== undefined ? { seed: values.seed } : {} }, io, values.json)
      ok &&= s.ok
    }
    return ok ? 0 : 1
  },
})
