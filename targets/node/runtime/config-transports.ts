/** Validation of the `transports` section of a node config (MQTT and serial links). */
import { readFileSync, statSync } from 'node:fs'
import { isHopsealError } from '../../../src/errors.ts'
import { bleUartProfile, loraProfile, rawProfile } from '../transports/serial/profiles.ts'
import { child, show, type ConfigReader, type KeyPath } from './config-reader.ts'
import { Secret, type MqttConfig, type SerialLinkConfig, type SerialProfileName } from './config-types.ts'
import { MAX_PASSWORD_FILE, MAX_SERIAL_LINKS } from './constants.ts'

const NAME = /^[A-Za-z0-9._-]{1,64}$/
const LINK_NAME = /^[A-Za-z0-9._-]{1,32}$/
const SCHEMES = ['mqtt:', 'mqtts:', 'ws:', 'wss:']

const MQTT_KEYS = [
  'url', 'name', 'prefix', 'qos', 'clientId', 'cleanStart', 'sessionExpirySec', 'protocolVersion', 'keepaliveSec',
  'username', 'password', 'passwordFile', 'tls', 'shared', 'reconnect', 'maxPayload', 'maxInflight',
] as const

/** The `transports.mqtt` mapping. `nodeName` is the default MQTT name. */
export function readMqtt(r: ConfigReader, v: unknown, path: KeyPath, nodeName: string): MqttConfig {
  const m = r.mapping(v, path, MQTT_KEYS)
  const p = (k: string): KeyPath => child(path, k)
  if (m.url === undefined) r.fail(p('url'), 'is required', `write ${p('url')}: mqtt://127.0.0.1:1883`)
  const url = readUrl(r, m.url, p('url'))
  const c: MqttConfig = { url, name: m.name === undefined ? nodeName : r.str(m.name, p('name'), { pattern: NAME, what: '1-64 characters of A-Z a-z 0-9 . _ -' }) }
  if (m.prefix !== undefined) c.prefix = r.str(m.prefix, p('prefix'), { pattern: /^[^#+\0]{1,256}$/, what: 'a topic prefix without # or +' })
  if (m.qos !== undefined) c.qos = r.num(m.qos, p('qos'), 0, 2) as 0 | 1 | 2
  if (m.clientId !== undefined) c.clientId = r.str(m.clientId, p('clientId'), { maxLength: 256 })
  if (m.cleanStart !== undefined) c.cleanStart = r.bool(m.cleanStart, p('cleanStart'))
  if (m.sessionExpirySec !== undefined) c.sessionExpirySec = r.num(m.sessionExpirySec, p('sessionExpirySec'), 0, 0xffff_ffff, { unit: 's' })
  if (m.protocolVersion !== undefined) {
    const n = r.num(m.protocolVersion, p('protocolVersion'), 4, 5)
    c.protocolVersion = n as 4 | 5
  }
  if (m.keepaliveSec !== undefined) c.keepaliveSec = r.num(m.keepaliveSec, p('keepaliveSec'), 0, 65_535, { unit: 's' })
  if (m.username !== undefined) c.username = r.str(m.username, p('username'), { maxLength: 256 })
  if (m.password !== undefined && m.passwordFile !== undefined) r.fail(p('password'), 'both password and passwordFile are set', 'keep only passwordFile (it stays out of the config file)')
  if (m.password !== undefined) c.password = new Secret(r.str(m.password, p('password'), { secret: true, fix: `write ${p('password')}: \${MQTT_PASSWORD} or use passwordFile` }))
  if (m.passwordFile !== undefined) c.password = readPasswordFile(r, m.passwordFile, p('passwordFile'))
  if (c.password !== undefined && c.username === undefined) r.fail(p('username'), 'a password is set without a username', `add ${p('username')}`)
  if (m.tls !== undefined) c.tls = readTls(r, m.tls, p('tls'), url)
  if (m.shared !== undefined) {
    const s = r.mapping(m.shared, p('shared'), ['name', 'group'])
    if (s.name === undefined || s.group === undefined) r.fail(p('shared'), 'needs both name and group', `write ${p('shared')}: { name: ingest, group: gateways }`)
    c.shared = { name: r.str(s.name, child(p('shared'), 'name'), { pattern: NAME, what: 'an MQTT name' }), group: r.str(s.group, child(p('shared'), 'group'), { pattern: NAME, what: 'a share group name' }) }
  }
  if (m.reconnect !== undefined) {
    const rc = r.mapping(m.reconnect, p('reconnect'), ['initialMs', 'maxMs'])
    c.reconnect = {}
    if (rc.initialMs !== undefined) c.reconnect.initialMs = r.num(rc.initialMs, child(p('reconnect'), 'initialMs'), 1, 3_600_000, { unit: 'ms' })
    if (rc.maxMs !== undefined) c.reconnect.maxMs = r.num(rc.maxMs, child(p('reconnect'), 'maxMs'), c.reconnect.initialMs ?? 1, 3_600_000, { unit: 'ms' })
  }
  if (m.maxPayload !== undefined) c.maxPayload = r.num(m.maxPayload, p('maxPayload'), 64, 16 * 1024 * 1024, { unit: 'bytes' })
  if (m.maxInflight !== undefined) c.maxInflight = r.num(m.maxInflight, p('maxInflight'), 1, 65_535)
  return c
}

function readUrl(r: ConfigReader, v: unknown, path: KeyPath): string {
  const fix = (s: string): string => (/^[A-Za-z0-9.-]+(:\d+)?$/.test(s) ? `write mqtt://${s}` : 'write mqtt://HOST:1883 or mqtts://HOST:8883')
  const s = r.str(v, path, { what: 'an mqtt://, mqtts://, ws:// or wss:// URL', fix: 'write mqtt://HOST:1883' })
  let u: URL | undefined
  try {
    u = new URL(s)
  } catch {
    u = undefined
  }
  if (!u || !SCHEMES.includes(u.protocol)) {
    const shown = u && (u.username || u.password) ? 'a URL with credentials' : show(s)
    r.fail(path, `expected an mqtt://, mqtts://, ws:// or wss:// URL, got ${shown}`, fix(s))
  }
  if (u.username || u.password) {
    r.fail(path, 'the URL carries credentials, which would show in process listings and logs', `remove them from the URL and set ${path.replace(/url$/, 'username')} and ${path.replace(/url$/, 'passwordFile')}`)
  }
  return s
}

function readTls(r: ConfigReader, v: unknown, path: KeyPath, url: string): NonNullable<MqttConfig['tls']> {
  const t = r.mapping(v, path, ['caFile', 'certFile', 'keyFile', 'rejectUnauthorized'])
  if (!/^(mqtts|wss):/.test(url)) r.fail(path, `TLS options are set but the URL scheme is ${url.split(':')[0]}://`, 'use mqtts:// (port 8883) or wss://')
  const out: NonNullable<MqttConfig['tls']> = {}
  for (const k of ['caFile', 'certFile', 'keyFile'] as const) {
    if (t[k] === undefined) continue
    const file = r.path(t[k], child(path, k))
    checkReadable(r, file, child(path, k), k === 'keyFile')
    out[k] = file
  }
  if ((out.certFile === undefined) !== (out.keyFile === undefined)) r.fail(path, 'certFile and keyFile go together (client certificate authentication)', 'set both or neither')
  if (t.rejectUnauthorized !== undefined) out.rejectUnauthorized = r.bool(t.rejectUnauthorized, child(path, 'rejectUnauthorized'))
  return out
}

/** Fails unless `file` is a readable regular file; `privateFile` also refuses group/other access. */
function checkReadable(r: ConfigReader, file: string, path: KeyPath, privateFile: boolean): void {
  let st
  try {
    st = statSync(file)
  } catch (e) {
    r.fail(path, `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, 'check the path and that the hopseal user can read it')
  }
  if (!st.isFile()) r.fail(path, `${file} is not a regular file`, 'point it at a file')
  if (privateFile && (st.mode & 0o077) !== 0) r.fail(path, `${file} is readable by group or others (mode ${(st.mode & 0o777).toString(8)})`, `run chmod 600 ${file}`)
}

function readPasswordFile(r: ConfigReader, v: unknown, path: KeyPath): Secret {
  const file = r.path(v, path)
  checkReadable(r, file, path, true)
  const text = readFileSync(file, 'utf8')
  if (text.length > MAX_PASSWORD_FILE) r.fail(path, `${file} is larger than ${MAX_PASSWORD_FILE} bytes`, 'put only the password, on one line')
  const line = text.split(/\r?\n/, 1)[0] ?? ''
  if (line === '') r.fail(path, `${file} is empty`, 'write the password on its first line')
  return new Secret(line)
}

const SERIAL_KEYS = ['name', 'path', 'baudRate', 'profile', 'mtu', 'reassemblyTimeoutMs', 'writeIntervalMs', 'sf', 'dataRate', 'bwHz', 'cr', 'dutyCycle', 'dutyPolicy', 'windowMs'] as const
const PROFILE_KEYS: Record<SerialProfileName, readonly string[]> = {
  raw: ['mtu', 'reassemblyTimeoutMs'],
  'ble-uart': ['mtu', 'reassemblyTimeoutMs', 'writeIntervalMs'],
  lora: ['mtu', 'reassemblyTimeoutMs', 'sf', 'dataRate', 'bwHz', 'cr', 'dutyCycle', 'dutyPolicy', 'windowMs'],
}

/** The `transports.serial` list. */
export function readSerialLinks(r: ConfigReader, v: unknown, path: KeyPath): SerialLinkConfig[] {
  const links: SerialLinkConfig[] = []
  r.list(v, path, MAX_SERIAL_LINKS).forEach((item, i) => {
    const ip = child(path, i)
    const m = r.mapping(item, ip, SERIAL_KEYS)
    for (const k of ['name', 'path'] as const) if (m[k] === undefined) r.fail(child(ip, k), 'is required', k === 'name' ? `write name: lora0` : `write path: /dev/ttyUSB0`)
    const name = r.str(m.name, child(ip, 'name'), { pattern: LINK_NAME, what: '1-32 characters of A-Z a-z 0-9 . _ -' })
    const dup = links.find((l) => l.name === name)
    if (dup) r.fail(child(ip, 'name'), `link name ${show(name)} is used twice`, 'give each serial link its own name')
    const devicePath = r.path(m.path, child(ip, 'path'))
    if (links.some((l) => l.path === devicePath)) r.fail(child(ip, 'path'), `${devicePath} is used by two links`, 'one link per serial device')
    const profile = m.profile === undefined ? 'raw' : r.oneOf(m.profile, child(ip, 'profile'), ['raw', 'ble-uart', 'lora'] as const)
    const profileOptions: Record<string, number | string> = {}
    for (const k of SERIAL_KEYS.slice(4)) {
      if (m[k] === undefined) continue
      if (!PROFILE_KEYS[profile].includes(k)) r.fail(child(ip, k), `is not an option of the ${profile} profile`, `remove it, or set profile: ${k === 'writeIntervalMs' ? 'ble-uart' : 'lora'}`)
      profileOptions[k] = k === 'dutyPolicy' ? r.oneOf(m[k], child(ip, k), ['window', 'time-off'] as const) : r.num(m[k], child(ip, k), 0, 1e9, { integer: k !== 'dutyCycle' && k !== 'writeIntervalMs' })
    }
    checkProfile(r, ip, profile, profileOptions)
    const link: SerialLinkConfig = { name, path: devicePath, profile, profileOptions }
    if (m.baudRate !== undefined) link.baudRate = r.num(m.baudRate, child(ip, 'baudRate'), 50, 16_000_000, { unit: 'bit/s' })
    links.push(link)
  })
  return links
}

/** Builds the profile once so its own checks (MTU range, duty-cycle budget) fail at load time, with the key path. */
function checkProfile(r: ConfigReader, path: KeyPath, profile: SerialProfileName, opts: Record<string, number | string>): void {
  try {
    buildProfile(profile, opts)
  } catch (e) {
    if (!isHopsealError(e)) throw e
    r.fail(path, e.message.replace(/^[A-Z_]+: /, ''), 'adjust the profile options (docs/operations.md lists their ranges)')
  }
}

/** The serial link profile for a validated link config. */
export function buildProfile(profile: SerialProfileName, opts: Record<string, number | string>): ReturnType<typeof rawProfile> {
  if (profile === 'lora') return loraProfile(opts as Parameters<typeof loraProfile>[0])
  if (profile === 'ble-uart') return bleUartProfile(opts as Parameters<typeof bleUartProfile>[0])
  return rawProfile(opts as Parameters<typeof rawProfile>[0])
}
