/**
 * The PKCS#11 vault: hopseal keys inside any PKCS#11 token (SoftHSM2 in
 * tests, a network HSM, a YubiHSM, a cloud HSM in PKCS#11 mode), through
 * pkcs11js. Facts and measurements: atecc608-and-pkcs11.md Part B.
 *
 * - Private keys are generated in the token with CKA_SENSITIVE true and
 *   CKA_EXTRACTABLE false; they never enter JavaScript memory. Handles carry
 *   the hex CKA_ID, so a key is found again (by label or id) in another process.
 * - P-256 ECDSA: SHA-256 in JS, then CKM_ECDSA (SoftHSM has no CKM_ECDSA_SHA256,
 *   §B1); raw r‖s, normalised to low-S.
 * - P-256 ECDH: CKM_ECDH1_DERIVE with kdf CKD_NULL into a short-lived,
 *   extractable session secret whose CKA_VALUE (the 32-byte x-coordinate, §B3)
 *   is read and the object destroyed: the Noise DH output is meant for JS
 *   (MixKey); the static private key stays in the token.
 * - Ed25519 / X25519 where the token has them (mechanisms probed at open;
 *   `capabilities()` reports only what works).
 * - Every token call borrows a session from a pool; a lost session, a logout
 *   or a re-initialised library is recovered once (reopen, log in, re-find the
 *   key by CKA_ID) before an error is reported.
 */
import { loadPkcs11js, pkcs11js } from './native.ts'
import type { ECDH1 } from 'pkcs11js'
import { wipe } from '../../src/bytes/index.ts'
import { defaultCryptoProvider, normalizeLowS, type CryptoProvider } from '../../targets/node/crypto/index.ts'
import { rejectZero } from '../../src/crypto/checks.ts'
import { ErrorCode, HopsealError, throwIfAborted } from '../../src/errors.ts'
import {
  checkHandle,
  checkKeyType,
  checkLabel,
  checkMessage,
  checkPeerPublicFor,
  checkRandomLength,
  KEY_USAGE,
  type CallOptions,
  type GenerateKeyOptions,
  type KeyHandle,
  type KeyType,
  type Vault,
  type VaultCapabilities,
} from '../../src/vault/index.ts'
import { checkOptions, pinSource, poolSize, type Pkcs11VaultOptions } from './config.ts'
import { CKS_RO_USER_FUNCTIONS, CKS_RW_USER_FUNCTIONS, CKK_EC_EDWARDS, CKK_EC_MONTGOMERY, CKM_EC_EDWARDS_KEY_PAIR_GEN, CKM_EC_MONTGOMERY_KEY_PAIR_GEN, CKM_EDDSA, FIND_BATCH, KEY_ID_BYTES, MAX_LISTED_KEYS, MAX_RANDOM_BYTES } from './constants.ts'
import { ecParamsFor, keyTypeOf, rawPoint, readUlong } from './ec.ts'
import { ckrName, isSessionLost, isStaleObject, mapPkcs11Error, type Pkcs11Op } from './errors.ts'
import { acquireModule, reinitializeModule, releaseModule, type Pkcs11 } from './module.ts'
import { SessionPool, type Session } from './session-pool.ts'

type Handle = Buffer

/** What the vault knows about one token key (private-key object handle, cached public key). */
interface KeyRecord {
  handle: KeyHandle
  priv: Handle
  pub?: Uint8Array
}

/** Which mechanisms the token really offers, probed once at open. */
interface Mechanisms {
  caps: VaultCapabilities
  /** Key-pair generation mechanism per type. */
  gen: Partial<Record<KeyType, number>>
}

const ID_RE = /^(?:[0-9a-f]{2}){1,64}$/

/** The P-256 generator G, uncompressed (SEC 2 §2.4.2): a valid public point for the ECDH probe. */
const P256_G = Uint8Array.from(
  Buffer.from('046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5', 'hex'),
)
/** The X25519 base point u = 9 (RFC 7748 §4.1). */
const X25519_BASE = Uint8Array.from([9, ...new Array<number>(31).fill(0)])

