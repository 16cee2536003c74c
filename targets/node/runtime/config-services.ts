/** Validation of the `gateway`, `relay` and `listeners` sections of a node config. */
import { fromHex } from '../../../src/bytes/index.ts'
import { MEDIA } from '../../../src/channel/limits.ts'
import { isValidName } from '../transports/mqtt/topics.ts'
import { isHopsealError } from '../../../src/errors.ts'
import { parseProtocolName, type NoiseProtocol } from '../../../src/noise/index.ts'
import { parseRoute } from '../../../src/routing/address.ts'
import { child, didYouMean, show, type ConfigReader, type KeyPath } from './config-reader.ts'
import type { GatewayConfig, ListenerConfig, SerialLinkConfig } from './config-types.ts'
import { MAX_KNOWN_PEERS, MAX_LISTENERS } from './constants.ts'

/** The `gateway` mapping; device names must be serial links of this node. */
export function readGateway(r: ConfigReader, v: unknown, path: KeyPath, links: readonly SerialLinkConfig[]): GatewayConfig {
  const g = r.mapping(v ?? {}, path, ['routes', 'devices', 'mailbox'])
  if (links.length === 0) r.fail(path, 'a gateway needs at least one serial link', 'add transports.serial (the constrained links it fronts), or remove gateway')
  const out: GatewayConfig = { routes: [], devices: {}, mailbox: {} }
  if (g.routes !== undefined) {
    const rp = child(path, 'routes')
    for (const [k, text] of Object.entries(r.record(g.routes, rp))) {
      const kp = child(rp, k)
      const alias = Number(k)
      if (!/^\d+$/.test(k) || alias > 127) r.fail(kp, `route alias ${show(k)} is not 0..127`, 'use a number 0..127 (one byte on the radio; 0 gives a handshake message 1 a 1-byte header)')
      const s = r.str(text, kp, { what: 'a route such as "2#app;0#hr"', fix: `write ${k}: "2#<mqtt name>;0#<listener>"` })
      let route
      try {
        route = parseRoute(s)
      } catch (e) {
        if (!isHopsealError(e)) throw e
        r.fail(kp, `route ${show(s)} does not parse: ${e.message.replace(/^[A-Z_]+: /, '')}`, 'write TYPE#VALUE hops separated by ; (2 = MQTT, 3 = serial, 0 = local)')
      }
      if (route.length === 0) r.fail(kp, 'the route is empty', 'write at least one hop, e.g. "2#app;0#hr"')
      out.routes.push({ alias, route, text: s })
    }
  }
  if (g.devices !== undefined) {
    const dp = child(path, 'devices')
    const names = links.map((l) => l.name)
    for (const [name, d] of Object.entries(r.record(g.devices, dp))) {
      const np = child(dp, name)
      if (!names.includes(name)) {
        const hint = didYouMean(name, names)
        r.fail(np, `no serial link is named ${show(name)}` + (hint ? `; did you mean "${hint}"?` : ''), hint ? `rename it to ${hint}` : `use one of the link names: ${names.join(', ')}`)
      }
      const m = r.mapping(d, np, ['mode', 'awakeMs', 'downlinkFrom'])
      const dev: GatewayConfig['devices'][string] = { mode: m.mode === undefined ? 'always-on' : r.oneOf(m.mode, child(np, 'mode'), ['always-on', 'sleepy'] as const) }
      if (m.awakeMs !== undefined) {
        if (dev.mode !== 'sleepy') r.fail(child(np, 'awakeMs'), 'only applies to sleepy devices', 'set mode: sleepy or remove awakeMs')
        dev.awakeMs = r.num(m.awakeMs, child(np, 'awakeMs'), 1, 3_600_000, { unit: 'ms' })
      }
      if (m.downlinkFrom !== undefined) {
        const fp = child(np, 'downlinkFrom')
        dev.downlinkFrom = r.list(m.downlinkFrom, fp, 64).map((v, i) => {
          const n = r.str(v, child(fp, i))
          if (!isValidName(n)) r.fail(child(fp, i), `${show(n)} is not an MQTT node name`, 'write the name of the node allowed to push to this device, 1-64 of A-Z a-z 0-9 . _ -')
          return n
        })
      }
      out.devices[name] = dev
    }
  }
  if (g.mailbox !== undefined) {
    const mp = child(path, 'mailbox')
    const m = r.mapping(g.mailbox, mp, ['maxMessages', 'maxBytes', 'maxTotalBytes', 'ttlMs'])
    if (m.maxMessages !== undefined) out.mailbox.maxMessages = r.num(m.maxMessages, child(mp, 'maxMessages'), 1, 100_000)
    if (m.maxBytes !== undefined) out.mailbox.maxBytes = r.num(m.maxBytes, child(mp, 'maxBytes'), 64, 64 * 1024 * 1024, { unit: 'bytes' })
    if (m.maxTotalBytes !== undefined) out.mailbox.maxTotalBytes = r.num(m.maxTotalBytes, child(mp, 'maxTotalBytes'), out.mailbox.maxBytes ?? 64, 1024 * 1024 * 1024, { unit: 'bytes' })
    if (m.ttlMs !== undefined) out.mailbox.ttlMs = r.num(m.ttlMs, child(mp, 'ttlMs'), 1000, 7 * 24 * 3_600_000, { unit: 'ms' })
  }
  return out
}

