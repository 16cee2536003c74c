/**
 * A hopseal serial link on an Espruino `Serial` (UART to a LoRa or BLE-UART
 * modem, or a PTY on Linux): whole routed messages in and out, on the wire
 * byte for byte as Node's SerialTransport over openSerialLink
 * (src/transports/serial): fragmentation to the profile's MTU, COBS + CRC
 * framing, a bounded send queue paced by the profile (BLE write interval,
 * LoRa airtime and 1 % duty cycle) on an injected clock, bounded reassembly.
 *
 *   Serial1.setup(115200, { rx: B7, tx: B6 });      // { path: '/dev/pts/3' } on Linux
 *   var link = require('hopseal/link/serial').open(Serial1, profile.lora({ dataRate: 0 }));
 *   link.onMessage(function (msg) { ... });       // a whole routed message (Uint8Array)
 *   link.send(bytes).then(function () { ... });   // resolves when its last frame was written
 *
 * The first frame written is preceded by one 0x00 (flushes the peer's partial
 * frame), as FrameCodecLink does. Errors carry a `code` as src/errors.ts.
 */
var F = require('hopseal/link/frame');
var G = require('hopseal/link/fragment');
var P = require('hopseal/link/profile');

var err = function (code, msg) {
  var e = new Error(msg);
  e.code = code;
  return e;
};

/** The device clock: getTime() in ms, and the global timers. */
exports.clock = {
  now: function () { return getTime() * 1000; },
  setTimeout: function (fn, ms) { return setTimeout(fn, ms); },
  clearTimeout: function (id) { clearTimeout(id); }
};

/**
 * Opens a link on `serial` (anything with write(bytes) and on('data', fn);
 * the caller runs setup()). `profile` from hopseal/link/profile. o {
 *   clock (default: getTime), maxMessage (2048), maxQueuedFrames (256),
 *   maxMessages (4 partials), maxBytes (2 * maxMessage), msgId (first id;
 *   default random), flush (default true: 0x00 before the first frame) }.
 * @throws INVALID_ARGUMENT for a bad profile or limits
 */
exports.open = function (serial, profile, o) {
  o = o || {};
  if (!profile || typeof profile.airtimeMs !== 'function' || !(profile.mtu >= 4)) throw err('INVALID_ARGUMENT', 'link profile expected (hopseal/link/profile)');
  var clock = o.clock || exports.clock;
  var maxMessage = o.maxMessage || 2048;
  var maxQueued = o.maxQueuedFrames || 256;
  var mtu = profile.mtu;
  var stats = { framesSent: 0, framesReceived: 0, bytesSent: 0, bytesReceived: 0, airtimeMs: 0, waitedMs: 0, drops: {} };
  var drop = function (reason) { stats.drops[reason] = (stats.drops[reason] || 0) + 1; };
  var handler;
  var msgId = o.msgId === undefined ? Math.floor(Math.random() * 128) : o.msgId;
  var flush = o.flush !== false;
  var gate = new P.Gate(profile);
  var queue = []; // { frame, msg: { left, done, ok, fail } }
  var timer, closed = false;

  var re = new G.Reassembler({
    now: function () { return clock.now(); },
    timeoutMs: profile.reassemblyTimeoutMs,
    maxMessages: o.maxMessages || 4,
    maxBytes: o.maxBytes || 2 * maxMessage,
    maxMessage: maxMessage,
    onDrop: drop
  });

  var receive = function (frame) {
    if (closed) return;
    stats.framesReceived++;
    stats.bytesReceived += frame.length;
    var p = G.parse(frame), msg;
    // (compared with undefined: the interpreter takes an empty typed array as false)
    if (p.drop !== undefined) return drop(p.drop);
    if (p.whole !== undefined) {
      if (p.whole.length > maxMessage) return drop('too_large');
      msg = p.whole;
    } else {
      msg = re.push(p);
    }
    if (msg === undefined) return;
    try {
      if (handler) handler(msg);
    } catch (e) {
      drop('handler_error');
    }
  };
  var decoder = new F.Decoder(receive, F.maxEncoded(mtu));
  var onData = function (d) { if (!closed) decoder.push(d); };
  serial.on('data', onData);

  // Sends queued frames one at a time when pacing and duty cycle allow.
  var pump = function () {
    timer = undefined;
    while (queue.length && !closed) {
      var it = queue[0];
      if (it.msg.done) { queue.shift(); continue; }
      var air = profile.airtimeMs(it.frame.length), now = clock.now(), at = gate.earliest(now, air);
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
      var wire = F.encode(it.frame, flush);
      flush = false;
      try {
        serial.write(wire);
      } catch (e) {
        if (!it.msg.done) { it.msg.done = true; it.msg.fail(err('TRANSPORT_UNAVAILABLE', 'serial write failed: ' + e)); }
        continue;
      }
      stats.framesSent++;
      stats.bytesSent += it.frame.length;
      if (!it.msg.done && --it.msg.left === 0) { it.msg.done = true; it.msg.ok(); }
    }
  };

  var link = {
    mtu: mtu,
    profile: profile,
    stats: stats,
    decoder: decoder,
    reassembler: re,
    /** Installs the receive handler: fn(message Uint8Array). */
    onMessage: function (fn) { handler = fn; },
    /** Feeds received bytes by hand (String or Uint8Array), as the Serial's data event does. */
    receive: onData,
    /**
     * Sends one routed message; a Promise that resolves when its last frame
     * was written. Rejects FRAME_TOO_LARGE (over maxMessage or 256 fragments),
     * LIMIT_EXCEEDED (send queue full; nothing queued), TRANSPORT_UNAVAILABLE (closed).
     * With `done`, also calls done() or done(error) (and the Promise counts as handled).
     */
    send: function (bytes, done) {
      var pr = new Promise(function (ok, fail) {
        if (closed) throw err('TRANSPORT_UNAVAILABLE', 'serial link is closed');
        if (!(bytes instanceof Uint8Array)) throw err('INVALID_ARGUMENT', 'bytes expected Uint8Array');
        if (bytes.length > maxMessage) throw err('FRAME_TOO_LARGE', 'message of ' + bytes.length + ' bytes exceeds maxMessage ' + maxMessage);
        var frames = G.split(bytes, mtu, msgId);
        if (queue.length + frames.length > maxQueued) {
          drop('queue_full');
          throw err('LIMIT_EXCEEDED', 'serial link send queue full: ' + queue.length + ' + ' + frames.length + ' frames > ' + maxQueued);
        }
        if (frames.length > 1) msgId = (msgId + 1) % 128;
        var msg = { left: frames.length, done: false, ok: ok, fail: fail };
        for (var i = 0; i < frames.length; i++) queue.push({ frame: frames[i], msg: msg });
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
      timer = undefined;
      if (serial.removeListener) serial.removeListener('data', onData);
      var e = err('TRANSPORT_UNAVAILABLE', 'serial link closed');
      while (queue.length) {
        var m = queue.shift().msg;
        if (!m.done) { m.done = true; m.fail(e); }
      }
      re.clear();
    }
  };
  return link;
};

/**
 * open() with a profile description (hopseal/link/profile make()):
 *   var radio = require('hopseal/link/serial').radio(Serial1, { name: 'lora', dataRate: 0 });
 */
exports.radio = function (serial, spec, o) {
  return exports.open(serial, P.make(spec), o);
};
