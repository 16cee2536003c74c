/**
 * `hopseal credential issue|verify|revoke|list` (docs/identity.md §9).
 *
 * - issue: an own identity signs attributes (`--attr key=value`, repeatable)
 *   about a subject (a name in the store or an identifier); the credential is
 *   kept in the identity store and printed (hex).
 * - verify: checks a credential (its id in the store, or hex) against the
 *   store's trusted issuers and accepted revocation lists; exit 1 with the
 *   error code when refused.
 * - revoke: the issuer publishes its next cumulative revocation list (sequence
 *   + 1) including the credential, accepts it locally and prints it (hex).
 */
import { fromHex, toHex } from '../../../../src/bytes/index.ts'
import { ErrorCode, HopsealError } from '../../../../src/errors.ts'
import { attributeText, createRevocationList, decodeCredential, isIdentifier, issueCredential, verifyCredential, type AttributeValue } from '../../../../src/identity/index.ts'
import { IdentityStore } from '../../identity/store.ts'
import { defineCommand, jsonOrText, subcommandHandler, type CliIO, type CommandCall } from '../command.ts'
import type { CommandHelp } from '../help.ts'
import { cliNow, COMMON_OPTIONS, currentKey, days, iso, nameOf, storePath, STORE_OPTIONS, withVault } from './identity.ts'

/** Default credential lifetime, days. */
const DEFAULT_CREDENTIAL_DAYS = 90

const HELP: CommandHelp = {
  help: {
    usage: ['credential issue|verify|revoke|list [options]'],
    summary: "Issue, verify, revoke and list credentials: attributes an issuer's identity signs about a subject (docs/identity.md).",
    details: ['Attribute values are text, or 0x… for bytes. HOPSEAL_NOW (integer seconds) overrides the clock.'],
    options: STORE_OPTIONS,
    examples: ['hopseal credential issue --issuer hospital --subject monitor-7 --attr role=monitor', 'hopseal credential list'],
  },
  subcommands: {
    issue: {
      usage: ['credential issue --issuer NAME --subject NAME|IDENTIFIER --attr KEY=VALUE [--attr …] [--days N]'],
      summary: 'An own identity signs attributes about a subject; the credential is stored and printed (hex).',
      options: [['--issuer NAME', 'an own identity (its key is in the vault)'], ['--subject S', 'a name in the store or an identifier'], ['--attr KEY=VALUE', 'an attribute (repeatable)'], ['--days N', `lifetime in days (default ${DEFAULT_CREDENTIAL_DAYS})`], ...STORE_OPTIONS],
      examples: ['hopseal credential issue --issuer hospital --subject monitor-7 --attr role=monitor --attr site=ward-3'],
    },
    verify: {
      usage: ['credential verify ID|HEX [--subject NAME|IDENTIFIER]'],
      summary: "Check a credential against the store's trusted issuers and revocation lists; exit 1 with the code when refused.",
      options: [['--subject S', 'the subject it must be about (default: the one it names)'], ...STORE_OPTIONS],
      examples: ['hopseal credential verify 0123456789abcdef0123456789abcdef --subject monitor-7'],
    },
    revoke: {
      usage: ['credential revoke --issuer NAME ID'],
      summary: "Publish the issuer's next revocation list including the credential, accept it locally and print it (hex).",
      options: [['--issuer NAME', 'the issuer (an own identity)'], ...STORE_OPTIONS],
      examples: ['hopseal credential revoke --issuer hospital 0123456789abcdef0123456789abcdef'],
    },
    list: {
      usage: ['credential list'],
      summary: 'List the stored credentials: id, issuer, subject, expiry, revoked or not.',
      options: STORE_OPTIONS,
      examples: ['hopseal credential list --json'],
    },
  },
}

const CREDENTIAL_OPTIONS = { ...COMMON_OPTIONS, issuer: { type: 'string' }, subject: { type: 'string' }, attr: { type: 'string', multiple: true }, days: { type: 'string' } } as const

/** The parsed options of `hopseal credential`. */
type CredentialValues = CommandCall<typeof CREDENTIAL_OPTIONS>['values']

/** What every credential subcommand works with: the open store, the options, the clock and the printer. */
interface CredentialRun {
  io: CliIO
  o: CredentialValues
  store: IdentityStore
  now: number
  /** Prints `json` with --json, else the text lines. */
  out(json: unknown, text: string[]): void
  /** The identifier of a name in the store, or the identifier given. */
  subjectId(s: string): string
}

function credentialRun(io: CliIO, o: CredentialValues): CredentialRun {
  const store = IdentityStore.open(storePath(io, o.store))
  return {
    io,
    o,
    store,
    now: cliNow(io),
    out: jsonOrText(io, o.json),
    subjectId: (s) => (isIdentifier(s) ? s : store.get(s).identity.identifier),
  }
}

/** `--attr KEY=VALUE` options as attributes (0x… values are bytes). */
function parseAttributes(attrs: readonly string[]): Map<string, AttributeValue> {
  const attributes = new Map<string, AttributeValue>()
  for (const a of attrs) {
    const eq = a.indexOf('=')
    if (eq <= 0) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `--attr expected KEY=VALUE, got ${JSON.stringify(a)}`)
    const v = a.slice(eq + 1)
    attributes.set(a.slice(0, eq), /^0x([0-9a-f]{2})*$/i.test(v) ? fromHex(v.slice(2).toLowerCase()) : v)
  }
  return attributes
}