export class Pkcs11Vault implements Vault {
  readonly name: string
  /** The token label this vault is bound to. */
  readonly token: string
  private readonly crypto: CryptoProvider
  private readonly modulePath: string
  private p11: Pkcs11
  private slot: Handle
  private loginRequired: boolean
  private readonly pool: SessionPool
  private mechs: Mechanisms = { caps: { sign: [], ecdh: [] }, gen: {} }
  private readonly cache = new Map<string, KeyRecord>()
  private closed = false

  private constructor(opts: Pkcs11VaultOptions, p11: Pkcs11, slot: Handle, loginRequired: boolean, maxSessions: number) {
    this.name = opts.name ?? `pkcs11:${opts.token}`
    this.token = opts.token
    this.crypto = opts.crypto ?? defaultCryptoProvider()
    this.modulePath = opts.module
    this.p11 = p11
    this.slot = slot
    this.loginRequired = loginRequired
    this.pool = new SessionPool(
      () => this.p11,
      () => this.slot,
      pinSource(opts),
      () => this.loginRequired,
      poolSize(opts.sessions, maxSessions),
    )
  }

  /**
   * Loads the module (C_Initialize with CKF_OS_LOCKING_OK), finds the token by
   * label, logs in, and probes the mechanisms.
   *
   * @throws HopsealError INVALID_ARGUMENT (bad options, module cannot load),
   *   VAULT_OPERATION_UNSUPPORTED (the optional pkcs11js is not installed), VAULT_TOKEN_ABSENT (no token with that label), VAULT_WRONG_PIN.
   * @example
   * const vault = await Pkcs11Vault.open({ module: '/usr/lib/softhsm/libsofthsm2.so', token: 'hopseal', pinEnv: 'HOPSEAL_PKCS11_PIN' })
   * const id = await vault.generateKey('p256', { label: 'gateway-identity', persistent: true })
   */
  static async open(opts: Pkcs11VaultOptions): Promise<Pkcs11Vault> {
    checkOptions(opts)
    await loadPkcs11js()
    const p11 = acquireModule(opts.module)
    let vault: Pkcs11Vault | undefined
    try {
      const slot = findSlot(p11, opts.token)
      const info = p11.C_GetTokenInfo(slot)
      vault = new Pkcs11Vault(opts, p11, slot, (info.flags & pkcs11js().CKF_LOGIN_REQUIRED) !== 0, info.maxSessionCount)
      const s = await vault.pool.acquire() // opens the first session and logs in: a wrong PIN fails here
      try {
        vault.mechs = await vault.probe(s)
      } finally {
        vault.pool.release(s)
      }
      return vault
    } catch (e) {
      if (vault) {
        vault.closed = true
        await vault.pool.close()
      }
      releaseModule(opts.module)
      throw mapPkcs11Error(e, 'open')
    }
  }

  capabilities(): VaultCapabilities {
    return { sign: [...this.mechs.caps.sign], ecdh: [...this.mechs.caps.ecdh] }
  }

  /** Sessions in the pool (configured size, capped by the token). */
  get sessions(): number {
    return this.pool.size
  }

