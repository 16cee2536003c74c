/** Channel limits per medium: defaults, overrides, refusals (CONFIG_INVALID naming the key). */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isHopsealError } from '../../src/errors.ts'
import { MEDIUM_LIMITS, resolveLimits, type Medium } from '../../src/channel/limits.ts'
import { REKEY_AFTER_MESSAGES } from '../../src/channel/constants.ts'

const HOUR = 3_600_000

describe('channel limits per medium', () => {
  it('ip follows WireGuard; lora renews twice a day with a day-long hard limit and no keep-alive', () => {
    const ip = resolveLimits({})
    assert.deepEqual([ip.session.renewAfterMs, ip.session.rejectAfterMs, ip.keepaliveMs], [120_000, 180_000, 10_000])
    const lora = resolveLimits({ medium: 'lora' })
    assert.deepEqual([lora.session.renewAfterMs, lora.session.rejectAfterMs, lora.session.rekeyAfterMs, lora.keepaliveMs], [12 * HOUR, 24 * HOUR, 2 * HOUR, 0])
    for (const m of Object.keys(MEDIUM_LIMITS) as Medium[]) {
      const l = MEDIUM_LIMITS[m]
      assert.ok(l.session.renewAfterMs < l.session.rejectAfterMs, `${m}: renewal before the hard limit`)
      assert.ok(l.session.rekeyAfterMessages <= 2 ** 23, `${m}: AES-GCM confidentiality limit (2^23 per key)`)
      assert.equal(l.session.rekeyAfterMessages, REKEY_AFTER_MESSAGES)
    }
  })

  it('overrides win over the medium; nonsense is CONFIG_INVALID naming the key', () => {
    const l = resolveLimits({ medium: 'lora', session: { renewAfterMs: 1000 }, keepaliveMs: 5000, idleTimeoutMs: 0 })
    assert.deepEqual([l.session.renewAfterMs, l.session.rejectAfterMs, l.keepaliveMs, l.idleTimeoutMs], [1000, 24 * HOUR, 5000, 0])
    const bad = (o: Parameters<typeof resolveLimits>[0], re: RegExp) => assert.throws(() => resolveLimits(o), (e: unknown) => isHopsealError(e, 'CONFIG_INVALID') && re.test(e.message))
    bad({ medium: 'wifi' as Medium }, /medium wifi: expected one of ip, lora, ble/)
    bad({ session: { renewAfterMs: 200_000 } }, /renewAfterMs \(200000\) must not exceed rejectAfterMs \(180000\)/)
    bad({ session: { rejectAfterMs: -1 } }, /session\.rejectAfterMs: expected a number ≥ 0/)
    bad({ keepaliveMs: Number.NaN }, /keepaliveMs: expected a number ≥ 0/)
  })
})
