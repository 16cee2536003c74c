/**
 * `hopseal node start --config examples/gateway.yaml` as a child process, the
 * way systemd runs it: an embedded aedes broker in the test process, a socat
 * PTY pair as the LoRa modem's serial line, a heart-rate monitor Node on the
 * other PTY end and a phone Node on MQTT. The monitor opens a KK secure
 * channel through the child gateway (route alias 1 → 2#phone;0#hr), both ends
 * exchange messages, the metrics show the traffic, `node status` answers, and
 * SIGTERM ends the child cleanly with exit code 0.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { utf8 } from '../../src/bytes/index.ts'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { createSecureChannel, knownPeers, startSecureChannelListener, type SecureChannel } from '../../src/channel/secure-channel.ts'
import { softwareStaticKey } from '../../src/noise/index.ts'
import { address, local, Node, TransportType } from '../../src/routing/index.ts'
import { connectMqttTransport, startEmbeddedBroker, type EmbeddedBroker, type MqttTransport } from '../../targets/node/transports/mqtt/index.ts'
import { loraProfile, openSerialLink, SerialTransport } from '../../targets/node/transports/serial/index.ts'
import { command as nodeCommand } from '../../targets/node/commands/node.ts'
import { needSystem } from '../helpers/system.ts'

const ROOT = resolve(import.meta.dirname, '../..')
const BIN = join(ROOT, 'bin/hopseal.js')
const skip = needSystem('socat')

/** Polls `cond` every 20 ms; rejects with `what` after `ms` (a bound on a wait, not a timing assertion). */
async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** SIGTERM, then SIGKILL after `ms`; resolves with the exit code (or signal name). */
function stopChild(child: ChildProcess, ms = 15_000): Promise<number | string> {
  return new Promise((res) => {
    if (child.exitCode !== null || child.signalCode !== null) return res(child.exitCode ?? child.signalCode!)
    const t = setTimeout(() => child.kill('SIGKILL'), ms)
    child.once('exit', (code, sig) => {
      clearTimeout(t)
      res(code ?? sig ?? -1)
    })
    child.kill('SIGTERM')
  })
}

interface Started {
  child: ChildProcess
  stderr: () => string
  exited: Promise<number | string>
}

