/**
 * The device's ATECC608 driver (targets/espruino/src/atecc) in the real
 * Espruino interpreter, driving the project's simulator (hil-sim/atecc608,
 * instant timing, its own process) over the KIT protocol on a socat PTY
 * (`Serial2.setup(115200, { path })`): Info, Read, Random, GenKey in TempKey
 * and ECDH with it against a Node-side P-256 key (the shared secret equals
 * Node's), GenKey in a slot and ECDH with it, Sign verified by Node (low-S),
 * Counter increments, device status and argument errors. Every KIT line the
 * interpreter sent is compared with the packets vaults/atecc608 builds for
 * the same operations. The [KH] firmware dialect (device errors as a
 * negative ATCA_STATUS) is driven too.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { p256 } from '@noble/curves/nist.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { spawnEspruino } from '../../hil-sim/scenario/espruino.ts'
import { commands as C } from '../../vaults/atecc608/index.ts'
import { startPtySim } from '../atecc608/pty-harness.ts'
import { needSystem } from '../helpers/system.ts'
import { skipUnlessEspruino, wrapModules } from './harness.ts'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const unhex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'))
// the modules the driver needs, dependencies first (as targets/espruino/build.mjs orders them)
const ATECC = ['routing/bytes', 'atecc/packet', 'atecc/kit', 'atecc/i2c', 'atecc/index', 'atecc/extra']
const HALF_N = 0x7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8n

const skipReason = (): false | string => skipUnlessEspruino() || needSystem('socat')

const PRELUDE = `
function fromHex(h) { var b = new Uint8Array(h.length / 2); for (var i = 0; i < b.length; i++) b[i] = parseInt(h.substr(2 * i, 2), 16); return b; }
function hex(b) { var s = ''; for (var i = 0; i < b.length; i++) s += (b[i] < 16 ? '0' : '') + b[i].toString(16); return s; }
function out(tag, v) { console.log(tag + ' ' + v); }
function fail(tag) { return function (e) { out(tag, 'ERR ' + e.code + ' ' + e.status); }; }
`

/** Runs the device script against a fresh simulator; returns its tagged result lines and the KIT lines it sent. */
async function runOnSim(simArgs: string[], body: string, modules: readonly string[] = ATECC): Promise<{ get(tag: string): string; kit: string[] }> {
  const sim = await startPtySim(simArgs)
  const dev = spawnEspruino(
    `${wrapModules(modules)}${PRELUDE}
Serial2.setup(115200, { path: ${JSON.stringify(sim.hostPath)} });
var KIT = [];
var chip = require('hopseal/atecc/index').open({ kit: Serial2, log: function (l) { KIT.push(l); } });
${body}
`,
    { bundle: false },
  )
  try {
    await dev.waitFor((l) => l.includes('END'), 120_000)
    const lines = dev.lines.map((l) => l.replace(/^[\r>]+/, ''))
    return {
      get(tag: string): string {
        const l = lines.find((x) => x.startsWith(tag + ' '))
        assert.ok(l !== undefined, `the device printed ${tag}; last lines: ${lines.slice(-5).join(' | ')}`)
        return l.slice(tag.length + 1)
      },
      kit: lines.filter((l) => l.startsWith('KIT ')).map((l) => l.slice(4)),
    }
  } finally {
    await dev.stop()
    await sim.stop()
  }
}

/** The KIT lines of one command as cryptoauthlib (and vaults/atecc608) sends them. */
const cycle = (packet: Uint8Array): string[] => ['E:w()', `E:t(${hex(packet).toUpperCase()})`, 'E:i()']

