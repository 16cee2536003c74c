/**
 * Reliable mode (docs/protocol.md "Reliable mode"; reference
 * src/channel/reliable.ts). DATA plaintext = varint(seq) || payload. The
 * receiver delivers in order exactly once and answers every DATA with
 * ACK = 03 || varint(next) || sack (bit i: next + 1 + i is held, at most 8
 * bytes, trailing zero bytes trimmed). The sender keeps at most
 * min(sendBuffer, receiveBuffer) sequence numbers from the oldest
 * unacknowledged one, retransmits (re-sealed: a new counter) after the RFC
 * 6298 timeout, doubling up to maxBackoffMs, fast-retransmits a message
 * that 3 sacked later messages overtook, and never queues a second copy
 * while the previous one still waits in the radio's send queue.
 *
 * clock = { now(), setTimeout(fn, ms), clearTimeout(id) }.
 */
var B = require('hopseal/routing/bytes');

var FAST_AFTER = 3;
var MAX_SACK = 8;

exports.MAX_SACK = MAX_SACK;

/**
 * o: { ackTimeoutMs, minAckTimeoutMs, maxBackoffMs, maxRetransmits, sendBuffer, receiveBuffer }
 * transmit(framed, done): seals and sends; calls done(confirm) once the copy left (confirm(): tells
 * the session that this copy's counter arrived), or done(undefined, err) when it could not go out.
 */
function Sender(o, clock, transmit, count) {
  this.o = o;
  this.clock = clock;
  this.tx = transmit;
  this.count = count;
  this.next = 0;
  this.out = []; // outstanding, in sequence order
  this.srtt = -1;
  this.rttvar = 0;
}
var SP = Sender.prototype;

/** Sequence numbers from the oldest unacknowledged one to the next. */
SP.unacked = function () {
  return this.out.length ? this.next - this.out[0].seq : 0;
};

SP.rto = function () {
  var o = this.o;
  if (this.srtt < 0) return o.ackTimeoutMs;
  // RFC 6298 with G = SRTT/4 (as src/channel/reliable.ts): a steady LoRa round trip drives RTTVAR to 0
  return Math.min(Math.max(o.minAckTimeoutMs, this.srtt + Math.max(this.srtt / 4, 4 * this.rttvar)), o.maxBackoffMs);
};

/** Queues one payload; cb(err) when acknowledged (err undefined) or failed. Throws LIMIT_EXCEEDED when the window is full. */
SP.send = function (payload, cb) {
  if (this.unacked() >= Math.min(this.o.sendBuffer, this.o.receiveBuffer)) throw B.err('LIMIT_EXCEEDED', 'send window full');
  var m = { seq: this.next++, p: B.copy(payload), _tries: 0, cb: cb, at: this.clock.now() };
  this.out.push(m);
  this.fire(m, false);
};

SP.fire = function (m, fast) {
  var self = this;
  m.fast = fast;
  m._tries++;
  if (m._tries > 1) this.count('reliable.retransmitted');
  m.failed = false;
  m.sending = true;
  this.tx(B.concat(B.varint(m.seq), m.p), function (confirm, err) {
    m.sending = false;
    if (err) {
      m.failed = true;
      self.count('reliable.send_error');
    } else if (confirm && !m._confirm) m._confirm = confirm;
  });
  this.arm(m, Math.min(this.rto() * Math.pow(2, m._tries - 1), this.o.maxBackoffMs));
};

SP.arm = function (m, wait) {
  var self = this;
  m.timer = this.clock.setTimeout(function () {
    m.timer = undefined;
    if (self.out.indexOf(m) < 0) return;
    // the last copy still waits behind the radio's duty cycle: another copy would queue behind it
    if (m.sending) return self.arm(m, wait);
    if (m._tries > self.o.maxRetransmits) {
      self.out.splice(self.out.indexOf(m), 1);
      self.count('reliable.delivery_failed');
      m.cb(B.err('CHANNEL_DELIVERY_FAILED', 'message ' + m.seq + ' unacknowledged'));
      return;
    }
    self.fire(m, false);
  }, wait);
};

function sacked(sack, d) {
  return d >= 0 && d < sack.length * 8 && (sack[d >> 3] & (1 << (d & 7))) !== 0;
}

