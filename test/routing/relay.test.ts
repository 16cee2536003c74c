/**
 * Signed relay registrations (src/routing/relay.ts, threat-model row D12,
 * formerly gap G10): only the key that registered an alias can move or
 * remove it; replays, other relays' requests and expired requests are
 * refused and counted; the table is bounded. Real nodes on the memory
 * transport; registrations signed through a software vault handle.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { utf8 } from '../../src/bytes/index.ts'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { ErrorCode, isHopsealError } from '../../src/errors.ts'
import { relayRegistrationSigner, relayRegistrationVerifier } from '../../src/identity/signing.ts'
import { address, decodeRoutingMessage, local, Node, TransportType, type Route } from '../../src/routing/index.ts'
import { decodeRelayRequest, encodeRelayRequest, registerRelay, removeRelay, startRelayService, type RelayServiceOptions, type RelaySigner } from '../../src/routing/relay.ts'
import { ManualClock } from '../../src/time/clock.ts'
import { MemoryNetwork } from '../../src/transports/memory.ts'
import { SoftwareVault } from '../../vaults/software/index.ts'

const crypto = cryptoProvider('node')
const verifier = relayRegistrationVerifier(crypto)
const mem = (n: string) => address(TransportType.MEMORY, n)
const RELAY: Route = [mem('relay'), local('relay')]
/** Lets queued deliveries finish: the memory transport delivers on setImmediate, a few hops per chain (no wall-clock wait). */
const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r))
}

async function signer(type: 'ed25519' | 'p256' = 'ed25519'): Promise<RelaySigner> {
  const vault = await SoftwareVault.open({ crypto })
  return relayRegistrationSigner(vault, await vault.generateKey(type))
}

/** A relay node, the device, an attacker and an app on one memory network; every relay request is captured off the wire. */
function world(opts: Partial<RelayServiceOptions> = {}) {
  const net = new MemoryNetwork()
  const clock = new ManualClock()
  clock.advance(1_700_000_000_000) // a realistic wall-clock time (ms since the epoch)
  const captured: Uint8Array[] = []
  net.tap((_from, to, bytes) => {
    if (to !== 'relay') return
    const m = decodeRoutingMessage(bytes)
    if (m.onward.length === 1 && new TextDecoder().decode(m.onward[0]!.value) === 'relay') captured.push(m.payload)
  })
  const mk = (name: string) => {
    const n = new Node({ name })
    n.registerTransport(net.endpoint(name))
    return n
  }
  const relayNode = mk('relay'), dev = mk('dev'), attacker = mk('attacker'), app = mk('app')
  const relay = startRelayService(relayNode, { verifier, clock, ...opts })
  const inbox = (n: Node): string[] => {
    const got: string[] = []
    n.startWorker('inbox', (_c, m) => void got.push(new TextDecoder().decode(m.payload)))
    return got
  }
  const toAlias = async (alias: string, text: string) => {
    await app.send([mem('relay'), local(`fwd.${alias}`), local('inbox')], utf8(text))
    await settle()
  }
  return { net, clock, captured, relayNode, relay, dev, attacker, app, mk, inbox, toAlias }
}

const refusedWith = (code: string) => (e: unknown) => isHopsealError(e, code)

