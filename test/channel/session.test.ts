import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { utf8 } from '../../src/bytes/index.ts'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { isHopsealError } from '../../src/errors.ts'
import { HandshakeState, softwareStaticKey } from '../../src/noise/index.ts'
import { ChannelSession, type SessionLimits } from '../../src/channel/session.ts'
import { MessageType } from '../../src/channel/wire.ts'

const crypto = cryptoProvider('node')

async function pair(limits: Partial<SessionLimits> = {}) {
  const protocol = 'Noise_KK_25519_AESGCM_SHA256'
  const si = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
  const sr = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
  const i = HandshakeState.create({ protocol, initiator: true, s: si, rs: sr.publicKey, crypto })
  const r = HandshakeState.create({ protocol, initiator: false, s: sr, rs: si.publicKey, crypto })
  await r.readMessage(await i.writeMessage())
  await i.readMessage(await r.writeMessage())
  const clock = { t: 0 }
  const now = () => clock.t
  return { a: new ChannelSession(i.finish(), now, limits), b: new ChannelSession(r.finish(), now, limits), clock }
}

describe('channel session', () => {
  it('adds exactly 18 bytes to a payload', async () => {
    const { a } = await pair()
    for (const n of [0, 1, 20, 1000]) assert.equal(a.seal(MessageType.DATA, new Uint8Array(n)).length, n + 18)
  })

  it('delivers in order and reordered within the window once; drops duplicates, stale and forged', async () => {
    const { a, b } = await pair({ replayWindow: 64 })
    const msgs = Array.from({ length: 200 }, (_, i) => a.seal(MessageType.DATA, utf8(`m${i}`)))
    assert.equal(new TextDecoder().decode(b.open(msgs[0]!)!.plaintext), 'm0')
    assert.equal(b.open(msgs[0]!), undefined)
    assert.equal(b.drops.duplicate, 1)
    assert.equal(b.open(msgs[10]!)!.counter, 10n)
    assert.equal(b.open(msgs[5]!)!.counter, 5n) // reordered, inside the window
    assert.equal(b.open(msgs[5]!), undefined)
    assert.equal(b.open(msgs[150]!)!.counter, 150n)
    assert.equal(b.open(msgs[20]!), undefined) // beyond the window
    assert.equal(b.drops.stale, 1)
    // a bit flip anywhere is refused and moves nothing
    const m = msgs[151]!
    const total = () => b.drops.auth + b.drops.stale + b.drops.duplicate + b.drops.decode
    const before = total()
    for (let i = 0; i < m.length; i++) {
      const bad = m.slice()
      bad[i]! ^= 1 << (i % 8)
      assert.equal(b.open(bad), undefined, `flip at ${i}`)
    }
    assert.equal(total() - before, m.length, 'every corrupted copy was dropped and counted')
    assert.equal(new TextDecoder().decode(b.open(m)!.plaintext), 'm151')
    // truncation and garbage
    assert.equal(b.open(m.subarray(0, 10)), undefined)
    assert.equal(b.open(new Uint8Array(0)), undefined)
    assert.equal(b.open(Uint8Array.of(0xc0, 1, 2)), undefined) // handshake type on an established channel
  })

  it('a message reflected back to its sender is refused', async () => {
    const { a } = await pair()
    const m = a.seal(MessageType.DATA, utf8('to b'))
    assert.equal(a.open(m), undefined)
    assert.equal(a.drops.auth, 1)
  })

  it('rekeys by message count, across reordering around the rekey', async () => {
    const { a, b } = await pair({ rekeyAfterMessages: 10, replayWindow: 64 })
    const msgs = Array.from({ length: 35 }, (_, i) => a.seal(MessageType.DATA, utf8(`m${i}`)))
    // deliver with the messages around each rekey swapped
    const order = [...Array(35).keys()]
    ;[order[9], order[10]] = [order[10]!, order[9]!]
    ;[order[19], order[21]] = [order[21]!, order[19]!]
    for (const i of order) assert.equal(new TextDecoder().decode(b.open(msgs[i]!)?.plaintext ?? new Uint8Array()), `m${i}`, `message ${i}`)
    assert.equal(b.drops.auth, 0)
  })

  it('rekeys by time and refuses to send past the hard limits', async () => {
    const { a, b, clock } = await pair({ rekeyAfterMs: 1000, rejectAfterMs: 5000 })
    const m0 = a.seal(MessageType.DATA, utf8('x'))
    clock.t = 1500
    const m1 = a.seal(MessageType.DATA, utf8('y'))
    assert.notEqual(m0[0]! & 0x20, m1[0]! & 0x20, 'key phase flipped')
    assert.ok(b.open(m0) && b.open(m1))
    clock.t = 5000
    assert.throws(() => a.seal(MessageType.DATA, utf8('z')), (e: unknown) => isHopsealError(e, 'CHANNEL_EXPIRED'))
    const { a: c } = await pair({ rejectAfterMessages: 3 })
    for (let i = 0; i < 3; i++) c.seal(MessageType.DATA, utf8('x'))
    assert.throws(() => c.seal(MessageType.DATA, utf8('x')), (e: unknown) => isHopsealError(e, 'CHANNEL_EXPIRED'))
  })

  it('close wipes keys: seal throws CHANNEL_CLOSED, open delivers nothing', async () => {
    const { a, b } = await pair()
    const m = a.seal(MessageType.DATA, utf8('x'))
    b.close()
    assert.equal(b.open(m), undefined)
    a.close()
    assert.throws(() => a.seal(MessageType.DATA, utf8('x')), (e: unknown) => isHopsealError(e, 'CHANNEL_CLOSED'))
  })
})