  async generateKey(type: KeyType, opts: GenerateKeyOptions = {}): Promise<KeyHandle> {
    this.checkOpen()
    throwIfAborted(opts.signal)
    checkKeyType(this, type)
    checkLabel(opts.label)
    const label = opts.label
    const persistent = opts.persistent === true
    if (label !== undefined && (await this.findKey(label, opts))) throw new HopsealError(ErrorCode.VAULT_DUPLICATE_LABEL, `a key labelled ${label} exists on token ${this.token}`)
    const id = this.crypto.randomBytes(KEY_ID_BYTES)
    const idHex = Buffer.from(id).toString('hex')
    const params = Buffer.from(ecParamsFor(type))
    const canSign = KEY_USAGE[type].sign
    const canDerive = KEY_USAGE[type].ecdh
    const common = [
      { type: pkcs11js().CKA_TOKEN, value: persistent },
      { type: pkcs11js().CKA_ID, value: Buffer.from(id) },
      ...(label !== undefined ? [{ type: pkcs11js().CKA_LABEL, value: label }] : []),
    ]
    // CKA_EC_PARAMS goes in the public template only: the token copies it (SoftHSM: CKR_ATTRIBUTE_READ_ONLY in the private one)
    const pubTemplate = [...common, { type: pkcs11js().CKA_EC_PARAMS, value: params }, { type: pkcs11js().CKA_PRIVATE, value: false }, { type: pkcs11js().CKA_VERIFY, value: canSign }]
    const privTemplate = [
      ...common,
      { type: pkcs11js().CKA_PRIVATE, value: true },
      { type: pkcs11js().CKA_SENSITIVE, value: true },
      { type: pkcs11js().CKA_EXTRACTABLE, value: false },
      { type: pkcs11js().CKA_SIGN, value: canSign },
      { type: pkcs11js().CKA_DERIVE, value: canDerive },
    ]
    const mechanism = this.mechs.gen[type]!
    return this.run('generate', opts.signal, async (s) => {
      const kp = await this.p11.C_GenerateKeyPairAsync(s.handle, { mechanism }, pubTemplate, privTemplate)
      const handle = makeHandle(this.name, idHex, type, label, persistent)
      this.cache.set(idHex, { handle, priv: kp.privateKey })
      return handle
    })
  }

  async findKey(label: string, opts: CallOptions = {}): Promise<KeyHandle | undefined> {
    this.checkOpen()
    throwIfAborted(opts.signal)
    checkLabel(label)
    return this.run('find', opts.signal, async (s) => {
      for (const obj of this.findObjects(s, [{ type: pkcs11js().CKA_CLASS, value: pkcs11js().CKO_PRIVATE_KEY }, { type: pkcs11js().CKA_LABEL, value: label }], 16)) {
        const rec = this.describe(s, obj)
        if (rec) return rec.handle
      }
      return undefined
    })
  }

  async listKeys(opts: CallOptions = {}): Promise<KeyHandle[]> {
    this.checkOpen()
    throwIfAborted(opts.signal)
    return this.run('find', opts.signal, async (s) => {
      const out: KeyHandle[] = []
      for (const obj of this.findObjects(s, [{ type: pkcs11js().CKA_CLASS, value: pkcs11js().CKO_PRIVATE_KEY }], MAX_LISTED_KEYS)) {
        const rec = this.describe(s, obj)
        if (rec) out.push(rec.handle)
      }
      return out
    })
  }

  async publicKey(h: KeyHandle, opts: CallOptions = {}): Promise<Uint8Array> {
    this.checkOpen()
    throwIfAborted(opts.signal)
    checkHandle(this, h)
    return this.run('public-key', opts.signal, async (s) => {
      const rec = this.resolve(s, h)
      if (!rec.pub) rec.pub = this.readPublic(s, rec)
      return rec.pub.slice()
    })
  }

  async sign(h: KeyHandle, message: Uint8Array, opts: CallOptions = {}): Promise<Uint8Array> {
    this.checkOpen()
    throwIfAborted(opts.signal)
    checkHandle(this, h, 'sign')
    checkKeyType(this, h.type, 'sign')
    checkMessage('message', message)
    const p256 = h.type === 'p256'
    // §B1: CKM_ECDSA_SHA256 is missing on SoftHSM, so hash here and sign the digest with raw CKM_ECDSA.
    const data = p256 ? this.crypto.hash('sha256', message) : message
    const mechanism = p256 ? pkcs11js().CKM_ECDSA : CKM_EDDSA
    return this.run('sign', opts.signal, async (s) => {
      const rec = this.resolve(s, h)
      this.p11.C_SignInit(s.handle, { mechanism }, rec.priv)
      // §B3 gotcha 2: always a big-enough buffer, or the operation stays active.
      const sig = await this.p11.C_SignAsync(s.handle, toBuffer(data), Buffer.alloc(64))
      if (sig.length !== 64) throw new HopsealError(ErrorCode.VAULT_DEVICE_ERROR, `token returned a ${sig.length}-byte ${h.type} signature`)
      const out = new Uint8Array(sig)
      return p256 ? normalizeLowS(out) : out
    })
  }

