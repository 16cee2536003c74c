/**
 * The vault compliance suite is portable: it runs under any runner that gives
 * it describe/it/before/after and assertions (here a few lines that run the
 * tests one after another and record the outcome, not node:test). With it the
 * suite passes a correct vault and fails vaults that break the interface: so
 * every backend's compliance run can fail.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { runVaultCompliance, type ComplianceRunner, type ComplianceTarget } from '../../src/vault/compliance.ts'
import type { Vault } from '../../src/vault/index.ts'
import { SoftwareVault } from '../../vaults/software/index.ts'

interface Outcome {
  suite: string
  passed: string[]
  failed: string[]
}

/** Registers the suite for `target` with a recording runner, then runs it: before hooks, each test, after hooks. */
async function runRecorded(target: ComplianceTarget): Promise<Outcome> {
  const tests: { name: string; body: () => void | Promise<void> }[] = []
  const before: (() => void | Promise<void>)[] = []
  const after: (() => void | Promise<void>)[] = []
  let suite = ''
  const runner: ComplianceRunner = {
    describe: (name, body) => {
      suite = name
      body()
    },
    it: (name, body) => tests.push({ name, body }),
    before: (hook) => before.push(hook),
    after: (hook) => after.push(hook),
    assert,
  }
  runVaultCompliance(target, runner)
  const out: Outcome = { suite, passed: [], failed: [] }
  for (const h of before) await h()
  for (const t of tests) {
    try {
      await t.body()
      out.passed.push(t.name)
    } catch {
      out.failed.push(t.name)
    }
  }
  for (const h of after) await h()
  return out
}

/** `vault` with some methods replaced (a Proxy, so class methods and getters still reach the real vault). */
function tampered(vault: Vault, replace: Partial<Pick<Vault, 'sign' | 'ecdh' | 'random'>>): Vault {
  return new Proxy(vault, {
    get(t, p) {
      const own = (replace as Record<PropertyKey, unknown>)[p]
      if (own) return own
      const v: unknown = Reflect.get(t, p, t)
      return typeof v === 'function' ? v.bind(t) : v
    },
  })
}

describe('vault compliance suite under another runner', () => {
  it('passes a correct vault: every test registered and run', async () => {
    const r = await runRecorded({ name: 'software (memory)', open: () => SoftwareVault.open() })
    assert.equal(r.suite, 'vault compliance: software (memory)')
    assert.deepEqual(r.failed, [])
    assert.equal(r.passed.length, 11)
  })

  it('persistent targets get the persistence test too', async () => {
    let vault: SoftwareVault | undefined
    const r = await runRecorded({ name: 'software, not persistent', persistent: true, open: async () => (vault = await SoftwareVault.open()) })
    // A memory vault forgets its keys on close: claiming persistence must fail exactly that test.
    assert.ok(vault)
    assert.deepEqual(r.failed, ['persistent keys survive close and reopen; session keys do not'])
  })

  it('fails a vault whose signatures do not verify', async () => {
    const r = await runRecorded({
      name: 'bad signatures',
      open: async () => {
        const v = await SoftwareVault.open()
        return tampered(v, {
          sign: async (h, m, o) => {
            const s = await v.sign(h, m, o)
            s[5] = s[5]! ^ 1
            return s
          },
        })
      },
    })
    assert.deepEqual(r.failed, ['signs; signatures verify with both crypto providers and fail for another message', 'runs concurrent operations correctly'])
  })

  it('fails a vault whose ECDH is wrong or whose random bytes repeat', async () => {
    const r = await runRecorded({
      name: 'bad ecdh and random',
      open: async () => {
        const v = await SoftwareVault.open()
        return tampered(v, {
          ecdh: async (h, peer, o) => {
            const s = await v.ecdh(h, peer, o)
            s[0] = s[0]! ^ 1
            return s
          },
          random: async (n, o) => (n > 0 ? new Uint8Array(n) : v.random(n, o)),
        })
      },
    })
    assert.deepEqual(r.failed, ['does ECDH equal to a software computation, both directions', 'returns fresh random bytes of the asked length'])
  })
})