describe('channel session: counter forms and limits per session', () => {
  it('short form while at most 1024 messages are unconfirmed, long form beyond, back to short once confirmed', async () => {
    const { a, b } = await pair()
    const sizes: number[] = []
    for (let i = 0; i < 1026; i++) sizes.push(a.seal(MessageType.DATA, new Uint8Array(0)).length)
    assert.deepEqual([sizes[0], sizes[1023], sizes[1024], sizes[1025]], [18, 18, 19, 19], 'message 1024 is the 1025th unconfirmed')
    a.confirm(1024n)
    assert.equal(a.unconfirmed, 1n)
    const m = a.seal(MessageType.DATA, utf8('x'))
    assert.equal(m.length, 19, 'short form again')
    a.confirm(5000n) // a report of a counter never sent is ignored
    assert.equal(a.unconfirmed, 2n)
    // the receiver reconstructs across the whole gap from either form
    assert.equal(b.open(m)?.counter, 1026n)
  })

  it('asks for renewal at 2^18 unconfirmed and refuses to seal at 2^19 - 1 (the long form\'s reach)', async () => {
    const { a } = await pair()
    // Jump the counter without sealing 2^19 messages: the state is a function of the counters.
    const s = a as unknown as { sendCounter: number }
    s.sendCounter = 2 ** 18
    assert.equal(a.sendState(), 'renew')
    s.sendCounter = 2 ** 19 - 1
    assert.equal(a.sendState(), 'expired')
    assert.throws(() => a.seal(MessageType.DATA, utf8('x')), (e: unknown) => isHopsealError(e, 'CHANNEL_EXPIRED'))
    a.confirm(2n ** 19n - 2n)
    assert.equal(a.sendState(), 'ok')
  })

  it('soft time limit asks for renewal, the hard one refuses to seal and the receiver drops past its own', async () => {
    const { a, b, clock } = await pair({ renewAfterMs: 1000, rejectAfterMs: 2000 })
    const m = a.seal(MessageType.DATA, utf8('x'))
    assert.equal(a.sendState(), 'ok')
    clock.t = 1000
    assert.equal(a.sendState(), 'renew')
    const late = a.seal(MessageType.DATA, utf8('still sealable'))
    clock.t = 2000
    assert.equal(a.sendState(), 'expired')
    assert.equal(b.open(m), undefined, 'sealed in time, opened past the receiver\'s hard limit: dropped')
    assert.equal(b.drops.expired, 1)
    void late
  })
})

describe('channel session: what an idle session holds (heap per channel)', () => {
  it('has no replay window and no drop counts until it needs them, and opens the same messages', async () => {
    const { a, b } = await pair()
    const inner = b as unknown as { window?: unknown; drops_?: unknown }
    assert.equal(inner.window, undefined, 'an idle session has no replay window')
    assert.equal(inner.drops_, undefined, 'nor drop counts')
    assert.equal(b.highestReceived, -1n)
    const m0 = a.seal(MessageType.DATA, utf8('first'))
    const m1 = a.seal(MessageType.DATA, utf8('second'))
    assert.equal(b.open(m1)?.counter, 1n, 'the first message a session accepts may be any counter')
    assert.notEqual(inner.window, undefined, 'the window exists from the first accepted message')
    assert.equal(b.open(m0)?.counter, 0n, 'an older one inside the window still opens')
    assert.equal(b.open(m0), undefined, 'and only once')
    assert.deepEqual(b.drops, { duplicate: 1, stale: 0, auth: 0, expired: 0, decode: 0 })
  })

  it('a forged first message creates no window and counts the drop', async () => {
    const { a, b } = await pair()
    const m = a.seal(MessageType.DATA, utf8('x'))
    m[m.length - 1]! ^= 1
    assert.equal(b.open(m), undefined)
    assert.equal((b as unknown as { window?: unknown }).window, undefined)
    assert.equal(b.drops.auth, 1)
  })

  it('shares a complete limits object instead of copying it, and copies partial ones', async () => {
    const full: SessionLimits = { replayWindow: 64, rekeyAfterMessages: 10, renewAfterMessages: 100, rejectAfterMessages: 200, rekeyAfterMs: 0, renewAfterMs: 1000, rejectAfterMs: 2000 }
    const { a } = await pair(full)
    assert.equal(a.limits, full)
    const partial = { renewAfterMs: 5 }
    const { b } = await pair(partial)
    assert.notEqual(b.limits, partial)
    assert.equal(b.limits.renewAfterMs, 5)
    assert.equal(b.limits.rejectAfterMessages, 2 ** 48)
  })

  it('refuses a bad replay window size when made, not at the first message', async () => {
    await assert.rejects(pair({ replayWindow: 48 }), RangeError)
    await assert.rejects(pair({ replayWindow: 0 }), RangeError)
  })

  it('takes a clock object as well as a function', async () => {
    const protocol = 'Noise_KK_25519_AESGCM_SHA256'
    const si = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
    const sr = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
    const i = HandshakeState.create({ protocol, initiator: true, s: si, rs: sr.publicKey, crypto })
    const r = HandshakeState.create({ protocol, initiator: false, s: sr, rs: si.publicKey, crypto })
    await r.readMessage(await i.writeMessage())
    await i.readMessage(await r.writeMessage())
    const clock = { t: 100, now() { return this.t } }
    const a = new ChannelSession(i.finish(), clock, { renewAfterMs: 50, rejectAfterMs: 60 })
    assert.equal(a.born, 100)
    clock.t = 150
    assert.equal(a.sendState(), 'renew')
    clock.t = 160
    assert.equal(a.sendState(), 'expired')
    void r
  })
})
