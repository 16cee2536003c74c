/**
 * The vault compliance suite: one shared set of tests that every Vault backend
 * runs with one call, so software, PKCS#11 and ATECC608 behave identically at
 * the interface.
 *
 * The suite is portable: it takes the test runner (describe, it, before,
 * after) and the assertions from the caller through a `ComplianceRunner`, so it
 * imports no `node:` module. The Node adapter, on `node:test` and
 * `node:assert/strict`, is `nodeTestRunner` in `targets/node/vault-compliance.ts`.
 *
 * @example
 * import { nodeTestRunner } from 'hopseal/vault/compliance/node'
 * runVaultCompliance({ name: 'software (memory)', open: () => SoftwareVault.open() }, nodeTestRunner)
 */
import { cryptoProvider, defaultCryptoProvider, type CryptoProvider } from '../crypto/index.ts'
import { toHex } from '../bytes/index.ts'
import { isHopsealError } from '../errors.ts'
import { KEY_USAGE, type KeyHandle, type KeyType, type Vault } from './types.ts'

export interface ComplianceTarget {
  /** Shown in the test names. */
  name: string
  /** Opens the vault under test (fresh or over the same backing store). */
  open: () => Promise<Vault>
  /** When true, persistent keys must be found again by label after close() + open(). */
  persistent?: boolean
  /** Called once at the end (remove temp dirs, stop simulators). */
  cleanup?: () => Promise<void>
  /** Parallel operations to try at once (default 16; hardware may want fewer). */
  concurrency?: number
}

/** The assertions the suite uses; `node:assert/strict` satisfies it as is. Each throws on failure. */
export interface ComplianceAssert {
  ok(value: unknown, message?: string): asserts value
  equal(actual: unknown, expected: unknown, message?: string): void
  deepEqual(actual: unknown, expected: unknown, message?: string): void
  notDeepEqual(actual: unknown, expected: unknown, message?: string): void
  /** Awaits `promise`, fails when it resolves, and calls `check` with the rejection (which throws or returns true). */
  rejects(promise: Promise<unknown>, check: (error: unknown) => boolean): Promise<void>
}

/** A test runner the suite registers its tests with (the shape of `node:test`, `mocha`, `vitest`). */
export interface ComplianceRunner {
  describe(name: string, body: () => void): unknown
  it(name: string, body: () => void | Promise<void>): unknown
  before(hook: () => void | Promise<void>): unknown
  after(hook: () => void | Promise<void>): unknown
  assert: ComplianceAssert
}

const ALL_TYPES: KeyType[] = ['ed25519', 'x25519', 'p256']

/** The largest low-S ECDSA P-256 `s`: n / 2. */
const P256_HALF_ORDER = 0x7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8n

/** What every phase of the suite shares: the runner, two crypto providers, and the vault under test (reopened by the persistence test). */
interface Suite {
  target: ComplianceTarget
  it(name: string, body: () => void | Promise<void>): void
  assert: ComplianceAssert
  /** The process default provider (node:crypto once a Node entry registered it); the reference for ECDH and signatures. */
  platform: CryptoProvider
  /** The portable provider: signatures must verify with it too. */
  noble: CryptoProvider
  vault: Vault
  rejectsWith(p: Promise<unknown>, ...codes: string[]): Promise<void>
}

/** Registers the suite for `target` with `runner`: one describe block, its tests run against one opened vault. */
export function runVaultCompliance(target: ComplianceTarget, runner: ComplianceRunner): void {
  const assert: ComplianceAssert = runner.assert
  let opened: Vault | undefined
  const s: Suite = {
    target,
    it: (name, body) => runner.it(name, body),
    assert,
    platform: defaultCryptoProvider(),
    noble: cryptoProvider('noble'),
    get vault(): Vault {
      if (!opened) throw new Error(`vault compliance: ${target.name}: the vault is not open (the before hook failed or did not run)`)
      return opened
    },
    set vault(v: Vault) {
      opened = v
    },
    rejectsWith: async (p, ...codes) => {
      await assert.rejects(p, (e: unknown) => {
        assert.ok(isHopsealError(e), `expected HopsealError, got ${String(e)}`)
        assert.ok(codes.includes(e.code), `expected code ${codes.join('|')}, got ${e.code}`)
        return true
      })
    },
  }
  runner.describe(`vault compliance: ${target.name}`, () => {
    runner.before(async () => {
      s.vault = await target.open()
    })
    runner.after(async () => {
      await opened?.close()
      await target.cleanup?.()
    })
    cryptographyTests(s)
    refusalTests(s)
    handleTests(s)
    operationTests(s)
    if (target.persistent) persistenceTest(s)
  })
}

