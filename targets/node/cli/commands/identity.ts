/**
 * `hopseal identity create|show|rotate|export|import|trust` (docs/identity.md §9).
 *
 * Keys live in the vault chosen with `--vault SPEC` (default `software:`, i.e.
 * $HOPSEAL_HOME/vault.hsv), labelled `hopseal-id:NAME:N` for change N; the
 * public identity data lives in the identity store (`--store PATH`, default
 * $HOPSEAL_HOME/identities.json). `HOPSEAL_NOW` (seconds) overrides the clock.
 */
import { join, resolve } from 'node:path'
import { fromHex, toHex } from '../../../../src/bytes/index.ts'
import { ErrorCode, HopsealError } from '../../../../src/errors.ts'
import { createIdentity, decodeIdentity, systemNow, type Identity } from '../../../../src/identity/index.ts'
import { IdentityStore, isIdentityName, type StoredIdentity } from '../../identity/store.ts'
import type { KeyHandle, Vault } from '../../../../src/vault/index.ts'
import { defineCommand, jsonOrText, subcommandHandler, type CliIO, type CommandCall } from '../command.ts'
import type { CommandHelp } from '../help.ts'
import { openVaultSpec } from '../vault-registry.ts'

/** Options every identity/credential subcommand takes. */
export const COMMON_OPTIONS = {
  vault: { type: 'string' },
  store: { type: 'string' },
  json: { type: 'boolean' },
} as const

/** Default lifetime of identity keys and credentials, days. */
export const DEFAULT_DAYS = 365

/** The identity store path: --store, else $HOPSEAL_IDENTITY_STORE, else $HOPSEAL_HOME/identities.json (beside vault.hsv). */
export function storePath(io: CliIO, store: string | undefined): string {
  return resolve(store ?? io.env.HOPSEAL_IDENTITY_STORE ?? join(io.ctx.home, 'identities.json'))
}

/** The injected clock: HOPSEAL_NOW (integer seconds) or the system clock. */
export function cliNow(io: CliIO): number {
  const s = io.env.HOPSEAL_NOW
  if (s === undefined || s === '') return systemNow()
  if (!/^\d{1,13}$/.test(s)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'HOPSEAL_NOW expected integer seconds')
  return Number(s)
}

/** Runs `fn` with the vault of `spec` open, closing it afterwards. */
export async function withVault<T>(io: CliIO, spec: string | undefined, fn: (v: Vault) => Promise<T>): Promise<T> {
  const vault = await openVaultSpec(spec ?? 'software:', { ...io.ctx, create: true })
  try {
    return await fn(vault)
  } finally {
    await vault.close()
  }
}

/** The vault handle of an own identity's current key. */
export async function currentKey(vault: Vault, e: StoredIdentity): Promise<KeyHandle> {
  const label = e.keys?.[e.identity.changes.length - 1]
  if (!label) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `identity ${e.name} was imported: its keys are not in this store's vault`)
  const h = await vault.findKey(label)
  if (!h) throw new HopsealError(ErrorCode.VAULT_KEY_NOT_FOUND, `key ${label} of identity ${e.name} is not in vault ${vault.name} (use the --vault it was created with)`)
  return h
}

/** Days option → seconds, checked. */
export function days(v: string | undefined, def: number): number {
  if (v === undefined) return def * 86400
  if (!/^\d{1,6}$/.test(v) || Number(v) === 0) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, '--days expected a positive integer')
  return Number(v) * 86400
}

/** Name of an identifier in the store, or the identifier itself. */
export function nameOf(store: IdentityStore, identifier: string): string {
  const e = store.find(identifier)
  return e ? `${e.name} (${identifier})` : identifier
}

export function iso(t: number): string {
  return new Date(t * 1000).toISOString().replace('.000Z', 'Z')
}

/** `--vault` and `--store` as every identity/credential help lists them. */
export const STORE_OPTIONS = [
  ['--vault SPEC', 'vault of the identity keys (default software: = $HOPSEAL_HOME/vault.hsv)'],
  ['--store PATH', 'identity store (default $HOPSEAL_IDENTITY_STORE, else $HOPSEAL_HOME/identities.json)'],
  ['--json', 'print JSON for scripts'],
] as const

const TYPE_OPTION = ['--type T', 'key type of the identity key: ed25519 (default) or p256'] as const
const DAYS_OPTION = ['--days N', `lifetime of the key in days (default ${DEFAULT_DAYS})`] as const

