/**
 * The `/status` document: what `hopseal node status` prints. Plain JSON, no
 * secrets (it reads the same snapshot as the metrics; the config part is the
 * redacted display form).
 */
import type { NodeConfig } from './config-types.ts'
import type { MetricsSnapshot } from './metrics.ts'

export interface NodeStatus {
  name: string
  version: string
  state: 'starting' | 'running' | 'stopping' | 'stopped'
  pid: number
  uptimeSeconds: number
  config: string
  metricsUrl: string | null
  transports: { transport: 'mqtt' | 'serial'; link: string; up: boolean }[]
  channels: number
  mailboxBytes: number | null
  counters: Record<string, number>
}

export function buildStatus(config: NodeConfig, state: NodeStatus['state'], s: MetricsSnapshot, metricsUrl: string | undefined): NodeStatus {
  return {
    name: s.name,
    version: s.version,
    state,
    pid: process.pid,
    uptimeSeconds: Math.round(s.uptimeSeconds * 10) / 10,
    config: config.file,
    metricsUrl: metricsUrl ?? null,
    transports: s.transports,
    channels: s.channels,
    mailboxBytes: s.mailboxBytes ?? null,
    counters: Object.fromEntries([...s.counters].sort((a, b) => (a[0] < b[0] ? -1 : 1))),
  }
}
