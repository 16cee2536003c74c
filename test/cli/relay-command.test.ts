/**
 * `hopseal relay create` end to end: a long-lived node runtime with a relay
 * ("svc") on an embedded aedes broker; a one-shot node from the "monitor"
 * config registers an alias there and serves its echo listener behind it; a
 * third party ("third", its own config) reaches that listener only through
 * the alias, with `hopseal message send` and `secure-channel create`. The
 * holder stops on its abort signal (as on SIGINT) or after --duration.
 * Registrations are signed by the holder's `--key`; another key cannot take
 * the alias (RELAY_ALIAS_TAKEN), before or after the holder's exit.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { NodeRuntime } from '../../targets/node/runtime/runtime.ts'
import { KK, startCliNet, waitFor, type CliNet } from './network-fixture.ts'

interface Registered {
  event: 'registered'
  alias: string
  at: string
  route: string
  node: string
  listeners: Record<string, string>
}

describe('hopseal relay create against a running relay node', () => {
  let net: CliNet
  let svc: NodeRuntime
  let monitorKey = ''
  let thirdKey = ''
  let monitor = ''
  let third = ''

  before(async () => {
    net = await startCliNet('hopseal-cli-relay-')
    monitorKey = await net.keygen('monitor.hsv', 'monitor-static')
    await net.keygen('monitor.hsv', 'monitor-relay', 'p256')
    thirdKey = await net.keygen('third.hsv', 'third-static')
    await net.keygen('third.hsv', 'third-relay', 'p256')
    await net.keygen('svc.hsv', 'svc-static')
    svc = await net.startNode(net.writeConfig('svc', { name: 'svc', transports: { mqtt: { url: net.broker.url } }, relay: { maxAliases: 16 } }), [])
    monitor = net.writeConfig('monitor', {
      name: 'monitor',
      vault: 'software:./monitor.hsv',
      transports: { mqtt: { url: net.broker.url } },
      listeners: [{ address: 'echo', protocol: KK, key: 'monitor-static', service: 'echo', trust: { knownPeers: [{ key: thirdKey, name: 'third' }] } }],
    })
    third = net.writeConfig('third', { name: 'third', vault: 'software:./third.hsv', transports: { mqtt: { url: net.broker.url } } })
  })

  after(async () => {
    await net.close()
  })

  /** Starts `relay create --json` and resolves with its registration line; `done` is its exit. */
  async function holdRelay(name: string): Promise<{ reg: Registered; stop: AbortController; done: Promise<{ code: number; out: string; err: string }> }> {
    const stop = new AbortController()
    const lines: string[] = []
    const done = net.hopseal(['relay', 'create', '--from', monitor, '--at', '2#svc', '--name', name, '--key', 'monitor-relay', '--json'], { signal: stop.signal, onOut: (l) => lines.push(l) })
    let finished = false
    void done.then(() => (finished = true))
    await waitFor(() => lines.length > 0 || finished, 15_000, 'the registration line')
    if (lines.length === 0) assert.fail(`relay create exited early: ${JSON.stringify(await done)}`)
    return { reg: JSON.parse(lines[0]!) as Registered, stop, done }
  }

  const send = (route: string, message: string, timeout = '10s'): Promise<{ code: number; out: string; err: string }> =>
    net.hopseal(['message', 'send', '--from', third, '--key', 'third-static', '--to', route, '--peer', monitorKey, '--message', message, '--timeout', timeout])

  it('registers the alias, and a third party reaches the listener behind it through the relay; abort stops it with exit 0', async () => {
    const before = svc.status().counters['relay.registered'] ?? 0
    const h = await holdRelay('monitor-7')
    assert.equal(h.reg.alias, 'fwd.monitor-7')
    assert.equal(h.reg.at, '2#svc;0#relay')
    assert.equal(h.reg.route, '2#svc;0#fwd.monitor-7')
    assert.deepEqual(h.reg.listeners, { echo: '2#svc;0#fwd.monitor-7;0#echo' })
    assert.match(h.reg.node, /^monitor\.cli-[0-9a-f]{6}$/)
    assert.equal(svc.status().counters['relay.registered'], before + 1)

    const r = await send(h.reg.listeners.echo!, 'through the relay')
    assert.equal(r.code, 0, r.err)
    assert.equal(r.out, 'through the relay')
    const ch = await net.hopseal(['secure-channel', 'create', '--from', third, '--key', 'third-static', '--to', h.reg.listeners.echo!, '--peer', monitorKey, '--json'])
    assert.equal(ch.code, 0, ch.err)
    const j = JSON.parse(ch.out) as { handshake: string; peer: { staticKey: string } }
    assert.equal(j.handshake, 'KK')
    assert.equal(j.peer.staticKey, monitorKey)
    // The holder's own config name is not an MQTT address: the alias is the way in.
    const direct = await send('2#monitor;0#echo', 'direct', '500ms')
    assert.equal(direct.code, 1)
    assert.match(direct.err, /^error CHANNEL_HANDSHAKE_TIMEOUT: /m)
    assert.ok(!net.published.join('\n').includes('through the relay'), 'the relay and the broker saw ciphertext only')

    h.stop.abort()
    const end = await h.done
    assert.equal(end.code, 0, end.err)
    assert.deepEqual(JSON.parse(end.out.split('\n').at(-1)!), { event: 'stopped', reason: 'signal' })
    const gone = await send(h.reg.listeners.echo!, 'anyone there?', '500ms')
    assert.equal(gone.code, 1, 'nothing answers behind the alias once the holder stopped')
    assert.match(gone.err, /^error CHANNEL_HANDSHAKE_TIMEOUT: /m)
  })

  it('registering the alias again moves it to the new holder (mobility); another key cannot take it', async () => {
    const hijack = () => net.hopseal(['relay', 'create', '--from', third, '--at', '2#svc', '--name', 'monitor-7', '--key', 'third-relay', '--duration', '100ms'])
    const refused = await hijack() // while nobody holds the alias: the binding outlives the registration
    assert.equal(refused.code, 1)
    assert.match(refused.err, /^error RELAY_ALIAS_TAKEN: the relay at 2#svc;0#relay refused monitor-7 \(fix: another key registered this alias first/m)
    const h = await holdRelay('monitor-7')
    try {
      const r = await send(h.reg.listeners.echo!, 'moved')
      assert.equal(r.code, 0, r.err)
      assert.equal(r.out, 'moved')
      const before = svc.status().counters['drop.relay_alias_taken'] ?? 0
      assert.equal((await hijack()).code, 1)
      assert.equal(svc.status().counters['drop.relay_alias_taken'], before + 1)
      const still = await send(h.reg.listeners.echo!, 'still mine')
      assert.equal(still.out, 'still mine', still.err)
    } finally {
      h.stop.abort()
      assert.equal((await h.done).code, 0)
    }
  })

  it('--duration holds for that long, then exits 0 (text output names the routes)', async () => {
    const r = await net.hopseal(['relay', 'create', '--from', monitor, '--at', '2#svc;0#relay', '--name', 'short', '--key', 'monitor-relay', '--duration', '100ms'])
    assert.equal(r.code, 0, r.err)
    assert.deepEqual(r.out.split('\n'), [
      'relay fwd.short registered at 2#svc;0#relay',
      '  listener echo: peers reach it at 2#svc;0#fwd.short;0#echo',
      'holding for 0.1 s (or until Ctrl-C)',
      'stopped (--duration elapsed)',
    ])
  })

  it('bad input: usage errors exit 2; no relay at the route exits 1 with TIMEOUT', async () => {
    const cases: [string[], RegExp][] = [
      [['relay', 'create', '--from', monitor, '--at', '2#svc'], /create needs --name ALIAS/],
      [['relay', 'create', '--from', monitor, '--at', '2#svc', '--name', 'x'], /create needs --key LABEL/],
      [['relay', 'create', '--from', monitor, '--at', '2#svc', '--name', 'x', '--key', 'k', '--relay-name', ''], /--relay-name expected 1-64 bytes, got 0/],
      [['relay', 'create', '--from', monitor, '--name', 'x'], /create needs --at ROUTE/],
      [['relay', 'create', '--at', '2#svc', '--name', 'x'], /create needs --from FILE/],
      [['relay', 'create', '--from', monitor, '--at', '2#svc', '--name', 'two words'], /--name expected 1-64 of/],
      [['relay', 'create', '--from', monitor, '--at', '2#svc', '--name', 'x', '--key', 'k', '--duration', 'forever'], /--duration expected a duration such as 500ms/],
      [['relay', 'create', '--from', monitor, '--at', '2#svc', '--name', 'x', '--key', 'k', '--duration', '0s'], /--duration expected 1ms\.\.24h, got "0s"/],
      [['relay', 'create', '--from', monitor, '--at', '#', '--name', 'x', '--key', 'k'], /--at "#" does not parse/],
      [['relay', 'delete', '--name', 'x'], /unknown subcommand "delete"/],
    ]
    for (const [args, why] of cases) {
      const r = await net.hopseal(args)
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`)
      assert.match(r.err, why)
    }
    const wrongKey = await net.hopseal(['relay', 'create', '--from', monitor, '--at', '2#svc', '--name', 'x', '--key', 'monitor-static', '--timeout', '5s'])
    assert.equal(wrongKey.code, 1)
    assert.match(wrongKey.err, /^error VAULT_KEY_TYPE_UNSUPPORTED: key "monitor-static" is x25519, which cannot sign/m)
    const wrongRelay = await net.hopseal(['relay', 'create', '--from', monitor, '--at', '2#svc', '--name', 'x', '--key', 'monitor-relay', '--relay-name', 'elsewhere', '--timeout', '5s'])
    assert.equal(wrongRelay.code, 1)
    assert.match(wrongRelay.err, /^error RELAY_WRONG_RELAY: /m)
    const none = await net.hopseal(['relay', 'create', '--from', monitor, '--at', '2#nobody', '--name', 'x', '--key', 'monitor-relay', '--timeout', '500ms'])
    assert.equal(none.code, 1)
    assert.match(none.err, /^error TIMEOUT: no answer from a relay at 2#nobody;0#relay within 500 ms \(fix: check the route, and that the node there has relay: in its config\)$/m)
  })
})
