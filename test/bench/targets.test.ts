/** `npm run bench` flags figures that miss their architecture.md §5 target (issue 19 item 13). */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { targetMet } from '../../bench/figure.ts'

it('targets compare the value (<= N, >= N) or the ratio to the baseline (Nx); unreadable or absent targets are undefined', () => {
  assert.equal(targetMet({ name: 'a', value: 18, unit: 'B', target: '<= 18' }), true)
  assert.equal(targetMet({ name: 'a', value: 19, unit: 'B', target: '<= 18' }), false)
  assert.equal(targetMet({ name: 'b', value: 0.3, unit: 'ms', baseline: { name: 'p', value: 0.2 }, target: '<= 1.2x' }), false)
  assert.equal(targetMet({ name: 'b', value: 0.22, unit: 'ms', baseline: { name: 'p', value: 0.2 }, target: '<= 1.2x' }), true)
  assert.equal(targetMet({ name: 'c', value: 700, unit: 'MB/s', baseline: { name: 'raw', value: 1000 }, target: '>= 0.8x' }), false)
  assert.equal(targetMet({ name: 'd', value: 4931.6, unit: 'ms', target: '<= 4931.6 (2 x 51 B)' }), true)
  assert.equal(targetMet({ name: 'e', value: 1, unit: 'x' }), undefined)
  assert.equal(targetMet({ name: 'f', value: 1, unit: 'x', target: '>= 3x' }), undefined, 'a ratio target without a baseline cannot be judged')
})
