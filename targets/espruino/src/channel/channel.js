/**
 * One end of a secure channel on the device (docs/protocol.md "Secure-channel
 * messages", "Sessions, key phases and limits", "Renewal", "Reliable mode";
 * reference src/channel/channel.ts and initiator.ts).
 *
 * The first handshake (KK or IK as initiator; KK as responder through
 * listener.js) makes session 0. Afterwards up to three sessions are live:
 * `cur` seals; `next` (responder only) is a renewed session the initiator
 * has not used yet; `prev` opens messages still in flight. The initiator
 * runs every renewal (soft limit when it next seals or opens, before sealing
 * past a hard limit, on the responder's RENEW, after silence); the responder
 * answers renewal flights and asks with RENEW (responder.js adds those
 * methods: only a listener makes responder channels, so an initiator-only
 * bundle leaves them out).
 *
 * Events (on/emit, see emitter.js): 'open', 'data' (payload), 'routed'
 * ({ onward, ret, payload }), 'renew' (epoch), 'close' (error or undefined),
 * 'error' (a failed background renewal or handshake).
 *
 * ctx (device.js): { out(onward, payload, done), dec: byte, clock, limits,
 *   reliable: bool, s, rs, eph(renewal) -> Promise<key>, dh, cipher, isInitiator,
 *   route (initiator: the listener's route), count(name) }
 * out() sends a routing message with return route [dec]; done(err) runs once
 * it left the radio (or could not).
 */
var B = require('hopseal/routing/bytes');
var R = require('hopseal/routing/codec');
var S = require('hopseal/channel/session');
var Rel = require('hopseal/channel/reliable');
var H = require('hopseal/noise/handshake');
var Em = require('hopseal/channel/emitter');

var CLOSE = 1, KEEPALIVE = 2, ACK = 3, RENEW = 4;
var LABEL = B.ascii('hopseal-renew-v1');
var EMPTY = new Uint8Array(0);

function Channel(ctx) {
  Em.init(this);
  this.x = ctx;
  this.dec = R.local(ctx.dec);
  this.cur = undefined;
  this.next = undefined;
  this.prev = undefined;
  this.remote = ctx.route;
  this.renewals = 0;
  this.closed = false;
  this.waiting = []; // sends waiting for a renewal: [type, pt, done]
  this._silentSince = -1;
  this._lastRenewal = -1e15;
  this.owesKa = false;
}
var P = Channel.prototype;
Em.mixin(Channel);

/**
 * Initiator: the first handshake. Message 1 goes to the listener's route and
 * is sent again after 1 s, doubling up to 8 s (ctx.retransmit), until a
 * valid message 2; then 'close' with CHANNEL_HANDSHAKE_TIMEOUT. A message 2
 * that does not authenticate is dropped and changes nothing.
 * ctx.counter(): a Promise of the handshake counter message 1 carries in
 * front of its payload (varint), or undefined for none.
 */
P._connect = function () {
  var self = this, x = this.x;
  var hs = new H.Handshake({
    pattern: x.pattern, dh: x.dh, cipher: x.cipher, initiator: true, s: x.s, rs: x.rs,
    prologue: x.prologue, e: function () { return x.eph(false); }
  });
  this.hs = hs;
  this._hsTries = 0;
  (x.counter ? x.counter() : Promise.resolve()).then(function (c) {
    var p = x.payload || EMPTY;
    return hs.write(c === undefined ? p : B.concat(B.varint(c), p));
  }).then(function (m1) {
    self.m1 = m1;
    self._hsSend();
  }).then(undefined, function (e) {
    self._teardown(e);
  });
};

P._hsSend = function () {
  var self = this, x = this.x, r = x.retransmit;
  if (!this.hs || this.closed) return;
  if (this._hsTries >= r.attempts) return this._teardown(B.err('CHANNEL_HANDSHAKE_TIMEOUT', 'no answer'));
  if (this._hsTries) x.count('handshake.retransmitted');
  this._hsTries++;
  x.out(this._cookieRoute(), this.m1, function () {});
  this.hsTimer = x.clock.setTimeout(function () { self._hsSend(); }, Math.min(r.initialMs * Math.pow(2, self._hsTries - 1), r.maxMs));
};

/** The listener's route, followed by its cookie once it asked for one (under load: src/channel/cookie.ts). */
P._cookieRoute = function () {
  if (!this.cookie) return this.x.route;
  var r = this.x.route.slice();
  r.push(R.local(this.cookie));
  return r;
};

P._hsEnd = function () {
  if (this.hsTimer !== undefined) this.x.clock.clearTimeout(this.hsTimer);
  this.hs.wipe();
  this.hs = undefined;
  this.m1 = undefined;
};

