/**
 * The node's metrics, from its routing counters (`node.counters`) and a few
 * gauges the runtime reads at scrape time. Names follow Prometheus
 * conventions (`_total` counters, base units, snake case) and are the
 * reference in docs/operations.md; renaming one breaks dashboards.
 *
 * Node counter → series:
 * - `received`, `sent`               → hopseal_messages_total{direction}
 * - `drop.<reason>`                  → hopseal_drops_total{reason}
 * - `mailbox.drop.<reason>`          → hopseal_drops_total{reason="mailbox_<reason>"}
 * - `handshake.completed`            → hopseal_handshakes_total{result="ok",code=""}
 * - `handshake.failed.<code>`        → hopseal_handshakes_total{result="failed",code}
 * - anything else (`gateway.*`, `mailbox.queued`, `channel.*`, `reliable.*`…)
 *                                     → hopseal_events_total{event}
 */
import { Exposition } from './exposition.ts'

/** What one scrape reads from a running node. */
export interface MetricsSnapshot {
  name: string
  version: string
  uptimeSeconds: number
  counters: ReadonlyMap<string, number>
  /** Established secure channels across this node's listeners. */
  channels: number
  /** Bytes held in the gateway's mailboxes (undefined: not a gateway). */
  mailboxBytes?: number
  /** Messages waiting in the gateway's mailboxes, per device (link name). */
  mailboxMessages?: Record<string, number>
  transports: { transport: 'mqtt' | 'serial'; link: string; up: boolean }[]
  /** Cumulative time on air per serial link (ms). */
  serialAirtimeMs: { link: string; ms: number }[]
  /** Transport-level counters (reconnects, CRC errors…) by transport and link. */
  transportEvents: { transport: 'mqtt' | 'serial'; link: string; event: string; value: number }[]
}

/** Renders a snapshot in the Prometheus text format 0.0.4. */
export function renderMetrics(s: MetricsSnapshot): string {
  const x = new Exposition()
    .family('hopseal_info', 'gauge', 'Always 1; labels carry the node name and the hopseal version.')
    .family('hopseal_process_uptime_seconds', 'gauge', 'Seconds since the node runtime started.')
    .family('hopseal_messages_total', 'counter', 'Routing messages received from and sent to transports.')
    .family('hopseal_drops_total', 'counter', 'Messages dropped, by reason (no route, over MTU, access denied, mailbox full...).')
    .family('hopseal_handshakes_total', 'counter', 'Secure-channel handshakes answered by this node, by result and error code.')
    .family('hopseal_events_total', 'counter', 'Other node events (gateway aliases, mailbox deliveries, channel and reliable-mode events).')
    .family('hopseal_channels', 'gauge', 'Established secure channels on this node\'s listeners.')
    .family('hopseal_mailbox_bytes', 'gauge', 'Bytes held in the gateway\'s store-and-forward mailboxes.')
    .family('hopseal_mailbox_messages', 'gauge', 'Messages waiting in the gateway\'s mailbox of each device.')
    .family('hopseal_transport_up', 'gauge', '1 when a transport link is connected, 0 when it is down (broker away, device unplugged).')
    .family('hopseal_serial_airtime_ms_total', 'counter', 'Cumulative time on air of frames sent on a serial link (ms), per its link profile.')
    .family('hopseal_transport_events_total', 'counter', 'Transport-level events (reconnects, framing errors...) by transport and link.')

  x.set('hopseal_info', { name: s.name, version: s.version }, 1)
  x.set('hopseal_process_uptime_seconds', {}, Math.round(s.uptimeSeconds * 1000) / 1000)
  x.add('hopseal_messages_total', { direction: 'received' }, 0)
  x.add('hopseal_messages_total', { direction: 'sent' }, 0)
  x.add('hopseal_handshakes_total', { result: 'ok', code: '' }, 0)
  for (const [key, v] of s.counters) {
    if (key === 'received' || key === 'sent') x.add('hopseal_messages_total', { direction: key }, v)
    else if (key.startsWith('drop.')) x.add('hopseal_drops_total', { reason: key.slice(5) }, v)
    else if (key.startsWith('mailbox.drop.')) x.add('hopseal_drops_total', { reason: `mailbox_${key.slice(13)}` }, v)
    else if (key === 'handshake.completed') x.add('hopseal_handshakes_total', { result: 'ok', code: '' }, v)
    else if (key.startsWith('handshake.failed.')) x.add('hopseal_handshakes_total', { result: 'failed', code: key.slice(17) }, v)
    else x.add('hopseal_events_total', { event: key }, v)
  }
  x.set('hopseal_channels', {}, s.channels)
  if (s.mailboxBytes !== undefined) x.set('hopseal_mailbox_bytes', {}, s.mailboxBytes)
  for (const [device, n] of Object.entries(s.mailboxMessages ?? {})) x.set('hopseal_mailbox_messages', { device }, n)
  for (const t of s.transports) x.set('hopseal_transport_up', { transport: t.transport, link: t.link }, t.up ? 1 : 0)
  for (const a of s.serialAirtimeMs) x.add('hopseal_serial_airtime_ms_total', { link: a.link }, Math.round(a.ms * 1000) / 1000)
  for (const e of s.transportEvents) x.add('hopseal_transport_events_total', { transport: e.transport, link: e.link, event: e.event }, e.value)
  return x.text()
}
