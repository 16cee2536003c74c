/**
 * Node config validation: every error names the file, the key path and a fix;
 * unknown keys fail with a did-you-mean hint; YAML and JSON syntax errors give
 * line and column; ${ENV} expansion; secrets never appear in messages.
 */
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { isHopsealError } from '../../src/errors.ts'
import { configToDisplay, loadConfig, resolveVaultSpec, type NodeConfig } from '../../targets/node/runtime/config.ts'
import { didYouMean } from '../../targets/node/runtime/config-reader.ts'

const dir = mkdtempSync(join(tmpdir(), 'hopseal-config-'))
after(() => rmSync(dir, { recursive: true, force: true }))

let seq = 0
function write(text: string, ext = '.yaml'): string {
  const f = join(dir, `c${seq++}${ext}`)
  writeFileSync(f, text)
  return f
}

const KEY = 'a'.repeat(64)
const BASE = `name: gw
transports:
  mqtt: { url: mqtt://127.0.0.1:1883 }
  serial:
    - { name: lora0, path: /dev/ttyUSB0, profile: lora, sf: 7 }
`

/** Loads `text` and returns the CONFIG_INVALID message (fails the test if it loads). */
function errorOf(text: string, env: NodeJS.ProcessEnv = {}, ext = '.yaml'): string {
  const f = write(text, ext)
  try {
    loadConfig(f, env)
  } catch (e) {
    assert.ok(isHopsealError(e, 'CONFIG_INVALID'), `expected CONFIG_INVALID, got ${String(e)}`)
    return e.message
  }
  assert.fail(`expected ${text} to be refused`)
}