/** Everything that arrives at this channel's dec. */
P.input = function (bytes, ret) {
  if (this.cur) return this.receive(bytes, ret);
  var self = this, hs = this.hs, x = this.x;
  if (!hs) return x.count('handshake.dropped');
  if (bytes.length === 17 && bytes[0] === 0xc0) {
    // a cookie reply: the listener wants proof of our return route; message 1 again with it, once per cookie
    var c = B.copy(bytes, 1);
    if (this.cookie && B.same(this.cookie, c)) return;
    x.count('handshake.cookie_received');
    this.cookie = c;
    if (this.m1) x.out(this._cookieRoute(), this.m1, function () {});
    return;
  }
  if (this.hsBusy) return x.count('handshake.dropped');
  this.hsBusy = true;
  hs.read(bytes).then(function () {
    self.hsBusy = false;
    if (self.hs !== hs || self.closed) return;
    var keys = hs.split();
    self._hsEnd();
    x.count('handshake.completed');
    self._established(keys, ret);
  }, function (e) {
    // silent: a forged or corrupted message 2 is dropped and counted; keep waiting
    self.hsBusy = false;
    x.count('handshake.failed');
  });
};

/** Called by the handshake code once session 0 exists. */
P._established = function (keys, remote) {
  var x = this.x, self = this;
  this.cur = new S.Session(keys, x.limits.session, x.clock.now, 0);
  this.binding = keys.h; // the first handshake hash: renewal prologue and binding tag
  if (remote && remote.length) this.remote = remote;
  this.lastHeard = x.clock.now();
  if (x.reliable) {
    var r = x.limits.reliable;
    this.snd = new Rel.Sender(r, x.clock, function (framed, done) { self._sealAndSend(S.DATA, framed, done); }, x.count);
    this.rcv = new Rel.Receiver(r, function (p) { self.emit('data', p); }, function (n, sack) {
      self._sealAndSend(S.CONTROL, B.concat(new Uint8Array([ACK]), B.varint(n), sack));
    }, x.count);
  }
  this.emit('open');
};

/**
 * Sends one application message. cb(err) runs when it was acknowledged
 * (reliable mode) or left the radio. Throws CHANNEL_CLOSED, LIMIT_EXCEEDED
 * (reliable window full: nothing accepted is dropped).
 */
P.send = function (payload, cb) {
  cb = cb || function () {};
  if (this.closed || !this.cur) throw B.err('CHANNEL_CLOSED', 'not open');
  if (this.snd) this.snd.send(payload, cb);
  else this._sealAndSend(S.DATA, payload, function (c, e) { cb(e); });
};

/** Sends a ROUTED message: an inner routing message to a worker behind the peer's endpoint. */
P.sendRouted = function (onward, ret, payload, cb) {
  if (this.closed || !this.cur) throw B.err('CHANNEL_CLOSED', 'not open');
  this._sealAndSend(S.ROUTED, R.encode(onward, ret, payload), function (c, e) { if (cb) cb(e); });
};

/** Unacknowledged reliable messages. */
P.unacked = function () {
  return this.snd ? this.snd.unacked() : 0;
};

/** Sends an encrypted CLOSE (best effort) and tears down. */
P.close = function () {
  if (this.closed) return;
  var self = this;
  if (this.cur && this.cur._sendState() !== S.SEND_EXPIRED) this._sealNow(this.cur, S.CONTROL, new Uint8Array([CLOSE]), function () {});
  self._teardown();
};

/**
 * Seals with the session that may seal now and sends; done(_confirm, err).
 * An initiator past a hard limit renews first (the message waits); a
 * responder past one uses a renewed session or asks for one and waits.
 */
P._sealAndSend = function (type, pt, done) {
  done = done || function () {};
  if (this.closed) return done(undefined, B.err('CHANNEL_CLOSED', 'channel is closed'));
  var st = this.cur._sendState();
  if (st === S.SEND_RENEW) {
    if (this.x.isInitiator) this.renew();
    else this._requestRenewal();
  } else if (st === S.SEND_EXPIRED) {
    if (!this.x.isInitiator && this.next) this._promote();
    else {
      this.waiting.push([type, pt, done]);
      if (this.x.isInitiator) this.renew();
      else this._awaitPeer();
      return;
    }
  }
  this._sealNow(this.cur, type, pt, done);
};

P._sealNow = function (s, type, pt, done) {
  var sealed = s.seal(type, pt), n = s.n - 1, x = this.x;
  this.owesKa = false;
  this._noteSent();
  x.out(this.remote, sealed, function (err) {
    done(err ? undefined : function () { s._confirm(n); }, err);
  });
};

/** Sends the waiting messages after a renewal (or fails them). */
P.flush = function (err) {
  var w = this.waiting;
  this.waiting = [];
  for (var i = 0; i < w.length; i++) {
    if (err) w[i][2](undefined, err);
    else this._sealAndSend(w[i][0], w[i][1], w[i][2]);
  }
};

