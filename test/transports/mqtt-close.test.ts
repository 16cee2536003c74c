/**
 * close() during the background connect leaves nothing running: a process
 * that connects (connectTimeoutMs 0), closes at once and closes its broker
 * exits on its own. mqtt.js used to keep a reconnect interval alive when the
 * socket closed after end() (a node runtime whose start failed never exited).
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { resolve } from 'node:path'
import { it } from 'node:test'
import { promisify } from 'node:util'

const ROOT = resolve(import.meta.dirname, '../..')
const script = (delayMs: number) => `
import { connectMqttTransport, startEmbeddedBroker } from './targets/node/transports/mqtt/index.ts'
const b = await startEmbeddedBroker()
const t = await connectMqttTransport({ url: b.url, name: 'x', connectTimeoutMs: 0 })
await new Promise((r) => setTimeout(r, ${delayMs}))
await t.close()
await b.close()
console.log('closed', t.connected)
`

for (const delay of [0, 1, 5]) {
  it(`close() ${delay} ms into the background connect: the process exits by itself`, async () => {
    // The child is killed after 20 s: a leaked reconnect timer fails the test, it cannot hang the suite.
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(delay)], { cwd: ROOT, timeout: 20_000 })
    assert.equal(stdout.trim(), 'closed false')
  })
}
