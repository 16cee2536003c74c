import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ErrorCode } from '../../src/errors.ts'
import { allowList, authorize, parsePolicy, PolicyParseError, subjectAttributes, type VerifiedCredential } from '../../src/identity/index.ts'
import { throwsCode } from './helpers.ts'

const ID_A = 'I' + 'a'.repeat(40)
const ID_B = 'I' + 'b'.repeat(40)
const subject = new Map<string, string | Uint8Array>([
  ['identifier', ID_A],
  ['role', 'gateway'],
  ['site', 'ward-3'],
  ['fw', new Uint8Array([1, 2])],
  ['fw2', new Uint8Array([1, 2])],
])
const resource = { name: 'heart-rate', site: 'ward-3' }

describe('trust policies', () => {
  const table: [string, boolean][] = [
    ['subject.role = "gateway" and subject.site in ["ward-3", "ward-4"]', true],
    ['subject.role = "gateway" and subject.site in ["ward-4"]', false],
    ['subject.role = "monitor" or subject.site = resource.site', true],
    ['not subject.role = "monitor"', true],
    ['subject.role != "monitor"', true],
    ['subject.missing != "x"', false],
    ['not subject.missing = "x"', true],
    ['subject.missing = subject.missing', false],
    ['exists subject.site and not exists subject.missing', true],
    ['exists resource.name', true],
    ['subject.fw = subject.fw2', true],
    ['subject.fw = "\\u0001\\u0002"'.replace(/\\u0001\\u0002/, '\u0001\u0002'), false],
    ['subject.fw in ["x"]', false],
    ['subject.role in []', false],
    ['(subject.role = "x" or subject.role = "gateway") and (resource.name = "heart-rate")', true],
    ['subject.role = "x" or subject.role = "gateway" and resource.name = "nope"', false],
    ['not not true', true],
    ['false or subject.identifier = "' + ID_A + '"', true],
    ['"gateway" = subject.role', true],
    ['subject.quote = "a\\"b\\\\c"', false],
    ['subject.constructor = "x" or exists subject.__proto__ or exists subject.toString', false],
  ]
  it('evaluates expressions (table)', () => {
    let n = 0
    for (const [src, want] of table) {
      assert.equal(parsePolicy(src).evaluate({ subject, resource }), want, src)
      n++
    }
    console.log(`policy table: ${n} passed, 0 failed`)
  })

  it('string escapes and plain-object contexts', () => {
    assert.equal(parsePolicy('subject.q = "a\\"b\\\\c"').evaluate({ subject: { q: 'a"b\\c' } }), true)
    assert.equal(parsePolicy('subject.q = "x"').evaluate({ subject: Object.create({ q: 'x' }) as Record<string, string> }), false, 'inherited properties are not attributes')
  })

  it('evaluation is total: missing scopes, hostile contexts and wrong value types are false', () => {
    const p = parsePolicy('subject.role = "gateway"')
    assert.equal(p.evaluate({}), false)
    assert.equal(p.evaluate({ subject: { role: 5 } as unknown as Record<string, string> }), false)
    const hostile = new Proxy({}, { getOwnPropertyDescriptor: () => { throw new Error('boom') } })
    assert.equal(p.evaluate({ subject: hostile }), false)
    assert.equal(p.evaluate(null as unknown as object), false)
  })

  const bad: [string, number][] = [
    ['subject.role = ', 15],
    ['subject.role == "x"', 14],
    ['subject.role = "x', 15],
    ['role = "x"', 0],
    ['subject. = "x"', 0],
    ['subject.role in ["a",]', 21],
    ['subject.role in ["a" "b"]', 21],
    ['(subject.role = "x"', 19],
    ['subject.role = "x")', 18],
    ['subject.role ! "x"', 13],
    ['subject.role = "x" and', 22],
    ['exists "x"', 7],
    ['subject.role # 1', 13],
    ['subject.role = "\\n"', 16],
    ['subject.role in [subject.site]', 17],
  ]
  it('parse errors are POLICY_PARSE with the position', () => {
    let n = 0
    for (const [src, pos] of bad) {
      assert.throws(
        () => parsePolicy(src),
        (e: unknown) => e instanceof PolicyParseError && e.code === ErrorCode.POLICY_PARSE && e.position === pos,
        `${src} → expected position ${pos}, got ${(() => {
          try {
            parsePolicy(src)
            return 'no error'
          } catch (e) {
            return (e as Error).message
          }
        })()}`,
      )
      n++
    }
    console.log(`policy parse errors: ${n} passed, 0 failed`)
  })

  it('limits: depth, length, list size', () => {
    throwsCode(() => parsePolicy('('.repeat(40) + 'true' + ')'.repeat(40)), ErrorCode.POLICY_PARSE)
    throwsCode(() => parsePolicy('not '.repeat(40) + 'true'), ErrorCode.POLICY_PARSE)
    assert.equal(parsePolicy('('.repeat(20) + 'true' + ')'.repeat(20)).evaluate({}), true)
    throwsCode(() => parsePolicy('true or '.repeat(600) + 'true'), ErrorCode.POLICY_PARSE)
    throwsCode(() => parsePolicy(`subject.a in [${Array.from({ length: 257 }, () => '"x"').join(',')}]`), ErrorCode.POLICY_PARSE)
  })

  it('allow-lists and authorize', () => {
    const p = allowList([ID_A])
    assert.equal(p.evaluate({ subject: { identifier: ID_A } }), true)
    assert.equal(p.evaluate({ subject: { identifier: ID_B } }), false)
    assert.equal(p.evaluate({}), false)
    throwsCode(() => allowList(['nope']), ErrorCode.INVALID_ARGUMENT)
    throwsCode(() => authorize(p, { subject: { identifier: ID_B } }), ErrorCode.POLICY_DENIED)
    authorize(p, { subject: subjectAttributes(ID_A) })
  })

  it('subjectAttributes merges credentials, drops conflicts, ignores other subjects, and owns "identifier"', () => {
    const cred = (subject: string, attrs: [string, string][]): VerifiedCredential => ({ id: '0'.repeat(32), issuer: ID_B, changeIndex: 0, subject, attributes: new Map(attrs), notBefore: 0, expires: 1 })
    const a = subjectAttributes(ID_A, [cred(ID_A, [['role', 'gateway'], ['site', 'ward-3']]), cred(ID_A, [['site', 'ward-4']]), cred(ID_B, [['admin', 'yes']])])
    assert.equal(a.get('role'), 'gateway')
    assert.equal(a.has('site'), false)
    assert.equal(a.has('admin'), false)
    assert.equal(a.get('identifier'), ID_A)
  })
})
