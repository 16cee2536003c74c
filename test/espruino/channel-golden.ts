/**
 * Device scripts for the golden channel tests: each worked example of
 * docs/protocol.md that has a device as initiator is replayed by the device
 * code (targets/espruino/src) with the example's keys, ephemerals and
 * clock. The gateway's messages, as the Node implementation put them on the
 * wire, are fed to the device in the document's order; the device's
 * application does what the example's device did; every byte the device
 * puts on its link is recorded. The test compares those bytes with the
 * document's device messages (what Node sealed), and checks that the device
 * decrypted the gateway's data.
 *
 * P-256 (example 2): the device has no software P-256, so its keys are
 * "oracle" key objects whose DH results Node computed beforehand from the
 * example's private keys (the secure element's part; the chip path runs in
 * the end-to-end test). Everything above DH (Noise, sealing, renewal
 * marking) is the device's own.
 */
import { p256 } from '@noble/curves/nist.js'
import { x25519 } from '@noble/curves/ed25519.js'
import type { DocExample } from '../docs/spec-decoder/doc.ts'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'))

/** What the example's device application does, as device JavaScript (ch, send(text), advance(ms) in scope). */
interface Plan {
  /** Run when the channel opens. */
  open: string
  /** Run when data arrives (d: the text). */
  data?: string
  /** Run after the device put its k-th message on the link (after the gateway messages due then). */
  after?: Record<number, string>
  /** Extra limits (device JavaScript object literal). */
  limits?: string
}

/** The examples whose initiator is the device, and what its application does in each. */
export const PLANS: Record<string, Plan> = {
  'kk-25519': {
    open: "send('bpm=72');",
    data: "send('bpm=73'); ch.sendRouted([hs.local(B.ascii('log'))], [hs.local(B.ascii('app'))], B.ascii('boot 2')); ch.close();",
  },
  'kk-p256-lora': {
    open: "send('bpm=72');",
    // the device sleeps a day and an hour: past the 24 h hard limit, its next reading waits for a renewal
    after: { 2: "advance(25 * 3600000); send('bpm=75');" },
  },
  'key-phase': {
    open: "send('bpm=72');",
    after: { 2: "advance(2 * 3600000); send('bpm=73');" },
  },
  renewal: {
    open: "send('bpm=72');",
    // flight 1 of the renewal (the gateway's RENEW started it) is lost; 1 s later the second send goes through the listener
    after: { 3: 'advance(1000);', 5: "send('bpm=73');" },
  },
  'long-gap': {
    open: "send('reading 0');",
    // counters 1 to 4 999 were sealed and lost on the link: the session's counter moves on without sealing them
    after: { 2: "ch.cur.n = 5000; ch.cur.uk = 5000; send('reading 5000');", 3: "send('reading 5001');" },
    limits: '{ keepaliveMs: 60000 }',
  },
  sack: {
    open: "send('reading 0'); send('reading 1');",
    after: { 3: "send('reading 2');", 4: "send('reading 3');" },
  },
}

/** The examples replayed with the device as the responder (the gateway's side): what its application does. */
export const RESPONDER_PLANS: Record<string, { data: string; before?: Record<number, string> }> = {
  'kk-25519': { data: "if (d === 'bpm=72') send('ok');" },
  // two hours pass before the device's second reading: the answer is sealed under the ratcheted key
  'key-phase': { data: "if (d === 'bpm=73') send('ok');", before: { 2: 'advance(2 * 3600000);' } },
}

/** Public key and DH for the example's suite (noble, Node side). */
function curve(dh: string): { pub(priv: Uint8Array): Uint8Array; dh(priv: Uint8Array, peer: Uint8Array): Uint8Array } {
  if (dh === 'P256') return { pub: (k) => p256.getPublicKey(k, true), dh: (k, q) => p256.getSharedSecret(k, q, true).subarray(1) }
  return { pub: (k) => x25519.getPublicKey(k), dh: (k, q) => x25519.getSharedSecret(k, q) }
}

/** The DH results `side` needs in `ex` (its private keys with every public key of the other side): "pub:peer" → result. */
function dhTable(ex: DocExample, dh: string, side: string, other: string): Record<string, string> {
  const p = ex.params
  const c = curve(dh)
  const privs = [...p.keys()].filter((k) => new RegExp(`^${side}\\.(static|ephemeral\\.\\d+)\\.private$`).test(k)).map((k) => unhex(p.get(k)!))
  const peers = [...p.keys()].filter((k) => new RegExp(`^${other}\\.(static|ephemeral\\.\\d+)\\.public$`).test(k)).map((k) => unhex(p.get(k)!))
  const t: Record<string, string> = {}
  for (const s of privs) for (const q of peers) t[hex(c.pub(s)) + ':' + hex(q)] = hex(c.dh(s, q))
  return t
}

/**
 * A vault for `side` whose DH results were computed by Node ("oracle" keys):
 * the device code above DH runs unchanged, without the interpreter's slow
 * scalar multiplications (X25519 in JavaScript, P-256 in a secure element).
 */