  async ecdh(h: KeyHandle, peerPublic: Uint8Array, opts: CallOptions = {}): Promise<Uint8Array> {
    this.checkOpen()
    throwIfAborted(opts.signal)
    checkHandle(this, h, 'ecdh')
    checkKeyType(this, h.type, 'ecdh')
    checkPeerPublicFor(h.type, peerPublic)
    // P-256: decompress (and validate) in JS; the token takes the raw 65-byte point (§B3).
    const publicData = h.type === 'p256' ? this.crypto.p256Point(peerPublic, false) : peerPublic.slice()
    const shared = await this.run('ecdh', opts.signal, async (s) => {
      const rec = this.resolve(s, h)
      return this.derive(s, rec.priv, publicData)
    })
    return h.type === 'x25519' ? rejectZero(shared) : shared
  }

  async deleteKey(h: KeyHandle, opts: CallOptions = {}): Promise<void> {
    this.checkOpen()
    throwIfAborted(opts.signal)
    checkHandle(this, h)
    await this.run('delete', opts.signal, async (s) => {
      const rec = this.resolve(s, h)
      const id = Buffer.from(h.id, 'hex')
      const pubs = this.findObjects(s, [{ type: pkcs11js().CKA_CLASS, value: pkcs11js().CKO_PUBLIC_KEY }, { type: pkcs11js().CKA_ID, value: id }], 4)
      this.p11.C_DestroyObject(s.handle, rec.priv)
      this.cache.delete(h.id)
      for (const p of pubs) {
        try {
          this.p11.C_DestroyObject(s.handle, p)
        } catch {
          /* the private key is gone; a left-over public key is harmless */
        }
      }
    })
  }

  async random(n: number, opts: CallOptions = {}): Promise<Uint8Array> {
    this.checkOpen()
    throwIfAborted(opts.signal)
    checkRandomLength(n, MAX_RANDOM_BYTES)
    if (n === 0) return new Uint8Array(0)
    return this.run('random', opts.signal, async (s) => new Uint8Array(this.p11.C_GenerateRandom(s.handle, Buffer.alloc(n))))
  }

  /** Waits for running operations, closes the sessions (destroying session keys), and releases the module. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.cache.clear()
    await this.pool.close()
    releaseModule(this.modulePath)
  }

  // ---- internals ----

  /**
   * Runs `fn` on a borrowed session. One recovery, then the error is mapped:
   * a lost session is replaced, a logout is answered with a login, a stale
   * object handle is re-found by CKA_ID, a removed or re-initialised token is
   * looked up again by label.
   */
  private async run<T>(op: Pkcs11Op, signal: AbortSignal | undefined, fn: (s: Session) => Promise<T>): Promise<T> {
    let retried = false
    for (;;) {
      this.checkOpen()
      let s: Session | undefined
      try {
        s = await this.pool.acquire(signal)
        return await fn(s)
      } catch (e) {
        const ckr = ckrName(e)
        if (!retried && !this.closed && (isSessionLost(ckr) || isStaleObject(ckr))) {
          retried = true
          try {
            this.recover(s, ckr!)
          } catch (re) {
            throw mapPkcs11Error(re, op)
          }
          continue
        }
        throw mapPkcs11Error(e, op)
      } finally {
        if (s) this.pool.release(s)
      }
    }
  }

