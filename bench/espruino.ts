/**
 * Espruino device figures (issue 15), measured in the real interpreter
 * (../shared/tools/espruino/espruino, Linux x86-64 build of 2v29; a board at
 * 64 MHz is far slower, docs/espruino.md):
 * - `espruino.bundle_bytes`: what a user uploads for the heart-rate monitor
 *   (targets/espruino/examples/heart-rate.js built with --entry --minify:
 *   the modules it reaches and the application), target <= 32 KiB;
 * - `espruino.x25519_ms`: one software X25519 scalar multiplication;
 * - `espruino.seal_64_ms`: one AES-256-GCM seal of 64 bytes (built-in AES,
 *   GHASH in JavaScript), with ChaCha20-Poly1305 beside it
 *   (`espruino.chachapoly_seal_64_ms`).
 * Times are taken inside the interpreter with getTime(), median of several.
 * Skipped with a printed reason when the interpreter is absent.
 */
import type { BenchContext, BenchModule, Figure } from './figure.ts'
import { resolve } from 'node:path'
import { END_MARKER, espruinoBundle, espruinoPath, runEspruino } from '../test/espruino/harness.ts'
import { hasSocat } from '../hil-sim/pty.ts'
import { runHeartRate } from '../test/espruino/e2e-topology.ts'

const run: BenchModule = async (ctx: BenchContext): Promise<Figure[]> => {
  const figures: Figure[] = []
  const app = resolve(import.meta.dirname, '../targets/espruino/examples/heart-rate.js')
  const bytes = Buffer.byteLength(espruinoBundle({ minify: true, entry: app }))
  const plainText = espruinoBundle({ entry: app })
  const plain = Buffer.byteLength(plainText)
  const count = plainText.split('Modules.addCached(').length - 1
  const all = Buffer.byteLength(espruinoBundle({ minify: true }))
  figures.push({
    name: 'espruino.bundle_bytes', value: bytes, unit: 'bytes', target: '<= 32768',
    note: `the heart-rate monitor app (targets/espruino/examples/heart-rate.js, --entry --minify): KK initiator, P-256 in an ATECC608 over I2C, AES-GCM, lora link on a Serial, reliable mode and renewal, with the ${count} modules it reaches (no X25519, ChaChaPoly, KIT, listener, software vault); unminified ${plain} B; every module (--all) ${all} B minified`,
  })

  if (espruinoPath() === null) {
    ctx.log('# espruino: timings skipped: the interpreter is absent (../shared/tools/espruino/espruino or HOPSEAL_ESPRUINO)')
    return figures
  }
  const xRuns = ctx.quick ? 1 : 3
  const sealRuns = ctx.quick ? 5 : 21
  const code = `
var C = require('hopseal/crypto/index');
function median(f, n) { var t = [], i, t0; for (i = 0; i < n; i++) { t0 = getTime(); f(); t.push((getTime() - t0) * 1000); } t.sort(function (a, b) { return a - b; }); return t[n >> 1]; }
var key = new Uint8Array(32), nonce = new Uint8Array(12), ad = new Uint8Array(0), pt = new Uint8Array(64), peer = new Uint8Array(32);
for (var i = 0; i < 32; i++) key[i] = i * 7 + 1;
peer[0] = 9;
print('FIG ' + JSON.stringify({
  gcm: median(function () { C.aesGcmSeal(key, nonce, ad, pt); }, ${sealRuns}),
  cc: median(function () { C.chachaPolySeal(key, nonce, ad, pt); }, ${sealRuns}),
  x: median(function () { C.x25519(key, peer); }, ${xRuns})
}));
print('${END_MARKER}');`
  const r = await runEspruino(code, { only: ['crypto'], minify: true, timeoutMs: 10 * 60_000 })
  const line = r.lines.find((l) => l.startsWith('FIG '))
  if (!line) throw new Error(`no figures from the interpreter:\n${r.lines.slice(-10).join('\n')}`)
  const f = JSON.parse(line.slice(4)) as { gcm: number; cc: number; x: number }
  figures.push(
    { name: 'espruino.x25519_ms', value: f.x, unit: 'ms', note: `software scalar multiplication in the Linux interpreter, median of ${xRuns}` },
    { name: 'espruino.seal_64_ms', value: f.gcm, unit: 'ms', note: `AES-256-GCM, 64 B, empty AD, median of ${sealRuns}` },
    { name: 'espruino.chachapoly_seal_64_ms', value: f.cc, unit: 'ms', note: `ChaCha20-Poly1305, 64 B, empty AD, median of ${sealRuns}` },
  )

  // The device channel (issue 15): the e2e heart-rate topology (test/espruino/e2e-topology.ts) with the bundle run
  // from the interpreter's flash (Storage), as a board runs saved code; the ATECC608 simulator in instant mode.
  if (!hasSocat()) {
    ctx.log('# espruino: channel figures skipped: socat is absent')
    return figures
  }
  const hr = await runHeartRate({ seed: 'bench-espruino', loss: 0, readings: 100, fromFlash: true, timeoutMs: 180_000 })
  if (hr.last.ev !== 'done') throw new Error(`espruino channel run did not finish: ${JSON.stringify(hr.last)}`)
  figures.push(
    { name: 'espruino.kk_handshake_ms', value: Number(hr.opened.ms), unit: 'ms', note: 'KK P-256, static key and ephemeral in the simulated ATECC608 (instant), one P-256 decompression, over a PTY radio to the Node gateway, MQTT and phone' },
    { name: 'espruino.vars_peak', value: Number(hr.last.vars), unit: 'vars', target: '<= 5000', note: `process.memory().usage at its peak over a handshake and 100 reliable readings, code in flash; ${String(hr.last.base)} after load` },
  )
  if (!ctx.quick) {
    const r2 = await runHeartRate({ seed: 'bench-espruino-renew', loss: 0.1, readings: 100, renewAfterMessages: 40, fromFlash: true, timeoutMs: 180_000 })
    if (r2.last.ev === 'done') figures.push({ name: 'espruino.vars_peak_renewals', value: Number(r2.last.vars), unit: 'vars', note: `as espruino.vars_peak at 10 % loss with a renewal every 40 messages (${String(r2.last.renewals)} in the run): two sessions and a handshake live at once` })
  }
  return figures
}

export default run
