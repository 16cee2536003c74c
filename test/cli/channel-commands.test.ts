/**
 * `hopseal secure-channel create` and `hopseal message send` end to end: a
 * long-lived node runtime ("svc": echo, log, XX and reliable listeners, keys
 * in a software vault file) on an embedded aedes broker, and the commands
 * run through main() from a node config file of their own ("app"). Checks
 * what the channel proved (pattern, the peer's key), the echo, the log
 * service, that no private key or plaintext leaks, and every bad input:
 * usage errors exit 2, failures exit 1 with their code.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { toHex } from '../../src/bytes/index.ts'
import { FileKeyStore } from '../../vaults/software/index.ts'
import type { NodeRuntime } from '../../targets/node/runtime/runtime.ts'
import { KK, startCliNet, waitFor, XX, type CliNet, type Run } from './network-fixture.ts'

interface ChannelJson {
  ok: boolean
  to: string
  node: string
  protocol: string
  handshake: string
  reliable: boolean
  peer: { staticKey: string; authenticated: boolean }
  local: { key: string; staticKey: string }
  remoteRoute: string
  handshakeMs: number
}

interface MessageJson extends ChannelJson {
  service: string
  sent: string
  bytes: number
  reply?: string
  replyBytes?: number
  roundTripMs?: number
}

describe('hopseal secure-channel create / message send against a running node', () => {
  let net: CliNet
  let svc: NodeRuntime
  let svcKey = ''
  let appKey = ''
  let strangerKey = ''
  let app = ''
  const svcLines: string[] = []
  const runs: Run[] = []
  const hopseal = async (args: string[]): Promise<Run> => {
    const r = await net.hopseal(args)
    runs.push(r)
    return r
  }
  const to = (listener: string): string => `2#svc;0#${listener}`

  before(async () => {
    net = await startCliNet('hopseal-cli-chan-')
    svcKey = await net.keygen('svc.hsv', 'svc-static')
    appKey = await net.keygen('app.hsv', 'app-static')
    strangerKey = await net.keygen('app.hsv', 'stranger')
    const trust = { knownPeers: [{ key: appKey, name: 'app' }] }
    const svcFile = net.writeConfig('svc', {
      name: 'svc',
      vault: 'software:./svc.hsv',
      transports: { mqtt: { url: net.broker.url } },
      listeners: [
        { address: 'echo', protocol: KK, key: 'svc-static', service: 'echo', trust },
        { address: 'echo-xx', protocol: XX, key: 'svc-static', service: 'echo', trust },
        { address: 'echo-r', protocol: KK, key: 'svc-static', service: 'echo', reliable: true, trust },
        { address: 'sink', protocol: KK, key: 'svc-static', service: 'log', trust },
      ],
    })
    svc = await net.startNode(svcFile, svcLines)
    // The app side: a node config with a vault and a broker, no listener (so --key names its key).
    app = net.writeConfig('app', { name: 'app', vault: 'software:./app.hsv', transports: { mqtt: { url: net.broker.url } } })
  })

  after(async () => {
    await net.close()
  })

  it('secure-channel create (KK, --json) proves the listener holds --peer and reports pattern, keys and route', async () => {
    const before = svc.status().counters['handshake.completed'] ?? 0
    const r = await hopseal(['secure-channel', 'create', '--from', app, '--to', to('echo'), '--peer', svcKey, '--key', 'app-static', '--json'])
    assert.equal(r.code, 0, r.err)
    const j = JSON.parse(r.out) as ChannelJson
    assert.equal(j.ok, true)
    assert.equal(j.handshake, 'KK')
    assert.equal(j.protocol, KK)
    assert.equal(j.to, '2#svc;0#echo')
    assert.deepEqual(j.peer, { staticKey: svcKey, authenticated: true })
    assert.deepEqual(j.local, { key: 'app-static', staticKey: appKey })
    assert.match(j.node, /^app\.cli-[0-9a-f]{6}$/, 'a one-shot MQTT name, not the config name')
    assert.match(j.remoteRoute, /^2#svc;0#/)
    assert.equal(j.reliable, false)
    assert.ok(j.handshakeMs > 0)
    // The listener completed the handshake, and the command's close reached it.
    assert.equal(svc.status().counters['handshake.completed'], before + 1)
    await waitFor(() => svc.status().channels === 0, 10_000, 'the encrypted close to reach the listener')
  })

  it('secure-channel create (XX, text) names the pattern and the authenticated peer', async () => {
    const r = await hopseal(['secure-channel', 'create', '--from', app, '--to', to('echo-xx'), '--peer', svcKey, '--key', 'app-static', '--protocol', XX])
    assert.equal(r.code, 0, r.err)
    const lines = r.out.split('\n')
    assert.match(lines[0]!, /^secure channel established with 2#svc;0#echo-xx \([\d.]+ ms\)$/)
    assert.equal(lines[1], `  protocol  ${XX} (handshake XX)`)
    assert.equal(lines[2], `  peer      ${svcKey} (authenticated: it proved the --peer key)`)
    assert.equal(lines.at(-1), 'closed')
  })

  it('message send prints the echo of the message (text: the reply alone; JSON: reply, bytes, pattern, peer)', async () => {
    const t = await hopseal(['message', 'send', '--from', app, '--to', to('echo'), '--peer', svcKey, '--key', 'app-static', '--message', 'heart rate 72 bpm'])
    assert.equal(t.code, 0, t.err)
    assert.equal(t.out, 'heart rate 72 bpm')
    const j = await hopseal(['message', 'send', '--from', app, '--to', to('echo-xx'), '--peer', svcKey, '--key', 'app-static', '--protocol', XX, '--message', 'ünïcode ✓', '--json'])
    assert.equal(j.code, 0, j.err)
    const m = JSON.parse(j.out) as MessageJson
    assert.equal(m.reply, 'ünïcode ✓')
    assert.equal(m.sent, 'ünïcode ✓')
    assert.equal(m.bytes, Buffer.byteLength('ünïcode ✓'))
    assert.equal(m.replyBytes, m.bytes)
    assert.equal(m.handshake, 'XX')
    assert.equal(m.peer.staticKey, svcKey)
    assert.equal(m.service, 'echo')
    assert.ok(m.roundTripMs! > 0)
  })

  it('message send --reliable to a reliable listener gets its echo', async () => {
    const r = await hopseal(['message', 'send', '--from', app, '--to', to('echo-r'), '--peer', svcKey, '--key', 'app-static', '--reliable', '--message', 'acked ping', '--json'])
    assert.equal(r.code, 0, r.err)
    const m = JSON.parse(r.out) as MessageJson
    assert.equal(m.reliable, true)
    assert.equal(m.reply, 'acked ping')
  })

  it('message send --service log expects no reply; the log service logs the size, never the text', async () => {
    svcLines.length = 0
    const r = await hopseal(['message', 'send', '--from', app, '--to', to('sink'), '--peer', svcKey, '--key', 'app-static', '--service', 'log', '--message', 'secret-reading-99'])
    assert.equal(r.code, 0, r.err)
    assert.equal(r.out, 'sent 17 bytes to 2#svc;0#sink (log service: no reply expected)')
    await waitFor(() => svcLines.some((l) => / message listener=sink /.test(l)), 10_000, 'the log line')
    assert.match(svcLines.find((l) => / message listener=sink /.test(l))!, /bytes=17$/)
    assert.ok(!svcLines.join('\n').includes('secret-reading'))
  })

  it('bad input is a usage error (exit 2) with a hint, before anything connects', async () => {
    const base = ['--from', app, '--peer', svcKey, '--key', 'app-static']
    const cases: [string[], RegExp][] = [
      [['secure-channel', 'create', '--from', app, '--peer', svcKey], /create needs --to ROUTE/],
      [['message', 'send', ...base, '--message', 'x'], /send needs --to ROUTE/],
      [['message', 'send', ...base, '--to', to('echo')], /send needs --message TEXT/],
      [['secure-channel', 'create', '--from', app, '--to', to('echo')], /needs --peer HEX/],
      [['secure-channel', 'create', '--to', to('echo'), '--peer', svcKey], /needs --from FILE/],
      [['secure-channel', 'create', ...base, '--to', '2#'], /--to "2#" does not parse/],
      [['secure-channel', 'create', ...base, '--to', '/node/gateway/service/echo'], /--to "\/node\/gateway\/service\/echo" looks like an Ockam-style route; hopseal routes are TYPE#VALUE hops/],
      [['secure-channel', 'create', ...base, '--to', 'echo'], /--to "echo" starts with a worker on this node \(0#echo\): the first hop must leave it, e\.g\. "2#<MQTT node name>;0#echo"/],
      [['message', 'send', ...base, '--to', '7#x;0#echo', '--message', 'x'], /--to "7#x;0#echo" has a hop of unknown type/],
      [['secure-channel', 'create', '--from', app, '--key', 'app-static', '--to', to('echo'), '--peer', svcKey.slice(2)], /--peer expected a x25519 public key .*32 bytes as 64 hex digits/],
      [['secure-channel', 'create', ...base, '--to', to('echo'), '--timeout', 'soon'], /--timeout expected a duration/],
      [['secure-channel', 'create', ...base, '--to', to('echo'), '--protocol', 'Noise_NK_25519_AESGCM_SHA256'], /pattern NK does not authenticate both sides/],
      [['secure-channel', 'create', '--from', app, '--to', to('echo'), '--peer', svcKey], /has no listener to take this side's key from: give --key LABEL/],
      [['secure-channel', 'open', ...base, '--to', to('echo')], /unknown subcommand "open"/],
      [['secure-channel', 'create', ...base, '--to', to('echo'), '--bogus'], /^hopseal secure-channel: unknown option --bogus$/m],
      [['secure-channel', 'create', ...base, '--to'], /^hopseal secure-channel: option --to needs a value$/m],
      [['message', 'send', ...base, '--to', to('echo'), '--message', 'x', '--service', 'ftp'], /--service expected echo or log/],
      [['message', 'send', ...base, '--to', to('echo'), '--message', ''], /--message expected 1\.\.16384 bytes, got 0/],
    ]
    for (const [args, why] of cases) {
      const r = await hopseal(args)
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`)
      assert.match(r.err, why)
      assert.match(r.err, /\(try: hopseal (secure-channel|message)( create| send)? --help\)/)
      assert.equal(r.out, '')
    }
  })

  it('an unknown route fails with its code: a missing transport at once, a silent peer at the deadline', async () => {
    const serial = await hopseal(['secure-channel', 'create', '--from', app, '--key', 'app-static', '--peer', svcKey, '--to', '3#lora0;0#echo'])
    assert.equal(serial.code, 1)
    assert.match(serial.err, /^error INVALID_ARGUMENT: no transport for address type 3 \(3#lora0\)$/m)
    const nobody = await hopseal(['secure-channel', 'create', '--from', app, '--key', 'app-static', '--peer', svcKey, '--to', '2#nobody;0#echo', '--timeout', '1s'])
    assert.equal(nobody.code, 1)
    assert.match(nobody.err, /^error CHANNEL_HANDSHAKE_TIMEOUT: no valid handshake answer from 2#nobody;0#echo within 1000 ms \(fix: check the route/m)
    const noWorker = await hopseal(['message', 'send', '--from', app, '--key', 'app-static', '--peer', svcKey, '--to', to('nope'), '--message', 'x', '--timeout', '1s'])
    assert.equal(noWorker.code, 1)
    assert.match(noWorker.err, /^error CHANNEL_HANDSHAKE_TIMEOUT: /m)
  })

  it('a wrong peer key fails the handshake: CHANNEL_PEER_REFUSED at once in XX, CHANNEL_HANDSHAKE_TIMEOUT in KK', async () => {
    const xx = await hopseal(['secure-channel', 'create', '--from', app, '--key', 'app-static', '--to', to('echo-xx'), '--protocol', XX, '--peer', strangerKey])
    assert.equal(xx.code, 1)
    assert.match(xx.err, new RegExp(`^error CHANNEL_PEER_REFUSED: the listener at 2#svc;0#echo-xx proved a static key other than --peer ${strangerKey}`, 'm'))
    const kk = await hopseal(['secure-channel', 'create', '--from', app, '--key', 'app-static', '--to', to('echo'), '--peer', strangerKey, '--timeout', '1s'])
    assert.equal(kk.code, 1)
    assert.match(kk.err, /^error CHANNEL_HANDSHAKE_TIMEOUT: /m)
    // A key the listener does not know: KK responders drop message 1 silently; the hint names our public key.
    const unknown = await hopseal(['message', 'send', '--from', app, '--key', 'stranger', '--to', to('echo'), '--peer', svcKey, '--message', 'x', '--timeout', '1s'])
    assert.equal(unknown.code, 1)
    assert.match(unknown.err, new RegExp(`^error CHANNEL_HANDSHAKE_TIMEOUT: .*lists this side's key ${strangerKey} in trust.knownPeers`, 'm'))
  })

  it('a missing key, a bad config and an unreachable broker exit 1 with their codes', async () => {
    const noKey = await hopseal(['secure-channel', 'create', '--from', app, '--key', 'nope', '--to', to('echo'), '--peer', svcKey])
    assert.equal(noKey.code, 1)
    assert.match(noKey.err, /^error VAULT_KEY_NOT_FOUND: no key labelled "nope" .*\(fix: hopseal vault keygen --type x25519 --label nope /m)
    const p256 = await net.keygen('app.hsv', 'app-p256', 'p256')
    assert.ok(p256.length === 66)
    const wrongType = await hopseal(['secure-channel', 'create', '--from', app, '--key', 'app-p256', '--to', to('echo'), '--peer', svcKey])
    assert.equal(wrongType.code, 1)
    assert.match(wrongType.err, /^error VAULT_KEY_TYPE_UNSUPPORTED: key "app-p256" is p256 but Noise_KK_25519_AESGCM_SHA256 needs x25519/m)
    const badFile = net.writeConfig('bad', { name: 'bad', transports: { mqtt: { url: net.broker.url, colour: 'blue' } } })
    const bad = await hopseal(['message', 'send', '--from', badFile, '--key', 'k', '--to', to('echo'), '--peer', svcKey, '--message', 'x'])
    assert.equal(bad.code, 1)
    assert.match(bad.err, /^error CONFIG_INVALID: .*bad\.yaml: transports\.mqtt\.colour/m)
    const away = net.writeConfig('away', { name: 'away', vault: 'software:./app.hsv', transports: { mqtt: { url: 'mqtt://127.0.0.1:1' } } })
    const unreachable = await hopseal(['secure-channel', 'create', '--from', away, '--key', 'app-static', '--to', to('echo'), '--peer', svcKey, '--timeout', '500ms'])
    assert.equal(unreachable.code, 1)
    assert.match(unreachable.err, /^error TRANSPORT_UNAVAILABLE: MQTT broker mqtt:\/\/127\.0\.0\.1:1\/? not reachable within 500 ms/m)
  })

  it('no private key and no plaintext left the processes: not in any output, not at the broker', async () => {
    const stored = await (await FileKeyStore.open(join(net.dir, 'app.hsv'))).load()
    const svcStored = await (await FileKeyStore.open(join(net.dir, 'svc.hsv'))).load()
    assert.ok(stored.length >= 2 && svcStored.length === 1)
    const printed = runs.map((r) => r.out + r.err).join('\n') + svcLines.join('\n')
    for (const s of [...stored, ...svcStored]) assert.ok(!printed.includes(toHex(s.privateKey)), `private key of ${s.label} printed`)
    assert.ok(net.published.length > 10)
    const wire = net.published.join('\n')
    for (const text of ['heart rate 72 bpm', 'acked ping', 'secret-reading-99']) assert.ok(!wire.includes(text), `plaintext ${text} at the broker`)
  })
})
