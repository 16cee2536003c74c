/**
 * A small, hand-written validation toolkit for node config files.
 *
 * Why not a schema library (ajv, zod): every error must name the file, the
 * exact key path and a fix in the operator's words, unknown keys must get a
 * "did you mean" hint, and secrets must never be echoed. A schema library
 * gives generic messages that we would have to rewrite anyway, and adds a
 * dependency to a gateway image for ~200 lines of checks.
 *
 * Every value read through a {@link ConfigReader} may use `${VAR}` or
 * `${VAR:-default}` environment expansion (strings only; `$${` is a literal
 * `${`). Expansion happens after YAML parsing, on scalar values only, so an
 * environment variable can never change the structure of the file.
 */
import { isAbsolute, resolve } from 'node:path'
import { ErrorCode, HopsealError } from '../../../src/errors.ts'

/** A path inside the config document, e.g. `transports.serial[0].profile`. */
export type KeyPath = string

/** Joins a key path and a child key (numeric keys of arrays use `[i]`). */
export function child(path: KeyPath, key: string | number): KeyPath {
  if (typeof key === 'number') return `${path}[${key}]`
  return path === '' ? key : `${path}.${key}`
}

/** Levenshtein distance, bounded work (keys are short). */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!
    prev[0] = i
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1))
      diag = up
    }
  }
  return prev[b.length]!
}

/** The closest candidate within a small edit distance, for "did you mean" hints. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined
  let bestD = Infinity
  for (const c of candidates) {
    const d = editDistance(word, c)
    if (d < bestD) {
      best = c
      bestD = d
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined
}

/** Shows a value in an error message: short, quoted, never multi-line. */
export function show(v: unknown): string {
  if (v === null || v === undefined) return String(v)
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? v.slice(0, 57) + '...' : v)
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  if (Array.isArray(v)) return 'a list'
  return 'a mapping'
}

const ENV_REF = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g

export interface ReaderOptions {
  /** How the file is named in messages (the path the operator gave). */
  file: string
  /** Directory relative paths resolve against (the config file's directory). */
  dir: string
  env: NodeJS.ProcessEnv
}

/** Reads typed values out of a parsed document, failing with file, key path and fix. */
export class ConfigReader {
  readonly file: string
  readonly dir: string
  private readonly env: NodeJS.ProcessEnv

  constructor(opts: ReaderOptions) {
    this.file = opts.file
    this.dir = opts.dir
    this.env = opts.env
  }

  /** Throws CONFIG_INVALID: `FILE: PATH: problem (fix: …)`. */
  fail(path: KeyPath, problem: string, fix: string): never {
    throw new HopsealError(ErrorCode.CONFIG_INVALID, `${this.file}: ${path || '(top level)'}: ${problem} (fix: ${fix})`)
  }

  /**
   * A mapping whose keys are all in `allowed`; an unknown key is an error (a
   * typo must not silently do nothing), with a hint when a known key is close.
   */
  mapping(v: unknown, path: KeyPath, allowed: readonly string[]): Record<string, unknown> {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(path, `expected a mapping, got ${show(v)}`, `write ${path || 'the file'} as key: value pairs`)
    const m = v as Record<string, unknown>
    for (const k of Object.keys(m)) {
      if (allowed.includes(k)) continue
      const hint = didYouMean(k, allowed)
      this.fail(child(path, k), 'unknown key' + (hint ? `; did you mean "${hint}"?` : ''), hint ? `rename it to ${hint}` : `remove it; known keys here: ${allowed.join(', ')}`)
    }
    return m
  }

  /** A mapping with free-form keys (e.g. route aliases, device names). */
  record(v: unknown, path: KeyPath): Record<string, unknown> {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(path, `expected a mapping, got ${show(v)}`, `write ${path} as key: value pairs`)
    return v as Record<string, unknown>
  }

  list(v: unknown, path: KeyPath, max: number): unknown[] {
    if (!Array.isArray(v)) this.fail(path, `expected a list, got ${show(v)}`, `write ${path} as a YAML list (- item per line) or [a, b]`)
    if (v.length > max) this.fail(path, `at most ${max} entries, got ${v.length}`, `split the node or remove entries`)
    return v
  }

