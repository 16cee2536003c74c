/**
 * The README's promises: its quickstart's first command is `npm install &&
 * npm start` and npm start runs the demo; its library example is the code of
 * examples/readme-channel.ts between the `begin readme` / `end readme`
 * markers, and that file runs and prints the reading the phone received.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { it } from 'node:test'
import { promisify } from 'node:util'

const ROOT = resolve(import.meta.dirname, '../..')
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')

it('the quickstart is two commands: npm install && npm start, then npm test', () => {
  const block = /## Quickstart\s+```sh\n([\s\S]*?)```/.exec(readme)
  assert.ok(block, 'a Quickstart section with a sh block')
  const lines = block[1]!.trim().split('\n').map((l) => l.replace(/#.*/, '').trim())
  assert.deepEqual(lines, ['npm install && npm start', 'npm test'])
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  assert.equal(pkg.scripts.start, 'node bin/hopseal.js demo')
})

it('npm start --silent -- --json, as the README writes it, prints one JSON summary and nothing else on stdout', async () => {
  assert.ok(readme.includes('`npm start --silent -- --json`'))
  const { stdout } = await promisify(execFile)('npm', ['start', '--silent', '--', '--json', '--duration', '2s'], { cwd: ROOT, timeout: 120_000 })
  const s = JSON.parse(stdout) as { ok: boolean; scenario: string }
  assert.equal(s.scenario, 'heart-rate')
  assert.equal(s.ok, true)
})

it('the library example in the README is examples/readme-channel.ts, and it runs', async () => {
  const src = readFileSync(join(ROOT, 'examples/readme-channel.ts'), 'utf8')
  const body = /\/\/ begin readme\n([\s\S]*?)\/\/ end readme/.exec(src)![1]!.trim()
  const lines = body.split('\n').filter((l) => l.trim() !== '')
  console.log(`# README example: ${lines.length} lines`)
  assert.ok(lines.length <= 10, `${lines.length} lines`)
  for (const l of lines) assert.ok(readme.includes(l), `README has: ${l}`)
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/readme-channel.ts'], { cwd: ROOT, timeout: 60_000 })
  assert.equal(stdout.trim(), 'phone received: 72 bpm')
})