const HELP: CommandHelp = {
  help: {
    usage: ['identity create|show|rotate|export|import|trust [NAME] [options]'],
    summary: 'Create, show, rotate, export, import and trust identities (docs/identity.md). Keys stay in the vault; the store keeps public data only.',
    details: ['HOPSEAL_NOW (integer seconds) overrides the clock.'],
    options: STORE_OPTIONS,
    examples: ['hopseal identity create monitor-7', 'hopseal identity show --json'],
  },
  subcommands: {
    create: {
      usage: ['identity create NAME [--type ed25519|p256] [--days N] [--issuer]'],
      summary: 'Create an identity: a key in the vault (label hopseal-id:NAME:0) and its first change in the store.',
      options: [TYPE_OPTION, DAYS_OPTION, ['--issuer', 'also trust it as an issuer of credentials'], ...STORE_OPTIONS],
      examples: ['hopseal identity create hospital --type p256 --issuer'],
    },
    show: {
      usage: ['identity show [NAME|IDENTIFIER]'],
      summary: 'Show one identity, or all of them: identifier, changes, keys (public), trust.',
      options: STORE_OPTIONS,
      examples: ['hopseal identity show hospital'],
    },
    rotate: {
      usage: ['identity rotate NAME [--type ed25519|p256] [--days N] [--revoke-all]'],
      summary: 'Add a change signed by the current and the next key (the next key is generated in the vault).',
      options: [TYPE_OPTION, DAYS_OPTION, ['--revoke-all', 'refuse everything signed by earlier keys'], ...STORE_OPTIONS],
      examples: ['hopseal identity rotate hospital --type p256'],
    },
    export: {
      usage: ['identity export NAME'],
      summary: 'Print the identity (hex), to give to a peer (hopseal identity import on its side).',
      options: STORE_OPTIONS,
      examples: ['hopseal identity export monitor-7'],
    },
    import: {
      usage: ['identity import NAME HEX [--issuer]'],
      summary: "Import a peer's or an issuer's identity (checked: signatures, history, validity now).",
      options: [['--issuer', 'also trust it as an issuer of credentials'], ...STORE_OPTIONS],
      examples: ['hopseal identity import gateway-1 "$(cat gateway-1.hex)"'],
    },
    trust: {
      usage: ['identity trust NAME|IDENTIFIER'],
      summary: 'Trust an identity as an issuer: its credentials are then accepted (a trust anchor).',
      options: STORE_OPTIONS,
      examples: ['hopseal identity trust hospital'],
    },
  },
}

const IDENTITY_OPTIONS = { ...COMMON_OPTIONS, type: { type: 'string' }, days: { type: 'string' }, issuer: { type: 'boolean' }, 'revoke-all': { type: 'boolean' } } as const

/** The parsed options of `hopseal identity`. */
type IdentityValues = CommandCall<typeof IDENTITY_OPTIONS>['values']

/** What every identity subcommand works with: the open store, the options, the key type, the clock and the printers. */
interface IdentityRun {
  io: CliIO
  o: IdentityValues
  store: IdentityStore
  keyType: 'ed25519' | 'p256'
  now: number
  /** Prints `json` with --json, else the text lines. */
  out(json: unknown, text: string[]): void
  /** One stored identity as JSON and as text lines (the first line names it). */
  show(e: StoredIdentity): { json: unknown; text: string[] }
}

/** Opens the store and checks the options every subcommand shares. */
function identityRun(io: CliIO, o: IdentityValues): IdentityRun {
  const store = IdentityStore.open(storePath(io, o.store))
  const keyType = o.type ?? 'ed25519'
  if (keyType !== 'ed25519' && keyType !== 'p256') throw new HopsealError(ErrorCode.INVALID_ARGUMENT, '--type expected ed25519 or p256')
  return {
    io,
    o,
    store,
    keyType,
    now: cliNow(io),
    out: jsonOrText(io, o.json),
    show: (e) => {
      const d = e.identity.describe()
      return {
        json: { name: e.name, ...d, own: e.keys !== undefined, trusted: store.isTrusted(d.identifier), identity: toHex(e.identity.encoded) },
        text: [
          `${e.name}  ${d.identifier}${store.isTrusted(d.identifier) ? '  (trusted issuer)' : ''}${e.keys ? '' : '  (imported)'}`,
          ...d.changes.map((c) => `  change ${c.index}: ${c.keyType} ${c.publicKey}  ${iso(c.created)} .. ${iso(c.expires)}${c.revokeAll ? '  revoke-all' : ''}`),
          `  ${d.bytes} bytes encoded`,
        ],
      }
    },
  }
}

