/**
 * The node runtime in-process: a listener whose static key lives in a
 * software vault file answers a KK channel over MQTT with its echo service;
 * the log service logs sizes, never payloads; start failures name the config
 * key and close what was opened; the AbortSignal shuts the node down.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { toHex, utf8 } from '../../src/bytes/index.ts'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { createSecureChannel, knownPeers } from '../../src/channel/secure-channel.ts'
import { isHopsealError } from '../../src/errors.ts'
import { softwareStaticKey } from '../../src/noise/index.ts'
import { address, local, Node, TransportType } from '../../src/routing/index.ts'
import { connectMqttTransport, startEmbeddedBroker, type EmbeddedBroker, type MqttTransport } from '../../targets/node/transports/mqtt/index.ts'
import '../../targets/node/vaults.ts'
import { openSoftwareVault } from '../../targets/node/vault-software.ts'
import { validateConfig, type NodeConfig } from '../../targets/node/runtime/config.ts'
import { createLogger } from '../../targets/node/runtime/logger.ts'
import { startNodeRuntime, type NodeRuntime } from '../../targets/node/runtime/runtime.ts'

const crypto = cryptoProvider('node')
const PROTOCOL = 'Noise_KK_25519_AESGCM_SHA256'

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('node runtime with listeners (in-process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hopseal-runtime-'))
  const ctx = { env: {}, home: dir }
  const client = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
  let broker: EmbeddedBroker
  let nodePublic: Uint8Array
  const lines: string[] = []
  const log = createLogger({ name: 'svc', level: 'debug', write: (l) => lines.push(l) })
  const cleanups: (() => Promise<unknown>)[] = []

  const config = (over: Record<string, unknown> = {}): NodeConfig =>
    validateConfig(
      {
        name: 'svc',
        vault: 'software:./node.hsv',
        metrics: { port: 0 },
        transports: { mqtt: { url: broker.url } },
        relay: {},
        listeners: [
          { address: 'echo', protocol: PROTOCOL, key: 'node-static', service: 'echo', trust: { knownPeers: [{ key: toHex(client.publicKey), name: 'client-1' }] } },
          { address: 'sink', protocol: PROTOCOL, key: 'node-static', service: 'log', trust: { knownPeers: [toHex(client.publicKey)] } },
        ],
        ...over,
      },
      { file: 'node.yaml', dir, env: {} },
    )

  async function clientNode(name: string): Promise<Node> {
    const n = new Node({ name })
    const t: MqttTransport = await connectMqttTransport({ url: broker.url, name })
    cleanups.push(() => t.close())
    n.registerTransport(t)
    return n
  }

  before(async () => {
    broker = await startEmbeddedBroker()
    const v = await openSoftwareVault(join(dir, 'node.hsv'), { ...ctx, create: true })
    const h = await v.generateKey('x25519', { label: 'node-static', persistent: true })
    nodePublic = await v.publicKey(h)
    await v.close()
  })

  after(async () => {
    for (const c of cleanups.reverse()) await c()
    await broker.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('echo and log services behind vault-keyed KK listeners; metrics and status see the channels', async () => {
    const rt: NodeRuntime = await startNodeRuntime(config(), { log, vaultContext: ctx })
    cleanups.push(() => rt.close())
    const c = await clientNode('client')
    await waitFor(() => rt.status().transports.every((t) => t.up), 10_000, 'the node connected to the broker')
    const echoes: string[] = []
    const opts = { protocol: PROTOCOL, s: client, rs: nodePublic, auth: knownPeers([{ staticKey: nodePublic }]) }
    const ch = await createSecureChannel(c, [address(TransportType.MQTT, 'svc'), local('echo')], { ...opts, deliverTo: (p) => echoes.push(new TextDecoder().decode(p)) })
    await ch.send(utf8('ping-1'))
    await ch.send(utf8('ping-2'))
    await waitFor(() => echoes.length === 2, 10_000, 'two echoes')
    assert.deepEqual(echoes.sort(), ['ping-1', 'ping-2'])

    const sink = await createSecureChannel(c, [address(TransportType.MQTT, 'svc'), local('sink')], opts)
    await sink.send(utf8('secret-reading-42'))
    await waitFor(() => lines.some((l) => / message listener=sink /.test(l)), 10_000, 'the log service line')
    const logged = lines.find((l) => / message listener=sink /.test(l))!
    assert.match(logged, /peer=[0-9a-f]{16} bytes=17$/)
    assert.ok(!lines.join('\n').includes('secret-reading'), 'the log service never logs payloads')

    const status = rt.status()
    assert.equal(status.state, 'running')
    assert.equal(status.channels, 2)
    const text = await (await fetch(`${rt.metricsUrl}/metrics`)).text()
    assert.match(text, /^hopseal_channels 2$/m)
    assert.match(text, /^hopseal_handshakes_total\{code="",result="ok"\} 2$/m)
    assert.match(lines.join('\n'), / listener started address=echo protocol=Noise_KK_25519_AESGCM_SHA256 service=echo peers=1 label=node-static/)
    await rt.close()
    assert.match(lines.at(-1)!, / stopped$/)
    await assert.rejects(fetch(`${rt.metricsUrl}/healthz`), 'the endpoint is closed after shutdown')
  })

  it('refused handshakes are logged at info with the listener and the code (silent on the wire, loud in the log), one line per code per minute', async () => {
    lines.length = 0
    const rt: NodeRuntime = await startNodeRuntime(config({ metrics: undefined }), { log, vaultContext: ctx })
    cleanups.push(() => rt.close())
    const c = await clientNode('stranger')
    await waitFor(() => rt.status().transports.every((t) => t.up), 10_000, 'the node connected to the broker')
    const stranger = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
    for (let i = 0; i < 3; i++) {
      await assert.rejects(
        createSecureChannel(c, [address(TransportType.MQTT, 'svc'), local('echo')], { protocol: PROTOCOL, s: stranger, rs: nodePublic, auth: knownPeers([{ staticKey: nodePublic }]), retransmit: { initialMs: 50, maxMs: 50, attempts: 2 } }),
        (e: unknown) => isHopsealError(e, 'CHANNEL_HANDSHAKE_TIMEOUT'),
      )
    }
    const refusals = lines.filter((l) => / handshake refused /.test(l))
    assert.equal(refusals.length, 1, lines.join('\n'))
    assert.match(refusals[0]!, / info +svc handshake refused listener=echo code=NOISE_DECRYPT_FAILED reason="message 1 authenticates under none of the 1 known initiator key \(an unknown device/)
    await rt.close()
  })

  it('a missing listener key fails the start naming the config key and the fix, and closes what was opened', async () => {
    const bad = config()
    bad.listeners[0]!.key = 'nope'
    lines.length = 0
    await assert.rejects(startNodeRuntime(bad, { log, vaultContext: ctx }), (e: unknown) => {
      assert.ok(isHopsealError(e, 'VAULT_KEY_NOT_FOUND'))
      assert.match(e.message, /node\.yaml: listeners\[0\]\.key: no key labelled "nope" in vault .* \(fix: hopseal vault keygen --type x25519 --label nope /)
      return true
    })
    const text = lines.join('\n')
    assert.match(text, / start failed /)
    assert.match(text, / closed what=mqtt/)
    assert.match(text, / closed what=vault/)
    assert.match(lines.at(-1)!, / stopped$/)
  })

  it('a P-256 protocol with an x25519 key is refused with the fix', async () => {
    const p256Peer = toHex(softwareStaticKey(crypto, crypto.generateKeyPair('p256')).publicKey)
    const bad = config({ listeners: [{ address: 'hr', protocol: 'Noise_KK_P256_AESGCM_SHA256', key: 'node-static', service: 'echo', trust: { knownPeers: [p256Peer] } }], metrics: undefined })
    await assert.rejects(startNodeRuntime(bad, { log, vaultContext: ctx }), /VAULT_KEY_TYPE_UNSUPPORTED: .*listeners\[0\]\.key: key "node-static" is x25519 but Noise_KK_P256_AESGCM_SHA256 needs p256/)
  })

  it('aborting the signal shuts the node down; a pre-aborted signal fails the start with ABORTED', async () => {
    const ac = new AbortController()
    lines.length = 0
    const rt = await startNodeRuntime(config({ listeners: [] , vault: undefined }), { log, signal: ac.signal, vaultContext: ctx })
    assert.equal(rt.status().state, 'running')
    ac.abort()
    await waitFor(() => rt.status().state === 'stopped', 10_000, 'the shutdown')
    await rt.close() // idempotent
    assert.equal(lines.filter((l) => / stopped$/.test(l)).length, 1)
    await assert.rejects(startNodeRuntime(config(), { log, signal: AbortSignal.abort(), vaultContext: ctx }), (e: unknown) => isHopsealError(e, 'ABORTED'))
  })
})