  private recover(s: Session | undefined, ckr: string): void {
    this.cache.clear() // object handles may be stale after any of these events (PKCS#11 C_Logout invalidates them)
    if (ckr === 'CKR_CRYPTOKI_NOT_INITIALIZED') {
      reinitializeModule(this.modulePath)
      this.pool.markAllDead()
      this.slot = findSlot(this.p11, this.token)
      return
    }
    if (ckr === 'CKR_SESSION_HANDLE_INVALID' || ckr === 'CKR_SESSION_CLOSED') {
      if (s) s.dead = true
      this.pool.pruneIdle()
      return
    }
    if (isSessionLost(ckr) && ckr !== 'CKR_USER_NOT_LOGGED_IN') {
      // token removed / slot gone / device error: find the token again by label (its slot ID may have changed, §B2)
      this.pool.markAllDead()
      this.slot = findSlot(this.p11, this.token)
      this.loginRequired = (this.p11.C_GetTokenInfo(this.slot).flags & pkcs11js().CKF_LOGIN_REQUIRED) !== 0
      return
    }
    // CKR_USER_NOT_LOGGED_IN, or a stale handle that may come from a logout elsewhere in the process
    if (s && this.loginRequired) {
      let state: number
      try {
        state = this.p11.C_GetSessionInfo(s.handle).state
      } catch {
        s.dead = true
        return
      }
      if (state !== CKS_RW_USER_FUNCTIONS && state !== CKS_RO_USER_FUNCTIONS) this.pool.login(s)
    }
  }

  /** The record for a handle: from the cache, or found on the token by CKA_ID. */
  private resolve(s: Session, h: KeyHandle): KeyRecord {
    const cached = this.cache.get(h.id)
    if (cached && cached.handle.type === h.type) return cached
    if (!ID_RE.test(h.id)) throw notFound(this, h)
    for (const obj of this.findObjects(s, [{ type: pkcs11js().CKA_CLASS, value: pkcs11js().CKO_PRIVATE_KEY }, { type: pkcs11js().CKA_ID, value: Buffer.from(h.id, 'hex') }], 4)) {
      const rec = this.describe(s, obj)
      if (rec && rec.handle.type === h.type) return rec
    }
    throw notFound(this, h)
  }

  /** Reads id, label, type and persistence of a private-key object; undefined for keys hopseal cannot use. */
  private describe(s: Session, obj: Handle): KeyRecord | undefined {
    const [id, label, ckk, token] = this.p11.C_GetAttributeValue(s.handle, obj, [
      { type: pkcs11js().CKA_ID },
      { type: pkcs11js().CKA_LABEL },
      { type: pkcs11js().CKA_KEY_TYPE },
      { type: pkcs11js().CKA_TOKEN },
    ]).map((a) => a.value)
    if (!id || id.length === 0 || id.length > 64) return undefined // no CKA_ID: we could not find it again
    const kt = readUlong(ckk!)
    if (kt !== pkcs11js().CKK_EC && kt !== CKK_EC_EDWARDS && kt !== CKK_EC_MONTGOMERY) return undefined
    const [params] = this.p11.C_GetAttributeValue(s.handle, obj, [{ type: pkcs11js().CKA_EC_PARAMS }]).map((a) => a.value)
    const type = keyTypeOf(kt, params!)
    if (!type) return undefined
    const idHex = id.toString('hex')
    const text = label && label.length > 0 ? label.toString('utf8') : undefined
    const handle = makeHandle(this.name, idHex, type, text, token?.[0] === 1)
    const prev = this.cache.get(idHex)
    const rec: KeyRecord = prev && prev.priv.equals(obj) && prev.handle.type === type ? prev : { handle, priv: obj }
    this.cache.set(idHex, rec)
    return rec
  }

  /** The public key in hopseal form (33-byte compressed P-256, 32 bytes otherwise), from the matching public-key object. */
  private readPublic(s: Session, rec: KeyRecord): Uint8Array {
    const id = Buffer.from(rec.handle.id, 'hex')
    let ecPoint: Buffer | undefined
    for (const obj of this.findObjects(s, [{ type: pkcs11js().CKA_CLASS, value: pkcs11js().CKO_PUBLIC_KEY }, { type: pkcs11js().CKA_ID, value: id }], 4)) {
      ecPoint = this.p11.C_GetAttributeValue(s.handle, obj, [{ type: pkcs11js().CKA_EC_POINT }])[0]?.value
      if (ecPoint) break
    }
    if (!ecPoint) {
      // some tokens keep CKA_EC_POINT on the private key as well
      try {
        ecPoint = this.p11.C_GetAttributeValue(s.handle, rec.priv, [{ type: pkcs11js().CKA_EC_POINT }])[0]?.value
      } catch {
        ecPoint = undefined
      }
    }
    if (!ecPoint) throw new HopsealError(ErrorCode.VAULT_KEY_NOT_FOUND, `no public key object with CKA_ID ${rec.handle.id} on token ${this.token}`)
    const raw = rawPoint(rec.handle.type, ecPoint)
    return rec.handle.type === 'p256' ? this.crypto.p256Point(raw, true) : raw
  }

