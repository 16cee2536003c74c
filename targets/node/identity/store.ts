/**
 * The identity store (docs/identity.md §8): identities (own ones with the vault
 * labels of their keys, and imported ones), trust anchors, attestations,
 * credentials, accepted revocation lists and the issuer-side revocation state,
 * in one JSON file beside the vault. Written with writeFileAtomic (0600,
 * write-then-rename), read with readStoreFile (refuses group/other access).
 *
 * Only public data lives here: private keys stay in the vault, addressed by
 * label. Every byte string is re-decoded (and identities re-verified) on load,
 * so a corrupt file is an IDENTITY_STORE_CORRUPT error, never a crash.
 */
import { fromHex, fromUtf8, toHex, utf8 } from '../../../src/bytes/index.ts'
import { defaultCryptoProvider, type CryptoProvider } from '../crypto/index.ts'
import { ErrorCode, HopsealError, isHopsealError } from '../../../src/errors.ts'
import { readStoreFile, removeStaleTemps, writeFileAtomic } from '../store/atomic-file.ts'
import { decodeAttestation } from '../../../src/identity/attestation.ts'
import { decodeCredential, type DecodedCredential } from '../../../src/identity/credential.ts'
import { isIdentifier, type Identifier } from '../../../src/identity/identifier.ts'
import { decodeIdentity, type Identity } from '../../../src/identity/identity.ts'
import { RevocationRegistry } from '../../../src/identity/revocation.ts'

/** Max identity-store file size, bytes. */
export const MAX_STORE_BYTES = 8 * 1024 * 1024
const NAME = /^[A-Za-z0-9_-]{1,32}$/
const STORE_VERSION = 1

/** An identity in the store. Own identities have `keys` (vault labels, one per change). */
export interface StoredIdentity {
  name: string
  identity: Identity
  /** Vault labels of the key of each change (own identities only). */
  keys?: string[]
}

/** What an issuer remembers to publish cumulative revocation lists. */
export interface IssuerState {
  sequence: number
  credentials: string[]
}

interface FileShape {
  version: number
  identities: { name: string; identity: string; keys?: string[] }[]
  trusted: string[]
  attestations: { name: string; attestation: string }[]
  credentials: string[]
  revocations: string[]
  issued: Record<string, IssuerState>
}

/** True when `name` is a valid local identity name (1..32 of A-Z a-z 0-9 _ -). */
export function isIdentityName(name: unknown): name is string {
  return typeof name === 'string' && NAME.test(name)
}

export class IdentityStore {
  private readonly identities = new Map<string, StoredIdentity>()
  private readonly trusted = new Set<Identifier>()
  private readonly attestations: { name: string; attestation: Uint8Array }[] = []
  private readonly credentialList: Uint8Array[] = []
  private readonly issued = new Map<Identifier, IssuerState>()
  /** Revocation lists accepted so far (newest per issuer). */
  readonly revocations = new RevocationRegistry()

  private constructor(
    readonly path: string,
    private readonly crypto: CryptoProvider,
  ) {}

  /**
   * Opens the store at `path` (empty when the file does not exist).
   * @throws HopsealError IDENTITY_STORE_CORRUPT, VAULT_STORE_IO.
   */
  static open(path: string, opts: { crypto?: CryptoProvider } = {}): IdentityStore {
    const s = new IdentityStore(path, opts.crypto ?? defaultCryptoProvider())
    removeStaleTemps(path)
    const bytes = readStoreFile(path, MAX_STORE_BYTES)
    if (bytes) s.load(bytes)
    return s
  }

  /** Atomically writes the store (0600). */
  save(): void {
    const f: FileShape = {
      version: STORE_VERSION,
      identities: [...this.identities.values()].map((e) => ({ name: e.name, identity: toHex(e.identity.encoded), ...(e.keys ? { keys: e.keys } : {}) })),
      trusted: [...this.trusted],
      attestations: this.attestations.map((a) => ({ name: a.name, attestation: toHex(a.attestation) })),
      credentials: this.credentialList.map(toHex),
      revocations: this.revocations.encodedLists().map(toHex),
      issued: Object.fromEntries(this.issued),
    }
    writeFileAtomic(this.path, utf8(JSON.stringify(f, null, 1) + '\n'))
  }

  /** All identities, own and imported. */
  list(): StoredIdentity[] {
    return [...this.identities.values()]
  }

  /** Finds by local name or identifier; undefined when absent. */
  find(nameOrIdentifier: string): StoredIdentity | undefined {
    const byName = this.identities.get(nameOrIdentifier)
    if (byName) return byName
    for (const e of this.identities.values()) if (e.identity.identifier === nameOrIdentifier) return e
    return undefined
  }

  /** @throws HopsealError IDENTITY_NOT_FOUND. */
  get(nameOrIdentifier: string): StoredIdentity {
    const e = this.find(nameOrIdentifier)
    if (!e) throw new HopsealError(ErrorCode.IDENTITY_NOT_FOUND, `no identity ${JSON.stringify(nameOrIdentifier)} in ${this.path}`)
    return e
  }

