/**
 * Link profiles and the pacing gate, as targets/node/transports/serial/profiles.ts,
 * airtime.ts and pacing.ts (docs/transports.md "Link profiles"): the radio
 * frame MTU (fragment header included; COBS and CRC belong to the UART and
 * count in neither MTU nor airtime), the least time between two frame
 * starts, airtime per frame and the duty-cycle rule. Same defaults and the
 * same refusals (INVALID_ARGUMENT) as Node.
 *
 * LoRa airtime, Semtech SX1276 datasheet 4.1.1.6 / AN1200.13:
 *   Tsym = 2^SF / BW, Tpreamble = (npreamble + 4.25) Tsym,
 *   payloadSymbNb = 8 + max(ceil((8 PL - 4 SF + 28 + 16 CRC - 20 IH) / (4 (SF - 2 DE))) (CR + 4), 0)
 * with explicit header, CRC on, 8 preamble symbols, DE on when Tsym >= 16 ms.
 */
function need(ok, what) {
  if (!ok) throw require('hopseal/routing/bytes').err('INVALID_ARGUMENT', 'link profile: bad ' + what);
}
function num(v, dflt) {
  return v === undefined ? dflt : v;
}
function mtuOf(v, dflt, max) {
  v = num(v, dflt);
  need(v >= 4 && v <= max && v % 1 === 0, 'mtu ' + v);
  return v;
}
function rto(v, dflt) {
  v = num(v, dflt);
  need(v > 0 && v < Infinity, 'reassemblyTimeoutMs ' + v);
  return v;
}

/** LoRa time on air (ms) of `bytes` PHY payload bytes; p: { sf, bwHz = 125000, cr = 1 (4/5) }. */
exports.loraAirtimeMs = function (bytes, p) {
  var sf = p.sf, bw = num(p.bwHz, 125000), cr = num(p.cr, 1);
  need(bytes >= 0 && bytes <= 255 && bytes % 1 === 0 && sf >= 7 && sf <= 12 && sf % 1 === 0 && bw > 0 && bw < Infinity && cr >= 1 && cr <= 4 && cr % 1 === 0, 'LoRa parameters');
  var t = (Math.pow(2, sf) / bw) * 1000, de = t >= 16 ? 1 : 0;
  return 12.25 * t + (8 + Math.max(Math.ceil((8 * bytes - 4 * sf + 44) / (4 * (sf - 2 * de))) * (cr + 4), 0)) * t;
};

/** A wire with no radio behind it: o { mtu = 1024, reassemblyTimeoutMs = 5000 }. */
exports.raw = function (o) {
  o = o || {};
  return { name: 'raw', mtu: mtuOf(o.mtu, 1024, 65536), writeIntervalMs: 0, airtimeMs: function () { return 0; }, reassemblyTimeoutMs: rto(o.reassemblyTimeoutMs, 5000) };
};

/**
 * A BLE UART bridge: 20-byte writes (ATT_MTU 23 - 3), one per 8 ms connection
 * interval; airtime (frame + 17) bytes at 8 us per byte (LE 1M PHY).
 * o { mtu = 20 (4..512), writeIntervalMs = 8, reassemblyTimeoutMs = 5000 }.
 */
exports.bleUart = function (o) {
  o = o || {};
  var w = num(o.writeIntervalMs, 8);
  need(w >= 0 && w < Infinity, 'writeIntervalMs');
  return { name: 'ble-uart', mtu: mtuOf(o.mtu, 20, 512), writeIntervalMs: w, airtimeMs: function (n) { return (n + 17) * 0.008; }, reassemblyTimeoutMs: rto(o.reassemblyTimeoutMs, 5000) };
};

/**
 * A LoRa radio behind a UART modem. o { dataRate (EU868 DR0..DR5 = SF12..SF7) | sf (7..12, default 7),
 * bwHz, cr, mtu (default by SF, EU868 repeater-compatible N: 51 for SF10..12, 115 for SF9, 222 for SF7..8),
 * dutyCycle (ratio in (0, 1], default 0.01; 1 = none), dutyPolicy ('window' | 'time-off'),
 * windowMs (default 3 600 000), reassemblyTimeoutMs (default the longest duty-cycle gap + 30 s) }.
 */
exports.lora = function (o) {
  o = o || {};
  var sf = o.sf, dr = o.dataRate;
  if (dr !== undefined) {
    need(dr >= 0 && dr <= 5 && dr % 1 === 0 && (sf === undefined || sf === 12 - dr), 'dataRate ' + dr);
    sf = 12 - dr;
  }
  sf = num(sf, 7);
  var pr = { sf: sf, bwHz: o.bwHz, cr: o.cr };
  var mtu = mtuOf(o.mtu, sf > 9 ? 51 : sf > 8 ? 115 : 222, 255);
  var air = function (n) { return exports.loraAirtimeMs(n, pr); };
  var max = air(mtu), ratio = num(o.dutyCycle, 0.01), policy = num(o.dutyPolicy, 'window'), win = num(o.windowMs, 3600000);
  need(ratio > 0 && ratio <= 1, 'dutyCycle');
  need(policy === 'window' || policy === 'time-off', 'dutyPolicy');
  need(win > 0 && win < Infinity, 'windowMs');
  // one MTU frame must fit the window budget
  need(ratio === 1 || policy !== 'window' || max <= ratio * win, 'dutyCycle: one ' + mtu + '-byte frame exceeds the budget');
  var p = {
    name: 'lora',
    mtu: mtu,
    writeIntervalMs: 0,
    airtimeMs: air,
    reassemblyTimeoutMs: rto(o.reassemblyTimeoutMs, Math.ceil(ratio === 1 ? max : policy === 'window' ? win : max / ratio) + 30000)
  };
  if (ratio < 1) p.dutyCycle = { ratio: ratio, policy: policy, windowMs: win };
  return p;
};

/** A profile from a plain description: { name: 'lora' | 'ble-uart' | 'raw', ...the options above }. */
exports.make = function (spec) {
  var f = { lora: exports.lora, 'ble-uart': exports.bleUart, raw: exports.raw }[spec && spec.name], o = {}, k;
  need(f, 'name');
  for (k in spec) if (k !== 'name') o[k] = spec[k];
  return f(o);
};

/**
 * When the next frame may start (pacing.ts): { earliest(now, airtime) -> ms, record(start, airtime) }.
 * t >= now, >= previous start + writeIntervalMs, >= previous start + previous
 * airtime; time-off: >= previous start + previous airtime / ratio; window:
 * the airtime of the frames still in the trailing window at t, plus this
 * one, <= ratio * windowMs (a frame counts until windowMs after its end).
 */
exports.Gate = function (p) {
  var last = -Infinity, lastAir = 0, hist = [], inWin = 0, dc = p.dutyCycle, w = dc && dc.policy === 'window' ? dc.windowMs : 0;
  return {
    earliest: function (now, air) {
      var t = Math.max(now, last + p.writeIntervalMs, last + lastAir), i, sum;
      if (!dc) return t;
      if (!w) return Math.max(t, last + lastAir / dc.ratio);
      while (hist.length && hist[0][0] + hist[0][1] + w <= now) inWin -= hist.shift()[1];
      if (!hist.length) inWin = 0; // no float residue once empty
      for (sum = inWin, i = 0; i < hist.length && sum + air > dc.ratio * w + 1e-6; i++) {
        sum -= hist[i][1];
        t = Math.max(t, hist[i][0] + hist[i][1] + w);
      }
      return t;
    },
    record: function (start, air) {
      last = start;
      lastAir = air;
      if (w) {
        hist.push([start, air]);
        inWin += air;
      }
    }
  };
};
