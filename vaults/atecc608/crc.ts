/**
 * The ATECC CRC-16 (spec A1 "CRC-16 definition", [CAL calib_command.c atCRC]):
 * polynomial 0x8005, init 0, data bits fed LSB first, register not reflected,
 * stored little-endian. Equals bitrev16(CRC-16/ARC). Check value "123456789" → 0xBCDD.
 */

/** CRC-16 over `buf[0 .. len)`; emit as `[crc & 0xFF, crc >> 8]`. */
export function atcaCrc16(buf: Uint8Array, len = buf.length): number {
  let reg = 0
  for (let i = 0; i < len; i++) {
    const b = buf[i]!
    for (let m = 0x01; m !== 0x100; m <<= 1) {
      const dataBit = b & m ? 1 : 0
      const crcBit = (reg >> 15) & 1
      reg = (reg << 1) & 0xffff
      if (dataBit !== crcBit) reg ^= 0x8005
    }
  }
  return reg
}

/** Writes the CRC of `pkt[0 .. n-2)` into the last two bytes (low byte first). */
export function sealCrc(pkt: Uint8Array): Uint8Array {
  const n = pkt.length
  const c = atcaCrc16(pkt, n - 2)
  pkt[n - 2] = c & 0xff
  pkt[n - 1] = c >> 8
  return pkt
}

/** True when the last two bytes are the CRC of the rest ([CAL atCheckCrc]). */
export function checkCrc(pkt: Uint8Array): boolean {
  if (pkt.length < 3) return false
  const c = atcaCrc16(pkt, pkt.length - 2)
  return pkt[pkt.length - 2] === (c & 0xff) && pkt[pkt.length - 1] === c >> 8
}