/** A message arrived at this channel's dec (payload of a routing message, its return route). */
P.receive = function (bytes, ret) {
  if (this.closed || !this.cur) return;
  var x = this.x;
  if (bytes.length && (bytes[0] & 0xc0) === 0xc0) return this._onFlight(bytes, ret);
  if (this.prev && this.prev._receiveExpired()) this._dropPrev();
  var list = [this.cur, this.next, this.prev], from, r, reason, top = -1;
  for (var i = 0; i < 3; i++) {
    if (!list[i]) continue;
    top = list[i].w.top;
    r = list[i].open(bytes);
    if (typeof r !== 'string') {
      from = list[i];
      break;
    }
    if (!reason) reason = r;
  }
  if (!from) {
    if (reason === 'auth') this.cur.auth++;
    x.count('channel.drop.' + (reason || 'decode'));
    return;
  }
  if (from && from === this.next) this._promote();
  this._heard();
  // mobility: follow the latest authenticated return route
  if (from === this.cur && r.n > top && ret.length) this.remote = ret;
  if (x.isInitiator && from === this.cur && this.cur._sendState() !== S.SEND_OK) this.renew();
  var pt = r.pt;
  if (r.type === S.DATA) {
    this._dataIn();
    if (this.rcv) this.rcv.receive(pt);
    else this.emit('data', pt);
  } else if (r.type === S.ROUTED) {
    var inner;
    try {
      inner = R.decode(pt);
    } catch (e) {
      return x.count('channel.drop.inner_decode');
    }
    if (!inner.onward.length) return x.count('channel.drop.inner_decode');
    this._dataIn();
    this.emit('routed', inner);
  } else this._control(pt, from);
};

P._control = function (p, from) {
  var x = this.x, v;
  if (p[0] === CLOSE) {
    this._teardown(p[1] === 1 ? B.err('CHANNEL_PEER_REFUSED', 'renewal refused') : undefined);
  } else if (p[0] === KEEPALIVE) {
    if (p.length > 1) {
      try {
        v = B.readVarint(p, 1);
        if (v[0] > 0) from._confirm(v[0] - 1);
      } catch (e) {
        x.count('channel.drop.bad_keepalive');
      }
    }
  } else if (p[0] === ACK) {
    if (!this.snd) return;
    try {
      v = B.readVarint(p, 1);
      var sack = p.subarray(1 + v[1]);
      if (sack.length > Rel.MAX_SACK) throw B.err('DECODE_ERROR', 'sack too long');
      this.snd.onAck(v[0], sack);
    } catch (e) {
      x.count('channel.drop.bad_ack');
    }
  } else if (p[0] === RENEW) {
    x.count('channel.renewal.requested_by_peer');
    if (x.isInitiator) this.renew();
  } else x.count('channel.drop.unknown_control');
};

P._heard = function () {
  this.lastHeard = this.x.clock.now();
  this._silentSince = -1;
};

/** Initiator: renews after sending messages that call for an answer and hearing nothing for renewAfterSilenceMs. */
P._noteSent = function () {
  var x = this.x, l = x.limits, now = x.clock.now();
  if (!x.isInitiator || !l.renewAfterSilenceMs || (!this.snd && !l.keepaliveMs)) return;
  if (this._silentSince < 0) this._silentSince = now;
  else if (now - this._silentSince >= l.renewAfterSilenceMs && now - this._lastRenewal >= l.renewAfterSilenceMs && !this.rw) {
    x.count('channel.renewal.silence');
    this.renew();
  }
};

/** Passive keep-alive: data arrived and nothing went back within keepaliveMs. */
P._dataIn = function () {
  var self = this, ms = this.x.limits.keepaliveMs;
  if (!ms) return;
  this.owesKa = true;
  if (this._kaTimer !== undefined) return;
  this._kaTimer = this.x.clock.setTimeout(function () {
    self._kaTimer = undefined;
    if (!self.closed && self.owesKa) self._keepalive();
  }, ms);
};

/** A keep-alive reporting one past the highest counter accepted in the session it is sealed in. */
P._keepalive = function () {
  if (this.closed) return;
  this._sealAndSend(S.CONTROL, B.concat(new Uint8Array([KEEPALIVE]), B.varint(this.cur.w.top + 1)));
};

/** renewal prologue = "hopseal-renew-v1" || first handshake hash || u32be(epoch) */
P.prologue = function (epoch) {
  var e = new Uint8Array(4);
  e[0] = (epoch >>> 24) & 0xff;
  e[1] = (epoch >> 16) & 0xff;
  e[2] = (epoch >> 8) & 0xff;
  e[3] = epoch & 0xff;
  return B.concat(LABEL, this.binding, e);
};

