/**
 * A hopseal serial link on an Espruino `Serial` (UART to a LoRa or BLE-UART
 * modem, or a PTY on Linux): whole routed messages in and out, on the wire
 * byte for byte as Node's SerialTransport over openSerialLink
 * (targets/node/transports/serial): fragmentation to the profile's MTU, COBS + CRC
 * framing, a bounded send queue paced by the profile (BLE write interval,
 * LoRa airtime and duty cycle) on an injected clock, bounded reassembly.
 *
 *   Serial1.setup(115200, { rx: B7, tx: B6 });      // { path: '/dev/pts/3' } on Linux
 *   var radio = require('hopseal/link/serial').radio(Serial1, { name: 'lora', dataRate: 0 });
 *   radio.onMessage(function (msg) { ... });        // a whole routed message (Uint8Array)
 *   radio.send(bytes, function (err) { ... });      // also a Promise: written (last frame), or why not
 *
 * The first frame written is preceded by one 0x00 (flushes the peer's partial
 * frame), as FrameCodecLink does. Errors carry a `code` as src/errors.ts.
 */
var F = require('hopseal/link/frame');
var G = require('hopseal/link/fragment');
var P = require('hopseal/link/profile');

var err = require('hopseal/routing/bytes').err;

/** The device clock: getTime() in ms, and the global timers. */
var CLOCK = {
  now: function () { return getTime() * 1000; },
  setTimeout: function (f, ms) { return setTimeout(f, ms); },
  clearTimeout: function (t) { clearTimeout(t); }
};

/**
 * Opens a link on `serial` (anything with write(bytes) and on('data', fn);
 * the caller runs setup()), `profile` from hopseal/link/profile. o {
 *   clock (default getTime), maxMessage (2048), maxQueuedFrames (256),
 *   maxMessages (4 partials), maxBytes (2 * maxMessage), msgId (the first
 *   id; default random), flush (default true: 0x00 before the first frame) }.
 * Returns { mtu, stats, decoder, onMessage(fn), receive(bytes), send(bytes, done) -> Promise, queued(), close() }.
 * stats: framesSent, framesReceived, bytesSent, bytesReceived (radio frames),
 * airtimeMs, waitedMs, drops by reason as Node's (receive: empty, reserved,
 * truncated, bad_index, single_fragment, empty_fragment, duplicate,
 * inconsistent, evicted, expired, too_large, handler_error; send: queue_full).
 */
exports.open = function (serial, profile, o) {
  o = o || {};
  var clock = o.clock || CLOCK, maxMessage = o.maxMessage || 2048, maxQueued = o.maxQueuedFrames || 256, mtu = profile.mtu;
  var stats = { framesSent: 0, framesReceived: 0, bytesSent: 0, bytesReceived: 0, airtimeMs: 0, waitedMs: 0, drops: {} };
  var msgId = o.msgId === undefined ? Math.random() * 128 | 0 : o.msgId, flush = o.flush !== false;
  var gate = P.Gate(profile), queue = [], handler, timer, closed;
  function drop(r) {
    stats.drops[r] = (stats.drops[r] || 0) + 1;
  }
  var re = G.Reassembler({ now: function () { return clock.now(); }, timeoutMs: profile.reassemblyTimeoutMs, maxMessages: o.maxMessages || 4, maxBytes: o.maxBytes || 2 * maxMessage, maxMessage: maxMessage, onDrop: drop });
  var decoder = F.Decoder(function (frame) {
    stats.framesReceived++;
    stats.bytesReceived += frame.length;
    var p = G.parse(frame), m = p.whole;
    if (p.drop !== undefined) return drop(p.drop);
    if (m === undefined) m = re.push(p);
    else if (m.length > maxMessage) return drop('too_large');
    if (m === undefined || !handler) return;
    try {
      handler(m);
    } catch (e) {
      drop('handler_error');
    }
  }, F.maxEncoded(mtu));
  function receive(d) {
    if (!closed) decoder.push(d);
  }
  serial.on('data', receive);

  // Writes queued frames one at a time when pacing and duty cycle allow.
  function pump() {
    timer = undefined;
    while (queue.length && !closed) {
      var it = queue[0], m = it.m, air, now, at;
      if (m.done) {
        queue.shift();
        continue;
      }
      air = profile.airtimeMs(it.f.length);
      now = clock.now();
      at = gate.earliest(now, air);
      if (at > now) {
        timer = clock.setTimeout(function () {
          stats.waitedMs += Math.min(clock.now(), at) - now;
          pump();
        }, at - now);
        return;
      }
      queue.shift();
      gate.record(now, air);
      stats.airtimeMs += air;
      try {
        serial.write(F.encode(it.f, flush));
      } catch (e) {
        m.done = true;
        m.no(err('TRANSPORT_UNAVAILABLE', 'serial write failed: ' + e));
        continue;
      }
      flush = false;
      stats.framesSent++;
      stats.bytesSent += it.f.length;
      if (!--m.left) {
        m.done = true;
        m.ok();
      }
    }
  }

  return {
    mtu: mtu,
    profile: profile,
    stats: stats,
    decoder: decoder,
    /** fn(message): each whole message received. */
    onMessage: function (fn) { handler = fn; },
    /** Feeds received bytes by hand (String or Uint8Array), as the Serial's data event does. */
    receive: receive,
    /**
     * Sends one routed message: a Promise that resolves when its last frame
     * was written; with `done`, also done() or done(error). Rejects
     * FRAME_TOO_LARGE (over maxMessage or 256 fragments), LIMIT_EXCEEDED
     * (send queue full: nothing queued), TRANSPORT_UNAVAILABLE (closed).
     */
    send: function (bytes, done) {
      var pr = new Promise(function (ok, no) {
        if (closed) throw err('TRANSPORT_UNAVAILABLE', 'serial link closed');
        if (bytes.length > maxMessage) throw err('FRAME_TOO_LARGE', bytes.length + ' bytes over maxMessage ' + maxMessage);
        var fr = G.split(bytes, mtu, msgId), m = { left: fr.length, ok: ok, no: no }, i;
        if (queue.length + fr.length > maxQueued) {
          drop('queue_full');
          throw err('LIMIT_EXCEEDED', 'send queue full');
        }
        if (fr.length > 1) msgId = (msgId + 1) % 128;
        for (i = 0; i < fr.length; i++) queue.push({ f: fr[i], m: m });
        if (timer === undefined) pump();
      });
      if (done) pr.then(function () { done(); }, done);
      return pr;
    },
    /** Frames waiting to be written. */
    queued: function () { return queue.length; },
    /** Stops: queued messages reject TRANSPORT_UNAVAILABLE, received bytes are ignored. */
    close: function () {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      if (serial.removeListener) serial.removeListener('data', receive);
      while (queue.length) {
        var m = queue.shift().m;
        if (!m.done) {
          m.done = true;
          m.no(err('TRANSPORT_UNAVAILABLE', 'serial link closed'));
        }
      }
      re.clear();
    }
  };
};

/** open() with a profile description: radio(Serial1, { name: 'lora', dataRate: 0 }) (hopseal/link/profile make()). */
exports.radio = function (serial, spec, o) {
  return exports.open(serial, P.make(spec), o);
};
