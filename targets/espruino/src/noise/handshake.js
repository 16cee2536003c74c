/**
 * Noise HandshakeState (rev 34 §5.3), the subset a device needs: KK and IK
 * as initiator, KK as responder, DH 25519 or P256 (33-byte compressed
 * points on the wire, docs/protocol.md "Noise suites"), AESGCM or
 * ChaChaPoly, SHA256.
 *
 * DH goes through key objects, so a static key may live in a secure element
 * and an ephemeral in its TempKey:
 *   key = { pub: Uint8Array, dh: function (peerPub) -> Promise<Uint8Array(32)>, wipe: function () }
 * `o.e` makes the ephemeral key (a function returning a Promise of a key).
 *
 * Messages are processed on the state in place; a message that fails to
 * authenticate leaves the state unusable, so a responder makes a fresh
 * handshake per candidate message 1 (cheap: no DH until read) and an
 * initiator reads message 2 on a copy (`read` copies ck, h and the cipher
 * key before the DH tokens and restores them on failure).
 */
var U = require('hopseal/crypto/util');
var B = require('hopseal/routing/bytes');
var SymmetricState = require('hopseal/noise/symmetric').SymmetricState;

var PATTERNS = {
  KK: { pre: ['s', 's'], m: [['e', 'es', 'ss'], ['e', 'ee', 'se']] },
  IK: { pre: ['', 's'], m: [['e', 'es', 's', 'ss'], ['e', 'ee', 'se']] }
};

/**
 * o = { pattern: 'KK' | 'IK', dh: '25519' | 'P256', cipher: 'AESGCM' | 'ChaChaPoly',
 *       initiator: bool, s: key, rs: Uint8Array, prologue: Uint8Array, e: function () -> Promise<key> }
 * @throws INVALID_ARGUMENT for an unsupported pattern, suite or role (IK responder)
 */
function Handshake(o) {
  var p = PATTERNS[o.pattern];
  if (!p || (o.dh !== '25519' && o.dh !== 'P256') || (o.cipher !== 'AESGCM' && o.cipher !== 'ChaChaPoly') || (!o.initiator && o.pattern !== 'KK')) {
    throw B.err('INVALID_ARGUMENT', 'unsupported handshake ' + o.pattern + ' ' + o.dh + ' ' + o.cipher);
  }
  this.name = 'Noise_' + o.pattern + '_' + o.dh + '_' + o.cipher + '_SHA256';
  this.p = p;
  this.i = !!o.initiator;
  this.s = o.s;
  this.rs = o.rs;
  this.mk = o.e;
  this.e = undefined;
  this.re = undefined;
  this.plen = o.dh === 'P256' ? 33 : 32;
  this.step = 0;
  var ss = new SymmetricState(this.name, o.cipher === 'ChaChaPoly');
  ss._mixHash(o.prologue || new Uint8Array(0));
  // pre-messages: the initiator's, then the responder's
  if (p.pre[0]) ss._mixHash(this.i ? o.s.pub : o.rs);
  if (p.pre[1]) ss._mixHash(this.i ? o.rs : o.s.pub);
  this.ss = ss;
}
var P = Handshake.prototype;

function fail(msg) {
  return B.err('NOISE_DECRYPT_FAILED', msg);
}

/** The DH of a token, from this side's point of view. */
P.dh = function (t) {
  var i = this.i, me, peer;
  if (t === 'ee') { me = this.e; peer = this.re; }
  else if (t === 'ss') { me = this.s; peer = this.rs; }
  else if (t === 'es') { me = i ? this.e : this.s; peer = i ? this.rs : this.re; }
  else { me = i ? this.s : this.e; peer = i ? this.re : this.rs; }
  var ss = this.ss;
  return me.dh(peer).then(function (k) {
    var zero = 0;
    for (var j = 0; j < k.length; j++) zero |= k[j];
    if (!zero) throw fail('DH result is all zero (low-order key)');
    ss._mixKey(k);
    U.wipe(k);
  });
};

/** Runs `tokens` in order (each DH may wait on a secure element); `out` collects written bytes, undefined when reading. */
P._tokens = function (_tokens, out) {
  var self = this;
  function next(j) {
    if (j >= _tokens.length) return Promise.resolve();
    var t = _tokens[j];
    if (t === 'e' && out) {
      return self.mk().then(function (e) {
        self.e = e;
        out.push(e.pub);
        self.ss._mixHash(e.pub);
        return next(j + 1);
      });
    }
    if (t === 'e') {
      self.re = B.copy(self.msg, 0, self.plen);
      self.ss._mixHash(self.re);
      return next(j + 1);
    }
    // only an initiator sends s in the patterns supported here (IK message 1)
    if (t === 's') {
      out.push(self.ss._encryptAndHash(self.s.pub));
      return next(j + 1);
    }
    return self.dh(t).then(function () { return next(j + 1); });
  }
  return next(0);
};

/** WriteMessage(payload): a Promise of the message bytes. */
P.write = function (payload) {
  var self = this, out = [];
  var m = this.p.m[this.step];
  if (!m || (this.step === 0) !== this.i) return Promise.reject(B.err('INVALID_ARGUMENT', 'not our turn'));
  this.step++;
  return this._tokens(m, out).then(function () {
    out.push(self.ss._encryptAndHash(payload || new Uint8Array(0)));
    return B.concat.apply(null, out);
  });
};

/**
 * ReadMessage(msg): a Promise of the payload. Rejects NOISE_DECRYPT_FAILED or
 * DECODE_ERROR and then leaves the state as it was before the message, so a
 * forged or corrupted message 2 does not end the initiator's handshake.
 */
P.read = function (msg) {
  var self = this, ss = this.ss;
  var m = this.p.m[this.step];
  if (!m || (this.step === 0) === this.i) return Promise.reject(B.err('INVALID_ARGUMENT', 'not their turn'));
  if (msg.length < this.plen + 16) return Promise.reject(B.err('DECODE_ERROR', 'message too short'));
  var saved = { h: ss.h, ck: B.copy(ss.ck), cs: ss.cs._clone() };
  this.msg = msg;
  return this._tokens(m, undefined).then(function () {
    var pt = ss._decryptAndHash(msg.subarray(self.plen));
    if (!pt) throw fail('handshake message does not authenticate');
    self.msg = undefined;
    self.step++;
    saved.cs.wipe();
    U.wipe(saved.ck);
    return pt;
  }).then(undefined, function (e) {
    self.msg = undefined;
    self.re = undefined;
    U.wipe(ss.ck);
    ss.cs.wipe();
    ss.h = saved.h;
    ss.ck = saved.ck;
    ss.cs = saved.cs;
    throw e;
  });
};

/** After the last message: { send, recv, h } (transport cipher states, handshake hash). Wipes the handshake. */
P.split = function () {
  var h = this.ss.h;
  var c = this.ss.split();
  this.wipe();
  return { send: this.i ? c[0] : c[1], recv: this.i ? c[1] : c[0], h: h };
};

P.done = function () {
  return this.step === this.p.m.length;
};

/** Wipes the ephemeral key and the symmetric state. */
P.wipe = function () {
  if (this.e && this.e.wipe) this.e.wipe();
  this.e = undefined;
  this.ss.wipe();
};

exports.Handshake = Handshake;