P._renewalHandshake = function (initiator, epoch) {
  var x = this.x;
  return new H.Handshake({
    pattern: 'KK', dh: x.dh, cipher: x.cipher, initiator: initiator, s: x.s, rs: x.rs,
    prologue: this.prologue(epoch), e: function () { return x.eph(true); }
  });
};

/** P-256 renewal flights carry the point prefix XORed with 0xC0 (25519 ephemerals were drawn with a first byte >= 0xC0). */
P._mark = function (m) {
  if (this.x.dh === 'P256') {
    m = B.copy(m);
    m[0] ^= 0xc0;
  }
  return m;
};

/** Initiator: renews now (once at a time); the waiting sends go out under the new session. */
P.renew = function () {
  if (this.closed || this.rw) return;
  var self = this, x = this.x;
  var epoch = this.cur.epoch + 1, hs = this._renewalHandshake(true, epoch);
  var w = { epoch: epoch, hs: hs, _tries: 0, busy: true };
  this.rw = w;
  this._lastRenewal = x.clock.now();
  x.count('channel.renewal.started');
  hs.write(EMPTY).then(function (m) {
    w.busy = false;
    w.flight = self._mark(m);
    self._renewSend();
  }).then(undefined, function (e) { self._renewDone(w, e); });
};

P._renewSend = function () {
  var w = this.rw, self = this, x = this.x, r = x.limits.renewRetransmit;
  if (!w) return;
  if (w._tries >= r.attempts) return this._renewDone(w, B.err('CHANNEL_HANDSHAKE_TIMEOUT', 'renewal unanswered'));
  w._tries++;
  // every second send goes through the listener's route with the binding tag, in case the remote route died
  var via = this.remote;
  if (w._tries % 2 === 0 && x.route) {
    via = x.route.slice();
    via.push(R.local(B.copy(this.binding, 0, 8)));
    x.count('channel.renewal.via_listener');
  }
  x.out(via, w.flight, function () {});
  w.timer = x.clock.setTimeout(function () { self._renewSend(); }, Math.min(r.initialMs * Math.pow(2, w._tries - 1), r.maxMs));
};

P._renewDone = function (w, err) {
  if (this.rw !== w) return;
  this.rw = undefined;
  if (w.timer !== undefined) this.x.clock.clearTimeout(w.timer);
  if (err) {
    w.hs.wipe();
    this.x.count('channel.renewal.failed');
    this.flush(err);
    this.emit('error', err);
  }
};

/** A renewal flight: flight 2 at the initiator, flight 1 at the responder (responder.js). */
P._onFlight = function (bytes, ret) {
  var self = this, x = this.x;
  if (x.isInitiator) {
    var w = this.rw;
    if (!w || w.busy) return x.count('channel.renewal.unexpected_flight');
    w.busy = true;
    w.hs.read(this._mark(bytes)).then(function () {
      w.busy = false;
      if (self.rw !== w || self.closed) return;
      if (ret.length) self.remote = ret;
      var fresh = new S.Session(w.hs.split(), x.limits.session, x.clock.now, w.epoch);
      self._renewDone(w);
      self._dropPrev();
      self.prev = self.cur;
      self.cur = fresh;
      self.renewed();
      if (self.snd) self.snd._retransmitFailed();
      self.flush();
      // the responder seals with the old keys until a message under the new ones arrives
      x.clock.setTimeout(function () {
        if (self.cur === fresh && fresh.n === 0) self._keepalive();
      }, 0);
    }, function () {
      // a forged or corrupted flight 2 moved nothing: keep waiting for the genuine one
      w.busy = false;
      x.count('channel.renewal.bad_flight');
    });
    return;
  }
  this._answerFlight(bytes, ret);
};

P.renewed = function () {
  this.renewals++;
  this._heard();
  this.x.count('channel.renewed');
  this.emit('renew', this.cur.epoch);
};

P._dropPrev = function () {
  if (this.prev) this.prev.close();
  this.prev = undefined;
};

/** Closes locally: wipes every session, fails what waits, emits 'close'. */
P._teardown = function (err) {
  if (this.closed) return;
  this.closed = true;
  var x = this.x, w = this.rw;
  if (w) {
    this.rw = undefined;
    if (w.timer !== undefined) x.clock.clearTimeout(w.timer);
    w.hs.wipe();
  }
  if (this.hs) this._hsEnd();
  if (this._kaTimer !== undefined) x.clock.clearTimeout(this._kaTimer);
  if (this._peerWait !== undefined) x.clock.clearTimeout(this._peerWait);
  var e = err || B.err('CHANNEL_CLOSED', 'channel closed');
  this.flush(e);
  if (this.snd) this.snd.fail(e);
  if (this.cur) this.cur.close();
  if (this.next) this.next.close();
  this._dropPrev();
  if (x.onClose) x.onClose(this);
  this.emit('close', err);
};

exports.Channel = Channel;
