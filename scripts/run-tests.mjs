#!/usr/bin/env node
// Runs every test/**/*.test.ts through Node's test runner with tsx.
// Node 20 does not expand globs (platform-notes trap 3), so we list files here,
// and we fail when no test ran: a runner that matches zero files is a bug.
// Usage: npm test [-- substring ...]   (filters test files by path substring)
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

function find(dir) {
  const out = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...find(p))
    else if (name.endsWith('.test.ts')) out.push(p)
  }
  return out
}

const filters = process.argv.slice(2)
const files = find('test')
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort()
if (files.length === 0) {
  console.error('run-tests: no test files matched')
  process.exit(1)
}

const dir = mkdtempSync(join(tmpdir(), 'hopseal-tests-'))
const tap = join(dir, 'report.tap')
const concurrency = process.env.HOPSEAL_TEST_CONCURRENCY ?? '2'
const args = [
  '--import', 'tsx',
  '--test',
  `--test-concurrency=${concurrency}`,
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=tap', `--test-reporter-destination=${tap}`,
  ...files,
]
const child = spawn(process.execPath, args, { stdio: 'inherit' })
child.on('exit', (code, signal) => {
  let text = ''
  try {
    text = readFileSync(tap, 'utf8')
  } catch {
    /* no report */
  }
  rmSync(dir, { recursive: true, force: true })
  const count = (k) => {
    const m = text.match(new RegExp(`^# ${k} (\\d+)$`, 'm'))
    return m ? Number(m[1]) : 0
  }
  const tests = count('tests')
  const pass = count('pass')
  const fail = count('fail') + count('cancelled')
  const skipped = count('skipped') + count('todo')
  console.log(`\n${files.length} test files`)
  console.log(`tests: ${pass} passed, ${fail} failed, ${skipped} skipped`)
  if (tests === 0) {
    console.error('run-tests: the runner executed no test: failing')
    process.exit(1)
  }
  process.exit(code === 0 && fail === 0 ? 0 : code || 1)
  void signal
})