describe('node config: valid files', () => {
  it('the full schema loads with defaults applied and relative paths resolved', () => {
    const f = write(`${BASE}
log: { level: debug, json: true }
metrics: { port: 9500 }
vault: software:./gw.hsv
gateway:
  routes: { 1: "2#phone;0#hr" }
  devices: { lora0: { mode: sleepy, awakeMs: 1500, downlinkFrom: [phone] } }
  mailbox: { maxMessages: 8, ttlMs: 60000 }
relay: { maxAliases: 16 }
listeners:
  - address: hr
    protocol: Noise_KK_25519_AESGCM_SHA256
    key: gw-static
    service: echo
    medium: lora
    trust: { knownPeers: [${KEY}, { key: "0x${'b'.repeat(64)}", name: monitor-2 }] }
limits: { maxChannelsPerPeer: 4 }
`)
    const c: NodeConfig = loadConfig(f, {})
    assert.equal(c.name, 'gw')
    assert.deepEqual(c.log, { level: 'debug', json: true })
    assert.deepEqual(c.metrics, { host: '127.0.0.1', port: 9500 })
    assert.equal(c.vault, `software:${join(dir, 'gw.hsv')}`)
    assert.equal(c.transports.mqtt?.name, 'gw', 'the MQTT name defaults to the node name')
    assert.equal(c.transports.serial[0]!.profile, 'lora')
    assert.deepEqual(c.transports.serial[0]!.profileOptions, { sf: 7 })
    assert.equal(c.gateway?.routes[0]?.alias, 1)
    assert.equal(c.gateway?.routes[0]?.route.length, 2)
    assert.deepEqual(c.gateway?.devices, { lora0: { mode: 'sleepy', awakeMs: 1500, downlinkFrom: ['phone'] } })
    assert.deepEqual(c.relay, { maxAliases: 16 })
    assert.equal(c.listeners[0]!.knownPeers.length, 2)
    assert.equal(c.listeners[0]!.knownPeers[1]!.name, 'monitor-2')
    assert.equal(c.listeners[0]!.medium, 'lora')
    assert.deepEqual(c.limits, { maxChannelsPerPeer: 4, maxPending: 64, shutdownTimeoutMs: 10_000 })
    const shown = configToDisplay(c) as { gateway: { routes: Record<string, string> } }
    assert.deepEqual(shown.gateway.routes, { 1: '2#phone;0#hr' })
  })

  it('JSON configs load too', () => {
    const c = loadConfig(write(JSON.stringify({ name: 'j', transports: { mqtt: { url: 'mqtts://broker:8883' } } }), '.json'), {})
    assert.equal(c.transports.mqtt?.url, 'mqtts://broker:8883')
    assert.equal(c.gateway, undefined)
  })

  it('${VAR} and ${VAR:-default} expand in strings and in numbers; $${ is a literal', () => {
    const text = `name: \${NODE_NAME:-gw-default}
metrics: { port: "\${PORT:-9464}" }
transports:
  mqtt: { url: "\${URL:-mqtt://127.0.0.1:1883}", prefix: "a$\${b}" }
`
    const a = loadConfig(write(text), {})
    assert.equal(a.name, 'gw-default')
    assert.equal(a.metrics?.port, 9464)
    assert.equal(a.transports.mqtt?.url, 'mqtt://127.0.0.1:1883')
    assert.equal(a.transports.mqtt?.prefix, 'a${b}')
    const b = loadConfig(write(text), { NODE_NAME: 'gw-env', PORT: '0', URL: 'ws://h:9001' })
    assert.deepEqual([b.name, b.metrics?.port, b.transports.mqtt?.url], ['gw-env', 0, 'ws://h:9001'])
  })

  it('a password from the environment or a 0600 file is kept as a Secret that prints [redacted]', () => {
    const pw = join(dir, 'mqtt.pw')
    writeFileSync(pw, 'hunter2-from-file\n', { mode: 0o600 })
    chmodSync(pw, 0o600)
    const c = loadConfig(write(`name: s\ntransports:\n  mqtt: { url: mqtt://h, username: gw, passwordFile: ${pw} }\n`), {})
    assert.equal(c.transports.mqtt?.password?.reveal(), 'hunter2-from-file')
    assert.equal(String(c.transports.mqtt?.password), '[redacted]')
    assert.ok(!JSON.stringify(configToDisplay(c)).includes('hunter2'))
    const e = loadConfig(write(`name: s\ntransports:\n  mqtt: { url: mqtt://h, username: gw, password: "\${PW}" }\n`), { PW: 'hunter3-env' })
    assert.equal(e.transports.mqtt?.password?.reveal(), 'hunter3-env')
    assert.ok(!JSON.stringify(e).includes('hunter3'))
  })

  it('vault specs: relative paths resolve against the config directory, other options stay', () => {
    assert.equal(resolveVaultSpec('software:memory', '/etc/hs'), 'software:memory')
    assert.equal(resolveVaultSpec('software:k.hsv,passphrase-file=./pp', '/etc/hs'), 'software:/etc/hs/k.hsv,passphrase-file=/etc/hs/pp')
    assert.equal(resolveVaultSpec('pkcs11:module=/usr/lib/softhsm/libsofthsm2.so,token=t,pin-file=pin', '/etc/hs'), 'pkcs11:module=/usr/lib/softhsm/libsofthsm2.so,token=t,pin-file=/etc/hs/pin')
    assert.equal(resolveVaultSpec('atecc608:kit=/dev/ttyACM0', '/etc/hs'), 'atecc608:kit=/dev/ttyACM0')
  })
})

