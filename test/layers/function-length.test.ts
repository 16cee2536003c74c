/**
 * Issue 14: no function in src, vaults or targets over 80 lines. Every .ts file
 * is parsed with the TypeScript compiler API (scripts/function-length.ts); every
 * function, method, accessor, constructor, arrow and function expression is
 * measured from its first token to its last. A fixture with an 81-line
 * function proves the check fails, and one of exactly 80 that it does not.
 */
import assert from 'node:assert/strict'
import { join, resolve } from 'node:path'
import { describe, it } from 'node:test'
import { CHECKED_FOLDERS, MAX_FUNCTION_LINES, measureFunctions, measureTree, overLimit } from '../../scripts/function-length.ts'

const ROOT = resolve(import.meta.dirname, '../..')
const FIXTURE = join(import.meta.dirname, 'fixtures/long-function')

describe('function length', () => {
  it('measures every function form, nested ones on their own too, from first to last line', () => {
    const fns = measureFunctions('f.ts', [
      'function a() {', //            1: a, 5 lines
      '  const b = () => {', //       2: b, 3 lines
      '    return 1', //
      '  }', //
      '}', //
      'class C {', //
      '  constructor() {}', //        7: constructor, 1 line
      '  m(): void {', //             8: m, 2 lines
      '  }', //
      '  get g() { return 1 }', //    10: g
      '}', //
      'call(function () {', //        12: callback, 2 lines
      '})', //
      'declare function d(): void', // no body: not a function to measure
    ].join('\n'))
    assert.deepEqual(fns.map((f) => [f.name, f.line, f.lines]), [
      ['a', 1, 5],
      ['b', 2, 3],
      ['constructor', 7, 1],
      ['m', 8, 2],
      ['g', 10, 1],
      ['<callback of call>', 12, 2],
    ])
  })

  it('fails on the fixture: the 81-line function is named with file:line, the 80-line one passes', () => {
    const r = measureTree(FIXTURE, ['src'])
    assert.equal(r.files, 1)
    assert.deepEqual(overLimit(r.functions), ['src/long.ts:3 tooLong (81 lines)'])
    assert.ok(r.functions.some((f) => f.name === 'atTheLimit' && f.lines === MAX_FUNCTION_LINES))
  })

  it(`the tree: no function in ${CHECKED_FOLDERS.join(', ')} over ${MAX_FUNCTION_LINES} lines`, () => {
    const r = measureTree(ROOT)
    const long = overLimit(r.functions)
    console.log(`# function length: ${r.files} files, ${r.functions.length} functions checked, ${long.length} over ${MAX_FUNCTION_LINES} lines`)
    assert.ok(r.files > 100 && r.functions.length > 1000, `${r.files} files, ${r.functions.length} functions: the walk found the tree`)
    assert.deepEqual(long, [], 'split these into named phases (issue 14)')
  })
})
