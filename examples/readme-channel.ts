/**
 * The README's library example: a monitor and a phone, each a routing Node on
 * MQTT (an embedded broker here), open a KK secure channel and the phone
 * receives one reading. The broker only ever carries ciphertext.
 *
 *   npx tsx examples/readme-channel.ts
 */
import { cryptoProvider, createSecureChannel, knownPeers, local, Node, address, softwareStaticKey, startSecureChannelListener, TransportType } from 'hopseal'
import { connectMqttTransport, startEmbeddedBroker } from 'hopseal/transports/mqtt'

const broker = await startEmbeddedBroker()
const crypto = cryptoProvider('node')
const [monitorKey, phoneKey] = [crypto.generateKeyPair('x25519'), crypto.generateKeyPair('x25519')].map((k) => softwareStaticKey(crypto, k))
const protocol = 'Noise_KK_25519_ChaChaPoly_SHA256'

// begin readme
const phone = new Node({ name: 'phone' })
phone.registerTransport(await connectMqttTransport({ url: broker.url, name: 'phone' }))
const got = new Promise<string>((resolve) => phone.startWorker('app', (_ctx, msg) => resolve(new TextDecoder().decode(msg.payload))))
startSecureChannelListener(phone, 'hr', { protocol, s: phoneKey!, auth: knownPeers([{ staticKey: monitorKey!.publicKey }]), initiatorStatics: [monitorKey!.publicKey], deliverTo: local('app') })

const monitor = new Node({ name: 'monitor' })
monitor.registerTransport(await connectMqttTransport({ url: broker.url, name: 'monitor' }))
const channel = await createSecureChannel(monitor, [address(TransportType.MQTT, 'phone'), local('hr')], { protocol, s: monitorKey!, rs: phoneKey!.publicKey, auth: knownPeers([{ staticKey: phoneKey!.publicKey }]) })
await channel.send(new TextEncoder().encode('72 bpm'))
console.log('phone received:', await got)
// end readme

await channel.close()
await monitor.close()
await phone.close()
await broker.close()