describe('node config: every error names the file, the key path and a fix', () => {
  const cases: [string, string, RegExp][] = [
    ['the MQTT URL without a scheme', BASE.replace('mqtt://127.0.0.1:1883', 'localhost:1883'),
      /: transports\.mqtt\.url: expected an mqtt:\/\/, mqtts:\/\/, ws:\/\/ or wss:\/\/ URL, got "localhost:1883" \(fix: write mqtt:\/\/localhost:1883\)$/],
    ['a missing name', BASE.replace('name: gw\n', ''), /: name: is required \(fix: write name: /],
    ['a bad log level', `${BASE}log: { level: verbose }\n`, /: log\.level: expected one of error\|warn\|info\|debug, got "verbose" \(fix: /],
    ['a port out of range', `${BASE}metrics: { port: 70000 }\n`, /: metrics\.port: expected 0\.\.65535, got 70000 \(fix: write a value between 0 and 65535\)$/],
    ['a profile option of another profile', BASE.replace('profile: lora, sf: 7', 'profile: raw, sf: 7'), /: transports\.serial\[0\]\.sf: is not an option of the raw profile \(fix: remove it, or set profile: lora\)$/],
    ['a duty-cycle budget too small for one frame', BASE.replace('sf: 7', 'sf: 12, dutyCycle: 0.0001, windowMs: 1000'), /: transports\.serial\[0\]: lora profile: one 51-byte frame .* exceeds the duty-cycle budget .* \(fix: /],
    ['two links with one name', BASE + '    - { name: lora0, path: /dev/ttyUSB1 }\n', /: transports\.serial\[1\]\.name: link name "lora0" is used twice \(fix: /],
    ['a route alias out of range', `${BASE}gateway: { routes: { 200: "2#a" } }\n`, /: gateway\.routes\.200: route alias "200" is not 0\.\.127 \(fix: /],
    ['a route that does not parse', `${BASE}gateway: { routes: { 1: "999#a" } }\n`, /: gateway\.routes\.1: route "999#a" does not parse: address type expected 0\.\.255, got 999 \(fix: /],
    ['a device that is not a link, with a hint', `${BASE}gateway: { devices: { lora1: { mode: sleepy } } }\n`, /: gateway\.devices\.lora1: no serial link is named "lora1"; did you mean "lora0"\? \(fix: rename it to lora0\)$/],
    ['a gateway without serial links', 'name: g\ntransports: { mqtt: { url: mqtt://h } }\ngateway: {}\n', /: gateway: a gateway needs at least one serial link \(fix: /],
    ['no transport', 'name: g\ntransports: {}\n', /: transports: no transport is configured \(fix: add transports\.mqtt and\/or transports\.serial\)$/],
    ['listeners without a vault', `${BASE}listeners: [{ address: hr, protocol: Noise_KK_25519_AESGCM_SHA256, key: k, service: echo, trust: { knownPeers: [${KEY}] } }]\n`, /: vault: listeners need a vault .* \(fix: add vault: /],
    ['a one-way pattern', `${BASE}vault: software:memory\nlisteners: [{ address: hr, protocol: Noise_NK_25519_AESGCM_SHA256, key: k, service: echo, trust: { knownPeers: [${KEY}] } }]\n`, /: listeners\[0\]\.protocol: pattern NK does not authenticate the initiator \(fix: /],
    ['a downlinkFrom entry that is not a node name', `${BASE}gateway:\n  routes: { 1: "2#phone;0#hr" }\n  devices: { lora0: { downlinkFrom: ["a/b"] } }\n`, /: gateway\.devices\.lora0\.downlinkFrom\[0\]: "a\/b" is not an MQTT node name/],
    ['a listener medium that does not exist', `${BASE}vault: software:memory\nlisteners: [{ address: hr, protocol: Noise_KK_25519_AESGCM_SHA256, key: k, service: log, medium: wifi, trust: { knownPeers: [${KEY}] } }]\n`, /: listeners\[0\]\.medium: .*wifi.*ip, lora, ble/],
    ['a P-256 listener with a 32-byte peer key', `${BASE}vault: software:memory\nlisteners: [{ address: hr, protocol: Noise_KK_P256_AESGCM_SHA256, key: k, service: log, trust: { knownPeers: [${KEY}] } }]\n`, /: listeners\[0\]\.trust\.knownPeers\[0\]: expected a 33-byte P256 public key \(66 hex digits\), got 64 hex digits \(fix: /],
    ['an unknown service', `${BASE}vault: software:memory\nlisteners: [{ address: hr, protocol: Noise_KK_25519_AESGCM_SHA256, key: k, service: ecko, trust: { knownPeers: [${KEY}] } }]\n`, /: listeners\[0\]\.service: expected one of echo\|log, got "ecko"; did you mean "echo"\? \(fix: write echo\)$/],
    ['an unset environment variable', BASE.replace('mqtt://127.0.0.1:1883', '"${BROKER}"'), /: transports\.mqtt\.url: environment variable BROKER is not set \(fix: export BROKER=… before starting, or give a default: \$\{BROKER:-value\}\)$/],
    ['TLS options on a plain URL', BASE.replace('mqtt: { url: mqtt://127.0.0.1:1883 }', 'mqtt: { url: mqtt://h, tls: { rejectUnauthorized: true } }'), /: transports\.mqtt\.tls: TLS options are set but the URL scheme is mqtt:\/\/ \(fix: use mqtts:\/\//],
  ]
  for (const [what, text, re] of cases) {
    it(what, () => {
      const msg = errorOf(text)
      assert.match(msg, /^CONFIG_INVALID: \/.*\/c\d+\.yaml: /, 'the message starts with the file')
      assert.match(msg, re)
    })
  }

  it('an unknown key is an error, with a did-you-mean hint when a known key is close', () => {
    assert.match(errorOf(`${BASE}metrcs: { port: 1 }\n`), /: metrcs: unknown key; did you mean "metrics"\? \(fix: rename it to metrics\)$/)
    assert.match(errorOf(BASE.replace('mqtt: { url:', 'mqtt: { prefx: a, url:')), /: transports\.mqtt\.prefx: unknown key; did you mean "prefix"\?/)
    assert.match(errorOf(`${BASE}zzz: 1\n`), /: zzz: unknown key \(fix: remove it; known keys here: name, log, metrics, /)
    assert.equal(didYouMean('sharde', ['shared', 'tls']), 'shared')
    assert.equal(didYouMean('qqqqqq', ['shared', 'tls']), undefined)
  })

  it('YAML syntax errors give file:line:column; JSON ones too; duplicate keys are errors', () => {
    assert.match(errorOf('name: a\nlog: {level: info\nmetrics: 1\n'), /\/c\d+\.yaml:3:1: YAML syntax error: Flow map in block collection .* \(fix: check the indentation, quotes and brackets near line 3\)$/)
    assert.match(errorOf('name: a\nname: b\n'), /\.yaml:2:1: YAML syntax error: Map keys must be unique \(fix: remove or merge the repeated key\)$/)
    assert.match(errorOf('{\n  "name": "a",\n  "x": ,\n}', {}, '.json'), /\.json:3:8: JSON syntax error: Unexpected token ',' \(fix: /)
    assert.match(errorOf('{"name": "a" "x": 1}', {}, '.json'), /\.json:1:14: JSON syntax error: Expected ',' or '}' after property value \(fix: /)
    assert.match(errorOf('name: a\n', {}, '.toml'), /: unknown config file type ".toml" \(fix: name it \.yaml, \.yml or \.json\)$/)
  })

  it('a missing file names the path and the fix', () => {
    assert.throws(() => loadConfig(join(dir, 'nope.yaml'), {}), /CONFIG_INVALID: .*nope\.yaml: cannot read the config file \(ENOENT\) \(fix: check the path given to --config/)
  })

  it('secrets never appear in error messages', () => {
    const secret = 'S3cr3t-pa55'
    const m1 = errorOf(`name: s\ntransports:\n  mqtt: { url: "mqtt://gw:${secret}@h:1883" }\n`)
    assert.match(m1, /transports\.mqtt\.url: the URL carries credentials/)
    assert.ok(!m1.includes(secret))
    const m2 = errorOf(`name: s\ntransports:\n  mqtt: { url: "mqtt://h", password: ${secret} }\n`)
    assert.match(m2, /transports\.mqtt\.username: a password is set without a username/)
    assert.ok(!m2.includes(secret))
    const m3 = errorOf(`name: s\ntransports:\n  mqtt: { url: "mqtt://h", username: u, password: [${secret}] }\n`)
    assert.match(m3, /transports\.mqtt\.password: expected a string, got a object/)
    assert.ok(!m3.includes(secret))
    const pw = join(dir, 'open.pw')
    writeFileSync(pw, `${secret}\n`)
    chmodSync(pw, 0o644)
    const m4 = errorOf(`name: s\ntransports:\n  mqtt: { url: "mqtt://h", username: u, passwordFile: ${pw} }\n`)
    assert.match(m4, /transports\.mqtt\.passwordFile: .*open\.pw is readable by group or others \(mode 644\) \(fix: run chmod 600 /)
    assert.ok(!m4.includes(secret))
  })
})
