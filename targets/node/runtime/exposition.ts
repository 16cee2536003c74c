/**
 * Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/): one
 * `# HELP` and one `# TYPE` line per metric family, then its samples, each
 * series exactly once. Label values escape `\`, `"` and newline; HELP text
 * escapes `\` and newline. Adding the same series twice sums it (two node
 * counters may map onto one series), so the output never holds duplicates.
 */

export type MetricType = 'counter' | 'gauge'

/** The Content-Type of this format. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

export function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}

/** Sample values as the format writes them (`+Inf`, `-Inf`, `NaN`). */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return '+Inf'
  if (v === -Infinity) return '-Inf'
  return String(v)
}

interface Family {
  help: string
  type: MetricType
  samples: Map<string, number>
}

/** `{a="x",b="y"}` with names sorted, so one series always has one key. */
function seriesKey(labels: Record<string, string>): string {
  const keys = Object.keys(labels).sort()
  for (const k of keys) if (!LABEL_NAME.test(k) || k.startsWith('__')) throw new TypeError(`label name ${k}`)
  return keys.length === 0 ? '' : `{${keys.map((k) => `${k}="${escapeLabelValue(labels[k]!)}"`).join(',')}}`
}

/** Builds one scrape's worth of text. */
export class Exposition {
  private readonly families = new Map<string, Family>()

  /** Declares a family; a family with no samples is still printed (HELP and TYPE), which tells dashboards it exists. */
  family(name: string, type: MetricType, help: string): this {
    if (!METRIC_NAME.test(name)) throw new TypeError(`metric name ${name}`)
    const f = this.families.get(name)
    if (f && f.type !== type) throw new TypeError(`metric ${name} declared as ${f.type} and ${type}`)
    if (!f) this.families.set(name, { help, type, samples: new Map() })
    return this
  }

  /** Adds `value` to a series (creating it at 0); the family must be declared. */
  add(name: string, labels: Record<string, string>, value: number): this {
    const f = this.declared(name)
    const series = seriesKey(labels)
    f.samples.set(series, (f.samples.get(series) ?? 0) + value)
    return this
  }

  /** Sets a series to `value` (gauges). */
  set(name: string, labels: Record<string, string>, value: number): this {
    this.declared(name).samples.set(seriesKey(labels), value)
    return this
  }

  private declared(name: string): Family {
    const f = this.families.get(name)
    if (!f) throw new TypeError(`metric ${name} not declared`)
    return f
  }

  text(): string {
    const lines: string[] = []
    for (const [name, f] of this.families) {
      lines.push(`# HELP ${name} ${escapeHelp(f.help)}`, `# TYPE ${name} ${f.type}`)
      for (const [series, v] of [...f.samples].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) lines.push(`${name}${series} ${formatValue(v)}`)
    }
    return lines.join('\n') + '\n'
  }
}
