/**
 * The MQTT topic scheme, option checks, the reconnect backoff and the
 * embedded broker's packet-size guard: pure functions, no broker.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isHopsealError } from '../../src/errors.ts'
import { Backoff } from '../../targets/node/transports/mqtt/backoff.ts'
import { DEFAULT_MAX_PAYLOAD } from '../../targets/node/transports/mqtt/constants.ts'
import { connectMqttTransport } from '../../targets/node/transports/mqtt/index.ts'
import { redactUrl, resolveMqttOptions } from '../../targets/node/transports/mqtt/options.ts'
import { PacketSizeGuard } from '../../targets/node/transports/mqtt/packet-guard.ts'
import { inboxFilter, isValidName, messageTopic, parseMessageTopic, sharedInboxFilter, validateName, validatePrefix } from '../../targets/node/transports/mqtt/topics.ts'

const invalidArg = (e: unknown): boolean => isHopsealError(e, 'INVALID_ARGUMENT')

describe('MQTT topic scheme', () => {
  it('builds the message topic, the inbox filter and the shared filter', () => {
    assert.equal(messageTopic('hopseal/v1', 'b', 'a'), 'hopseal/v1/b/a')
    assert.equal(inboxFilter('hopseal/v1', 'b'), 'hopseal/v1/b/+')
    assert.equal(sharedInboxFilter('hopseal/v1', 'g', 'ingest'), '$share/g/hopseal/v1/ingest/+')
  })

  it('accepts names of 1..64 characters of [A-Za-z0-9._-] and rejects the rest', () => {
    for (const ok of ['a', 'gw-1', 'Sensor_7.eu', 'x'.repeat(64), '0', '...']) assert.equal(validateName(ok), ok)
    for (const bad of ['', 'x'.repeat(65), 'a/b', 'a+', '#', '$sys', 'a b', 'é', 'a\u0000', 'a\n']) {
      assert.equal(isValidName(bad), false, bad)
      assert.throws(() => validateName(bad), invalidArg)
    }
    for (const bad of [undefined, null, 7, {}]) assert.throws(() => validateName(bad), invalidArg)
  })

  it('accepts prefixes of non-empty levels and rejects wildcards, empty levels, $ and over-long ones', () => {
    for (const ok of ['hopseal/v1', 'p', 'acme/site 3/hopseal', 'ünï/cødé']) assert.equal(validatePrefix(ok), ok)
    for (const bad of ['', '/hopseal', 'hopseal/', 'a//b', 'a/+/b', 'a/#', '$SYS/x', 'a\u0000b', 'x'.repeat(257), Array(17).fill('l').join('/')]) {
      assert.throws(() => validatePrefix(bad), invalidArg, JSON.stringify(bad))
    }
    assert.throws(() => validatePrefix(42), invalidArg)
  })

  it('parses the sender from a topic addressed to one of the recipients, and nothing else', () => {
    const p = 'hopseal/v1'
    assert.equal(parseMessageTopic(p, ['b'], 'hopseal/v1/b/a'), 'a')
    assert.equal(parseMessageTopic(p, ['b', 'ingest'], 'hopseal/v1/ingest/dev-9'), 'dev-9')
    const bad = [
      'hopseal/v1/c/a', // another recipient
      'hopseal/v1/b/', // empty sender
      'hopseal/v1/b', // no sender level
      'hopseal/v1/b/a/extra', // extra level
      'hopseal/v1/b/a b', // invalid name
      `hopseal/v1/b/${'x'.repeat(65)}`,
      'hopseal/v2/b/a',
      'hopseal/v1x/b/a',
      'hopseal/v1',
      'other/b/a',
      '',
    ]
    for (const t of bad) assert.equal(parseMessageTopic(p, ['b', 'ingest'], t), undefined, t)
  })
})

describe('MQTT transport options', () => {
  it('applies the documented defaults', () => {
    const o = resolveMqttOptions({ url: 'mqtt://127.0.0.1:1883', name: 'gw' })
    assert.equal(o.prefix, 'hopseal/v1')
    assert.equal(o.qos, 1)
    assert.equal(o.clientId, 'hopseal-gw')
    assert.equal(o.cleanStart, false)
    assert.equal(o.sessionExpirySec, 3600)
    assert.equal(o.protocolVersion, 5)
    assert.equal(o.connectTimeoutMs, 10_000)
    assert.equal(o.maxPayload, DEFAULT_MAX_PAYLOAD)
    assert.equal(o.maxInflight, 1024)
    assert.equal(o.reconnectInitialMs, 250)
    assert.equal(o.reconnectMaxMs, 10_000)
    assert.equal(o.client.clean, false)
    assert.equal(o.client.clientId, 'hopseal-gw')
    assert.equal(o.client.properties?.sessionExpiryInterval, 3600)
    assert.equal(o.client.properties?.maximumPacketSize, 4 * DEFAULT_MAX_PAYLOAD)
    assert.equal(o.client.resubscribe, false)
  })

  it('managed options win over mqttOptions, other mqttOptions pass through', () => {
    const o = resolveMqttOptions({ url: 'mqtt://h', name: 'gw', mqttOptions: { clientId: 'evil', reconnectPeriod: 0, keepalive: 5, properties: { receiveMaximum: 7 } }, keepaliveSec: undefined })
    assert.equal(o.client.clientId, 'hopseal-gw')
    assert.ok((o.client.reconnectPeriod ?? 0) > 0)
    assert.equal(o.client.keepalive, 30)
    assert.equal(o.client.properties?.receiveMaximum, 7)
  })

  it('passes TLS material and credentials through, MQTT 3.1.1 has no v5 properties', () => {
    const o = resolveMqttOptions({ url: 'mqtts://h:8883', name: 'gw', protocolVersion: 4, username: 'u', password: Uint8Array.of(1, 2), tls: { ca: 'CA', rejectUnauthorized: false } })
    assert.equal(o.client.ca, 'CA')
    assert.equal(o.client.rejectUnauthorized, false)
    assert.equal(o.client.username, 'u')
    assert.deepEqual(o.client.password, Buffer.from([1, 2]))
    assert.equal(o.client.properties, undefined)
  })

  it('rejects bad options with INVALID_ARGUMENT naming the option', () => {
    const base = { url: 'mqtt://127.0.0.1:1883', name: 'gw' }
    const cases: [Record<string, unknown>, string][] = [
      [{ url: 'http://h' }, 'scheme'],
      [{ url: 'not a url' }, 'url'],
      [{ name: 'a/b' }, 'name'],
      [{ prefix: 'a/+/b' }, 'prefix'],
      [{ qos: 3 }, 'qos'],
      [{ protocolVersion: 3 }, 'protocolVersion'],
      [{ maxPayload: 0 }, 'maxPayload'],
      [{ maxPayload: 1.5 }, 'maxPayload'],
      [{ maxPacketSize: 100 }, 'maxPacketSize'],
      [{ maxInflight: 0 }, 'maxInflight'],
      [{ connectTimeoutMs: -1 }, 'connectTimeoutMs'],
      [{ sessionExpirySec: 2 ** 32 }, 'sessionExpirySec'],
      [{ reconnect: { initialMs: 0 } }, 'reconnect.initialMs'],
      [{ reconnect: { initialMs: 500, maxMs: 100 } }, 'reconnect.maxMs'],
      [{ shared: { name: 'ingest', group: 'g/x' } }, 'shared.group'],
      [{ shared: { name: '+', group: 'g' } }, 'shared.name'],
      [{ clientId: '' }, 'clientId'],
      [{ cleanStart: 'no' }, 'cleanStart'],
    ]
    for (const [patch, label] of cases) {
      assert.throws(
        () => resolveMqttOptions({ ...base, ...patch } as never),
        (e: unknown) => invalidArg(e) && (e as Error).message.includes(label),
        `${JSON.stringify(patch)} should name ${label}`,
      )
    }
  })

  it('connectMqttTransport rejects invalid names and prefixes before any connection', async () => {
    await assert.rejects(connectMqttTransport({ url: 'mqtt://127.0.0.1:1', name: 'bad name' }), invalidArg)
    await assert.rejects(connectMqttTransport({ url: 'mqtt://127.0.0.1:1', name: 'ok', prefix: 'a//b' }), invalidArg)
  })

  it('never echoes URL credentials', () => {
    const r = redactUrl('mqtts://user:s3cret@broker.example:8883/')
    assert.ok(!r.includes('s3cret') && !r.includes('user'), r)
    assert.throws(
      () => resolveMqttOptions({ url: 'gopher://user:s3cret@h', name: 'a' }),
      (e: unknown) => invalidArg(e) && !(e as Error).message.includes('s3cret'),
    )
  })
})

describe('reconnect backoff', () => {
  it('doubles from initialMs up to maxMs with equal jitter in [d/2, d]', () => {
    const lo = new Backoff(100, 1000, () => 0)
    const hi = new Backoff(100, 1000, () => 1)
    assert.deepEqual(Array.from({ length: 7 }, () => lo.next()), [50, 100, 200, 400, 500, 500, 500])
    assert.deepEqual(Array.from({ length: 7 }, () => hi.next()), [100, 200, 400, 800, 1000, 1000, 1000])
    hi.reset()
    assert.equal(hi.next(), 100)
  })

  it('stays within bounds for any random value and many attempts', () => {
    let x = 0.123
    const b = new Backoff(250, 10_000, () => (x = (x * 9301 + 0.49297) % 1))
    for (let i = 0; i < 200; i++) {
      const d = b.next()
      const base = Math.min(10_000, 250 * 2 ** i)
      assert.ok(d >= base / 2 && d <= base, `attempt ${i}: ${d} outside [${base / 2}, ${base}]`)
    }
  })
})

describe('embedded broker packet-size guard', () => {
  /** An MQTT fixed header for a packet with `len` body bytes. */
  const header = (len: number): number[] => {
    const out = [0x30]
    do {
      let b = len % 128
      len = Math.floor(len / 128)
      if (len > 0) b |= 0x80
      out.push(b)
    } while (len > 0)
    return out
  }

  it('lets packets up to the limit through, across chunk boundaries', () => {
    const g = new PacketSizeGuard(300)
    const pkt = (n: number): number[] => [...header(n), ...new Array<number>(n).fill(7)]
    const stream = Uint8Array.from([...pkt(0), ...pkt(10), ...pkt(297), ...pkt(127), ...pkt(200)])
    // 297 + 3 header bytes = 300: exactly at the limit.
    for (const size of [1, 2, 3, 7, 64, stream.length]) {
      const g2 = new PacketSizeGuard(300)
      for (let i = 0; i < stream.length; i += size) assert.equal(g2.push(stream.subarray(i, i + size)), undefined, `chunk ${size} at ${i}`)
    }
    assert.equal(g.push(stream), undefined)
  })

  it('reports the first packet over the limit from its header alone', () => {
    const g = new PacketSizeGuard(300)
    assert.equal(g.push(Uint8Array.from([...header(5), 1, 2, 3, 4, 5])), undefined)
    assert.equal(g.push(Uint8Array.from(header(298))), 301)
    const big = new PacketSizeGuard(1024)
    assert.equal(big.push(Uint8Array.from(header(268_435_455))), 268_435_460)
  })

  it('reports a malformed five-byte length', () => {
    const g = new PacketSizeGuard(1 << 20)
    assert.equal(g.push(Uint8Array.of(0x30, 0xff, 0xff, 0xff, 0xff, 0x01)), Number.POSITIVE_INFINITY)
  })
})
