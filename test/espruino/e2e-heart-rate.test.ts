/**
 * Issue 15's end-to-end run: the heart-rate monitor in the real Espruino
 * interpreter (targets/espruino), its static P-256 key in the simulated
 * ATECC608 served on a socat PTY (KIT protocol), its LoRa radio on another
 * PTY; a Node relay puts seeded 10 % loss on both directions (hil-sim link
 * models on a memory pair); the Node gateway (src/transports/gateway, serial
 * transport) forwards over MQTT (embedded aedes) to the Node phone, a KK
 * listener with a software vault.
 *
 *   interpreter ── PTY ── relay (loss, both ways) ── gateway ── MQTT ── phone
 *        └── PTY ── ATECC608 simulator
 *
 * Checks: 100 readings in reliable mode, delivered exactly once and in order;
 * at least one renewal during the run (the device renews after 40 messages);
 * no reading's plaintext in what the broker's `#` tap or the gateway's
 * serial tap saw. Prints the handshake time, the run's wall time and the
 * device's peak variable count.
 *
 * Skips with a printed reason without the interpreter or socat; fails then
 * when HOPSEAL_REQUIRE_SYSTEM=1 (or CI).
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { p256 } from '@noble/curves/nist.js'
import { cryptoProvider } from '../../src/crypto/index.ts'
import { softwareStaticKey } from '../../src/noise/index.ts'
import { address, local, Node, TransportType } from '../../src/routing/index.ts'
import { knownPeers, startSecureChannelListener, type SecureChannel } from '../../src/channel/secure-channel.ts'
import { connectMqttTransport, startEmbeddedBroker } from '../../src/transports/mqtt/index.ts'
import { loraProfile, SerialTransport } from '../../src/transports/serial/index.ts'
import { startGateway } from '../../src/transports/gateway/index.ts'
import { Atecc608Vault, KitTransport } from '../../vaults/atecc608/index.ts'
import { Atecc608Sim } from '../../hil-sim/atecc608/index.ts'
import { serveKitOnTty } from '../../hil-sim/atecc608/serve-tty.ts'
import { hasSocat, startPtyPair } from '../../hil-sim/pty.ts'
import { memoryLinkPair } from '../../hil-sim/links/memory-link.ts'
import { modelLink } from '../../hil-sim/links/model.ts'
import { loraLinkModel } from '../../hil-sim/links/presets.ts'
import { seededRandom } from '../../hil-sim/links/prng.ts'
import { newTapRecord, tapBroker, tapLink } from '../../hil-sim/scenario/taps.ts'
import { countPlaintext, decodeReading, encodeReading } from '../../hil-sim/scenario/readings.ts'
import { attachPtyRadio, deviceEvent, deviceScript, espruinoInterpreter, spawnEspruino } from '../../hil-sim/scenario/espruino.ts'
import { REQUIRE_SYSTEM } from '../helpers/system.ts'

const READINGS = 100
const SEED = 'e2e-heart-rate'
/** The device renews after this many sealed messages, so a renewal happens mid-run. */
const RENEW_AFTER_MESSAGES = 40
/** Wall-clock budget of the whole run (the issue asks for well under 90 s). */
const RUN_TIMEOUT_MS = 150_000

function skipReason(): false | string {
  const missing = [espruinoInterpreter() ? '' : 'the Espruino interpreter (../shared/tools/espruino/espruino)', hasSocat() ? '' : 'socat'].filter(Boolean)
  if (missing.length === 0) return false
  const reason = `missing ${missing.join(' and ')}`
  if (REQUIRE_SYSTEM) throw new Error(`${reason}; HOPSEAL_REQUIRE_SYSTEM/CI forbids skipping`)
  console.log(`# skip: ${reason}`)
  return reason
}
const skip = skipReason()

const cleanups: (() => Promise<unknown>)[] = []
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined)
})

