/**
 * The node's local HTTP endpoint (off unless `metrics:` is configured):
 * - `GET /metrics`: Prometheus text 0.0.4 (metrics.ts);
 * - `GET /status`: JSON (name, version, uptime, transports up/down, counters);
 * - `GET /healthz`: `ok` (200) while the node runs, 503 while it shuts down.
 *
 * It binds 127.0.0.1 by default: the endpoint has no authentication and
 * tells an observer which devices are active. Only GET and HEAD are served;
 * request bodies are never read; slow clients are cut off by short header
 * and request timeouts, so a scraper cannot hold the node's memory.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ErrorCode, HopsealError } from '../../../src/errors.ts'
import { EXPOSITION_CONTENT_TYPE } from './exposition.ts'

export interface HttpEndpointOptions {
  host: string
  port: number
  metrics: () => string
  status: () => unknown
  healthy: () => boolean
}

export interface HttpEndpoint {
  /** `http://host:port` as bound (the real port when 0 was asked). */
  readonly url: string
  readonly port: number
  close(): Promise<void>
}

/** Slow-client limits (ms): a scrape is one small request. */
const HEADERS_TIMEOUT_MS = 5_000
const REQUEST_TIMEOUT_MS = 10_000

/**
 * Starts the endpoint.
 * @throws HopsealError TRANSPORT_UNAVAILABLE when the address cannot be bound (in use, not local).
 */
export async function startHttpEndpoint(opts: HttpEndpointOptions): Promise<HttpEndpoint> {
  const server = createServer((req, res) => handle(opts, req, res))
  server.headersTimeout = HEADERS_TIMEOUT_MS
  server.requestTimeout = REQUEST_TIMEOUT_MS
  server.keepAliveTimeout = 5_000
  server.maxHeadersCount = 32
  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      reject(new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, `metrics endpoint: cannot listen on ${opts.host}:${opts.port} (${e.code ?? e.message}); change metrics.port or stop the other process`, { cause: e }))
    }
    server.once('error', onError)
    server.listen(opts.port, opts.host, () => {
      server.off('error', onError)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

function handle(opts: HttpEndpointOptions, req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Cache-Control', 'no-store')
  res.setHeader('X-Content-Type-Options', 'nosniff')
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('method not allowed\n')
    return
  }
  const path = (req.url ?? '/').split('?')[0]
  try {
    if (path === '/metrics') send(res, req, 200, EXPOSITION_CONTENT_TYPE, opts.metrics())
    else if (path === '/status') send(res, req, 200, 'application/json', JSON.stringify(opts.status()) + '\n')
    else if (path === '/healthz') {
      const ok = opts.healthy()
      send(res, req, ok ? 200 : 503, 'text/plain', ok ? 'ok\n' : 'shutting down\n')
    } else send(res, req, 404, 'text/plain', 'not found: try /metrics, /status or /healthz\n')
  } catch {
    // Never leak internals to a scraper; the runtime logs its own errors.
    send(res, req, 500, 'text/plain', 'internal error\n')
  }
}

function send(res: ServerResponse, req: IncomingMessage, code: number, type: string, body: string): void {
  res.writeHead(code, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) })
  res.end(req.method === 'HEAD' ? undefined : body)
}