/** Phase 1: capabilities, signatures both providers verify, ECDH equal to a software computation. */
function cryptographyTests(s: Suite): void {
  const { platform, noble } = s
  const assert: ComplianceAssert = s.assert
  s.it('reports capabilities as lists of known key types', () => {
    const caps = s.vault.capabilities()
    assert.ok(Array.isArray(caps.sign) && Array.isArray(caps.ecdh))
    assert.ok(caps.sign.length + caps.ecdh.length > 0, 'a vault must support something')
    for (const t of caps.sign) assert.ok(KEY_USAGE[t]?.sign, `${t} cannot sign`)
    for (const t of caps.ecdh) assert.ok(KEY_USAGE[t]?.ecdh, `${t} cannot ecdh`)
    assert.equal(typeof s.vault.name, 'string')
  })

  s.it('signs; signatures verify with both crypto providers and fail for another message', async () => {
    for (const type of s.vault.capabilities().sign) {
      const h = await s.vault.generateKey(type)
      assert.equal(h.type, type)
      const pub = await s.vault.publicKey(h)
      assert.equal(pub.length, type === 'p256' ? 33 : 32)
      const msg = new TextEncoder().encode(`hopseal compliance ${type}`)
      const sig = await s.vault.sign(h, msg)
      assert.equal(sig.length, 64)
      assert.ok(platform.verify(type as 'ed25519' | 'p256', pub, msg, sig), `${type}: ${platform.name} verify`)
      assert.ok(noble.verify(type as 'ed25519' | 'p256', pub, msg, sig), `${type}: noble verify`)
      assert.equal(platform.verify(type as 'ed25519' | 'p256', pub, new Uint8Array(3), sig), false)
      if (type === 'p256') {
        // low-S: s <= n/2
        const sValue = BigInt('0x' + toHex(sig.subarray(32)))
        assert.ok(sValue <= P256_HALF_ORDER, 'ECDSA signature must be low-S')
      }
      await s.vault.deleteKey(h)
    }
  })

  s.it('does ECDH equal to a software computation, both directions', async () => {
    for (const type of s.vault.capabilities().ecdh) {
      const h = await s.vault.generateKey(type)
      const pub = await s.vault.publicKey(h)
      const peer = platform.generateKeyPair(type)
      const shared = await s.vault.ecdh(h, peer.publicKey)
      assert.equal(shared.length, 32)
      assert.deepEqual(shared, platform.dh(peer, pub))
      if (type === 'p256') {
        // uncompressed peer points are accepted too
        assert.deepEqual(await s.vault.ecdh(h, platform.p256Point(peer.publicKey, false)), shared)
      }
      await s.vault.deleteKey(h)
    }
  })
}

/** Phase 2: invalid peer points, unsupported types and operations, foreign, forged and deleted handles. */
function refusalTests(s: Suite): void {
  const { platform, rejectsWith } = s
  s.it('rejects invalid peer points with a typed code', async () => {
    for (const type of s.vault.capabilities().ecdh) {
      const h = await s.vault.generateKey(type)
      if (type === 'x25519') {
        await rejectsWith(s.vault.ecdh(h, new Uint8Array(32)), 'WEAK_SHARED_SECRET', 'INVALID_POINT') // low-order point 0
        await rejectsWith(s.vault.ecdh(h, new Uint8Array(31)), 'INVALID_POINT', 'INVALID_LENGTH')
      } else {
        const bad = new Uint8Array(33)
        bad[0] = 2
        bad.fill(0xff, 1) // x = 2^256-1 > p: not on the curve
        await rejectsWith(s.vault.ecdh(h, bad), 'INVALID_POINT')
        await rejectsWith(s.vault.ecdh(h, new Uint8Array(32)), 'INVALID_POINT', 'INVALID_LENGTH')
        const offCurve = platform.p256Point(platform.generateKeyPair('p256').publicKey, false)
        offCurve[64] = offCurve[64]! ^ 1
        await rejectsWith(s.vault.ecdh(h, offCurve), 'INVALID_POINT')
      }
      await s.vault.deleteKey(h)
    }
  })

  s.it('refuses unsupported types and operations with typed codes', async () => {
    const caps = s.vault.capabilities()
    for (const type of ALL_TYPES) {
      if (!caps.sign.includes(type) && !caps.ecdh.includes(type)) {
        await rejectsWith(s.vault.generateKey(type), 'VAULT_KEY_TYPE_UNSUPPORTED')
      }
    }
    await rejectsWith(s.vault.generateKey('rsa' as KeyType), 'VAULT_KEY_TYPE_UNSUPPORTED')
    for (const type of caps.ecdh) {
      if (KEY_USAGE[type].sign) continue
      const h = await s.vault.generateKey(type)
      await rejectsWith(s.vault.sign(h, new Uint8Array(1)), 'VAULT_OPERATION_UNSUPPORTED')
      await s.vault.deleteKey(h)
    }
    for (const type of caps.sign) {
      if (KEY_USAGE[type].ecdh) continue
      const h = await s.vault.generateKey(type)
      await rejectsWith(s.vault.ecdh(h, new Uint8Array(32)), 'VAULT_OPERATION_UNSUPPORTED')
      await s.vault.deleteKey(h)
    }
  })

  s.it('refuses foreign, forged and deleted handles', async () => {
    const type = s.vault.capabilities().sign[0] ?? s.vault.capabilities().ecdh[0]!
    const h = await s.vault.generateKey(type)
    const foreign: KeyHandle = { ...h, vault: `${s.vault.name}-other` }
    await rejectsWith(s.vault.publicKey(foreign), 'VAULT_KEY_NOT_FOUND')
    await rejectsWith(s.vault.publicKey({ ...h, id: `${h.id}-missing` }), 'VAULT_KEY_NOT_FOUND')
    await rejectsWith(s.vault.publicKey(null as unknown as KeyHandle), 'INVALID_ARGUMENT')
    await s.vault.deleteKey(h)
    await rejectsWith(s.vault.publicKey(h), 'VAULT_KEY_NOT_FOUND')
  })
}

