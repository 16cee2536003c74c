/**
 * `hopseal node validate|start|status` through main() in process: validate
 * the example gateway config, start a listener node from a config file (on an
 * embedded aedes broker), ask it for its status, talk to it with
 * `hopseal message send`, and stop it through io.signal (as SIGINT would).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { KK, startCliNet, waitFor, type CliNet } from './network-fixture.ts'

describe('hopseal node validate / start / status', () => {
  let net: CliNet
  before(async () => {
    net = await startCliNet('hopseal-cli-node-')
  })
  after(async () => {
    await net.close()
  })

  it('validate checks examples/gateway.yaml and prints its normalised form (text and JSON)', async () => {
    const j = await net.hopseal(['node', 'validate', '--config', 'examples/gateway.yaml', '--json'])
    assert.equal(j.code, 0, j.err)
    const doc = JSON.parse(j.out) as { ok: boolean; file: string; warnings: string[]; config: { name: string; gateway: { routes: Record<string, string> } } }
    assert.equal(doc.ok, true)
    assert.match(doc.file, /examples\/gateway\.yaml$/)
    assert.equal(doc.config.name, 'gateway')
    assert.deepEqual(doc.config.gateway.routes, { 1: '2#phone;0#hr' })
    const t = await net.hopseal(['node', 'validate', '--config', 'examples/gateway.yaml'])
    assert.equal(t.code, 0, t.err)
    assert.match(t.out, /^# .*examples\/gateway\.yaml: ok\nname: gateway\n/)
    const bad = await net.hopseal(['node', 'validate', '--config', net.writeConfig('typo', { name: 'x', transport: {} })])
    assert.equal(bad.code, 1)
    assert.match(bad.err, /^error CONFIG_INVALID: .*typo\.yaml: .*transport.*did you mean "transports"/m)
    assert.equal((await net.hopseal(['node', 'validate'])).code, 2)
    // a vault path that names no key store fails validation instead of passing and then blaming a missing key
    const typo = await net.hopseal(['node', 'validate', '--config', net.writeConfig('vault-typo', { name: 'v', vault: 'software:./reel.hsv', transports: { mqtt: { url: 'mqtt://127.0.0.1:1' } } })])
    assert.equal(typo.code, 1, typo.out)
    assert.match(typo.err, /^error CONFIG_INVALID: .*vault-typo\.yaml: vault: no key store at .*reel\.hsv \(fix: check the path; hopseal vault keygen --vault software:.*reel\.hsv creates one\)/m)
    const started = await net.hopseal(['node', 'start', '--config', net.writeConfig('vault-typo', { name: 'v', vault: 'software:./reel.hsv', transports: { mqtt: { url: 'mqtt://127.0.0.1:1' } } })])
    assert.equal(started.code, 1)
    assert.match(started.err, /VAULT_STORE_IO: no key store at .*reel\.hsv/)
  })

  it('start runs a node from its config until io.signal aborts (exit 0); status and message send reach it', async () => {
    const svcKey = await net.keygen('svc.hsv', 'svc-static')
    const appKey = await net.keygen('app.hsv', 'app-static')
    const file = net.writeConfig('svc', {
      name: 'svc',
      vault: 'software:./svc.hsv',
      metrics: { port: 0 },
      transports: { mqtt: { url: net.broker.url } },
      listeners: [{ address: 'echo', protocol: KK, key: 'svc-static', service: 'echo', trust: { knownPeers: [appKey] } }],
    })
    const stop = new AbortController()
    const logs: string[] = []
    const started = net.hopseal(['node', 'start', '--config', file, '--log-level', 'info'], { signal: stop.signal, onErr: (l) => logs.push(l) })
    let exited = false
    void started.then(() => (exited = true))
    await waitFor(() => logs.some((l) => / ready /.test(l)) || exited, 15_000, 'the node to be ready')
    const url = / ready metrics=(http:\/\/127\.0\.0\.1:\d+) /.exec(logs.find((l) => / ready /.test(l)) ?? '')?.[1]
    assert.ok(url, logs.join('\n'))
    await waitFor(() => logs.some((l) => / mqtt connected /.test(l)), 10_000, 'the broker connection')

    const s = await net.hopseal(['node', 'status', '--url', url, '--json'])
    assert.equal(s.code, 0, s.err)
    const status = JSON.parse(s.out) as { name: string; state: string; transports: { transport: string; up: boolean }[] }
    assert.equal(status.name, 'svc')
    assert.equal(status.state, 'running')
    assert.deepEqual(status.transports.map((t) => [t.transport, t.up]), [['mqtt', true]])
    const text = await net.hopseal(['node', 'status', '--url', url])
    assert.equal(text.code, 0, text.err)
    assert.match(text.out, /svc/)

    const app = net.writeConfig('app', { name: 'app', vault: 'software:./app.hsv', transports: { mqtt: { url: net.broker.url } } })
    const m = await net.hopseal(['message', 'send', '--from', app, '--key', 'app-static', '--to', '2#svc;0#echo', '--peer', svcKey, '--message', 'hello node'])
    assert.equal(m.code, 0, m.err)
    assert.equal(m.out, 'hello node')

    stop.abort()
    const end = await started
    assert.equal(end.code, 0, end.err)
    assert.match(logs.join('\n'), / signal received, shutting down signal=SIGINT/)
    assert.match(logs.at(-1)!, / stopped$/)
    const gone = await net.hopseal(['node', 'status', '--url', url])
    assert.equal(gone.code, 1)
    assert.match(gone.err, /^error TRANSPORT_UNAVAILABLE: no node answers at /m)
  })

  it('status --config needs a metrics: section (usage error), and --url with --config is refused', async () => {
    const noMetrics = net.writeConfig('plain', { name: 'plain', transports: { mqtt: { url: net.broker.url } } })
    const r = await net.hopseal(['node', 'status', '--config', noMetrics])
    assert.equal(r.code, 2)
    assert.match(r.err, /has no metrics: section/)
    const both = await net.hopseal(['node', 'status', '--config', noMetrics, '--url', 'http://127.0.0.1:1'])
    assert.equal(both.code, 2)
    assert.match(both.err, /give --url or --config, not both/)
  })
})
