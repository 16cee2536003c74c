/**
 * Every constant of the serial transport, with its unit and the reason for its
 * value (style.md: "all protocol constants in one file").
 */

// ── Stream framing (COBS + CRC-16 over a byte stream) ────────────────────────

/** The frame delimiter on the wire; COBS guarantees it never occurs inside a frame. */
export const FRAME_DELIMITER = 0x00

/** CRC-16/CCITT-FALSE bytes appended (big-endian) to every payload before COBS. */
export const CRC_LENGTH = 2

/** CRC-16/CCITT-FALSE (CRC-16/IBM-3740) generator polynomial, MSB first. */
export const CRC16_POLY = 0x1021

/** CRC-16/CCITT-FALSE initial register value (no reflection, no final XOR). */
export const CRC16_INIT = 0xffff

/** COBS: a code byte of 0xFF announces 254 data bytes and no implied zero (Cheshire & Baker 1999 §3). */
export const COBS_MAX_RUN = 254

// ── Link defaults ────────────────────────────────────────────────────────────

/**
 * Default MTU (bytes) of a stream link and of the `raw` profile: large enough
 * that a whole 2 KiB routed message needs at most 3 frames, small enough that a
 * corrupted frame costs little to resend and the decoder buffer stays small.
 */
export const DEFAULT_RAW_MTU = 1024

/** Default serial line speed (bits/s): the common USB-CDC / UART default (PTYs ignore it). */
export const DEFAULT_BAUD_RATE = 115_200

/** Re-open backoff after an unplug (ms): first retry, then doubling up to the cap. */
export const DEFAULT_REOPEN_INITIAL_MS = 100
export const DEFAULT_REOPEN_MAX_MS = 5_000

// ── Fragmentation (fragment.ts) ─────────────────────────────────────────────

/** Header of an unfragmented message: one byte, exactly 0x00. */
export const WHOLE_HEADER = 0x00
/** Bytes of the 1-byte header of an unfragmented message. */
export const WHOLE_HEADER_LENGTH = 1
/** Bit 7 of the first byte marks a fragment. */
export const FRAGMENT_FLAG = 0x80
/** Bytes of a fragment header: 0x80|msgId, index, last index. */
export const FRAGMENT_HEADER_LENGTH = 3
/** Message ids are 7 bits, per link and direction, wrapping. */
export const MSG_ID_MODULUS = 128
/** Most fragments per message: the index and last index are single bytes. */
export const MAX_FRAGMENTS = 256
/** Smallest usable link MTU: a fragment header plus one byte of payload. */
export const MIN_MTU = FRAGMENT_HEADER_LENGTH + 1

// ── Transport limits (transport.ts) ─────────────────────────────────────────

/** Largest routed message (bytes): a Noise XX flight with certificates and routes fits with room. */
export const DEFAULT_MAX_MESSAGE = 2048
/** Send-queue bound per link (frames): 256 = one maximal fragmented message. */
export const DEFAULT_MAX_QUEUED_FRAMES = 256
/** Partial messages held per link while reassembling; a new one beyond this evicts the oldest. */
export const DEFAULT_REASSEMBLY_MAX_MESSAGES = 4
/** Link names: short, printable, one byte per character on a constrained route. */
export const LINK_NAME_PATTERN = /^[A-Za-z0-9._-]{1,32}$/

// ── Link profiles (profiles.ts) ─────────────────────────────────────────────

/**
 * BLE: 20-byte writes (ATT_MTU 23 − 3 bytes of ATT header, the value every
 * central supports without MTU exchange).
 */
export const BLE_DEFAULT_MTU = 20
/** BLE pacing (ms): one write per 7.5 ms connection interval, rounded up. */
export const BLE_DEFAULT_WRITE_INTERVAL_MS = 8
/**
 * BLE LE 1M PHY on-air bytes around an ATT value: preamble 1 + access address 4
 * + PDU header 2 + L2CAP header 4 + ATT opcode/handle 3 + CRC 3 (Core 5.3 Vol 6 B §2.1).
 */
export const BLE_PACKET_OVERHEAD_BYTES = 17
/** LE 1M PHY: 1 µs per bit. */
export const BLE_MS_PER_BYTE = 0.008

/** Reassembly inactivity timeout (ms) of the `raw` and `ble-uart` profiles. */
export const DEFAULT_REASSEMBLY_TIMEOUT_MS = 5_000
/** Added to a LoRa profile's largest gap between two frames to give its reassembly timeout (ms). */
export const LORA_REASSEMBLY_MARGIN_MS = 30_000

/** LoRa defaults: SF7 at 125 kHz, coding rate 4/5, 8 preamble symbols, explicit header, CRC on. */
export const LORA_DEFAULT_SF = 7
export const LORA_DEFAULT_BW_HZ = 125_000
export const LORA_DEFAULT_CR = 1
export const LORA_DEFAULT_PREAMBLE = 8
/** Low data rate optimisation is mandated when a symbol lasts 16 ms or more (SX1276 datasheet §4.1.1.6). */
export const LORA_LDRO_SYMBOL_MS = 16

/** EU868 data rates DR0..DR5 → spreading factor at 125 kHz (LoRaWAN Regional Parameters RP002 §2.4.3). */
export const EU868_DR_TO_SF: readonly number[] = [12, 11, 10, 9, 8, 7]
/**
 * EU868 largest payload N per spreading factor (RP002 §2.4.6, "repeater
 * compatible" column: 51 for DR0–DR2, 115 for DR3, 222 for DR4–DR5), used as
 * the default radio-frame MTU.
 */
export const EU868_MTU_BY_SF: Readonly<Record<number, number>> = { 12: 51, 11: 51, 10: 51, 9: 115, 8: 222, 7: 222 }

/** ETSI EN 300 220 g1 sub-band (868.0–868.6 MHz): 1 % duty cycle. */
export const LORA_DEFAULT_DUTY_CYCLE = 0.01
/** ETSI EN 300 220 measures the duty cycle over one hour (ms). */
export const LORA_DEFAULT_DUTY_WINDOW_MS = 3_600_000