/** ACK(n, sack): every seq below n arrived, and n + 1 + i for each bit i of sack. */
SP.onAck = function (n, sack) {
  var highest = n - 1, sample, i, m, keep = [];
  for (i = 0; i < this.out.length; i++) {
    m = this.out[i];
    if (m.seq >= n && !sacked(sack, m.seq - n - 1)) {
      keep.push(m);
      continue;
    }
    if (m.seq > highest) highest = m.seq;
    if (m._tries === 1) sample = m; // Karn: a retransmitted message's ack is ambiguous
    if (m.timer !== undefined) this.clock.clearTimeout(m.timer);
    if (m._confirm) m._confirm();
    m.cb();
  }
  this.out = keep;
  if (sample) this.measure(this.clock.now() - sample.at);
  for (i = 0; i < keep.length; i++) {
    m = keep[i];
    if (m.seq >= highest) break;
    if (!m.fast && highest - m.seq >= FAST_AFTER && this.sackedAbove(m.seq, n, sack) >= FAST_AFTER) {
      if (m.timer !== undefined) this.clock.clearTimeout(m.timer);
      this.count('reliable.fast_retransmit');
      this.fire(m, true);
    }
  }
};

SP.sackedAbove = function (seq, n, sack) {
  var c = 0;
  for (var d = Math.max(0, seq - n); d < sack.length * 8; d++) if (sack[d >> 3] & (1 << (d & 7))) c++;
  return c;
};

SP.measure = function (r) {
  if (!(r >= 0)) return;
  if (this.srtt < 0) {
    this.srtt = r;
    this.rttvar = r / 2;
  } else {
    this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
    this.srtt = 0.875 * this.srtt + 0.125 * r;
  }
};

/** After a renewal: messages whose last copy never went out leave now. */
SP._retransmitFailed = function () {
  for (var i = 0; i < this.out.length; i++) {
    var m = this.out[i];
    if (!m.failed) continue;
    if (m.timer !== undefined) this.clock.clearTimeout(m.timer);
    this.fire(m, false);
  }
};

/** Fails everything outstanding (the channel closed). */
SP.fail = function (e) {
  var out = this.out;
  this.out = [];
  for (var i = 0; i < out.length; i++) {
    if (out[i].timer !== undefined) this.clock.clearTimeout(out[i].timer);
    out[i].cb(e);
  }
};

/** deliver(payload) in order; ack(next, sack) after each DATA. */
function Receiver(o, deliver, ack, count) {
  this.o = o;
  this.deliver = deliver;
  this.ack = ack;
  this.count = count;
  this.exp = 0;
  this.early = {};
  this.held = 0;
}
var RP = Receiver.prototype;

/** One DATA plaintext (varint(seq) || payload). */
RP.receive = function (framed) {
  var v;
  try {
    v = B.readVarint(framed, 0);
  } catch (e) {
    this.count('reliable.drop_decode');
    return;
  }
  var seq = v[0], ready = [];
  if (seq < this.exp || this.early[seq]) this.count('reliable.duplicate');
  else if (seq === this.exp) {
    ready.push(B.copy(framed, v[1]));
    this.exp++;
    while (this.early[this.exp]) {
      ready.push(this.early[this.exp]);
      delete this.early[this.exp];
      this.held--;
      this.exp++;
    }
  } else if (this.held < this.o.receiveBuffer && seq < this.exp + 4 * this.o.receiveBuffer) {
    this.early[seq] = B.copy(framed, v[1]);
    this.held++;
  } else this.count('reliable.drop_buffer_full');
  for (var i = 0; i < ready.length; i++) this.deliver(ready[i]);
  this.ack(this.exp, this.sack());
};

RP.sack = function () {
  var bits = new Uint8Array(MAX_SACK), len = 0;
  for (var k in this.early) {
    var d = k - this.exp - 1;
    if (d < 0 || d >= MAX_SACK * 8) continue;
    bits[d >> 3] |= 1 << (d & 7);
    if ((d >> 3) + 1 > len) len = (d >> 3) + 1;
  }
  return bits.subarray(0, len);
};

exports.Sender = Sender;
exports.Receiver = Receiver;