function oracleVault(ex: DocExample, dh: string, side: string, other: string): string {
  const p = ex.params
  const c = curve(dh)
  const ephs = [...p.keys()].filter((k) => new RegExp(`^${side}\\.ephemeral\\.\\d+\\.private$`).test(k)).sort().map((k) => hex(c.pub(unhex(p.get(k)!))))
  return `(function () {
      var T = ${JSON.stringify(dhTable(ex, dh, side, other))};
      function key(pub) { return { pub: B.fromHex(pub), wipe: function () {}, dh: function (peer) {
        var r = T[pub + ':' + B.hex(peer)];
        return r ? Promise.resolve(B.fromHex(r)) : Promise.reject(new Error('no DH for ' + B.hex(peer)));
      } }; }
      var eph = ${JSON.stringify(ephs)};
      return { dh: '${dh}', init: function () { return Promise.resolve(key('${hex(c.pub(unhex(p.get(`${side}.static.private`)!)))}')); },
        eph: function () { return Promise.resolve(key(eph.shift())); } };
    })()`
}

/**
 * The device script for `ex`. It prints one line `RESULT {"out":[hex…],"data":[text…],"counters":{…}}`
 * once the device put as many messages on its link as the example's device did.
 * `tamper`: the gateway's message 2 arrives first with one bit flipped (it must be dropped, changing nothing).
 */
export function deviceScript(ex: DocExample, opts: { tamper?: boolean; realX25519?: boolean } = {}): string {
  const plan = PLANS[ex.id]
  if (!plan) throw new Error(`no plan for example ${ex.id}`)
  const p = ex.params
  const suite = /^Noise_(KK|IK)_(25519|P256)_(AESGCM|ChaChaPoly)_SHA256$/.exec(p.get('suite') ?? '')
  if (!suite) throw new Error(`example ${ex.id}: suite ${p.get('suite')}`)
  const medium = (p.get('medium') ?? '').split(',')[0]!.trim()
  const reliable = p.get('reliable') === 'yes'
  const ephs = [...p.keys()].filter((k) => /^device\.ephemeral\.\d+\.private$/.test(k)).sort().map((k) => p.get(k)!)
  const first = ex.messages[0]!
  if (first.from !== 'device') throw new Error(`example ${ex.id}: the device is not the initiator`)
  // the handshake counter, when message 1 carries one (its plaintext), else none
  const counter = first.plaintext.length ? `function () { return Promise.resolve(B.readVarint(B.fromHex('${hex(first.plaintext)}'), 0)[0]); }` : 'false'
  let devices = 0
  const feed: [number, string][] = []
  for (const m of ex.messages) {
    if (m.from === 'device') devices++
    else if (m.to === 'device') feed.push([devices, hex(m.bytes)])
  }
  if (opts.tamper) {
    const [k, h] = feed[0]!
    const b = unhex(h)
    b[b.length - 1]! ^= 1
    feed.unshift([k, hex(b)])
  }
  const vault = suite[2] === '25519' && opts.realX25519
    ? `hs.softwareVault({ privateKey: B.fromHex('${p.get('device.static.private')}'), ephemerals: [${ephs.map((e) => `B.fromHex('${e}')`).join(', ')}] })`
    : oracleVault(ex, suite[2]!, 'device', 'gateway')
  const route = p.get('gateway.listener')!
  if (route.length !== 2) throw new Error(`example ${ex.id}: listener ${route} is not a 1-byte address`)
  return `
var hs = require('hopseal/device'), B = require('hopseal/routing/bytes');
var T = { t: 0, q: [], id: 0 };
var clock = {
  now: function () { return T.t; },
  setTimeout: function (f, ms) { if (!ms) return setTimeout(f, 0); T.id++; T.q.push({ at: T.t + ms, f: f, id: 'm' + T.id }); return 'm' + T.id; },
  clearTimeout: function (id) { if (typeof id !== 'string') return clearTimeout(id); for (var i = 0; i < T.q.length; i++) if (T.q[i].id === id) T.q.splice(i, 1); }
};
function advance(ms) {
  var end = T.t + ms;
  for (;;) {
    var k = -1;
    for (var i = 0; i < T.q.length; i++) if (T.q[i].at <= end && (k < 0 || T.q[i].at < T.q[k].at)) k = i;
    if (k < 0) break;
    var d = T.q.splice(k, 1)[0];
    T.t = d.at;
    d.f();
  }
  T.t = end;
}
var out = [], data = [], rx, feed = ${JSON.stringify(feed)}, after = {}, expected = ${devices}, fed = 0, done = false;
var link = { send: function (b, cb) { out.push(B.hex(b)); if (cb) cb(); setTimeout(step, 0); }, onMessage: function (fn) { rx = fn; } };
function text(b) { var s = ''; for (var i = 0; i < b.length; i++) s += String.fromCharCode(b[i]); return s; }
function send(s) { ch.send(B.ascii(s), function (e) { if (e) data.push('error ' + e.code); }); }
var ch = hs.channel({ link: link, clock: clock, vault: ${vault}, peer: B.fromHex('${p.get('gateway.static.public')}'),
  route: 0x${route}, medium: '${medium}', reliable: ${reliable}, pattern: '${suite[1]}', cipher: '${suite[3]}', counter: ${counter}, limits: ${plan.limits ?? 'undefined'} });
ch.on('open', function () { ${plan.open} });
ch.on('data', function (b) { var d = text(b); data.push(d); ${plan.data ?? ''} });
${Object.entries(plan.after ?? {}).map(([k, js]) => `after[${k}] = function () { ${js} };`).join('\n')}
var ran = {};
function step() {
  if (done) return;
  // one message at a time: a DH in progress (a handshake or renewal flight being read) would drop the next one
  function busy() { return ch.hsBusy || ch.rbusy || (ch.rw && ch.rw.busy); }
  if (busy()) return setTimeout(step, 5);
  while (fed < feed.length && feed[fed][0] <= out.length) {
    rx(B.fromHex(feed[fed++][1]));
    if (busy()) return setTimeout(step, 5);
  }
  for (var k in after) if (!ran[k] && out.length >= k && fed >= countFeed(k)) { ran[k] = true; after[k](); }
  if (out.length >= expected && fed >= feed.length) {
    done = true;
    setTimeout(function () { console.log('RESULT ' + JSON.stringify({ out: out, data: data, counters: ch.node.counters })); }, 10);
  }
}
function countFeed(k) { var n = 0; for (var i = 0; i < feed.length; i++) if (feed[i][0] <= k) n++; return n; }
`
}

