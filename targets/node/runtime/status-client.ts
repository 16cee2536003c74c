/** `hopseal node status`: fetch a running node's /status, bounded in time and size, and print it. */
import { ErrorCode, HopsealError } from '../../../src/errors.ts'
import { MAX_STATUS_BYTES, STATUS_TIMEOUT_MS } from './constants.ts'
import type { NodeStatus } from './status.ts'

/**
 * Fetches `${base}/status`.
 * @throws HopsealError TRANSPORT_UNAVAILABLE (nothing answers, not a hopseal node),
 *   TIMEOUT, LIMIT_EXCEEDED (response over MAX_STATUS_BYTES).
 */
export async function fetchStatus(base: string, timeoutMs = STATUS_TIMEOUT_MS): Promise<NodeStatus> {
  const url = `${base.replace(/\/+$/, '')}/status`
  let res: Response
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' })
  } catch (e) {
    if ((e as Error).name === 'TimeoutError') throw new HopsealError(ErrorCode.TIMEOUT, `${url} did not answer within ${timeoutMs} ms`)
    const why = ((e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message) || 'error'
    throw new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, `no node answers at ${url} (${why}); is it running, with metrics: configured on that host and port?`)
  }
  if (res.status !== 200) throw new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, `${url} answered HTTP ${res.status}; is this a hopseal node's metrics port?`)
  const chunks: Uint8Array[] = []
  let n = 0
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    n += chunk.length
    if (n > MAX_STATUS_BYTES) throw new HopsealError(ErrorCode.LIMIT_EXCEEDED, `${url} sent more than ${MAX_STATUS_BYTES} bytes`)
    chunks.push(chunk)
  }
  let doc: unknown
  try {
    doc = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    doc = undefined
  }
  if (!doc || typeof doc !== 'object' || typeof (doc as NodeStatus).name !== 'string') {
    throw new HopsealError(ErrorCode.DECODE_ERROR, `${url} did not return a hopseal status document`)
  }
  return doc as NodeStatus
}

/** Human-readable lines of a status document. */
export function formatStatus(s: NodeStatus): string[] {
  const row = (k: string, v: string): string => `${k.padEnd(14)} ${v}`
  const lines = [
    row('name', s.name),
    row('state', `${s.state} (pid ${s.pid})`),
    row('version', s.version),
    row('uptime', `${s.uptimeSeconds} s`),
    row('config', s.config),
  ]
  for (const t of s.transports ?? []) lines.push(row(`${t.transport} ${t.link}`, t.up ? 'up' : 'DOWN'))
  lines.push(row('channels', String(s.channels)))
  if (s.mailboxBytes !== null && s.mailboxBytes !== undefined) lines.push(row('mailboxes', `${s.mailboxBytes} bytes`))
  const counters = Object.entries(s.counters ?? {})
  lines.push(row('counters', counters.length === 0 ? '(none yet)' : counters.map(([k, v]) => `${k}=${v}`).join(' ')))
  return lines
}
