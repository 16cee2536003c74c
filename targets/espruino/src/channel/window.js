/**
 * The anti-replay window (RFC 6479 style bitmap, 1024 counters as
 * REPLAY_WINDOW_SIZE in src/channel/constants.ts) and counter
 * reconstruction (docs/protocol.md "Receiving a sealed message" steps 1-2;
 * reference src/channel/replay-window.ts). The bitmap is 128 bytes; bit
 * (n mod 1024) records counter n. check() does not change state; commit()
 * runs only after the message authenticated.
 */
var SIZE = 1024;

exports.SIZE = SIZE;

/** A fresh window: top = highest accepted counter (-1 before any). */
exports.create = function () {
  return { top: -1, bits: new Uint8Array(SIZE / 8) };
};

function bit(w, n) {
  var b = n % SIZE;
  return (w.bits[b >> 3] >> (b & 7)) & 1;
}

/** undefined when n may be accepted, else 'stale' or 'duplicate'. */
exports.check = function (w, n) {
  if (n > w.top) return undefined;
  if (w.top - n >= SIZE) return 'stale';
  return bit(w, n) ? 'duplicate' : undefined;
};

/** Records n (after authentication). */
exports.commit = function (w, n) {
  var b;
  if (n > w.top) {
    if (n - w.top >= SIZE) w.bits.fill(0);
    else {
      for (var i = w.top + 1; i < n; i++) {
        b = i % SIZE;
        w.bits[b >> 3] &= ~(1 << (b & 7));
      }
    }
    w.top = n;
  }
  b = n % SIZE;
  w.bits[b >> 3] |= 1 << (b & 7);
};

/**
 * The counter with low bits x (a window of `win` = 2^12 or 2^20 values)
 * closest to `expected` (= top + 1): in (expected - win/2, expected + win/2];
 * a value exactly win/2 below resolves upwards (the documented tie-break).
 */
exports.reconstruct = function (expected, x, win) {
  var half = win / 2;
  var c = expected - (expected % win) + x;
  if (c <= expected - half) c += win;
  else if (c > expected + half && c >= win) c -= win;
  return c;
};
