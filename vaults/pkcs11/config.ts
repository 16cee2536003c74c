/**
 * PKCS#11 vault configuration: which module, which token (by label, never by
 * slot index: SoftHSM moves a token to a serial-derived slot ID, §B2), where
 * the PIN comes from, and how many sessions to pool.
 *
 * The PIN is read when a login happens (open, or a re-login after the token
 * logged us out), from the environment variable or the file named here; it is
 * never logged and never part of an error message.
 */
import { readFileSync, statSync } from 'node:fs'
import { ErrorCode, HopsealError } from '../../src/errors.ts'
import type { CryptoProvider } from '../../targets/node/crypto/index.ts'
import { DEFAULT_SESSIONS, MAX_PIN_FILE_BYTES, MAX_SESSIONS } from './constants.ts'

export interface Pkcs11VaultOptions {
  /** Path of the PKCS#11 module, e.g. `/usr/lib/softhsm/libsofthsm2.so`. */
  module: string
  /** Token label (CKA token label, compared after trimming the space padding). */
  token: string
  /** The user PIN itself (programmatic use and tests). Prefer `pinEnv` or `pinFile`. */
  pin?: string
  /** Name of an environment variable holding the user PIN. */
  pinEnv?: string
  /** Path of a file holding the user PIN (one line; trailing newline ignored). */
  pinFile?: string
  /** Sessions in the pool (default 4, at most 64; also capped by the token's limit). */
  sessions?: number
  /** Vault name carried in handles (default `pkcs11:<token>`). */
  name?: string
  /** Hashing and point conversion in JS (default: the process provider). */
  crypto?: CryptoProvider
  /** Environment used for `pinEnv` (default `process.env`). */
  env?: NodeJS.ProcessEnv
}

/** A function that yields the PIN on demand, or undefined when none is configured. */
export type PinSource = () => string | undefined

export function checkOptions(o: Pkcs11VaultOptions): void {
  if (!o || typeof o !== 'object') throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'PKCS#11 options expected an object')
  if (typeof o.module !== 'string' || o.module.length === 0) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'PKCS#11 option module expected a module path')
  if (typeof o.token !== 'string' || o.token.length === 0 || o.token.length > 32) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'PKCS#11 option token expected a token label of 1..32 characters')
  const sources = [o.pin, o.pinEnv, o.pinFile].filter((x) => x !== undefined)
  if (sources.length > 1) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'PKCS#11 options: give at most one of pin, pinEnv, pinFile')
  if (o.pin !== undefined && typeof o.pin !== 'string') throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'PKCS#11 option pin expected a string')
  if (o.pinEnv !== undefined && (typeof o.pinEnv !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(o.pinEnv))) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'PKCS#11 option pinEnv expected an environment variable name')
  if (o.pinFile !== undefined && (typeof o.pinFile !== 'string' || o.pinFile.length === 0)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'PKCS#11 option pinFile expected a path')
  if (o.sessions !== undefined && (!Number.isSafeInteger(o.sessions) || o.sessions < 1 || o.sessions > MAX_SESSIONS)) {
    throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `PKCS#11 option sessions expected 1..${MAX_SESSIONS}, got ${String(o.sessions)}`)
  }
}

/** Builds the PIN source; env and file are read at each login, so a rotated PIN file is picked up on re-login. */
export function pinSource(o: Pkcs11VaultOptions): PinSource {
  if (o.pin !== undefined) {
    const pin = o.pin
    return () => pin
  }
  if (o.pinEnv !== undefined) {
    const name = o.pinEnv
    const env = o.env ?? process.env
    return () => {
      const v = env[name]
      if (v === undefined || v === '') throw new HopsealError(ErrorCode.VAULT_WRONG_PIN, `PKCS#11 PIN variable ${name} is not set`)
      return v
    }
  }
  if (o.pinFile !== undefined) {
    const path = o.pinFile
    return () => {
      let text: string
      try {
        if (statSync(path).size > MAX_PIN_FILE_BYTES) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `PKCS#11 PIN file ${path} is larger than ${MAX_PIN_FILE_BYTES} bytes`)
        text = readFileSync(path, 'utf8')
      } catch (e) {
        if (e instanceof HopsealError) throw e
        throw new HopsealError(ErrorCode.VAULT_STORE_IO, `PKCS#11 PIN file ${path} cannot be read: ${(e as NodeJS.ErrnoException).code ?? 'error'}`)
      }
      const pin = text.replace(/\r?\n$/, '')
      if (pin === '') throw new HopsealError(ErrorCode.VAULT_WRONG_PIN, `PKCS#11 PIN file ${path} is empty`)
      return pin
    }
  }
  return () => undefined
}

/** Pool size: configured (default 4), capped by the token's maximum session count when it states one. */
export function poolSize(configured: number | undefined, tokenMax: number): number {
  const want = configured ?? DEFAULT_SESSIONS
  // CK_EFFECTIVELY_INFINITE (0) and CK_UNAVAILABLE_INFORMATION (~0) mean "no stated limit".
  if (tokenMax > 0 && tokenMax < 0xffffffff) return Math.max(1, Math.min(want, tokenMax))
  return want
}

/**
 * Parses the CLI form `module=PATH,token=LABEL[,pin-env=VAR|pin-file=PATH][,sessions=N][,name=NAME]`.
 * A literal PIN on the command line is refused (it would land in shell history and `ps`).
 */
export function parsePkcs11Spec(args: string, env: NodeJS.ProcessEnv = process.env): Pkcs11VaultOptions {
  const kv = new Map<string, string>()
  for (const part of args.split(',')) {
    if (!part) continue
    const eq = part.indexOf('=')
    const k = eq < 0 ? part : part.slice(0, eq)
    if (kv.has(k)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `pkcs11 vault spec: ${k} given twice`)
    kv.set(k, eq < 0 ? '' : part.slice(eq + 1))
  }
  const known = new Set(['module', 'token', 'pin-env', 'pin-file', 'sessions', 'name'])
  for (const k of kv.keys()) {
    if (k === 'pin') throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'pkcs11 vault spec: a literal pin is not accepted on the command line; use pin-env=VAR or pin-file=PATH')
    if (!known.has(k)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `pkcs11 vault spec: unknown key ${k} (known: ${[...known].join(', ')})`)
  }
  const module = kv.get('module') ?? env.HOPSEAL_PKCS11_MODULE
  const token = kv.get('token') ?? env.HOPSEAL_PKCS11_TOKEN
  if (!module) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'pkcs11 vault spec: module=PATH missing (or set HOPSEAL_PKCS11_MODULE)')
  if (!token) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'pkcs11 vault spec: token=LABEL missing (or set HOPSEAL_PKCS11_TOKEN)')
  const o: Pkcs11VaultOptions = { module, token, env }
  const pinEnv = kv.get('pin-env')
  const pinFile = kv.get('pin-file')
  if (pinEnv !== undefined) o.pinEnv = pinEnv
  if (pinFile !== undefined) o.pinFile = pinFile
  if (pinEnv === undefined && pinFile === undefined && env.HOPSEAL_PKCS11_PIN !== undefined) o.pinEnv = 'HOPSEAL_PKCS11_PIN'
  const sessions = kv.get('sessions')
  if (sessions !== undefined) {
    if (!/^[0-9]{1,3}$/.test(sessions)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `pkcs11 vault spec: sessions expected a number, got ${sessions}`)
    o.sessions = Number(sessions)
  }
  const name = kv.get('name')
  if (name !== undefined) o.name = name
  checkOptions(o)
  return o
}
