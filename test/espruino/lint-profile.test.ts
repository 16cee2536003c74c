/**
 * The eslint profile for targets/espruino (eslint.config.js, the Espruino
 * block) refuses what the interpreter lacks or gets wrong:
 * - every section of fixtures/subset-violations.txt, linted as if it were a
 *   file under targets/espruino/src, gets an error whose message contains the
 *   section's title;
 * - fixtures/subset-allowed.txt (constructs the interpreter runs correctly)
 *   gets none;
 * - the real sources under targets/espruino have no subset violation (the
 *   profile's rules and parse errors; other lint findings are `npm run
 *   lint`'s business and are printed here, not asserted).
 * Runs eslint through its programmatic API. One more test runs the allowed
 * fixture in the interpreter (skipped with a printed reason without it), so
 * the allowed list stays true.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, it } from 'node:test'
import { ESLint } from 'eslint'
import { END_MARKER, espruinoPath, runEspruino, skipUnlessEspruino } from './harness.ts'

const REPO = resolve(import.meta.dirname, '../..')
const FIXTURE_PATH = resolve(REPO, 'targets/espruino/src/fixture.js')
const SUBSET_RULES = new Set(['no-restricted-syntax', 'no-restricted-globals', 'no-restricted-properties'])

const eslint = new ESLint({ cwd: REPO })

function sections(text: string): { title: string; code: string }[] {
  const out: { title: string; code: string }[] = []
  for (const part of text.split(/^\/\/\/\/ /m).slice(1)) {
    const nl = part.indexOf('\n')
    out.push({ title: part.slice(0, nl).trim(), code: part.slice(nl + 1) })
  }
  return out
}

describe('eslint profile for targets/espruino', () => {
  it('the profile applies to targets/espruino/**/*.js', async () => {
    const config = (await eslint.calculateConfigForFile(FIXTURE_PATH)) as { rules?: Record<string, unknown> }
    for (const r of SUBSET_RULES) assert.ok(config.rules?.[r], `${r} is not configured for targets/espruino`)
  })

  it('reports every forbidden construct of the fixture', async () => {
    const list = sections(readFileSync(resolve(import.meta.dirname, 'fixtures/subset-violations.txt'), 'utf8'))
    assert.ok(list.length > 0, 'no fixture sections')
    const missed: string[] = []
    for (const s of list) {
      const [r] = await eslint.lintText(s.code, { filePath: FIXTURE_PATH })
      const msgs = r!.messages.map((m) => m.message)
      if (!msgs.some((m) => m.includes(s.title))) missed.push(`${s.title}: ${s.code.trim()} -> ${JSON.stringify(msgs)}`)
    }
    console.log(`# ${list.length} forbidden constructs checked, ${list.length - missed.length} reported`)
    assert.deepEqual(missed, [])
  })

  it('accepts the constructs the interpreter runs', async () => {
    const [r] = await eslint.lintText(readFileSync(resolve(import.meta.dirname, 'fixtures/subset-allowed.txt'), 'utf8'), { filePath: FIXTURE_PATH })
    assert.deepEqual(r!.messages.map((m) => `${m.line}: ${m.ruleId}: ${m.message}`), [])
  })

  it('the allowed fixture runs in the interpreter', { skip: espruinoPath() === null ? skipUnlessEspruino() : false }, async () => {
    const code = readFileSync(resolve(import.meta.dirname, 'fixtures/subset-allowed.txt'), 'utf8')
    const r = await runEspruino(`var exports = {};\n${code}\nexports.all[10].then(function (v) { print('OUT ' + JSON.stringify([v, t, new Sub(2).m(), new Base(3).twice, Fields.y, new Fields().x, sum, o.g, b.length, sep, re])); print('${END_MARKER}'); });`, { only: ['crypto'] })
    const out = r.lines.find((l) => l.startsWith('OUT '))
    assert.deepEqual(JSON.parse(out!.slice(4)), [6, 'v=3', 2, 6, 2, 1, 10, 2, 3, 1000, true])
  })

  it('the real sources under targets/espruino keep the subset', async () => {
    const results = await eslint.lintFiles(['targets/espruino/**/*.js'])
    assert.ok(results.length > 0, 'no sources linted')
    const subset: string[] = []
    let other = 0
    for (const r of results) {
      for (const m of r.messages) {
        if (m.fatal || SUBSET_RULES.has(m.ruleId ?? '')) subset.push(`${r.filePath.slice(REPO.length + 1)}:${m.line}: ${m.message}`)
        else other++
      }
    }
    console.log(`# ${results.length} source files linted; ${subset.length} subset violations; ${other} other lint findings (npm run lint)`)
    assert.deepEqual(subset, [])
  })
})
