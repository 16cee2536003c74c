/**
 * Scenario files (hil-sim/scenarios/*.yaml): a topology, a workload, faults
 * over time and the assertions that must hold, so a new HIL test is a new
 * file, not code. Parsed strictly: an unknown key, a wrong type or a value out
 * of range is a CONFIG_INVALID error naming the file, the key and the fix.
 */
import { parse, YAMLParseError } from 'yaml'
import { ErrorCode, HopsealError } from '../../src/errors.ts'

export type VaultKind = 'software' | 'atecc608-sim' | 'softhsm'
export type Medium = 'memory' | 'pty'

export interface LinkSpec {
  medium: Medium
  profile: 'lora' | 'ble-uart' | 'raw'
  /** LoRa spreading factor 7..12. */
  sf: number
  /** Regulatory duty cycle of the radio (0 < r ≤ 1). */
  dutyCycle: number
  loss: number
  reorder: number
  duplicate: number
  latencyMs: number
}

export interface DeviceSpec {
  name: string
  count: number
  vault: VaultKind
  app: string
  link: LinkSpec
  /** Sleeps between readings (simulated scenarios): the radio listens for awakeMs after each uplink; the gateway holds downlinks unless it spoke within awakeMs. */
  sleep?: { awakeMs: number }
  /** The channel's limit profile (renewal, key phases, keep-alive, reliable timers); default from the link profile: lora → lora, ble-uart → ble, else ip. */
  channelMedium?: 'ip' | 'lora' | 'ble'
  /** Where the device runs (wall scenarios): `node` (default) or `espruino`, the Espruino interpreter on a PTY radio (targets/espruino, espruino.ts). */
  runtime?: 'node' | 'espruino'
}

export interface AppSpec {
  name: string
  vault: VaultKind
}

export type FaultSpec =
  | { at: number; every?: number; kind: 'broker-restart'; downMs: number }
  | { at: number; every?: number; kind: 'gateway-restart' }
  | { at: number; every?: number; kind: 'radio-blackout'; device: string; durationMs: number }
  | { at: number; every?: number; kind: 'secure-element-stall'; device: string; commands: number }

export interface ScenarioSpec {
  file: string
  name: string
  description: string
  seed: string
  mode: 'kk' | 'xx'
  broker: 'embedded' | 'mosquitto'
  /**
   * `wall`: the workload, faults and deadline are wall-clock times, radio time runs clockScale times faster.
   * `simulated` (soak.ts): every time in the file is simulated time on a warp clock that runs clockScale
   * times faster while something happens and jumps over quiet stretches.
   */
  time: 'wall' | 'simulated'
  /**
   * `wall`: radio time (airtime, duty cycle, link latency) runs this many times faster than the wall clock.
   * `simulated`: simulated ms per wall ms while work is in flight (default 0: simulated time stands still
   * while work runs and moves only by timers and jumps; see hil-sim/warp-clock.ts).
   */
  clockScale: number
  gateway: { name: string }
  apps: AppSpec[]
  devices: DeviceSpec[]
  workload: { readings: number; intervalMs: number; timeoutMs: number }
  faults: FaultSpec[]
  expect: { delivered: 'all'; plaintextAtTaps: number; maxHeapMB: number; minHandshakeFailures: number; renewals?: { min: number; max: number }; heapGrowthMax?: number }
}

class Reader {
  constructor(
    readonly file: string,
    readonly path: string,
    readonly v: Record<string, unknown>,
  ) {}

  fail(key: string, what: string, fix: string): never {
    throw new HopsealError(ErrorCode.CONFIG_INVALID, `${this.file}: ${this.path ? this.path + '.' : ''}${key}: ${what} (fix: ${fix})`)
  }

  only(keys: string[]): void {
    for (const k of Object.keys(this.v)) {
      if (!keys.includes(k)) {
        const near = keys.find((c) => distance(c, k) <= 2)
        this.fail(k, 'unknown key', near ? `did you mean "${near}"?` : `use one of ${keys.join(', ')}`)
      }
    }
  }