describe('Espruino ATECC608 driver against the simulator over KIT on a PTY', { skip: skipReason() }, () => {
  it('Info, Read, Random, TempKey ECDH, slot ECDH, Sign, Counter and errors, with the packets of vaults/atecc608', { timeout: 180_000 }, async () => {
    const nodeSk = sha256(new TextEncoder().encode('espruino atecc node key'))
    const nodeXY = p256.getPublicKey(nodeSk, false).subarray(1)
    const digest = sha256(new TextEncoder().encode('a reading to sign'))
    const badXY = nodeXY.slice()
    badXY[63] = badXY[63]! ^ 1 // off the curve
    const r = await runOnSim(
      ['--seed', 'espruino-kit'],
      `var NODE = fromHex('${hex(nodeXY)}'), DIGEST = fromHex('${hex(digest)}'), BAD = fromHex('${hex(badXY)}');
chip.info().then(function (v) { out('INFO', hex(v)); return chip.read(0, 0, 32); })
.then(function (v) { out('READ', hex(v)); return chip.random(); })
.then(function (v) { out('RAND1', hex(v)); return chip.random(40); })
.then(function (v) { out('RAND2', hex(v)); return chip.genKeyTempKey(); })
.then(function (v) { out('TK', hex(v)); return chip.ecdh('tempkey', NODE); })
.then(function (v) { out('ECDHTK', hex(v)); return chip.genKey(2); })
.then(function (v) { out('GK', hex(v)); return chip.publicKey(2); })
.then(function (v) { out('PK', hex(v)); return chip.ecdh(2, NODE); })
.then(function (v) { out('ECDH2', hex(v)); return chip.sign(2, DIGEST); })
.then(function (v) { out('SIG', hex(v)); return chip.counter(1, false); })
.then(function (v) { out('C0', v); return chip.counter(1, true); })
.then(function (v) { out('C1', v); return chip.counter(1, true); })
.then(function (v) { out('C2', v); return chip.counter(1, false); })
.then(function (v) { out('C3', v); return chip.ecdh(2, BAD).then(function (x) { out('BADPT', 'accepted ' + hex(x)); }, fail('BADPT')); })
.then(function () { return chip.ecdh(2, NODE.subarray(0, 63)).then(function () { out('SHORT', 'accepted'); }, fail('SHORT')); })
.then(function () { return chip.genKey(16).then(function () { out('SLOT16', 'accepted'); }, fail('SLOT16')); })
.then(function () { return chip.counter(2, false).then(function () { out('CTR2', 'accepted'); }, fail('CTR2')); })
.then(function () { for (var i = 0; i < KIT.length; i++) out('KIT', KIT[i]); out('END', ''); }, function (e) { out('FAILED', e.code + ' ' + e.status + ' ' + e.message); out('END', ''); });
`,
    )
    assert.equal(r.get('INFO'), '00006002', 'Info(revision): a 608A')
    const config = unhex(r.get('READ'))
    assert.equal(config.length, 32)
    assert.deepEqual([...config.subarray(0, 2)], [0x01, 0x23], 'config block 0 starts with SN[0:1] = 01 23')
    assert.equal(hex(config.subarray(4, 8)), '00006002', 'config bytes 4..7 are the revision')

    const rand1 = r.get('RAND1')
    const rand2 = r.get('RAND2')
    assert.equal(rand1.length, 64)
    assert.equal(rand2.length, 80, 'random(40): two Random commands, 40 bytes')
    assert.notEqual(rand1, rand2.slice(0, 64))

    const tk = unhex(r.get('TK'))
    const tkPoint = p256.Point.fromBytes(Uint8Array.from([4, ...tk])) // throws when off the curve
    assert.ok(tkPoint)
    assert.equal(r.get('ECDHTK'), hex(p256.getSharedSecret(nodeSk, Uint8Array.from([4, ...tk]), true).subarray(1)), 'TempKey ECDH equals Node\'s computation')

    const gk = unhex(r.get('GK'))
    assert.equal(r.get('PK'), hex(gk), 'publicKey(2) is the key GenKey made')
    assert.equal(r.get('ECDH2'), hex(p256.getSharedSecret(nodeSk, Uint8Array.from([4, ...gk]), true).subarray(1)), 'slot ECDH equals Node\'s computation')
    const sig = unhex(r.get('SIG'))
    assert.ok(p256.verify(sig, digest, Uint8Array.from([4, ...gk]), { prehash: false, lowS: true }), 'Node verifies the signature (low-S)')
    assert.ok(BigInt('0x' + hex(sig.subarray(32))) <= HALF_N)

    const c0 = Number(r.get('C0'))
    assert.deepEqual([r.get('C1'), r.get('C2'), r.get('C3')].map(Number), [c0 + 1, c0 + 2, c0 + 2], 'Counter 1 increments by one')

    assert.equal(r.get('BADPT'), 'ERR VAULT_DEVICE_ERROR 15', 'an off-curve peer point: device status 0F')
    assert.equal(r.get('SHORT'), 'ERR INVALID_LENGTH undefined')
    assert.equal(r.get('SLOT16'), 'ERR INVALID_ARGUMENT undefined')
    assert.equal(r.get('CTR2'), 'ERR INVALID_ARGUMENT undefined')

    // the KIT transcript, line for line
    const expected = [
      'board:device(00)',
      'E:physical:select(C0)',
      ...cycle(C.info().packet),
      ...cycle(C.read(0, 0, 32).packet),
      ...cycle(C.random(0).packet),
      ...cycle(C.random(0).packet),
      ...cycle(C.random(0).packet),
      ...cycle(C.genKeyPrivate(0xffff).packet),
      ...cycle(C.ecdh('tempkey', nodeXY).packet),
      ...cycle(C.genKeyPrivate(2).packet),
      ...cycle(C.genKeyPublic(2).packet),
      ...cycle(C.ecdh(2, nodeXY).packet),
      ...cycle(C.random(0).packet),
      ...cycle(C.noncePassthrough(digest, 'msgdigbuf').packet),
      ...cycle(C.signExternal(2, 'msgdigbuf').packet),
      ...cycle(C.counter(1, false).packet),
      ...cycle(C.counter(1, true).packet),
      ...cycle(C.counter(1, true).packet),
      ...cycle(C.counter(1, false).packet),
      ...cycle(C.ecdh(2, badXY).packet),
    ]
    assert.deepEqual(r.kit, expected, 'KIT lines equal the packets vaults/atecc608 builds')
    console.log(`# ran ${expected.length} KIT lines, ${expected.filter((l) => l.startsWith('E:t(')).length} commands`)
  })

  it('a chip with an I/O protection key: clear ECDH gives no secret, encrypted ECDH (0E slot, 0F TempKey) through the device vault equals Node\'s secret, which never crosses the bus in clear', { timeout: 180_000 }, async () => {
    const ioKey = sha256(new TextEncoder().encode('espruino io protection key'))
    const nodeSk = sha256(new TextEncoder().encode('espruino atecc node key'))
    const nodePub = p256.getPublicKey(nodeSk, true)
    const nodeXY = p256.getPublicKey(nodeSk, false).subarray(1)
    const wrongKey = ioKey.slice()
    wrongKey[0] = wrongKey[0]! ^ 1
    const r = await runOnSim(
      ['--seed', 'espruino-io', '--io-key', hex(ioKey)],
      `var NODE = fromHex('${hex(nodeXY)}'), NODEC = fromHex('${hex(nodePub)}');
var A = require('hopseal/noise/atecc');
var V = A.vault(chip, { slot: 2, ioKey: fromHex('${hex(ioKey)}') });
var W = A.vault(chip, { slot: 2, ioKey: fromHex('${hex(wrongKey)}') });
chip.genKey(2).then(function (v) { out('GK', hex(v)); return chip.ecdh(2, NODE).then(function () { out('CLEAR', 'accepted'); }, fail('CLEAR')); })
.then(function () { return chip.ecdh(2, NODE, true); })
.then(function (v) { out('RAW', hex(v)); return V.init(); })
.then(function (s) { out('SPUB', hex(s.pub)); return s.dh(NODEC); })
.then(function (v) { out('SS', hex(v)); return W.init(); })
.then(function (s) { return s.dh(NODEC); })
.then(function (v) { out('WRONG', hex(v)); return V.eph(); })
.then(function (e) { out('EPUB', hex(e.pub)); return e.dh(NODEC); })
.then(function (v) { out('EE', hex(v)); try { A.vault(chip, { ioKey: new Uint8Array(31) }); out('SHORTKEY', 'accepted'); } catch (e) { out('SHORTKEY', 'ERR ' + e.code); } })
.then(function () { for (var i = 0; i < KIT.length; i++) out('KIT', KIT[i]); out('END', ''); }, function (e) { out('FAILED', e.code + ' ' + e.status + ' ' + e.message); out('END', ''); });
`,
      [...ATECC, 'crypto/util', 'crypto/sha256', 'crypto/p256point', 'noise/atecc'],
    )
    const gk = unhex(r.get('GK'))
    const secret = hex(p256.getSharedSecret(nodeSk, Uint8Array.from([4, ...gk]), true).subarray(1))
    // ECDHProt = 1: the chip encrypts even a mode-0C answer; 64 bytes where a clear secret has 32 is a corrupt answer to the driver (retried once)
    assert.equal(r.get('CLEAR'), 'ERR VAULT_DEVICE_ERROR undefined', 'a clear-mode ECDH on this chip gives no secret')
    const raw = r.get('RAW')
    assert.equal(raw.length, 128, 'encrypted output: 32-byte secret and 32-byte OutNonce')
    assert.ok(!raw.includes(secret), 'the secret is not on the bus in clear')
    assert.equal(r.get('SPUB'), hex(p256.Point.fromBytes(Uint8Array.from([4, ...gk])).toBytes(true)), 'the static key, compressed')
    assert.equal(r.get('SS'), secret, 'slot ECDH (mode 0E) decrypted by the device vault equals Node\'s computation')
    assert.notEqual(r.get('WRONG'), secret, 'another I/O key decrypts to something else')
    const epub = unhex(r.get('EPUB'))
    assert.equal(r.get('EE'), hex(p256.getSharedSecret(nodeSk, epub, true).subarray(1)), 'TempKey ECDH (mode 0F) decrypted equals Node\'s computation')
    assert.equal(r.get('SHORTKEY'), 'ERR INVALID_LENGTH')
    const ecdhLines = r.kit.filter((l) => l.startsWith('E:t(') && l.slice(6, 8) === '43')
    assert.deepEqual(
      ecdhLines,
      [...Array(2).fill(`E:t(${hex(C.ecdh(2, nodeXY).packet).toUpperCase()})`), ...Array(3).fill(`E:t(${hex(C.ecdh(2, nodeXY, { encrypted: true }).packet).toUpperCase()})`), `E:t(${hex(C.ecdh('tempkey', nodeXY, { encrypted: true }).packet).toUpperCase()})`],
      'the ECDH packets equal vaults/atecc608\'s: clear (sent twice: the retry), then encrypted',
    )
  })

  it('the [KH] firmware dialect: a device error comes back as a negative ATCA_STATUS and keeps its status', { timeout: 120_000 }, async () => {
    const badXY = new Uint8Array(64)
    const r = await runOnSim(
      ['--seed', 'espruino-kh', '--firmware', 'kh'],
      `chip.info().then(function (v) { out('INFO', hex(v)); return chip.genKeyTempKey(); })
.then(function (v) { out('TK', v.length); return chip.ecdh('tempkey', fromHex('${hex(badXY)}')).then(function () { out('BAD', 'accepted'); }, fail('BAD')); })
.then(function () { out('END', ''); }, function (e) { out('FAILED', e.code + ' ' + e.message); out('END', ''); });
`,
    )
    assert.equal(r.get('INFO'), '00006002')
    assert.equal(r.get('TK'), '64')
    assert.equal(r.get('BAD'), 'ERR VAULT_DEVICE_ERROR 15')
  })
  it('one operation at a time, whole operations retried on a corrupt answer or status EE (scripted transport)', { timeout: 60_000 }, async () => {
    const dev = spawnEspruino(
      `${wrapModules(ATECC)}${PRELUDE}
var K = require('hopseal/atecc/packet');
function rsp(payload) { var n = payload.length + 3, b = new Uint8Array(n); b[0] = n; b.set(payload, 1); var c = K.crc(b, n - 2); b[n - 2] = c & 255; b[n - 1] = c >> 8; return b; }
var SCRIPT = {
  '30': [fromHex('07000060028039'), fromHex('07000060028038')],
  '1b': [rsp(new Uint8Array(32)), rsp(new Uint8Array(32))],
  '16': [rsp(new Uint8Array([0])), rsp(new Uint8Array([0]))],
  '41': [rsp(new Uint8Array([0xee])), rsp(new Uint8Array(64).fill(1))],
  '24': [rsp(new Uint8Array([5, 0, 0, 0]))]
};
var TALKS = [];
var tr = {
  open: function () { return Promise.resolve(); },
  wake: function () { return new Promise(function (ok) { setTimeout(function () { ok(new Uint8Array([4, 0x11, 0x33, 0x43])); }, 5); }); },
  talk: function (p) { var op = hex([p[1]]); TALKS.push(op); return new Promise(function (ok) { setTimeout(function () { ok(SCRIPT[op].shift()); }, 5); }); },
  idle: function () { return Promise.resolve(); },
  sleep: function () { return Promise.resolve(); }
};
var chip = require('hopseal/atecc/index').open({ transport: tr });
var done = 0;
function fin() { if (++done === 3) { out('TALKS', TALKS.join(',')); out('END', ''); } }
chip.info().then(function (v) { out('INFO', hex(v)); fin(); }, function (e) { out('INFO', 'ERR ' + e.code); fin(); });
chip.sign(3, new Uint8Array(32)).then(function (v) { out('SIG', hex(v).slice(0, 8)); fin(); }, function (e) { out('SIG', 'ERR ' + e.code + ' ' + e.status); fin(); });
chip.counter(0, false).then(function (v) { out('CTR', v); fin(); }, function (e) { out('CTR', 'ERR ' + e.code); fin(); });
`,
      { bundle: false },
    )
    try {
      await dev.waitFor((l) => l.includes('END'), 30_000)
      const lines = dev.lines.map((l) => l.replace(/^[\r>]+/, ''))
      const get = (tag: string): string | undefined => lines.find((l) => l.startsWith(tag + ' '))?.slice(tag.length + 1)
      assert.equal(get('INFO'), '00006002', 'a corrupt answer (bad CRC) is retried')
      assert.equal(get('SIG'), '01010101', 'status EE re-runs the whole Random, Nonce, Sign')
      assert.equal(get('CTR'), '5')
      assert.equal(get('TALKS'), '30,30,1b,16,41,1b,16,41,24', 'operations one at a time, in call order, never interleaved')
    } finally {
      await dev.stop()
    }
  })
})
