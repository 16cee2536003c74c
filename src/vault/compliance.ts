/**
 * The vault compliance suite: one shared set of tests that every Vault backend
 * runs with one call, so software, PKCS#11 and ATECC608 behave identically at
 * the interface.
 *
 * @example
 * runVaultCompliance({ name: 'software (memory)', open: async () => new SoftwareVault() })
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { cryptoProvider } from '../crypto/index.ts'
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

const ALL_TYPES: KeyType[] = ['ed25519', 'x25519', 'p256']

async function rejectsWith(p: Promise<unknown>, ...codes: string[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isHopsealError(e), `expected HopsealError, got ${String(e)}`)
    assert.ok(codes.includes(e.code), `expected code ${codes.join('|')}, got ${e.code}`)
    return true
  })
}

export function runVaultCompliance(target: ComplianceTarget): void {
  const node = cryptoProvider('node')
  const noble = cryptoProvider('noble')
  describe(`vault compliance: ${target.name}`, () => {
    let vault: Vault
    before(async () => {
      vault = await target.open()
    })
    after(async () => {
      await vault?.close()
      await target.cleanup?.()
    })

    it('reports capabilities as lists of known key types', () => {
      const caps = vault.capabilities()
      assert.ok(Array.isArray(caps.sign) && Array.isArray(caps.ecdh))
      assert.ok(caps.sign.length + caps.ecdh.length > 0, 'a vault must support something')
      for (const t of caps.sign) assert.ok(KEY_USAGE[t]?.sign, `${t} cannot sign`)
      for (const t of caps.ecdh) assert.ok(KEY_USAGE[t]?.ecdh, `${t} cannot ecdh`)
      assert.equal(typeof vault.name, 'string')
    })

    it('signs; signatures verify with both crypto providers and fail for another message', async () => {
      for (const type of vault.capabilities().sign) {
        const h = await vault.generateKey(type)
        assert.equal(h.type, type)
        const pub = await vault.publicKey(h)
        assert.equal(pub.length, type === 'p256' ? 33 : 32)
        const msg = new TextEncoder().encode(`hopseal compliance ${type}`)
        const sig = await vault.sign(h, msg)
        assert.equal(sig.length, 64)
        assert.ok(node.verify(type as 'ed25519' | 'p256', pub, msg, sig), `${type}: node verify`)
        assert.ok(noble.verify(type as 'ed25519' | 'p256', pub, msg, sig), `${type}: noble verify`)
        assert.equal(node.verify(type as 'ed25519' | 'p256', pub, new Uint8Array(3), sig), false)
        if (type === 'p256') {
          // low-S: s <= n/2
          const s = BigInt('0x' + Buffer.from(sig.subarray(32)).toString('hex'))
          assert.ok(s <= 0x7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8n, 'ECDSA signature must be low-S')
        }
        await vault.deleteKey(h)
      }
    })

    it('does ECDH equal to a software computation, both directions', async () => {
      for (const type of vault.capabilities().ecdh) {
        const h = await vault.generateKey(type)
        const pub = await vault.publicKey(h)
        const peer = node.generateKeyPair(type)
        const shared = await vault.ecdh(h, peer.publicKey)
        assert.equal(shared.length, 32)
        assert.deepEqual(shared, node.dh(peer, pub))
        if (type === 'p256') {
          // uncompressed peer points are accepted too
          assert.deepEqual(await vault.ecdh(h, node.p256Point(peer.publicKey, false)), shared)
        }
        await vault.deleteKey(h)
      }
    })

    it('rejects invalid peer points with a typed code', async () => {
      for (const type of vault.capabilities().ecdh) {
        const h = await vault.generateKey(type)
        if (type === 'x25519') {
          await rejectsWith(vault.ecdh(h, new Uint8Array(32)), 'WEAK_SHARED_SECRET', 'INVALID_POINT') // low-order point 0
          await rejectsWith(vault.ecdh(h, new Uint8Array(31)), 'INVALID_POINT', 'INVALID_LENGTH')
        } else {
          const bad = new Uint8Array(33)
          bad[0] = 2
          bad.fill(0xff, 1) // x = 2^256-1 > p: not on the curve
          await rejectsWith(vault.ecdh(h, bad), 'INVALID_POINT')
          await rejectsWith(vault.ecdh(h, new Uint8Array(32)), 'INVALID_POINT', 'INVALID_LENGTH')
          const offCurve = node.p256Point(node.generateKeyPair('p256').publicKey, false)
          offCurve[64] = offCurve[64]! ^ 1
          await rejectsWith(vault.ecdh(h, offCurve), 'INVALID_POINT')
        }
        await vault.deleteKey(h)
      }
    })

    it('refuses unsupported types and operations with typed codes', async () => {
      const caps = vault.capabilities()
      for (const type of ALL_TYPES) {
        if (!caps.sign.includes(type) && !caps.ecdh.includes(type)) {
          await rejectsWith(vault.generateKey(type), 'VAULT_KEY_TYPE_UNSUPPORTED')
        }
      }
      await rejectsWith(vault.generateKey('rsa' as KeyType), 'VAULT_KEY_TYPE_UNSUPPORTED')
      for (const type of caps.ecdh) {
        if (KEY_USAGE[type].sign) continue
        const h = await vault.generateKey(type)
        await rejectsWith(vault.sign(h, new Uint8Array(1)), 'VAULT_OPERATION_UNSUPPORTED')
        await vault.deleteKey(h)
      }
      for (const type of caps.sign) {
        if (KEY_USAGE[type].ecdh) continue
        const h = await vault.generateKey(type)
        await rejectsWith(vault.ecdh(h, new Uint8Array(32)), 'VAULT_OPERATION_UNSUPPORTED')
        await vault.deleteKey(h)
      }
    })

    it('refuses foreign, forged and deleted handles', async () => {
      const type = vault.capabilities().sign[0] ?? vault.capabilities().ecdh[0]!
      const h = await vault.generateKey(type)
      const foreign: KeyHandle = { ...h, vault: `${vault.name}-other` }
      await rejectsWith(vault.publicKey(foreign), 'VAULT_KEY_NOT_FOUND')
      await rejectsWith(vault.publicKey({ ...h, id: `${h.id}-missing` }), 'VAULT_KEY_NOT_FOUND')
      await rejectsWith(vault.publicKey(null as unknown as KeyHandle), 'INVALID_ARGUMENT')
      await vault.deleteKey(h)
      await rejectsWith(vault.publicKey(h), 'VAULT_KEY_NOT_FOUND')
    })

    it('handles carry no key bytes', async () => {
      for (const type of [...new Set([...vault.capabilities().sign, ...vault.capabilities().ecdh])]) {
        const h = await vault.generateKey(type, { label: `handle-${type}` })
        for (const [k, v] of Object.entries(h)) {
          assert.ok(typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number', `handle field ${k} must be scalar`)
          if (typeof v === 'string') assert.ok(v.length < 64 || k === 'label', `handle field ${k} is suspiciously long`)
        }
        await vault.deleteKey(h)
      }
    })

    it('finds keys by label and lists them', async () => {
      const type = vault.capabilities().sign[0] ?? vault.capabilities().ecdh[0]!
      const label = `compliance-${Date.now().toString(36)}`
      const h = await vault.generateKey(type, { label })
      const found = await vault.findKey(label)
      assert.ok(found, 'findKey found the key')
      assert.equal(found.id, h.id)
      assert.deepEqual(await vault.publicKey(found), await vault.publicKey(h))
      assert.equal(await vault.findKey(`${label}-absent`), undefined)
      const all = await vault.listKeys()
      assert.ok(all.some((k) => k.id === h.id))
      await vault.deleteKey(h)
      assert.equal(await vault.findKey(label), undefined)
    })

    it('returns fresh random bytes of the asked length', async () => {
      const a = await vault.random(32)
      const b = await vault.random(32)
      assert.equal(a.length, 32)
      assert.notDeepEqual(a, b)
      assert.equal((await vault.random(0)).length, 0)
      await rejectsWith(vault.random(-1), 'INVALID_ARGUMENT')
    })

    it('runs concurrent operations correctly', async () => {
      const type = vault.capabilities().sign[0]
      if (!type) return
      const h = await vault.generateKey(type)
      const pub = await vault.publicKey(h)
      const n = target.concurrency ?? 16
      const msgs = Array.from({ length: n }, (_, i) => new TextEncoder().encode(`concurrent ${i}`))
      const sigs = await Promise.all(msgs.map((m) => vault.sign(h, m)))
      sigs.forEach((s, i) => assert.ok(node.verify(type as 'ed25519' | 'p256', pub, msgs[i]!, s), `signature ${i}`))
      await vault.deleteKey(h)
    })

    it('honours an already-aborted signal', async () => {
      const type = vault.capabilities().sign[0] ?? vault.capabilities().ecdh[0]!
      const ac = new AbortController()
      ac.abort()
      await rejectsWith(vault.generateKey(type, { signal: ac.signal }), 'ABORTED')
    })

    if (target.persistent) {
      it('persistent keys survive close and reopen; session keys do not', async () => {
        const type = vault.capabilities().sign[0] ?? vault.capabilities().ecdh[0]!
        const label = `persist-${Date.now().toString(36)}`
        const h = await vault.generateKey(type, { label, persistent: true })
        const temp = await vault.generateKey(type, { label: `${label}-temp`, persistent: false })
        const pub = await vault.publicKey(h)
        await vault.close()
        await rejectsWith(vault.publicKey(h), 'VAULT_CLOSED')
        vault = await target.open()
        const again = await vault.findKey(label)
        assert.ok(again, 'persistent key found after reopen')
        assert.deepEqual(await vault.publicKey(again), pub)
        assert.equal(await vault.findKey(`${label}-temp`), undefined)
        void temp
        await vault.deleteKey(again)
      })
    }
  })
}