describe('relay registration: signed, bound to the first key, bounded', () => {
  it('a hijacking re-registration under another key is refused and counted, and the device still gets its traffic', async () => {
    const w = world()
    const devKey = await signer('ed25519'), evilKey = await signer('ed25519')
    const devGot = w.inbox(w.dev), evilGot = w.inbox(w.attacker)
    const reg = await registerRelay(w.dev, RELAY, 'monitor-7', { signer: devKey, relayName: 'relay', clock: w.clock })
    assert.equal(reg.alias, 'fwd.monitor-7')
    await w.toAlias('monitor-7', 'before')
    for (let i = 0; i < 3; i++) {
      // a fresh, validly signed registration (higher sequence number) under the attacker's own key
      await assert.rejects(registerRelay(w.attacker, RELAY, 'monitor-7', { signer: evilKey, relayName: 'relay', clock: w.clock, seq: reg.seq + 1000 + i }), refusedWith(ErrorCode.RELAY_ALIAS_TAKEN))
    }
    // a removal under another key is refused the same way
    await assert.rejects(removeRelay(w.attacker, RELAY, 'monitor-7', { signer: evilKey, relayName: 'relay', clock: w.clock, seq: reg.seq + 2000 }), refusedWith(ErrorCode.RELAY_ALIAS_TAKEN))
    assert.equal(w.relayNode.counters.get('drop.relay_alias_taken'), 4)
    await w.toAlias('monitor-7', 'after')
    assert.deepEqual(devGot, ['before', 'after'])
    assert.deepEqual(evilGot, [])
    assert.equal(w.relayNode.counters.get('relay.registered'), 1)
    // P-256 registrant keys work the same
    const p = await signer('p256')
    assert.equal((await registerRelay(w.attacker, RELAY, 'other', { signer: p, relayName: 'relay', clock: w.clock })).alias, 'fwd.other')
  })

  it('mobility: the same key moves its alias with a higher sequence number; a replayed registration is refused and moves nothing', async () => {
    const w = world()
    const key = await signer()
    const dev2 = w.mk('dev2')
    const got1 = w.inbox(w.dev), got2 = w.inbox(dev2), evil = w.inbox(w.attacker)
    const r1 = await registerRelay(w.dev, RELAY, 'monitor-7', { signer: key, relayName: 'relay', clock: w.clock })
    const first = w.captured.at(-1)!
    w.clock.advance(1000)
    const r2 = await registerRelay(dev2, RELAY, 'monitor-7', { signer: key, relayName: 'relay', clock: w.clock })
    assert.ok(r2.seq > r1.seq)
    const second = w.captured.at(-1)!
    await w.toAlias('monitor-7', 'moved')
    assert.deepEqual(got2, ['moved'])
    // the attacker replays both captured registrations from its own node
    const answers: Uint8Array[] = []
    w.attacker.startWorker('answers', (_c, m) => void answers.push(m.payload))
    for (const bytes of [first, second, first]) await w.attacker.send(RELAY, bytes, [local('answers')])
    await settle()
    assert.equal(w.relayNode.counters.get('drop.relay_replayed'), 3)
    assert.deepEqual(answers.map((a) => a[0]), [4, 4, 4]) // status 4: RELAY_REPLAYED
    assert.deepEqual(decodeRelayRequest(first).request.alias, 'monitor-7')
    await w.toAlias('monitor-7', 'still here')
    assert.deepEqual(got2, ['moved', 'still here'])
    assert.deepEqual(got1, [])
    assert.deepEqual(evil, [])
    // an explicit sequence number not above the last is refused too
    await assert.rejects(registerRelay(w.dev, RELAY, 'monitor-7', { signer: key, relayName: 'relay', clock: w.clock, seq: r2.seq }), refusedWith(ErrorCode.RELAY_REPLAYED))
  })

  it('a request signed for another relay, a forged signature and the old unsigned form are refused', async () => {
    const w = world()
    const key = await signer()
    await assert.rejects(registerRelay(w.dev, RELAY, 'monitor-7', { signer: key, relayName: 'cloud-2', clock: w.clock }), refusedWith(ErrorCode.RELAY_WRONG_RELAY))
    const bytes = await encodeRelayRequest({ op: 'register', seq: 5, expires: w.clock.now() / 1000 + 60, relay: 'relay', alias: 'monitor-7' }, key)
    const answers: Uint8Array[] = []
    w.attacker.startWorker('answers', (_c, m) => void answers.push(m.payload))
    for (const i of [bytes.length - 1, 2, bytes.length - 70]) {
      const forged = bytes.slice()
      forged[i]! ^= 0x01
      await w.attacker.send(RELAY, forged, [local('answers')])
    }
    await w.attacker.send(RELAY, utf8('monitor-7'), [local('answers')]) // the unsigned form of before
    await settle()
    assert.equal(w.relayNode.counters.get('drop.relay_bad_signature'), 3)
    assert.equal(w.relayNode.counters.get('drop.relay_malformed'), 1)
    assert.deepEqual(answers.map((a) => a[0]), [1, 1, 1]) // malformed input gets no answer
    assert.equal(w.relay.size, 0)
  })

  it('registrations expire: the route stops at the expiry, an expired or too-long request is refused, and a fresh one restores it', async () => {
    const w = world({ maxLifetimeMs: 24 * 3_600_000 })
    const key = await signer()
    const got = w.inbox(w.dev)
    const r = await registerRelay(w.dev, RELAY, 'monitor-7', { signer: key, relayName: 'relay', clock: w.clock, lifetimeMs: 60_000 })
    assert.equal(r.expiresAt, Math.floor((w.clock.now() + 60_000) / 1000) * 1000)
    const captured = w.captured.at(-1)!
    await w.toAlias('monitor-7', 'in time')
    w.clock.advance(61_000)
    await w.toAlias('monitor-7', 'too late')
    assert.deepEqual(got, ['in time'])
    assert.equal(w.relayNode.counters.get('drop.relay_no_route'), 1)
    assert.equal(w.relay.entry('monitor-7')?.route, undefined)
    // the binding outlives the route: another key still cannot take the alias
    await assert.rejects(registerRelay(w.attacker, RELAY, 'monitor-7', { signer: await signer(), relayName: 'relay', clock: w.clock }), refusedWith(ErrorCode.RELAY_ALIAS_TAKEN))
    // the captured registration, replayed after its expiry, is refused as expired
    await w.attacker.send(RELAY, captured, [local('x')])
    await settle()
    assert.equal(w.relayNode.counters.get('drop.relay_expired'), 1)
    await assert.rejects(registerRelay(w.dev, RELAY, 'monitor-7', { signer: key, relayName: 'relay', clock: w.clock, lifetimeMs: 48 * 3_600_000 }), refusedWith(ErrorCode.RELAY_EXPIRED))
    await registerRelay(w.dev, RELAY, 'monitor-7', { signer: key, relayName: 'relay', clock: w.clock })
    await w.toAlias('monitor-7', 'back')
    assert.deepEqual(got, ['in time', 'back'])
  })

  it('a signed removal withdraws the route at once; the binding stays until every accepted request expired plus the grace period', async () => {
    const grace = 3_600_000
    const w = world({ bindingGraceMs: grace })
    const key = await signer(), other = await signer()
    const got = w.inbox(w.dev)
    await registerRelay(w.dev, RELAY, 'monitor-7', { signer: key, relayName: 'relay', clock: w.clock, lifetimeMs: 600_000 })
    const captured = w.captured.at(-1)!
    await removeRelay(w.dev, RELAY, 'monitor-7', { signer: key, relayName: 'relay', clock: w.clock, lifetimeMs: 60_000 })
    assert.equal(w.relayNode.counters.get('relay.removed'), 1)
    await w.toAlias('monitor-7', 'after removal')
    assert.deepEqual(got, [])
    // the registration captured before the removal cannot bring the route back
    await w.attacker.send(RELAY, captured, [local('x')])
    await settle()
    assert.equal(w.relayNode.counters.get('drop.relay_replayed'), 1)
    assert.equal(w.relay.entry('monitor-7')?.route, undefined)
    await assert.rejects(registerRelay(w.attacker, RELAY, 'monitor-7', { signer: other, relayName: 'relay', clock: w.clock }), refusedWith(ErrorCode.RELAY_ALIAS_TAKEN))
    // 10 min (the registration's expiry) + the grace period later the binding lapses: trust on first use again
    w.clock.advance(600_000 + grace + 1)
    assert.equal(w.relay.entry('monitor-7'), undefined)
    assert.equal(w.relayNode.counters.get('relay.forgotten'), 1)
    const evil = w.inbox(w.attacker)
    await registerRelay(w.attacker, RELAY, 'monitor-7', { signer: other, relayName: 'relay', clock: w.clock })
    await w.toAlias('monitor-7', 'new owner')
    assert.deepEqual(evil, ['new owner'])
  })

  it('the table is bounded: a new alias past maxAliases is refused and counted; bindings whose requests all expired are evicted, oldest first', async () => {
    const w = world({ maxAliases: 3, bindingGraceMs: 24 * 3_600_000 })
    const key = await signer()
    for (const [i, a] of ['a', 'b', 'c'].entries()) await registerRelay(w.dev, RELAY, a, { signer: key, relayName: 'relay', clock: w.clock, lifetimeMs: 60_000 * (i + 1) })
    for (let i = 0; i < 5; i++) await assert.rejects(registerRelay(w.attacker, RELAY, `x${i}`, { signer: await signer(), relayName: 'relay', clock: w.clock }), refusedWith(ErrorCode.LIMIT_EXCEEDED))
    assert.equal(w.relayNode.counters.get('drop.relay_full'), 5)
    assert.equal(w.relay.size, 3)
    // re-registering a known alias needs no room
    await registerRelay(w.dev, RELAY, 'b', { signer: key, relayName: 'relay', clock: w.clock, lifetimeMs: 60_000 * 2 })
    w.clock.advance(61_000) // a's only request expired: its binding may go
    await registerRelay(w.attacker, RELAY, 'x0', { signer: await signer(), relayName: 'relay', clock: w.clock })
    assert.equal(w.relayNode.counters.get('relay.evicted'), 1)
    assert.equal(w.relay.entry('a'), undefined)
    assert.ok(w.relay.entry('b') && w.relay.entry('c') && w.relay.entry('x0'))
    await assert.rejects(registerRelay(w.attacker, RELAY, 'x1', { signer: await signer(), relayName: 'relay', clock: w.clock }), refusedWith(ErrorCode.LIMIT_EXCEEDED))
    assert.equal(w.relay.size, 3)
  })

  it('allow-list: only listed aliases register, each under its listed key, even the first time', async () => {
    const key = await signer(), other = await signer('p256')
    const w = world({ allow: [{ alias: 'monitor-7', keyType: key.keyType, publicKey: key.publicKey }], names: ['relay', 'cloud'] })
    await assert.rejects(registerRelay(w.attacker, RELAY, 'monitor-7', { signer: other, relayName: 'relay', clock: w.clock }), refusedWith(ErrorCode.RELAY_ALIAS_TAKEN))
    await assert.rejects(registerRelay(w.attacker, RELAY, 'stranger', { signer: other, relayName: 'relay', clock: w.clock }), refusedWith(ErrorCode.RELAY_NOT_ALLOWED))
    const got = w.inbox(w.dev)
    await registerRelay(w.dev, RELAY, 'monitor-7', { signer: key, relayName: 'cloud', clock: w.clock })
    await w.toAlias('monitor-7', 'allowed')
    assert.deepEqual(got, ['allowed'])
    assert.equal(w.relayNode.counters.get('drop.relay_not_allowed'), 1)
    assert.throws(() => startRelayService(new Node(), { verifier, allow: [{ alias: 'bad alias', keyType: 'ed25519', publicKey: new Uint8Array(32) }] }), refusedWith(ErrorCode.INVALID_ARGUMENT))
    assert.throws(() => startRelayService(new Node(), {} as RelayServiceOptions), refusedWith(ErrorCode.INVALID_ARGUMENT))
  })

  it('the request decoder is total: round-trips, and any bytes give a request or RELAY_MALFORMED (5 000 cases)', async () => {
    const key = await signer('p256')
    const bytes = await encodeRelayRequest({ op: 'remove', seq: 2 ** 40, expires: 1_800_000_000, relay: 'cloud', alias: 'monitor-7' }, key)
    const { request, signature } = decodeRelayRequest(bytes)
    assert.deepEqual({ ...request, publicKey: [...request.publicKey] }, { op: 'remove', keyType: 'p256', publicKey: [...key.publicKey], seq: 2 ** 40, expires: 1_800_000_000, relay: 'cloud', alias: 'monitor-7' })
    assert.equal(signature.length, 64)
    assert.ok(verifier.verify('p256', key.publicKey, bytes.subarray(0, bytes.length - 64), signature))
    let values = 0, errors = 0
    for (let i = 0; i < 5000; i++) {
      const b = i % 2 === 0 ? crypto.randomBytes(i % 200) : bytes.slice(0, i % (bytes.length + 1))
      if (i % 2 === 0 && b.length > 1) b[0] = 1 + (i % 3) // reach past the op byte
      if (i % 7 === 0 && i % 2 === 1) b[i % b.length]! ^= 0xff
      try {
        decodeRelayRequest(b)
        values++
      } catch (e) {
        assert.ok(isHopsealError(e, ErrorCode.RELAY_MALFORMED), String(e))
        errors++
      }
    }
    assert.ok(errors > 4000, `${errors} malformed`)
    console.log(`relay decoder: ${values + errors} inputs, ${values} decoded, ${errors} RELAY_MALFORMED`)
  })
})
