/**
 * The node runtime's logger: one line per event, as text for people or JSON
 * lines for collectors (journald, Loki, Vector), with structured fields.
 *
 * Text:  `2026-11-24T12:00:00.000Z info  gateway-1 mqtt connected url=mqtt://127.0.0.1:1883`
 * JSON:  `{"time":"2026-11-24T12:00:00.000Z","level":"info","name":"gateway-1","msg":"mqtt connected","url":"mqtt://127.0.0.1:1883"}`
 *
 * Every field goes through the guard in redact.ts: byte arrays print as
 * `<N bytes>`, fields named like keys, secrets, PINs, passphrases, passwords
 * or tokens print `[redacted]`, URLs lose their credentials. Messages and
 * values cannot break a line (control characters are escaped), so a peer
 * cannot forge log lines through a name it chose.
 *
 * @example
 * const log = createLogger({ name: 'gateway-1', level: 'info' })
 * log.info('mqtt connected', { url: 'mqtt://127.0.0.1:1883' })
 */
import type { LogLevel } from './config-types.ts'
import { safeString, sanitize } from './redact.ts'

export type LogFields = Record<string, unknown>

export interface Logger {
  readonly level: LogLevel
  /** True when a message at `level` would be written (skip building costly fields otherwise). */
  enabled(level: LogLevel): boolean
  error(msg: string, fields?: LogFields): void
  warn(msg: string, fields?: LogFields): void
  info(msg: string, fields?: LogFields): void
  debug(msg: string, fields?: LogFields): void
}

export interface LoggerOptions {
  /** The node name, printed on every line. */
  name: string
  level?: LogLevel
  /** JSON lines instead of text. */
  json?: boolean
  /** Where lines go (default: stderr, so stdout stays free for command output). */
  write?: (line: string) => void
  /** Time source (ms since the epoch); tests inject a fixed one. */
  now?: () => number
}

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 }

/** Escapes control characters so one log call is always exactly one line. */
function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`))
}

/** A text field value: bare when unambiguous, JSON-quoted otherwise. */
function textValue(v: unknown): string {
  if (typeof v === 'string') return v !== '' && /^[^\s"=\\]+$/.test(v) ? oneLine(v) : JSON.stringify(v)
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v)
  return JSON.stringify(v)
}

const fieldName = (k: string): string => k.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64) || '_'

/** Creates a logger (see the module comment for the line formats and the guard). */
export function createLogger(opts: LoggerOptions): Logger {
  const level = opts.level ?? 'info'
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'))
  const now = opts.now ?? Date.now
  const name = oneLine(safeString(opts.name))
  const emit = (lvl: LogLevel, msg: string, fields: LogFields | undefined): void => {
    if (RANK[lvl] > RANK[level]) return
    const time = new Date(now()).toISOString()
    const text = oneLine(safeString(msg))
    const safe: [string, unknown][] = Object.entries(fields ?? {}).map(([k, v]) => [fieldName(k), sanitize(k, v)])
    if (opts.json) {
      const o: Record<string, unknown> = { time, level: lvl, name, msg: text }
      for (const [k, v] of safe) o[k in o ? `field.${k}` : k] = v
      write(JSON.stringify(o))
      return
    }
    let line = `${time} ${lvl.padEnd(5)} ${name} ${text}`
    for (const [k, v] of safe) line += ` ${k}=${textValue(v)}`
    write(line)
  }
  return {
    level,
    enabled: (l) => RANK[l] <= RANK[level],
    error: (m, f) => emit('error', m, f),
    warn: (m, f) => emit('warn', m, f),
    info: (m, f) => emit('info', m, f),
    debug: (m, f) => emit('debug', m, f),
  }
}