/** Phase 3: handles carry no key bytes; keys are found by label and listed. */
function handleTests(s: Suite): void {
  const assert: ComplianceAssert = s.assert
  s.it('handles carry no key bytes', async () => {
    for (const type of [...new Set([...s.vault.capabilities().sign, ...s.vault.capabilities().ecdh])]) {
      const h = await s.vault.generateKey(type, { label: `handle-${type}` })
      for (const [k, v] of Object.entries(h)) {
        assert.ok(typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number', `handle field ${k} must be scalar`)
        if (typeof v === 'string') assert.ok(v.length < 64 || k === 'label', `handle field ${k} is suspiciously long`)
      }
      await s.vault.deleteKey(h)
    }
  })

  s.it('finds keys by label and lists them', async () => {
    const type = s.vault.capabilities().sign[0] ?? s.vault.capabilities().ecdh[0]!
    const label = `compliance-${Date.now().toString(36)}`
    const h = await s.vault.generateKey(type, { label })
    const found = await s.vault.findKey(label)
    assert.ok(found, 'findKey found the key')
    assert.equal(found.id, h.id)
    assert.deepEqual(await s.vault.publicKey(found), await s.vault.publicKey(h))
    assert.equal(await s.vault.findKey(`${label}-absent`), undefined)
    const all = await s.vault.listKeys()
    assert.ok(all.some((k) => k.id === h.id))
    await s.vault.deleteKey(h)
    assert.equal(await s.vault.findKey(label), undefined)
  })
}

/** Phase 4: random bytes, concurrent operations, an already-aborted signal. */
function operationTests(s: Suite): void {
  const { platform, rejectsWith } = s
  const assert: ComplianceAssert = s.assert
  s.it('returns fresh random bytes of the asked length', async () => {
    const a = await s.vault.random(32)
    const b = await s.vault.random(32)
    assert.equal(a.length, 32)
    assert.notDeepEqual(a, b)
    assert.equal((await s.vault.random(0)).length, 0)
    await rejectsWith(s.vault.random(-1), 'INVALID_ARGUMENT')
  })

  s.it('runs concurrent operations correctly', async () => {
    const type = s.vault.capabilities().sign[0]
    if (!type) return
    const h = await s.vault.generateKey(type)
    const pub = await s.vault.publicKey(h)
    const n = s.target.concurrency ?? 16
    const msgs = Array.from({ length: n }, (_, i) => new TextEncoder().encode(`concurrent ${i}`))
    const sigs = await Promise.all(msgs.map((m) => s.vault.sign(h, m)))
    sigs.forEach((sig, i) => assert.ok(platform.verify(type as 'ed25519' | 'p256', pub, msgs[i]!, sig), `signature ${i}`))
    await s.vault.deleteKey(h)
  })

  s.it('honours an already-aborted signal', async () => {
    const type = s.vault.capabilities().sign[0] ?? s.vault.capabilities().ecdh[0]!
    const ac = new AbortController()
    ac.abort()
    await rejectsWith(s.vault.generateKey(type, { signal: ac.signal }), 'ABORTED')
  })
}

/** Phase 5 (persistent targets): persistent keys survive close() and open(), session keys do not. */
function persistenceTest(s: Suite): void {
  const { rejectsWith } = s
  const assert: ComplianceAssert = s.assert
  s.it('persistent keys survive close and reopen; session keys do not', async () => {
    const type = s.vault.capabilities().sign[0] ?? s.vault.capabilities().ecdh[0]!
    const label = `persist-${Date.now().toString(36)}`
    const h = await s.vault.generateKey(type, { label, persistent: true })
    await s.vault.generateKey(type, { label: `${label}-temp`, persistent: false })
    const pub = await s.vault.publicKey(h)
    await s.vault.close()
    await rejectsWith(s.vault.publicKey(h), 'VAULT_CLOSED')
    s.vault = await s.target.open()
    const again = await s.vault.findKey(label)
    assert.ok(again, 'persistent key found after reopen')
    assert.deepEqual(await s.vault.publicKey(again), pub)
    assert.equal(await s.vault.findKey(`${label}-temp`), undefined)
    await s.vault.deleteKey(again)
  })
}