  /** CKM_ECDH1_DERIVE into an extractable session secret; reads CKA_VALUE and destroys the object. */
  private async derive(s: Session, priv: Handle, publicData: Uint8Array): Promise<Uint8Array> {
    // §B3 gotcha 5: only kdf = CKD_NULL (no shared data) works on SoftHSM
    const parameter: ECDH1 = { type: pkcs11js().CK_PARAMS_EC_DH, kdf: pkcs11js().CKD_NULL, publicData: toBuffer(publicData) }
    const secret = await this.p11.C_DeriveKeyAsync(
      s.handle,
      { mechanism: pkcs11js().CKM_ECDH1_DERIVE, parameter },
      priv,
      [
        { type: pkcs11js().CKA_CLASS, value: pkcs11js().CKO_SECRET_KEY },
        { type: pkcs11js().CKA_KEY_TYPE, value: pkcs11js().CKK_GENERIC_SECRET },
        { type: pkcs11js().CKA_TOKEN, value: false },
        { type: pkcs11js().CKA_SENSITIVE, value: false },
        { type: pkcs11js().CKA_EXTRACTABLE, value: true },
        // 32: the full x-coordinate; a smaller length keeps the rightmost bytes (§B3 gotcha 4)
        { type: pkcs11js().CKA_VALUE_LEN, value: 32 },
      ],
    )
    try {
      const value = this.p11.C_GetAttributeValue(s.handle, secret, [{ type: pkcs11js().CKA_VALUE }])[0]?.value
      if (!value || value.length !== 32) throw new HopsealError(ErrorCode.VAULT_DEVICE_ERROR, `token returned a ${value?.length ?? 0}-byte ECDH secret`)
      const out = new Uint8Array(value)
      wipe(value)
      return out
    } finally {
      try {
        this.p11.C_DestroyObject(s.handle, secret)
      } catch {
        /* a session object: it goes with the session at the latest */
      }
    }
  }

  /** C_FindObjects* in one session, bounded by `max`. */
  private findObjects(s: Session, template: { type: number; value: unknown }[], max: number): Handle[] {
    this.p11.C_FindObjectsInit(s.handle, template as Parameters<Pkcs11['C_FindObjectsInit']>[1])
    const out: Handle[] = []
    try {
      while (out.length < max) {
        const batch = this.p11.C_FindObjects(s.handle, Math.min(FIND_BATCH, max - out.length))
        if (batch.length === 0) break
        out.push(...batch)
      }
    } finally {
      this.p11.C_FindObjectsFinal(s.handle)
    }
    return out
  }

  /**
   * Which key types really work on this token: the mechanism list, then a
   * throw-away session key pair per type (and one derive for ECDH types), so
   * a token that lists a mechanism but refuses the curve or the extractable
   * derive template reports no capability instead of failing later. §B1:
   * SoftHSM 2.6.1 makes X25519 keys only through the Edwards generator.
   */
  private async probe(s: Session): Promise<Mechanisms> {
    let list: Set<number>
    try {
      list = new Set(this.p11.C_GetMechanismList(this.slot))
    } catch (e) {
      throw mapPkcs11Error(e, 'probe')
    }
    const m: Mechanisms = { caps: { sign: [], ecdh: [] }, gen: {} }
    const derive = list.has(pkcs11js().CKM_ECDH1_DERIVE)
    if (list.has(pkcs11js().CKM_EC_KEY_PAIR_GEN)) {
      const gen = pkcs11js().CKM_EC_KEY_PAIR_GEN
      const canSign = list.has(pkcs11js().CKM_ECDSA) && (await this.tryKeyPair(s, gen, 'p256', false))
      const canDerive = derive && (await this.tryKeyPair(s, gen, 'p256', true))
      if (canSign) m.caps.sign.push('p256')
      if (canDerive) m.caps.ecdh.push('p256')
      if (canSign || canDerive) m.gen.p256 = gen
    }
    if (list.has(CKM_EC_EDWARDS_KEY_PAIR_GEN) && list.has(CKM_EDDSA) && (await this.tryKeyPair(s, CKM_EC_EDWARDS_KEY_PAIR_GEN, 'ed25519', false))) {
      m.caps.sign.push('ed25519')
      m.gen.ed25519 = CKM_EC_EDWARDS_KEY_PAIR_GEN
    }
    if (derive) {
      for (const gen of [CKM_EC_MONTGOMERY_KEY_PAIR_GEN, CKM_EC_EDWARDS_KEY_PAIR_GEN]) {
        if (list.has(gen) && (await this.tryKeyPair(s, gen, 'x25519', true))) {
          m.caps.ecdh.push('x25519')
          m.gen.x25519 = gen
          break
        }
      }
    }
    return m
  }

