/**
 * CRC-16/CCITT-FALSE, catalogued as CRC-16/IBM-3740 (Greg Cook, "Catalogue of
 * parametrised CRC algorithms"): width 16, poly 0x1021, init 0xFFFF, refin
 * false, refout false, xorout 0x0000, check ("123456789") 0x29B1.
 *
 * It detects every error burst up to 16 bits and all odd numbers of bit
 * errors in a frame, which covers the UART noise and truncated writes a serial
 * line produces. It is not an integrity check against an attacker: the Noise
 * channel above authenticates every message.
 */
import { CRC16_INIT, CRC16_POLY } from './constants.ts'

const TABLE = /* @__PURE__ */ (() => {
  const t = new Uint16Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n << 8
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ CRC16_POLY) & 0xffff : (c << 1) & 0xffff
    t[n] = c
  }
  return t
})()

/**
 * CRC-16/CCITT-FALSE of `data[start, end)`.
 * @example crc16(new TextEncoder().encode('123456789')) // 0x29b1
 */
export function crc16(data: Uint8Array, start = 0, end = data.length): number {
  let crc = CRC16_INIT
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ data[i]!) & 0xff]!
  return crc
}
