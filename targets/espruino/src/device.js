/**
 * hopseal on an Espruino board: the application API.
 *
 *   var hopseal = require('hopseal/device');
 *   var ch = hopseal.channel({ link: link, vault: vault, peer: phoneStaticKey,
 *     route: 1, medium: 'lora', reliable: true });
 *   ch.on('open', function () { ch.send(E.toUint8Array('bpm=72'), function (err) {}); });
 *   ch.on('data', function (bytes) {});
 *   ch.on('close', function (err) {});
 *   ch.close();
 *
 * A device is one routing node on one link (a radio: hopseal/link/*). Its
 * channel endpoints get 1-byte LOCAL addresses (0x01..0x7f), so headers stay
 * in the 2-byte short form. `route` is the listener's route as it leaves
 * the radio (the gateway is the link's other end): a gateway alias byte such
 * as 1 (0, the default listener address, gives message 1 a 1-byte header),
 * or an array of addresses (hopseal/routing/codec: local(), address()).
 *
 * link = { send(bytes, done(err)), onMessage(fn(bytes)) }: one whole routing
 * message per call (framing and fragments are the link's business).
 *
 * vault = { dh: '25519' | 'P256', init() -> Promise<static key>, eph(renewal) -> Promise<key>,
 *           counter() -> Promise<number> (optional) }
 *   hopseal.softwareVault({ privateKey }) (25519), hopseal/noise/atecc (P-256 in an ATECC608).
 *
 * Optional parts (B.optional): listen() needs hopseal/channel/listener,
 * softwareVault() hopseal/noise/keys, `cipher: 'ChaChaPoly'`
 * hopseal/crypto/chachapoly. An application that uses one requires that
 * module, so the build puts it in the bundle; without it the call throws
 * CONFIG_INVALID.
 */
var B = require('hopseal/routing/bytes');
var R = require('hopseal/routing/codec');
var L = require('hopseal/channel/limits');
var Ch = require('hopseal/channel/channel').Channel;

/** The board's clock (ms) and timers; tests pass their own. */
var CLOCK = {
  now: function () { return getTime() * 1000; },
  setTimeout: function (f, ms) { return setTimeout(f, ms); },
  clearTimeout: function (t) { clearTimeout(t); }
};

/** One routing node per link: LOCAL workers by address byte, counters. */
function Node(link, clock) {
  var self = this;
  this.link = link;
  this.clock = clock || CLOCK;
  this.w = {};
  this.counters = {};
  this.last = 0;
  link.onMessage(function (bytes) { self.input(bytes); });
}

Node.prototype.count = function (name) {
  this.counters[name] = (this.counters[name] || 0) + 1;
};

/** A free 1-byte LOCAL address (1..0x7f). */
Node.prototype.alloc = function () {
  for (var i = 0; i < 127; i++) {
    this.last = (this.last % 127) + 1;
    if (!this.w[this.last]) return this.last;
  }
  throw B.err('LIMIT_EXCEEDED', 'no free local address');
};

Node.prototype.input = function (bytes) {
  var m;
  try {
    m = R.decode(bytes);
  } catch (e) {
    return this.count('drop.decode');
  }
  var head = m.onward[0];
  var w = head && head.t === 0 && head.v.length === 1 ? this.w[head.v[0]] : undefined;
  if (!w) return this.count('drop.no_worker');
  if (m.onward.length > 1 && !w.rest) return this.count('drop.no_route');
  w.fn(m.payload, m.ret, m.onward.slice(1));
};

function nodeFor(o) {
  var l = o.link;
  if (!l._hsNode) l._hsNode = new Node(l, o.clock);
  return l._hsNode;
}

function routeOf(r) {
  if (typeof r === 'number') return [R.local(r)];
  return r;
}

/** The channel context shared by initiator and responder channels. */
function context(node, o, s, isInitiator, dec) {
  var lim = L.resolve(o.medium || 'ip', o.limits);
  var v = o.vault;
  if (o.cipher === 'ChaChaPoly') B.optional('hopseal/crypto/chachapoly');
  return {
    isInitiator: isInitiator, dec: dec, pattern: o.pattern || 'KK', dh: v.dh, cipher: o.cipher || 'AESGCM',
    s: s, rs: o.peer, eph: v.eph, prologue: o.prologue, payload: o.payload,
    clock: node.clock, limits: lim, reliable: !!o.reliable,
    // message 1 follows the medium's handshake schedule unless `retransmit` says otherwise (as on Node)
    retransmit: o.retransmit || lim.renewRetransmit, route: o.route !== undefined ? routeOf(o.route) : undefined,
    // the handshake counter message 1 carries (KK, IK): on by default, `counter: false` for a listener without it
    counter: o.counter === false ? undefined : (o.counter || v.counter),
    count: function (n) { node.count(n); },
    out: function (onward, payload, done) {
      try {
        node.link.send(R.encode(onward, [R.local(dec)], payload), done);
      } catch (e) {
        node.count('send_failed');
        if (done) done(e);
      }
    },
    onClose: function () { delete node.w[dec]; }
  };
}

/**
 * Opens a channel to a listener (KK by default, or IK with pattern: 'IK').
 * o: { link, vault, peer, route, medium: 'ip' | 'lora' | 'ble', reliable, pattern, cipher,
 *      limits: { session: {...}, renewRetransmit: {...}, reliable: {...}, keepaliveMs, renewAfterSilenceMs },
 *      retransmit: { initialMs, maxMs, attempts }, counter: function () -> Promise<number> | false, clock }
 * Returns the channel at once; 'open' once the handshake completed, 'close' with
 * CHANNEL_HANDSHAKE_TIMEOUT when nothing valid answered.
 * @throws CONFIG_INVALID for a bad medium or limit
 */
exports.channel = function (o) {
  var node = nodeFor(o);
  var dec = node.alloc();
  var ch;
  node.w[dec] = { fn: function (p, ret) { ch.input(p, ret); } };
  ch = new Ch(context(node, o, undefined, true, dec));
  ch.node = node;
  o.vault.init().then(function (s) {
    ch.x.s = s;
    if (!ch.closed) ch._connect();
  }, function (e) { ch._teardown(e); });
  return ch;
};

/**
 * A KK listener for devices that are called: o as channel() plus
 * `address` (its LOCAL byte) and `peers` (initiator static keys); emits
 * 'channel' with each new, open channel.
 */
exports.listen = function (o) {
  return B.optional('hopseal/channel/listener').listen(o, nodeFor(o), context, Ch);
};

/**
 * A 25519 vault in software: { privateKey } (32 bytes), optional `ephemerals`
 * (fixed private keys, tests only) and `counter` (a function returning a
 * Promise of the next handshake counter).
 */
exports.softwareVault = function (o) {
  var K = B.optional('hopseal/noise/keys');
  var s = K.x25519(o.privateKey, true);
  return { dh: '25519', init: function () { return Promise.resolve(s); }, eph: K.x25519Ephemerals(o.ephemerals), counter: o.counter || exports.storageCounter('hopseal.hc') };
};

/**
 * A handshake counter kept in flash (Espruino's Storage, file `name`), for
 * boards without a secure element: incremented and written before each
 * first handshake, so it never repeats across resets (a write that fails
 * throws, and the handshake does not start).
 */
exports.storageCounter = function (name) {
  return function () {
    return new Promise(function (resolve) {
      var S = require('Storage');
      var v = (S.readJSON(name, true) || { c: 0 }).c + 1;
      S.writeJSON(name, { c: v });
      resolve(v);
    });
  };
};

exports.local = R.local;
exports.address = R.address;
exports.fromHex = B.fromHex;
exports.hex = B.hex;
