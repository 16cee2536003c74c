/**
 * The heart-rate monitor application (docs/espruino.md): a KK P-256 channel
 * to the phone's listener behind gateway alias 0, the monitor's static key
 * in an ATECC608 on I2C1, AES-GCM, a LoRa modem on Serial2, one reading a
 * second in reliable mode. The bench builds it as the figure
 * `espruino.bundle_bytes`:
 *
 *   node targets/espruino/build.mjs --entry targets/espruino/examples/heart-rate.js --minify --out hopseal-hr.js
 *
 * Provisioning leaves `hopseal.json` in Storage: { slot, peer (hex, the
 * phone's 33-byte compressed P-256 key), peerXY (hex, its 64-byte X || Y),
 * route, ioKey (hex, the chip's 32-byte I/O protection key when it has one:
 * every ECDH output then crosses I2C encrypted) } (docs/espruino.md "Provisioning"). Pins are an Espruino Pico's
 * (I2C1 on B8 SCL / B9 SDA, Serial2 on A2 TX / A3 RX: Serial1's B6/B7 are
 * the console when USB is unplugged); change them for another board, and
 * readBpm() for the real sensor.
 */
/* global A2, A3, B8, B9 */
var hs = require('hopseal/device');
var B = require('hopseal/routing/bytes');
var atecc = require('hopseal/atecc/index');
var A = require('hopseal/noise/atecc');
require('hopseal/atecc/i2c'); // the chip's transport for `i2c:` (optional in atecc/index)
var link = require('hopseal/link/serial');

/** The sensor: beats per minute (a placeholder; a pulse sensor's driver goes here). */
function readBpm() {
  return 72;
}

function start() {
  var cfg = require('Storage').readJSON('hopseal.json', true);
  if (!cfg) return console.log('hopseal: no hopseal.json in Storage (provision the board first)');
  I2C1.setup({ scl: B8, sda: B9, bitrate: 100000 });
  Serial2.setup(9600, { tx: A2, rx: A3 });
  var chip = atecc.open({ i2c: I2C1, address: 0x60 });
  var peer = B.fromHex(cfg.peer);
  var vault = A.vault(chip, { slot: cfg.slot, peer: peer, peerXY: B.fromHex(cfg.peerXY), ioKey: cfg.ioKey ? B.fromHex(cfg.ioKey) : undefined });
  var radio = link.radio(Serial2, { name: 'lora', sf: 7, dutyCycle: 0.01 });
  var ch = hs.channel({ link: radio, vault: vault, peer: peer, route: cfg.route === undefined ? 0 : cfg.route, medium: 'lora', reliable: true });
  var seq = 0, timer;
  ch.on('open', function () {
    timer = setInterval(function () {
      // 'H', device 0, sequence (24 bits), beats per minute (hil-sim/scenario/readings.ts)
      if (ch.unacked() >= 8) return; // the acknowledgement window is full: skip this reading
      var bpm = readBpm(), k = seq++;
      ch.send(new Uint8Array([0x48, 0, 0, (k >> 16) & 255, (k >> 8) & 255, k & 255, bpm >> 8, bpm & 255]));
    }, 1000);
  });
  ch.on('close', function (e) {
    if (timer) clearInterval(timer);
    console.log('hopseal: closed ' + (e ? e.code : ''));
    setTimeout(start, 60000);
  });
}

E.on('init', start);