  str(key: string, dflt?: string, allowed?: readonly string[]): string {
    const x = this.v[key] ?? dflt
    if (typeof x !== 'string' || x === '') this.fail(key, `expected a string, got ${JSON.stringify(x)}`, allowed ? `write one of ${allowed.join(', ')}` : 'write a non-empty string')
    if (allowed && !allowed.includes(x)) this.fail(key, `"${x}" is not allowed`, `write one of ${allowed.join(', ')}`)
    return x
  }

  num(key: string, dflt: number | undefined, min: number, max: number, unit = ''): number {
    let x = this.v[key] ?? dflt
    if (typeof x === 'string' && unit === 'ms') x = parseDuration(x)
    if (typeof x !== 'number' || !Number.isFinite(x) || x < min || x > max) {
      this.fail(key, `expected a number in ${min}..${max}${unit ? ' ' + unit : ''}, got ${JSON.stringify(this.v[key])}`, unit === 'ms' ? 'write milliseconds or a duration like "10s" / "500ms"' : `write a number between ${min} and ${max}`)
    }
    return x
  }

  obj(key: string, optional = false): Reader {
    const x = this.v[key]
    if (x === undefined && optional) return new Reader(this.file, this.sub(key), {})
    if (typeof x !== 'object' || x === null || Array.isArray(x)) this.fail(key, `expected a mapping, got ${JSON.stringify(x)}`, 'write key: value pairs')
    return new Reader(this.file, this.sub(key), x as Record<string, unknown>)
  }

  list(key: string, optional = false): Reader[] {
    const x = this.v[key]
    if (x === undefined && optional) return []
    if (!Array.isArray(x)) this.fail(key, `expected a list, got ${JSON.stringify(x)}`, 'write a YAML list (- item)')
    return x.map((e, i) => {
      if (typeof e !== 'object' || e === null || Array.isArray(e)) this.fail(`${key}[${i}]`, 'expected a mapping', 'write key: value pairs')
      return new Reader(this.file, `${this.sub(key)}[${i}]`, e as Record<string, unknown>)
    })
  }

  private sub(key: string): string {
    return this.path ? `${this.path}.${key}` : key
  }
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0]![j] = j
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
  return d[a.length]![b.length]!
}

/** "10s", "500ms", "2m", "3h", "30d", or a plain number of milliseconds. */
export function parseDuration(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(s)
  if (!m) return NaN
  const n = Number(m[1])
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? 'ms'] ?? 1
  return n * unit
}

const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/
const VAULTS = ['software', 'atecc608-sim', 'softhsm'] as const