/** `identity create NAME`: a key in the vault (hopseal-id:NAME:0) and the identity's first change. */
async function createCmd(r: IdentityRun, rest: string[]): Promise<number> {
  const { io, o, store, now } = r
  const [name] = rest
  if (!isIdentityName(name) || rest.length !== 1) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'identity create expects one NAME (1..32 of A-Z a-z 0-9 _ -)')
  if (store.find(name)) throw new HopsealError(ErrorCode.IDENTITY_EXISTS, `an identity named ${name} exists`)
  const label = `hopseal-id:${name}:0`
  const identity = await withVault(io, o.vault, async (vault) => {
    const h = await vault.generateKey(r.keyType, { label, persistent: true })
    return createIdentity(vault, h, { now, expires: now + days(o.days, DEFAULT_DAYS) })
  })
  store.add({ name, identity, keys: [label] })
  if (o.issuer) store.trust(identity.identifier)
  store.save()
  const s = r.show(store.get(name))
  r.out(s.json, [`created ${name} ${identity.identifier}${o.issuer ? ' (trusted issuer)' : ''}`, ...s.text.slice(1)])
  return 0
}

/** `identity show [NAME]`: one identity, or all. */
function showCmd(r: IdentityRun, rest: string[]): number {
  const list = rest[0] !== undefined ? [r.store.get(rest[0])] : r.store.list()
  const shown = list.map(r.show)
  r.out(rest.length ? shown[0]?.json : shown.map((s) => s.json), shown.length ? shown.flatMap((s) => s.text) : ['no identities'])
  return 0
}

/** `identity rotate NAME`: a change signed by the current key and a new key generated in the vault. */
async function rotateCmd(r: IdentityRun, rest: string[]): Promise<number> {
  const { io, o, store, now } = r
  const e = store.get(rest[0] ?? '')
  const n = e.identity.changes.length
  const label = `hopseal-id:${e.name}:${n}`
  const identity = await withVault(io, o.vault, async (vault) => {
    const cur = await currentKey(vault, e)
    const next = await vault.generateKey(r.keyType, { label, persistent: true })
    return e.identity.rotate(vault, cur, next, { now, expires: now + days(o.days, DEFAULT_DAYS), revokeAll: o['revoke-all'] === true })
  })
  store.update(e.name, identity, [...(e.keys ?? []), label])
  store.save()
  const s = r.show(store.get(e.name))
  r.out(s.json, [`rotated ${e.name} to change ${n}${o['revoke-all'] ? ' (revoke-all: everything signed by earlier keys is refused)' : ''}`, ...s.text.slice(1)])
  return 0
}

/** `identity export NAME`: the encoded identity, hex. */
function exportCmd(r: IdentityRun, rest: string[]): number {
  const e = r.store.get(rest[0] ?? '')
  r.out({ name: e.name, identifier: e.identity.identifier, identity: toHex(e.identity.encoded) }, [toHex(e.identity.encoded)])
  return 0
}

/** `identity import NAME HEX`: checks the identity (signatures, history, valid now), adds or updates it. */
function importCmd(r: IdentityRun, rest: string[]): number {
  const { o, store } = r
  const [name, hex] = rest
  if (!isIdentityName(name) || hex === undefined) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'identity import expects NAME HEX')
  const identity: Identity = decodeIdentity(fromHex(hex.trim()))
  identity.checkValidAt(r.now)
  const held = store.find(identity.identifier)
  if (held) store.update(held.name, identity)
  else store.add({ name, identity })
  if (o.issuer) store.trust(identity.identifier)
  store.save()
  r.out({ name: held?.name ?? name, identifier: identity.identifier, updated: held !== undefined }, [`${held ? 'updated' : 'imported'} ${held?.name ?? name} ${identity.identifier}`])
  return 0
}

/** `identity trust NAME`: makes it a trust anchor for credentials. */
function trustCmd(r: IdentityRun, rest: string[]): number {
  const e = r.store.get(rest[0] ?? '')
  r.store.trust(e.identity.identifier)
  r.store.save()
  r.out({ name: e.name, identifier: e.identity.identifier, trusted: true }, [`${e.name} ${e.identity.identifier} is a trusted issuer`])
  return 0
}

const SUBCOMMANDS: Record<string, (r: IdentityRun, rest: string[]) => number | Promise<number>> = {
  create: createCmd,
  show: showCmd,
  rotate: rotateCmd,
  export: exportCmd,
  import: importCmd,
  trust: trustCmd,
}

export const command = defineCommand({
  name: 'identity',
  summary: 'create, show, rotate, export, import and trust identities',
  help: HELP,
  options: IDENTITY_OPTIONS,
  async run({ values: o, sub, args: rest, usage }, io) {
    const handler = subcommandHandler(SUBCOMMANDS, sub)
    if (!handler) return usage(`unknown subcommand "${sub}"`)
    return handler(identityRun(io, o), rest)
  },
})
