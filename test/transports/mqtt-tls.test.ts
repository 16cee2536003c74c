/**
 * MQTT over TLS (`mqtts://`) to a real Mosquitto with a throwaway test CA:
 * the `tls` options pass through, and a certificate that does not verify
 * fails the first connect at once (retrying cannot fix it).
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { isHopsealError } from '../../src/errors.ts'
import { address, addressToString, TransportType } from '../../src/routing/address.ts'
import { connectMqttTransport } from '../../targets/node/transports/mqtt/index.ts'
import { needMosquitto, startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts'
import { needSystem } from '../helpers/system.ts'
import { collect } from './mqtt-fixtures.ts'

/** A P-256 CA and a server certificate for IP 127.0.0.1, valid for a day. */
function makeCerts(dir: string): { ca: string; cert: string; key: string } {
  const f = (n: string): string => join(dir, n)
  const ssl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'pipe' })
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  ssl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '1', '-subj', '/CN=hopseal test CA')
  ssl('req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1')
  writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1\n')
  ssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.crt'), '-days', '1', '-extfile', f('ext.cnf'))
  return { ca: f('ca.crt'), cert: f('server.crt'), key: f('server.key') }
}

describe('MQTT over TLS to Mosquitto', { skip: needMosquitto() || needSystem('openssl') }, () => {
  let dir: string
  let m: Mosquitto
  let ca: string

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hopseal-mqtt-tls-'))
    const c = makeCerts(dir)
    ca = readFileSync(c.ca, 'utf8')
    m = await startMosquitto({ tls: { certfile: c.cert, keyfile: c.key } })
  })
  after(async () => {
    await m?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('carries messages both ways over mqtts:// with the CA given in `tls.ca`', async () => {
    assert.match(m.url, /^mqtts:\/\//)
    const a = await connectMqttTransport({ url: m.url, name: 'tls-a', tls: { ca } })
    const b = await connectMqttTransport({ url: m.url, name: 'tls-b', tls: { ca } })
    try {
      const rb = collect(b)
      await a.send(address(TransportType.MQTT, 'tls-b'), Uint8Array.of(0x71, 0x00, 0xff))
      const [r] = await rb.take(1)
      assert.deepEqual(r!.bytes, Uint8Array.of(0x71, 0x00, 0xff))
      assert.equal(addressToString(r!.from), '2#tls-a')
      assert.equal(a.protocolVersion, 5)
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('fails the first connect at once when the certificate does not verify (unknown CA, wrong host name)', async () => {
    const bad: [string, Parameters<typeof connectMqttTransport>[0]][] = [
      ['unknown CA', { url: m.url, name: 'tls-x' }],
      ['wrong host', { url: m.url.replace('127.0.0.1', 'localhost'), name: 'tls-y', tls: { ca } }],
    ]
    for (const [why, opts] of bad) {
      await assert.rejects(connectMqttTransport({ ...opts, connectTimeoutMs: 30_000 }), (e: unknown) => {
        assert.ok(isHopsealError(e, 'TRANSPORT_UNAVAILABLE'), `${why}: ${String(e)}`)
        assert.match((e as Error).message, /TLS certificate rejected/, why)
        return true
      })
    }
  })
})
