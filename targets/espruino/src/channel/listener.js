/**
 * KK responder for devices that are called (docs/protocol.md "Endpoints and
 * handshake flights"; reference src/channel/listener.ts). A message 1 at the
 * listener's address is tried under each configured initiator static key;
 * the one it authenticates under makes a channel with a new `dec`, which
 * answers with message 2. A repeated message 1 (the same first 64 bytes as
 * the last one answered) gets the same message 2 from the same `dec` and
 * creates nothing. A message 1 with an empty return route, or one that
 * authenticates under no key, is dropped and counted. With `counters`
 * (the handshake-counter wire change) message 1's payload starts with a
 * varint counter that must be above the last one accepted from that peer.
 *
 * Renewal flights that come through the listener (the initiator's fallback:
 * remaining onward route = one LOCAL address holding a channel's 8-byte
 * binding tag) go to that channel.
 */
var B = require('hopseal/routing/bytes');
var H = require('hopseal/noise/handshake');
require('hopseal/channel/responder'); // the responder half of the channels it makes

var EMPTY = new Uint8Array(0);

/** o: { peers: [pub], counters: bool, make(peer, ret) -> Channel (not yet established), channels() -> [Channel] }, ctx as Channel's. */
function Listener(x, o) {
  this.x = x;
  this.o = o;
  this.last = undefined;
  this.busy = false;
  this.seen = {}; // last handshake counter accepted per peer (hex)
}

/** A routing message at the listener's address: `rest` is its remaining onward route. */
Listener.prototype.input = function (bytes, ret, rest) {
  var x = this.x, self = this, o = this.o;
  if (rest && rest.length) {
    // renewal fallback: [binding tag]
    var chs = o.channels();
    for (var i = 0; i < chs.length; i++) {
      if (rest.length === 1 && chs[i].binding && B.same(rest[0].v, chs[i].binding.subarray(0, 8))) return chs[i].input(bytes, ret);
    }
    return x.count('handshake.failed.unknown_channel');
  }
  if (!ret.length) return x.count('handshake.failed.no_return_route');
  var head = B.copy(bytes, 0, 64);
  if (this.last && B.same(this.last.m1, head)) {
    x.count('handshake.retransmit_answered');
    return this.last.ch.x.out(ret, this.last.m2, function () {});
  }
  if (this.busy) return x.count('handshake.dropped_busy');
  this.busy = true;
  function attempt(i) {
    if (i >= o.peers.length) {
      self.busy = false;
      return x.count('handshake.failed');
    }
    var peer = o.peers[i];
    var hs = new H.Handshake({
      pattern: 'KK', dh: x.dh, cipher: x.cipher, initiator: false, s: x.s, rs: peer,
      prologue: x.prologue, e: function () { return x.eph(false); }
    });
    hs.read(bytes).then(function (payload) {
      var key = B.hex(peer), c;
      if (o.counters) {
        c = B.readVarint(payload, 0)[0];
        if (self.seen[key] !== undefined && c <= self.seen[key]) throw B.err('CHANNEL_REPLAYED', 'handshake counter not above the last accepted');
      }
      return hs.write(EMPTY).then(function (m2) {
        self.busy = false;
        if (c !== undefined) self.seen[key] = c;
        var ch = o.make(peer, ret);
        self.last = { m1: head, m2: m2, ch: ch };
        x.count('handshake.completed');
        ch.x.out(ret, m2, function () {});
        ch._established(hs.split(), ret);
      });
    }, function () {
      hs.wipe();
      attempt(i + 1);
    }).then(undefined, function (e) {
      self.busy = false;
      hs.wipe();
      x.count('handshake.failed.' + (e.code || 'error'));
    });
  }
  attempt(0);
};

exports.Listener = Listener;

/**
 * hopseal/device's listen() (the device's routing node, its channel context
 * and the Channel class come from there): the listener on LOCAL `o.address`,
 * a responder channel per new initiator, 'channel' emitted once it is open.
 */
exports.listen = function (o, node, context, Ch) {
  var chans = [];
  var lis = { _ev: {}, on: Ch.prototype.on, emit: Ch.prototype.emit };
  o.vault.init().then(function (s) {
    var x = context(node, o, s, false, o.address);
    lis.l = new Listener(x, {
      peers: o.peers, counters: o.counters !== false,
      channels: function () { return chans; },
      make: function (peer, ret) {
        var dec = node.alloc();
        var c = new Ch(context(node, { medium: o.medium, limits: o.limits, reliable: o.reliable, vault: o.vault, peer: peer, cipher: o.cipher, pattern: 'KK' }, s, false, dec));
        c.node = node;
        c.x.onClose = function () {
          delete node.w[dec];
          chans.splice(chans.indexOf(c), 1);
        };
        node.w[dec] = { fn: function (p, r) { c.input(p, r); } };
        chans.push(c);
        c.on('open', function () { lis.emit('channel', c); });
        return c;
      }
    });
    node.w[o.address] = { rest: true, fn: function (p, ret, rest) { lis.l.input(p, ret, rest); } };
  });
  return lis;
};