/**
 * The device as the example's responder (a KK listener at the gateway's
 * listener address, with the gateway's keys): the initiator's messages are
 * fed in order (lost ones are not), the device's answers recorded. Prints
 * `RESULT {"out":[…],"data":[…],"counters":{…}}`.
 */
export function responderScript(ex: DocExample, opts: { realX25519?: boolean } = {}): string {
  const plan = RESPONDER_PLANS[ex.id]
  if (!plan) throw new Error(`no responder plan for example ${ex.id}`)
  const p = ex.params
  const suite = /^Noise_KK_25519_(AESGCM|ChaChaPoly)_SHA256$/.exec(p.get('suite') ?? '') ?? fail(`suite ${p.get('suite')}`)
  const medium = (p.get('medium') ?? '').split(',')[0]!.trim()
  const ephs = [...p.keys()].filter((k) => /^gateway\.ephemeral\.\d+\.private$/.test(k)).sort().map((k) => p.get(k)!)
  let answers = 0
  const feed: [number, string][] = []
  for (const m of ex.messages) {
    if (m.from === 'gateway') answers++
    else if (m.to === 'gateway' && !m.lost) feed.push([answers, hex(m.bytes)])
  }
  const counters = ex.messages[0]!.plaintext.length > 0
  return `
var hs = require('hopseal/device'), B = require('hopseal/routing/bytes');
var T = { t: 0 };
var clock = { now: function () { return T.t; }, setTimeout: function (f, ms) { return ms ? 0 : setTimeout(f, 0); }, clearTimeout: function () {} };
function advance(ms) { T.t += ms; }
var out = [], data = [], rx, feed = ${JSON.stringify(feed)}, expected = ${answers}, fed = 0, done = false, ch;
var before = {};
${Object.entries(plan.before ?? {}).map(([k, js]) => `before[${k}] = function () { ${js} };`).join('\n')}
var link = { send: function (b, cb) { out.push(B.hex(b)); if (cb) cb(); }, onMessage: function (fn) { rx = fn; } };
function text(b) { var s = ''; for (var i = 0; i < b.length; i++) s += String.fromCharCode(b[i]); return s; }
function send(s) { ch.send(B.ascii(s), function (e) { if (e) data.push('error ' + e.code); }); }
var lis = hs.listen({ link: link, clock: clock, address: 0x${p.get('gateway.listener')}, medium: '${medium}', cipher: '${suite[1]}', counters: ${counters},
  vault: ${opts.realX25519 ? `hs.softwareVault({ privateKey: B.fromHex('${p.get('gateway.static.private')}'), ephemerals: [${ephs.map((e) => `B.fromHex('${e}')`).join(', ')}] })` : oracleVault(ex, '25519', 'gateway', 'device')},
  peers: [B.fromHex('${p.get('device.static.public')}')] });
lis.on('channel', function (c) {
  ch = c;
  c.on('data', function (b) { var d = text(b); data.push(d); ${plan.data} });
  c.on('routed', function (m) { data.push('routed ' + text(m.payload)); });
  c.on('close', function () { data.push('closed'); });
});
function step() {
  if (done) return;
  if (lis.l && lis.l.busy) return setTimeout(step, 5);
  if (fed < feed.length) {
    if (before[fed]) before[fed]();
    rx(B.fromHex(feed[fed++][1]));
    return setTimeout(step, 5);
  }
  done = true;
  setTimeout(function () { console.log('RESULT ' + JSON.stringify({ out: out, data: data, expected: expected, counters: lis.l.x && ch ? ch.node.counters : {} })); }, 10);
}
setTimeout(step, 5);
`
}

function fail(msg: string): never {
  throw new Error(msg)
}