function startNode(args: string[], env: Record<string, string>): Started {
  const child = spawn(process.execPath, [BIN, 'node', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  child.stdout!.resume()
  const exited = new Promise<number | string>((res) => child.once('exit', (code, sig) => res(code ?? sig ?? -1)))
  return { child, stderr: () => err, exited }
}

const metric = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe('hopseal node start: the example gateway as a child process', { skip }, () => {
  const crypto = cryptoProvider('node')
  const dir = mkdtempSync(join(tmpdir(), 'hopseal-node-gw-'))
  const gwTty = join(dir, 'gw-tty')
  const devTty = join(dir, 'dev-tty')
  let socat: ChildProcess | undefined
  let broker: EmbeddedBroker | undefined
  let gw: Started | undefined
  let metricsUrl = ''
  let phoneMqtt: MqttTransport | undefined
  let deviceSerial: SerialTransport | undefined
  let channel: SecureChannel | undefined
  const children: ChildProcess[] = []

  before(async () => {
    socat = spawn('socat', [`pty,raw,echo=0,link=${gwTty}`, `pty,raw,echo=0,link=${devTty}`], { stdio: 'ignore' })
    children.push(socat)
    await waitFor(() => existsSync(gwTty) && existsSync(devTty), 5000, 'the socat PTY pair')
    broker = await startEmbeddedBroker()
    gw = startNode(['start', '--config', 'examples/gateway.yaml'], { HOPSEAL_MQTT_URL: broker.url, HOPSEAL_SERIAL_PATH: gwTty, HOPSEAL_METRICS_PORT: '0' })
    children.push(gw.child)
    await waitFor(() => / ready /.test(gw!.stderr()) || gw!.child.exitCode !== null, 20_000, 'the gateway ready line')
    assert.equal(gw.child.exitCode, null, gw.stderr())
    metricsUrl = /metrics=(http:\/\/127\.0\.0\.1:\d+)/.exec(gw.stderr())![1]!
  })

  after(async () => {
    await channel?.close().catch(() => undefined)
    await deviceSerial?.close()
    await phoneMqtt?.close()
    for (const c of children) await stopChild(c, 3000)
    await broker?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('a KK channel from the monitor (serial) to the phone (MQTT) crosses the child gateway both ways', async () => {
    const sPhone = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
    const sDev = softwareStaticKey(crypto, crypto.generateKeyPair('x25519'))
    const protocol = 'Noise_KK_25519_AESGCM_SHA256'

    // Phone: MQTT name `phone`, listener `hr` (what the example's alias 1 leads to).
    const phone = new Node({ name: 'phone' })
    phoneMqtt = await connectMqttTransport({ url: broker!.url, name: 'phone' })
    phone.registerTransport(phoneMqtt)
    const readings: string[] = []
    startSecureChannelListener(phone, 'hr', {
      protocol, s: sPhone, auth: knownPeers([{ staticKey: sDev.publicKey, identifier: 'monitor-1' }]), initiatorStatics: [sDev.publicKey],
      deliverTo: (p, peer, ch) => {
        readings.push(`${peer.identifier}: ${new TextDecoder().decode(p)}`)
        void ch.send(utf8(`ack ${new TextDecoder().decode(p)}`))
      },
    })

    // The gateway's MQTT connection comes up in the background: wait for it before sending.
    await waitFor(async () => {
      const s = (await (await fetch(`${metricsUrl}/status`)).json()) as { transports: { up: boolean }[] }
      return s.transports.length === 2 && s.transports.every((t) => t.up)
    }, 15_000, 'the gateway transports up')

    // Monitor: the other PTY end as its radio link `gw`, LoRa SF7 profile like the gateway's.
    const device = new Node({ name: 'monitor' })
    deviceSerial = new SerialTransport()
    deviceSerial.addLink('gw', await openSerialLink(devTty, { mtu: 222 }), loraProfile({ sf: 7 }))
    device.registerTransport(deviceSerial)
    const acks: string[] = []
    channel = await createSecureChannel(device, [address(TransportType.SERIAL, 'gw'), local(Uint8Array.of(1))], {
      protocol, s: sDev, rs: sPhone.publicKey, auth: knownPeers([{ staticKey: sPhone.publicKey, identifier: 'phone' }]),
      deliverTo: (p) => acks.push(new TextDecoder().decode(p)),
    })
    assert.equal(channel.peer.identifier, 'phone')
    for (const bpm of ['71', '72', '74']) await channel.send(utf8(`hr=${bpm}`))
    await waitFor(() => acks.length >= 3, 15_000, 'three acks from the phone')
    assert.deepEqual(readings.sort(), ['monitor-1: hr=71', 'monitor-1: hr=72', 'monitor-1: hr=74'])
    assert.deepEqual(acks.sort(), ['ack hr=71', 'ack hr=72', 'ack hr=74'])
  })

  it('/metrics shows the traffic, both transports up and airtime on the LoRa link', async () => {
    const text = await (await fetch(`${metricsUrl}/metrics`)).text()
    // handshake (2 flights) + 3 readings + 3 acks, each received once by the gateway
    assert.ok(metric(text, 'hopseal_messages_total{direction="received"}')! >= 8, text)
    assert.ok(metric(text, 'hopseal_messages_total{direction="sent"}')! >= 8, text)
    assert.equal(metric(text, 'hopseal_transport_up{link="gateway",transport="mqtt"}'), 1)
    assert.equal(metric(text, 'hopseal_transport_up{link="lora0",transport="serial"}'), 1)
    assert.ok(metric(text, 'hopseal_serial_airtime_ms_total{link="lora0"}')! > 0)
    // Every radio frame counted once: what the gateway says it sent is what the monitor received (a lossless PTY), and back.
    const dev = deviceSerial!.stats('gw')
    assert.equal(metric(text, 'hopseal_transport_events_total{event="framesSent",link="lora0",transport="serial"}'), dev.framesReceived)
    assert.equal(metric(text, 'hopseal_transport_events_total{event="framesReceived",link="lora0",transport="serial"}'), dev.framesSent)
    assert.equal(metric(text, 'hopseal_info{name="gateway",version="0.1.0"}'), 1)
    assert.ok(metric(text, 'hopseal_events_total{event="gateway.route_compressed"}')! >= 1, 'downlinks carried a 1-byte return alias')
  })

  it('hopseal node status --json returns the running node', async () => {
    const out: string[] = []
    const code = await nodeCommand.run(['status', '--url', metricsUrl, '--json'], { out: (l) => out.push(l), err: (l) => out.push(l), env: {}, ctx: { env: {}, home: dir } })
    assert.equal(code, 0, out.join('\n'))
    const s = JSON.parse(out[0]!) as { name: string; state: string; pid: number }
    assert.deepEqual([s.name, s.state, s.pid], ['gateway', 'running', gw!.child.pid])
    const text: string[] = []
    assert.equal(await nodeCommand.run(['status', '--url', metricsUrl], { out: (l) => text.push(l), err: (l) => text.push(l), env: {}, ctx: { env: {}, home: dir } }), 0)
    assert.match(text.join('\n'), /^mqtt gateway\s+up$/m)
  })

  it('SIGTERM: a clean shutdown, exit code 0, no error after the ready line', async () => {
    const code = await stopChild(gw!.child)
    assert.equal(code, 0, gw!.stderr())
    const log = gw!.stderr()
    const lines = log.trim().split('\n')
    assert.match(lines.at(-1)!, / info {2}gateway stopped$/)
    const stopping = lines.findIndex((l) => / stopping /.test(l))
    assert.ok(stopping > lines.findIndex((l) => / ready /.test(l)))
    assert.deepEqual(lines.filter((l) => / (error|warn) /.test(l.slice(24, 31))), [], 'no error or warning lines')
    assert.equal(lines.filter((l) => / ready /.test(l)).length, 1)
  })
})

describe('hopseal node start: a bad config', () => {
  it('exits 1 with the CONFIG_INVALID message naming the file, the key and the fix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hopseal-node-bad-'))
    try {
      const file = join(dir, 'gateway.yaml')
      writeFileSync(file, 'name: gw\ntransports:\n  mqtt: { url: "localhost:1883" }\n')
      const n = startNode(['start', '--config', file], {})
      const code = await n.exited
      assert.equal(code, 1)
      assert.equal(
        n.stderr().trim(),
        `error CONFIG_INVALID: ${file}: transports.mqtt.url: expected an mqtt://, mqtts://, ws:// or wss:// URL, got "localhost:1883" (fix: write mqtt://localhost:1883)`,
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