const LISTENER_KEYS = ['address', 'protocol', 'key', 'service', 'trust', 'reliable', 'medium'] as const
/** Patterns in which both sides prove a static key: a listener must know who it talks to. */
const MUTUAL = ['XX', 'IK', 'KK', 'XK', 'IX']

/** The `listeners` list. `reserved` are local addresses already taken (relay, gateway aliases). */
export function readListeners(r: ConfigReader, v: unknown, path: KeyPath, reserved: ReadonlySet<string>): ListenerConfig[] {
  const out: ListenerConfig[] = []
  r.list(v, path, MAX_LISTENERS).forEach((item, i) => {
    const ip = child(path, i)
    const m = r.mapping(item, ip, LISTENER_KEYS)
    for (const k of ['address', 'protocol', 'key', 'service', 'trust'] as const) {
      if (m[k] === undefined) r.fail(child(ip, k), 'is required', LISTENER_FIX[k])
    }
    const address = r.str(m.address, child(ip, 'address'), { pattern: /^[A-Za-z0-9._-]{2,64}$/, what: '2-64 characters of A-Z a-z 0-9 . _ - (1-byte addresses are reserved for channels and aliases)' })
    if (reserved.has(address) || out.some((l) => l.address === address)) r.fail(child(ip, 'address'), `address ${show(address)} is already in use on this node`, 'pick another address')
    const protocolName = r.str(m.protocol, child(ip, 'protocol'))
    let protocol: NoiseProtocol
    try {
      protocol = parseProtocolName(protocolName)
    } catch (e) {
      if (!isHopsealError(e)) throw e
      r.fail(child(ip, 'protocol'), e.message.replace(/^[A-Z_]+: /, ''), 'write e.g. Noise_KK_25519_AESGCM_SHA256 or Noise_XX_P256_AESGCM_SHA256')
    }
    if (!MUTUAL.includes(protocol.pattern.name)) {
      r.fail(child(ip, 'protocol'), `pattern ${protocol.pattern.name} does not authenticate the initiator`, `use one of ${MUTUAL.join(', ')}`)
    }
    const key = r.str(m.key, child(ip, 'key'), { maxLength: 128, what: 'a vault key label' })
    const service = r.oneOf(m.service, child(ip, 'service'), ['echo', 'log'] as const)
    const knownPeers = readTrust(r, m.trust, child(ip, 'trust'), protocol)
    const reliable = m.reliable === undefined ? false : r.bool(m.reliable, child(ip, 'reliable'))
    const medium = m.medium === undefined ? 'ip' : r.oneOf(m.medium, child(ip, 'medium'), MEDIA)
    out.push({ address, protocol: protocol.name, key, service, knownPeers, reliable, medium })
  })
  return out
}

const LISTENER_FIX = {
  address: 'write address: hr (the local name initiators route to)',
  protocol: 'write protocol: Noise_KK_25519_AESGCM_SHA256',
  key: 'write key: <label of a key in the vault> (hopseal vault keygen --type x25519 --label L)',
  service: 'write service: echo or service: log',
  trust: 'write trust: { knownPeers: [<hex static public key>] }',
}

function readTrust(r: ConfigReader, v: unknown, path: KeyPath, protocol: NoiseProtocol): ListenerConfig['knownPeers'] {
  const t = r.mapping(v, path, ['knownPeers'])
  const kp = child(path, 'knownPeers')
  if (t.knownPeers === undefined) r.fail(kp, 'is required', 'list the static public keys (hex) of the devices allowed to connect')
  const list = r.list(t.knownPeers, kp, MAX_KNOWN_PEERS)
  if (list.length === 0) r.fail(kp, 'is empty: no initiator could ever connect', 'add at least one static public key (hex)')
  const seen = new Set<string>()
  return list.map((entry, i) => {
    const ep = child(kp, i)
    let hex: unknown = entry
    let name: string | undefined
    if (entry !== null && typeof entry === 'object') {
      const e = r.mapping(entry, ep, ['key', 'name'])
      hex = e.key
      if (e.name !== undefined) name = r.str(e.name, child(ep, 'name'), { maxLength: 128 })
    }
    const s = r.str(hex, ep, { pattern: /^(0x)?[0-9a-fA-F]+$/, what: 'a static public key in hex', fix: 'write the key as hex (hopseal vault public-key --label L prints it)' }).replace(/^0x/, '')
    const bytes = s.length % 2 === 0 ? fromHex(s) : new Uint8Array(0)
    if (bytes.length !== protocol.publicKeyLength) {
      r.fail(ep, `expected a ${protocol.publicKeyLength}-byte ${protocol.dh} public key (${2 * protocol.publicKeyLength} hex digits), got ${s.length} hex digits`, `use a ${protocol.keyType} key for ${protocol.name}`)
    }
    if (seen.has(s.toLowerCase())) r.fail(ep, 'this key is listed twice', 'remove the duplicate')
    seen.add(s.toLowerCase())
    return name === undefined ? { staticKey: bytes } : { staticKey: bytes, name }
  })
}
