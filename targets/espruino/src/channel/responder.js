/**
 * The responder half of a device channel (channel.js): answering renewal
 * flights (flight 1 -> flight 2 under a `next` session), promoting `next`
 * once the initiator uses it, asking for a renewal with RENEW and waiting
 * for it past a hard limit. Only a KK listener makes responder channels
 * (listener.js requires this module), so an initiator-only application's
 * bundle leaves it out. Adds its methods to Channel.prototype.
 */
var B = require('hopseal/routing/bytes');
var S = require('hopseal/channel/session');
var P = require('hopseal/channel/channel').Channel.prototype;

var RENEW = 4;
var EMPTY = new Uint8Array(0);

/** Responder: a renewal flight 1 (a retransmitted one gets the same flight 2). */
P._answerFlight = function (bytes, ret) {
  var self = this, x = this.x;
  var a = this.answer;
  if (a && B.same(a.f1, bytes)) {
    x.count('channel.renewal.retransmit_answered');
    return x.out(ret, a.f2, function () {});
  }
  if (this.rbusy) return x.count('channel.renewal.busy');
  this.rbusy = true;
  // the epoch after the current session; while a renewed one awaits confirmation, also the one after it
  var epochs = [this.cur.epoch + 1];
  if (this.next) epochs.push(this.next.epoch + 1);
  var m = this._mark(bytes);
  function attempt(i) {
    if (i >= epochs.length) {
      self.rbusy = false;
      return x.count('channel.renewal.failed');
    }
    var hs = self._renewalHandshake(false, epochs[i]);
    hs.read(m).then(function () {
      return hs.write(EMPTY).then(function (f2) {
        self.rbusy = false;
        if (self.closed) return hs.wipe();
        f2 = self._mark(f2);
        if (epochs[i] > self.cur.epoch + 1) self._promote();
        if (self.next) self.next.close();
        self.next = new S.Session(hs.split(), x.limits.session, x.clock.now, epochs[i]);
        self.answer = { f1: B.copy(bytes), f2: f2 };
        x.count('channel.renewal.answered');
        x.out(ret, f2, function () {});
      });
    }, function () {
      hs.wipe();
      attempt(i + 1);
    }).then(undefined, function (e) {
      self.rbusy = false;
      x.count('channel.renewal.failed');
    });
  }
  attempt(0);
};

/** Responder: the initiator used the renewed session, so this side seals with it too. */
P._promote = function () {
  var n = this.next;
  if (!n) return;
  this.next = undefined;
  this._dropPrev();
  this.prev = this.cur;
  this.cur = n;
  this.renewed();
  if (this.snd) this.snd._retransmitFailed();
  this.flush();
};

/**
 * Responder: asks the initiator to renew (RENEW, sealed even past the hard
 * limits), once per session, again only after a gap that doubles from the
 * renewal retransmission interval up to its maximum.
 */
P._requestRenewal = function () {
  var x = this.x, r = x.limits.renewRetransmit, now = x.clock.now();
  if (this.reqIn === this.cur) {
    if (now - this.reqAt < this.reqGap) return;
    this.reqGap = Math.min(this.reqGap * 2, r.maxMs);
  } else this.reqGap = r.initialMs;
  if (this.closed || this.cur.closed) return;
  this.reqIn = this.cur;
  this.reqAt = now;
  x.count('channel.renewal.requested');
  x.out(this.remote, this.cur.seal(S.CONTROL, new Uint8Array([RENEW]), true), function () {});
};

/** Responder past a hard limit: RENEW and wait for the initiator's renewal; fail the waiting sends after the retransmission span. */
P._awaitPeer = function () {
  var self = this, x = this.x, r = x.limits.renewRetransmit;
  this._requestRenewal();
  if (this._peerWait !== undefined) return;
  var span = 0;
  for (var i = 0; i < r.attempts; i++) span += Math.min(r.initialMs * Math.pow(2, i), r.maxMs);
  var before = this.renewals;
  this._peerWait = x.clock.setTimeout(function () {
    self._peerWait = undefined;
    if (self.renewals === before) self.flush(B.err('CHANNEL_HANDSHAKE_TIMEOUT', 'peer did not renew'));
  }, span);
};
