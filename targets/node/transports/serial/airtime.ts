/**
 * LoRa time on air, by the formula of the Semtech SX1276/77/78/79 datasheet
 * §4.1.1.6 ("Time on air") and application note AN1200.13 ("LoRa Modem
 * Designer's Guide"):
 *
 *   Tsym          = 2^SF / BW
 *   Tpreamble     = (npreamble + 4.25) · Tsym
 *   payloadSymbNb = 8 + max(ceil((8·PL − 4·SF + 28 + 16·CRC − 20·IH) / (4·(SF − 2·DE))) · (CR + 4), 0)
 *   Tpacket       = Tpreamble + payloadSymbNb · Tsym
 *
 * PL = PHY payload bytes, IH = 1 for an implicit header, DE = 1 with low data
 * rate optimisation, CR = 1..4 for coding rates 4/5..4/8, CRC = 1 when the
 * payload CRC is on. A duty-cycle limit is a limit on this figure.
 */
import { ErrorCode, HopsealError } from '../../../../src/errors.ts'
import { LORA_DEFAULT_BW_HZ, LORA_DEFAULT_CR, LORA_DEFAULT_PREAMBLE, LORA_LDRO_SYMBOL_MS } from './constants.ts'

/** LoRa modulation parameters of one transmission. */
export interface LoraParams {
  /** Spreading factor, 7..12. */
  sf: number
  /** Bandwidth in Hz; default 125 000. */
  bwHz?: number
  /** Coding rate 4/(4+cr); default 1 (4/5). */
  cr?: 1 | 2 | 3 | 4
  /** Programmed preamble length in symbols; default 8 (LoRaWAN). */
  preamble?: number
  /** Explicit header (default true); false = implicit header mode. */
  explicitHeader?: boolean
  /** Payload CRC on (default true; LoRaWAN uplinks). */
  crc?: boolean
  /** Low data rate optimisation; default on when a symbol lasts ≥ 16 ms (SF11/SF12 at 125 kHz). */
  lowDataRateOptimize?: boolean
}

function fail(msg: string): never {
  throw new HopsealError(ErrorCode.INVALID_ARGUMENT, msg)
}

/** Duration of one LoRa symbol in ms: 2^SF / BW. */
export function loraSymbolMs(sf: number, bwHz: number = LORA_DEFAULT_BW_HZ): number {
  return (2 ** sf / bwHz) * 1000
}

/**
 * Time on air (ms) of one LoRa packet carrying `payloadBytes` PHY payload bytes.
 * @throws INVALID_ARGUMENT for a payload outside 0..255 bytes or bad parameters.
 * @example loraAirtimeMs(13, { sf: 7 })  // 46.336 (LoRaWAN SF7/125 kHz, 13-byte frame)
 * @example loraAirtimeMs(13, { sf: 12 }) // 1155.072
 */
export function loraAirtimeMs(payloadBytes: number, p: LoraParams): number {
  if (!Number.isInteger(payloadBytes) || payloadBytes < 0 || payloadBytes > 255) fail(`LoRa payload expected 0..255 bytes, got ${payloadBytes}`)
  const sf = p.sf
  if (!Number.isInteger(sf) || sf < 7 || sf > 12) fail(`LoRa spreading factor expected 7..12, got ${sf}`)
  const bw = p.bwHz ?? LORA_DEFAULT_BW_HZ
  if (!Number.isFinite(bw) || bw <= 0) fail(`LoRa bandwidth expected a positive number of Hz, got ${bw}`)
  const cr = p.cr ?? LORA_DEFAULT_CR
  if (![1, 2, 3, 4].includes(cr)) fail(`LoRa coding rate expected 1..4 (4/5..4/8), got ${cr}`)
  const preamble = p.preamble ?? LORA_DEFAULT_PREAMBLE
  if (!Number.isInteger(preamble) || preamble < 6 || preamble > 65535) fail(`LoRa preamble expected 6..65535 symbols, got ${preamble}`)
  const tSym = loraSymbolMs(sf, bw)
  const de = (p.lowDataRateOptimize ?? tSym >= LORA_LDRO_SYMBOL_MS) ? 1 : 0
  const ih = p.explicitHeader === false ? 1 : 0
  const crc = p.crc === false ? 0 : 1
  const tPreamble = (preamble + 4.25) * tSym
  const num = 8 * payloadBytes - 4 * sf + 28 + 16 * crc - 20 * ih
  const payloadSymbNb = 8 + Math.max(Math.ceil(num / (4 * (sf - 2 * de))) * (cr + 4), 0)
  return tPreamble + payloadSymbNb * tSym
}