/** `credential issue`: an own identity signs attributes about a subject; stored and printed. */
async function issueCmd(r: CredentialRun): Promise<number> {
  const { o, store, now } = r
  if (!o.issuer || !o.subject) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'credential issue needs --issuer and --subject')
  const issuer = store.get(o.issuer)
  const subject = r.subjectId(o.subject)
  const attributes = parseAttributes(o.attr ?? [])
  const cred = await withVault(r.io, o.vault, async (vault) =>
    issueCredential(vault, await currentKey(vault, issuer), issuer.identity, { subject, attributes, now, expires: now + days(o.days, DEFAULT_CREDENTIAL_DAYS) }),
  )
  const d = store.addCredential(cred)
  store.save()
  r.out({ id: d.id, issuer: d.issuer, subject: d.subject, attributes: Object.fromEntries([...d.attributes].map(([k, v]) => [k, attributeText(v)])), notBefore: d.notBefore, expires: d.expires, bytes: cred.length, credential: toHex(cred) }, [
    `issued credential ${d.id} (${cred.length} bytes)`,
    `  issuer  ${nameOf(store, d.issuer)}`,
    `  subject ${nameOf(store, d.subject)}`,
    ...[...d.attributes].map(([k, v]) => `  ${k} = ${attributeText(v)}`),
    `  valid ${iso(d.notBefore)} .. ${iso(d.expires)}`,
    `  ${toHex(cred)}`,
  ])
  return 0
}

/** `credential verify ID|HEX`: checked against the store's trusted issuers and revocation lists. */
function verifyCmd(r: CredentialRun, rest: string[]): number {
  const { o, store, now } = r
  const [ref] = rest
  if (!ref) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'credential verify expects a credential id or hex')
  const bytes = /^[0-9a-f]{32}$/.test(ref) ? store.credential(ref) : fromHex(ref.trim())
  if (!bytes) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `no credential ${ref} in ${store.path}`)
  const subject = o.subject ? r.subjectId(o.subject) : decodeCredential(bytes).subject
  const v = verifyCredential(bytes, { subject, anchors: store.anchors(), revocations: store.revocations, now })
  r.out({ valid: true, id: v.id, issuer: v.issuer, subject: v.subject, attributes: Object.fromEntries([...v.attributes].map(([k, x]) => [k, attributeText(x)])), notBefore: v.notBefore, expires: v.expires }, [
    `valid credential ${v.id}`,
    `  issuer  ${nameOf(store, v.issuer)} (trusted)`,
    `  subject ${nameOf(store, v.subject)}`,
    ...[...v.attributes].map(([k, x]) => `  ${k} = ${attributeText(x)}`),
    `  valid ${iso(v.notBefore)} .. ${iso(v.expires)}`,
  ])
  return 0
}

/** `credential revoke --issuer NAME ID`: the issuer's next cumulative revocation list, accepted locally and printed. */
async function revokeCmd(r: CredentialRun, rest: string[]): Promise<number> {
  const { o, store, now } = r
  const [id] = rest
  if (!o.issuer || !id || !/^[0-9a-f]{32}$/.test(id)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'credential revoke needs --issuer NAME and a credential ID (32 hex digits)')
  const issuer = store.get(o.issuer)
  const state = store.issuerState(issuer.identity.identifier)
  const credentials = state.credentials.includes(id) ? state.credentials : [...state.credentials, id]
  const sequence = state.sequence + 1
  const list = await withVault(r.io, o.vault, async (vault) => createRevocationList(vault, await currentKey(vault, issuer), issuer.identity, { sequence, credentials, now }))
  store.revocations.accept(list, issuer.identity, { now })
  store.setIssuerState(issuer.identity.identifier, { sequence, credentials })
  store.save()
  r.out({ issuer: issuer.identity.identifier, sequence, revoked: credentials, list: toHex(list) }, [`revoked ${id}: revocation list ${sequence} of ${issuer.name} (${credentials.length} revoked, ${list.length} bytes)`, `  ${toHex(list)}`])
  return 0
}

/** `credential list`: every stored credential, revoked or not. */
function listCmd(r: CredentialRun): number {
  const { store } = r
  const all = store.credentials()
  r.out(
    all.map((d) => ({ id: d.id, issuer: d.issuer, subject: d.subject, expires: d.expires, revoked: store.revocations.isRevoked(d.issuer, d.id, d.subject) })),
    all.length ? all.map((d) => `${d.id}  ${nameOf(store, d.issuer)} → ${nameOf(store, d.subject)}  until ${iso(d.expires)}${store.revocations.isRevoked(d.issuer, d.id, d.subject) ? '  REVOKED' : ''}`) : ['no credentials'],
  )
  return 0
}

const SUBCOMMANDS: Record<string, (r: CredentialRun, rest: string[]) => number | Promise<number>> = {
  issue: issueCmd,
  verify: verifyCmd,
  revoke: revokeCmd,
  list: listCmd,
}

export const command = defineCommand({
  name: 'credential',
  summary: 'issue, verify, revoke and list credentials',
  help: HELP,
  options: CREDENTIAL_OPTIONS,
  async run({ values: o, sub, args: rest, usage }, io) {
    const handler = subcommandHandler(SUBCOMMANDS, sub)
    if (!handler) return usage(`unknown subcommand "${sub}"`)
    return handler(credentialRun(io, o), rest)
  },
})