  /** Generates a throw-away session key pair (and derives once against the curve's base point) to see that it really works. */
  private async tryKeyPair(s: Session, mechanism: number, type: KeyType, forDerive: boolean): Promise<boolean> {
    const params = Buffer.from(ecParamsFor(type))
    let kp: { privateKey: Handle; publicKey: Handle } | undefined
    try {
      kp = await this.p11.C_GenerateKeyPairAsync(
        s.handle,
        { mechanism },
        [{ type: pkcs11js().CKA_TOKEN, value: false }, { type: pkcs11js().CKA_EC_PARAMS, value: params }, { type: pkcs11js().CKA_VERIFY, value: !forDerive }],
        [
          { type: pkcs11js().CKA_TOKEN, value: false },
          { type: pkcs11js().CKA_SENSITIVE, value: true },
          { type: pkcs11js().CKA_EXTRACTABLE, value: false },
          { type: pkcs11js().CKA_SIGN, value: !forDerive },
          { type: pkcs11js().CKA_DERIVE, value: forDerive },
        ],
      )
      if (forDerive) {
        const shared = await this.derive(s, kp.privateKey, type === 'p256' ? P256_G : X25519_BASE)
        if (type === 'x25519') rejectZero(shared)
        wipe(shared)
      }
      return true
    } catch {
      return false
    } finally {
      for (const h of kp ? [kp.privateKey, kp.publicKey] : []) {
        try {
          this.p11.C_DestroyObject(s.handle, h)
        } catch {
          /* session objects: gone with the session anyway */
        }
      }
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new HopsealError(ErrorCode.VAULT_CLOSED, `vault ${this.name} is closed`)
  }
}

/** The slot whose token label (space-padded to 32, §B2) equals `label`; never by index. */
function findSlot(p11: Pkcs11, label: string): Handle {
  let slots: Handle[]
  try {
    slots = p11.C_GetSlotList(true)
  } catch (e) {
    throw mapPkcs11Error(e, 'open')
  }
  const found: Handle[] = []
  for (const slot of slots) {
    try {
      if (p11.C_GetTokenInfo(slot).label.trim() === label) found.push(slot)
    } catch {
      /* a slot whose token went away between the two calls */
    }
  }
  if (found.length === 0) throw new HopsealError(ErrorCode.VAULT_TOKEN_ABSENT, `no PKCS#11 token labelled "${label}" is present`)
  if (found.length > 1) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `${found.length} PKCS#11 tokens are labelled "${label}": labels must be unique`)
  return found[0]!
}

function makeHandle(vault: string, id: string, type: KeyType, label: string | undefined, persistent: boolean): KeyHandle {
  return Object.freeze(label === undefined ? { vault, id, type, persistent } : { vault, id, type, label, persistent })
}

function notFound(v: Pkcs11Vault, h: KeyHandle): HopsealError {
  return new HopsealError(ErrorCode.VAULT_KEY_NOT_FOUND, `no ${h.type} key with id ${h.id.slice(0, 64)} on token ${v.token}`)
}

function toBuffer(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength)
}