  /**
   * Adds a new identity under `name`.
   * @throws HopsealError INVALID_ARGUMENT (bad name), IDENTITY_EXISTS (name or identifier taken).
   */
  add(entry: StoredIdentity): void {
    if (!isIdentityName(entry.name)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'identity name expected 1..32 of A-Z a-z 0-9 _ -')
    if (this.identities.has(entry.name)) throw new HopsealError(ErrorCode.IDENTITY_EXISTS, `an identity named ${entry.name} exists`)
    if (this.find(entry.identity.identifier)) throw new HopsealError(ErrorCode.IDENTITY_EXISTS, `identity ${entry.identity.identifier} is already in the store`)
    this.identities.set(entry.name, { ...entry, ...(entry.keys ? { keys: [...entry.keys] } : {}) })
  }

  /**
   * Replaces the stored history of `name` with a longer one of the same identity (a rotation).
   * @throws HopsealError IDENTITY_NOT_FOUND, IDENTITY_MISMATCH.
   */
  update(name: string, identity: Identity, keys?: string[]): void {
    const e = this.get(name)
    if (e.identity.identifier !== identity.identifier || identity.changes.length < e.identity.changes.length) {
      throw new HopsealError(ErrorCode.IDENTITY_MISMATCH, `not a newer history of ${e.identity.identifier}`)
    }
    this.identities.set(e.name, { name: e.name, identity, ...(keys ? { keys: [...keys] } : e.keys ? { keys: e.keys } : {}) })
  }

  /** Marks an identity in the store as a trusted credential issuer (trust anchor). */
  trust(identifier: Identifier): void {
    this.get(identifier)
    this.trusted.add(identifier)
  }

  isTrusted(identifier: Identifier): boolean {
    return this.trusted.has(identifier)
  }

  /** The trust anchors, as identities. */
  anchors(): Identity[] {
    return [...this.trusted].map((id) => this.get(id).identity)
  }

  addAttestation(name: string, attestation: Uint8Array): void {
    decodeAttestation(attestation)
    this.attestations.push({ name, attestation: attestation.slice() })
  }

  attestationsOf(name: string): Uint8Array[] {
    return this.attestations.filter((a) => a.name === name).map((a) => a.attestation)
  }

  /** Keeps a credential (decoded for structure; verified when used). Idempotent. */
  addCredential(credential: Uint8Array): DecodedCredential {
    const d = decodeCredential(credential, { crypto: this.crypto })
    if (!this.credentialList.some((c) => decodeCredential(c, { crypto: this.crypto }).id === d.id)) this.credentialList.push(credential.slice())
    return d
  }

  credentials(): DecodedCredential[] {
    return this.credentialList.map((c) => decodeCredential(c, { crypto: this.crypto }))
  }

  /** The encoded credential with id `id` (hex). */
  credential(id: string): Uint8Array | undefined {
    return this.credentialList.find((c) => decodeCredential(c, { crypto: this.crypto }).id === id)
  }

  /** Issuer-side state for cumulative revocation lists. */
  issuerState(issuer: Identifier): IssuerState {
    return this.issued.get(issuer) ?? { sequence: 0, credentials: [] }
  }

  setIssuerState(issuer: Identifier, state: IssuerState): void {
    this.issued.set(issuer, { sequence: state.sequence, credentials: [...state.credentials] })
  }

  private load(bytes: Uint8Array): void {
    try {
      const f = JSON.parse(fromUtf8(bytes)) as FileShape
      if (!f || typeof f !== 'object' || f.version !== STORE_VERSION) fail('unknown version')
      for (const e of arr(f.identities)) {
        if (!isIdentityName(e?.name) || typeof e.identity !== 'string') fail('bad identity entry')
        if (e.keys !== undefined && (!Array.isArray(e.keys) || !e.keys.every((k) => typeof k === 'string'))) fail('bad key labels')
        this.add({ name: e.name, identity: decodeIdentity(fromHex(e.identity), { crypto: this.crypto }), ...(e.keys ? { keys: e.keys } : {}) })
      }
      for (const t of arr(f.trusted)) {
        if (!isIdentifier(t)) fail('bad trusted identifier')
        this.trust(t)
      }
      for (const a of arr(f.attestations)) {
        if (typeof a?.name !== 'string' || typeof a.attestation !== 'string') fail('bad attestation entry')
        this.addAttestation(a.name, fromHex(a.attestation))
      }
      for (const c of arr(f.credentials)) this.addCredential(fromHex(str(c)))
      for (const r of arr(f.revocations)) this.revocations.restore(fromHex(str(r)))
      if (!f.issued || typeof f.issued !== 'object') fail('bad issuer state')
      for (const [id, st] of Object.entries(f.issued)) {
        if (!isIdentifier(id) || !Number.isSafeInteger(st?.sequence) || !Array.isArray(st.credentials) || !st.credentials.every((c) => typeof c === 'string')) fail('bad issuer state')
        this.setIssuerState(id, st)
      }
    } catch (e) {
      if (isHopsealError(e, ErrorCode.IDENTITY_STORE_CORRUPT)) throw e
      throw new HopsealError(ErrorCode.IDENTITY_STORE_CORRUPT, `identity store ${this.path} is corrupt: ${(e as Error).message}`, { cause: e })
    }
  }
}

function fail(why: string): never {
  throw new HopsealError(ErrorCode.IDENTITY_STORE_CORRUPT, why)
}
function arr<T>(v: T[]): T[] {
  if (!Array.isArray(v)) fail('expected an array')
  return v
}
function str(v: unknown): string {
  if (typeof v !== 'string') fail('expected a hex string')
  return v
}