  /** Environment expansion of one string scalar; `secret` keeps the value out of messages. */
  expand(s: string, path: KeyPath): string {
    return s.replace(ENV_REF, (all, name: string | undefined, dflt: string | undefined) => {
      if (all === '$${') return '${'
      const v = this.env[name!]
      if (v !== undefined && v !== '') return v
      if (dflt !== undefined) return dflt
      return this.fail(path, `environment variable ${name} is not set`, `export ${name}=… before starting, or give a default: \${${name}:-value}`)
    })
  }

  /** A string; `secret: true` never shows the value in an error. */
  str(v: unknown, path: KeyPath, opts: { secret?: boolean; pattern?: RegExp; what?: string; fix?: string; maxLength?: number } = {}): string {
    if (typeof v !== 'string') {
      const got = opts.secret ? `a ${v === null ? 'null' : typeof v}` : show(v)
      this.fail(path, `expected ${opts.what ?? 'a string'}, got ${got}`, opts.fix ?? `write ${path}: "<text>"`)
    }
    const s = this.expand(v, path)
    if (s === '') this.fail(path, 'is empty', opts.fix ?? `give ${path} a value or remove the key`)
    if (s.length > (opts.maxLength ?? 4096)) this.fail(path, `longer than ${opts.maxLength ?? 4096} characters`, 'shorten it')
    if (opts.pattern && !opts.pattern.test(s)) {
      this.fail(path, `expected ${opts.what ?? `text matching ${opts.pattern}`}, got ${opts.secret ? `${s.length} characters` : show(s)}`, opts.fix ?? `write a value matching ${opts.pattern}`)
    }
    return s
  }

  /** One of a fixed set of strings. */
  oneOf<T extends string>(v: unknown, path: KeyPath, choices: readonly T[]): T {
    const s = this.str(v, path, { what: `one of ${choices.join('|')}`, fix: `write one of ${choices.join(', ')}` })
    if ((choices as readonly string[]).includes(s)) return s as T
    const hint = didYouMean(s, choices)
    return this.fail(path, `expected one of ${choices.join('|')}, got ${show(s)}` + (hint ? `; did you mean "${hint}"?` : ''), hint ? `write ${hint}` : `write one of ${choices.join(', ')}`)
  }

  /**
   * A number in [min, max] (integers unless `integer: false`). A string is
   * accepted only when it came from `${VAR}` expansion (YAML cannot type an
   * expanded value), and must then be a plain decimal.
   */
  num(v: unknown, path: KeyPath, min: number, max: number, opts: { integer?: boolean; unit?: string } = {}): number {
    const integer = opts.integer !== false
    const unit = opts.unit ? ` ${opts.unit}` : ''
    let n: number | undefined
    if (typeof v === 'number') n = v
    else if (typeof v === 'string' && v.includes('${')) {
      const s = this.expand(v, path).trim()
      if (/^-?\d+(\.\d+)?$/.test(s)) n = Number(s)
      else this.fail(path, `expected a number, got ${show(s)} after environment expansion`, `set the variable to a number`)
    }
    if (n === undefined || !Number.isFinite(n)) this.fail(path, `expected a number${unit}, got ${show(v)}`, `write ${path}: ${min}`)
    if (integer && !Number.isInteger(n)) this.fail(path, `expected a whole number${unit}, got ${n}`, `write ${Math.round(n)}`)
    if (n < min || n > max) this.fail(path, `expected ${min}..${max}${unit}, got ${n}`, `write a value between ${min} and ${max}`)
    return n
  }

  /** A boolean (or `true`/`false` from environment expansion). */
  bool(v: unknown, path: KeyPath): boolean {
    if (typeof v === 'boolean') return v
    if (typeof v === 'string' && v.includes('${')) {
      const s = this.expand(v, path).trim().toLowerCase()
      if (s === 'true' || s === 'false') return s === 'true'
    }
    return this.fail(path, `expected true or false, got ${show(v)}`, `write ${path}: true or ${path}: false`)
  }

  /** A file path, resolved against the config file's directory. */
  path(v: unknown, path: KeyPath): string {
    const s = this.str(v, path, { what: 'a file path', fix: `write ${path}: ./relative/to/the/config or /absolute/path` })
    return isAbsolute(s) ? s : resolve(this.dir, s)
  }
}