describe('heart-rate end to end with the monitor in the Espruino interpreter', { skip }, () => {
  it('delivers 100 readings at 10 % loss exactly once, in order, with a renewal and no plaintext at the taps', { timeout: RUN_TIMEOUT_MS + 30_000 }, async () => {
    const t0 = Date.now()
    const crypto = cryptoProvider('node')
    const protocol = 'Noise_KK_P256_AESGCM_SHA256'

    // The monitor's static key, made inside the simulated ATECC608 (the Node vault drives it in process once),
    // then the chip is served on a PTY for the interpreter.
    const sim = Atecc608Sim.create({ seed: `${SEED}/monitor` })
    // shredOnDelete false: closing this vault must not overwrite the key it made (the device uses it next)
    const provisioning = await Atecc608Vault.open({ transport: await KitTransport.open(sim.kitChannel()), shredOnDelete: false })
    const handle = await provisioning.generateKey('p256', { label: 'monitor-noise-static' })
    const devicePub = await provisioning.publicKey(handle)
    await provisioning.close()
    const slot = Number(/^slot(\d+)-/.exec(handle.id)?.[1])
    assert.ok(slot >= 0, `slot of ${handle.id}`)
    const kitPty = await startPtyPair()
    cleanups.push(() => kitPty.close())
    const kit = await serveKitOnTty(sim, kitPty.b)
    cleanups.push(() => kit.close())

    // The phone: a software P-256 static key, a KK listener `hr` behind MQTT.
    const phoneKeys = crypto.generateKeyPair('p256')
    const phoneS = softwareStaticKey(crypto, phoneKeys)
    const phoneXY = p256.Point.fromBytes(phoneS.publicKey).toBytes(false).subarray(1)

    const broker = await startEmbeddedBroker()
    cleanups.push(() => broker.close())
    const brokerTap = newTapRecord()
    const bt = await tapBroker(broker.url, brokerTap, 16 << 20)
    cleanups.push(() => bt.close())

    // The gateway: serial transport on the relay's far end (tapped), MQTT upstream, alias 1 → the phone's listener.
    const profile = loraProfile({ sf: 7, dutyCycle: 1 })
    const gwTap = newTapRecord()
    const [a, b] = memoryLinkPair({ mtu: profile.mtu })
    const model = loraLinkModel({ sf: 7, loss: 0.1, dutyCycle: false })
    const up = modelLink(a, model, { seed: `${SEED}/up` })
    const down = modelLink(b, model, { seed: `${SEED}/down` })
    const gwNode = new Node({ name: 'gateway' })
    const gwSerial = new SerialTransport({})
    gwSerial.addLink('monitor', tapLink(down, gwTap, 16 << 20), profile)
    const gwMqtt = await connectMqttTransport({ url: broker.url, name: 'gateway', connectTimeoutMs: 10_000 })
    const gateway = startGateway({ node: gwNode, link: gwSerial, upstream: [gwMqtt], routes: { 1: [address(TransportType.MQTT, 'phone'), local('hr')] } })
    cleanups.push(async () => {
      await gateway.close()
      await gwSerial.close()
    })
    const radio = await attachPtyRadio(up)
    cleanups.push(() => radio.close())

    const phone = new Node({ name: 'phone' })
    const phoneMqtt = await connectMqttTransport({ url: broker.url, name: 'phone', connectTimeoutMs: 10_000 })
    phone.registerTransport(phoneMqtt)
    cleanups.push(() => phoneMqtt.close())
    const received: number[] = []
    let phoneChannel: SecureChannel | undefined
    const listener = startSecureChannelListener(phone, 'hr', {
      protocol, s: phoneS, crypto, medium: 'lora',
      reliable: { ackTimeoutMs: 2000, minAckTimeoutMs: 1000 },
      auth: knownPeers([{ staticKey: devicePub, identifier: 'monitor' }]),
      initiatorStatics: [devicePub],
      deliverTo: (payload, _peer, ch) => {
        phoneChannel = ch
        const r = decodeReading(payload)
        if (r) received.push(r.seq)
      },
    })
    cleanups.push(async () => listener.stop())

    // The monitor: 100 readings in reliable mode, renewal after 40 messages, reliable timers short enough for a test.
    const rnd = seededRandom(`${SEED}/readings`)
    const readings = Array.from({ length: READINGS }, (_, seq) => encodeReading(0, seq, 55 + rnd.int(60)))
    const device = spawnEspruino(deviceScript({
      radioPath: radio.path,
      profile: { name: 'lora', sf: 7, mtu: profile.mtu, dutyCycle: 1 },
      vault: { kind: 'atecc608', kitPath: kitPty.a, slot },
      peer: phoneS.publicKey,
      peerXY: phoneXY,
      route: 1,
      medium: 'lora',
      reliable: true,
      limits: { session: { renewAfterMessages: RENEW_AFTER_MESSAGES }, reliable: { ackTimeoutMs: 2000, minAckTimeoutMs: 1000, maxBackoffMs: 8000 } },
      retransmit: { initialMs: 3000, maxMs: 8000, attempts: 8 },
      readings,
      intervalMs: 150,
      window: 8,
    }))
    cleanups.push(() => device.stop())
    const events: Record<string, unknown>[] = []
    device.onLine((l) => {
      const e = deviceEvent(l)
      if (e) events.push(e)
      else if (process.env.HOPSEAL_E2E_DEBUG) console.log(`# device: ${l}`)
    })

    const opened = deviceEvent(await device.waitFor((l) => /"ev":"(open|close)"/.test(l), RUN_TIMEOUT_MS))!
    assert.equal(opened.ev, 'open', `the handshake failed: ${JSON.stringify(opened)}`)
    const done = deviceEvent(await device.waitFor((l) => /"ev":"(done|close|failed)"/.test(l), RUN_TIMEOUT_MS - (Date.now() - t0)))!
    assert.equal(done.ev, 'done', `the device stopped before every reading was acknowledged: ${JSON.stringify(done)}; last lines:\n${device.lines.slice(-10).join('\n')}`)
    const wallMs = Date.now() - t0

    // Exactly once, in order.
    assert.deepEqual(received, readings.map((_, i) => i))
    // A renewal happened during the run, on both ends.
    const renewals = events.filter((e) => e.ev === 'renew').length
    assert.ok(renewals >= 1, 'the device renewed at least once')
    assert.ok((phoneChannel?.renewals ?? 0) >= 1, 'the phone saw the renewal')
    // Loss really happened both ways.
    assert.ok(up.stats.lost > 0 && down.stats.lost > 0, `frames lost up ${up.stats.lost}, down ${down.stats.lost}`)
    // No plaintext at the intermediaries.
    assert.ok(brokerTap.items.length > 0 && gwTap.items.length > 0)
    assert.equal(countPlaintext(readings, [...brokerTap.items, ...gwTap.items]), 0)

    console.log(`# handshake ${String(opened.ms)} ms (interpreter, simulated ATECC608 instant), run ${wallMs} ms wall, device peak ${String(done.vars)} variables, ${renewals} renewal(s), radio frames up ${up.stats.sent} (lost ${up.stats.lost}) down ${down.stats.sent} (lost ${down.stats.lost})`)
  })
})