/** Parses and validates a scenario file's text. */
export function parseScenario(text: string, file: string): ScenarioSpec {
  let doc: unknown
  try {
    doc = parse(text, { prettyErrors: true, uniqueKeys: true })
  } catch (e) {
    if (e instanceof YAMLParseError) {
      const pos = e.linePos?.[0]
      throw new HopsealError(ErrorCode.CONFIG_INVALID, `${file}:${pos ? `${pos.line}:${pos.col}` : '?'}: YAML syntax: ${e.message.split('\n')[0]} (fix: correct the YAML at that position)`)
    }
    throw e
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new HopsealError(ErrorCode.CONFIG_INVALID, `${file}: expected a mapping at the top level (fix: start with "name: …")`)
  const r = new Reader(file, '', doc as Record<string, unknown>)
  r.only(['name', 'description', 'seed', 'mode', 'broker', 'time', 'clockScale', 'gateway', 'apps', 'devices', 'workload', 'faults', 'expect'])
  const name = r.str('name')
  const time = r.str('time', 'wall', ['wall', 'simulated']) as 'wall' | 'simulated'
  const sim = time === 'simulated'
  /** Longest time a simulated scenario may describe: 60 days. */
  const maxMs = sim ? 60 * 86_400_000 : 3_600_000
  const apps = r.list('apps').map((a) => {
    a.only(['name', 'vault'])
    const n = a.str('name')
    if (!NAME.test(n)) a.fail('name', `"${n}" is not a valid node name`, 'use letters, digits, - and _ (≤ 32)')
    return { name: n, vault: a.str('vault', 'software', VAULTS) as VaultKind }
  })
  if (apps.length === 0) r.fail('apps', 'no apps', 'add at least one app')
  const devices = r.list('devices').map((d) => {
    d.only(sim ? ['name', 'count', 'vault', 'app', 'link', 'sleep', 'channelMedium'] : ['name', 'count', 'vault', 'app', 'link', 'runtime'])
    const n = d.str('name')
    if (!NAME.test(n)) d.fail('name', `"${n}" is not a valid node name`, 'use letters, digits, - and _ (≤ 28)')
    const app = d.str('app', apps[0]!.name)
    if (!apps.some((a) => a.name === app)) d.fail('app', `no app named "${app}"`, `use one of ${apps.map((a) => a.name).join(', ')}`)
    const l = d.obj('link', true)
    l.only(['medium', 'profile', 'sf', 'dutyCycle', 'loss', 'reorder', 'duplicate', 'latencyMs'])
    const link: LinkSpec = {
      medium: l.str('medium', 'memory', ['memory', 'pty']) as Medium,
      profile: l.str('profile', 'lora', ['lora', 'ble-uart', 'raw']) as LinkSpec['profile'],
      sf: l.num('sf', 7, 7, 12),
      dutyCycle: l.num('dutyCycle', 0.01, 0.0001, 1),
      // Up to 1: a radio that never gets a frame through (a scenario that must fail, and end).
      loss: l.num('loss', 0, 0, 1),
      reorder: l.num('reorder', 0, 0, 0.9),
      duplicate: l.num('duplicate', 0, 0, 0.9),
      latencyMs: l.num('latencyMs', 0, 0, 60_000, 'ms'),
    }
    const sleep = d.v.sleep === undefined ? undefined : d.obj('sleep')
    sleep?.only(['awakeMs'])
    const channelMedium = d.v.channelMedium === undefined ? undefined : (d.str('channelMedium', undefined, ['ip', 'lora', 'ble']) as DeviceSpec['channelMedium'])
    const runtime = d.v.runtime === undefined ? undefined : (d.str('runtime', 'node', ['node', 'espruino']) as 'node' | 'espruino')
    const count = d.num('count', 1, 1, runtime === 'espruino' ? 4 : 500)
    const vault = d.str('vault', 'software', VAULTS) as VaultKind
    if (runtime === 'espruino') {
      // one interpreter process per device; its secure element is the simulator on a PTY (or software X25519 keys)
      if (vault === 'softhsm') d.fail('vault', 'an Espruino device has no PKCS#11', 'use atecc608-sim or software')
      if (link.profile === 'raw') d.fail('link', 'an Espruino device speaks the lora or ble-uart profile', 'use profile: lora or profile: ble-uart')
    }
    return { name: n, count, vault, app, link, ...(sleep ? { sleep: { awakeMs: sleep.num('awakeMs', 10_000, 100, 3_600_000, 'ms') } } : {}), ...(channelMedium ? { channelMedium } : {}), ...(runtime ? { runtime } : {}) }
  })
  if (devices.length === 0) r.fail('devices', 'no devices', 'add at least one device')
  if (devices.some((d) => d.runtime === 'espruino') && r.v.mode === 'xx') r.fail('mode', 'Espruino devices open known-peer (KK) channels only', 'use mode: kk')
  const w = r.obj('workload')
  w.only(['readings', 'intervalMs', 'timeoutMs'])
  const workload = { readings: w.num('readings', undefined, 1, sim ? 1_000_000 : 100_000), intervalMs: w.num('intervalMs', sim ? 60_000 : 100, sim ? 1000 : 0, 3_600_000, 'ms'), timeoutMs: w.num('timeoutMs', 120_000, 1000, maxMs, 'ms') }
  const deviceNames = devices.map((d) => d.name)
  const faults = r.list('faults', true).map((f): FaultSpec => {
    const kind = f.str('kind', undefined, sim ? ['broker-restart', 'gateway-restart', 'radio-blackout'] : ['broker-restart', 'radio-blackout', 'secure-element-stall'])
    const at = f.num('at', undefined, 0, maxMs, 'ms')
    const repeat = sim && f.v.every !== undefined ? { every: f.num('every', undefined, 60_000, maxMs, 'ms') } : {}
    const device = (): string => {
      const d = f.str('device')
      if (!deviceNames.includes(d)) f.fail('device', `no device named "${d}"`, `use one of ${deviceNames.join(', ')}`)
      return d
    }
    const keys = (k: string[]): string[] => (sim ? [...k, 'every'] : k)
    if (kind === 'broker-restart') {
      f.only(keys(['kind', 'at', 'downMs']))
      return { at, ...repeat, kind, downMs: f.num('downMs', 500, 0, 600_000, 'ms') }
    }
    if (kind === 'gateway-restart') {
      f.only(keys(['kind', 'at']))
      return { at, ...repeat, kind }
    }
    if (kind === 'radio-blackout') {
      f.only(keys(['kind', 'at', 'device', 'durationMs']))
      return { at, ...repeat, kind, device: device(), durationMs: f.num('durationMs', undefined, 1, sim ? 7 * 86_400_000 : 600_000, 'ms') }
    }
    f.only(['kind', 'at', 'device', 'commands'])
    const dev = device()
    if (devices.find((d) => d.name === dev)!.vault !== 'atecc608-sim') f.fail('device', `"${dev}" has no secure element`, 'give that device vault: atecc608-sim')
    return { at, kind: 'secure-element-stall', device: dev, commands: f.num('commands', 3, 1, 100) }
  })
  const e = r.obj('expect', true)
  e.only(sim ? ['delivered', 'plaintextAtTaps', 'maxHeapMB', 'minHandshakeFailures', 'renewals', 'heapGrowthMax'] : ['delivered', 'plaintextAtTaps', 'maxHeapMB', 'minHandshakeFailures'])
  const ren = e.v.renewals === undefined ? undefined : e.obj('renewals')
  ren?.only(['min', 'max'])
  const renewals = ren ? { min: ren.num('min', 0, 0, 1_000_000), max: ren.num('max', 1_000_000, 0, 1_000_000) } : undefined
  const heapGrowthMax = e.v.heapGrowthMax === undefined ? undefined : e.num('heapGrowthMax', undefined, 1, 100)
  return {
    file,
    name,
    description: typeof r.v.description === 'string' ? r.v.description : '',
    seed: r.v.seed === undefined ? name : String(r.v.seed),
    mode: r.str('mode', 'kk', ['kk', 'xx']) as 'kk' | 'xx',
    broker: r.str('broker', 'embedded', ['embedded', 'mosquitto']) as 'embedded' | 'mosquitto',
    time,
    clockScale: sim ? r.num('clockScale', 0, 0, 1e6) : r.num('clockScale', 1000, 1, 1e6),
    gateway: { name: r.obj('gateway', true).str('name', 'gateway') },
    apps,
    devices,
    workload,
    faults,
    expect: { delivered: e.str('delivered', 'all', ['all']) as 'all', plaintextAtTaps: e.num('plaintextAtTaps', 0, 0, 0), maxHeapMB: e.num('maxHeapMB', 512, 16, 65_536), minHandshakeFailures: e.num('minHandshakeFailures', 0, 0, 1000), ...(renewals ? { renewals } : {}), ...(heapGrowthMax !== undefined ? { heapGrowthMax } : {}) },
  }
}
