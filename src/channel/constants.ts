/**
 * Secure-channel constants, each with its unit and the reason for its value.
 * Channel options override them per channel; these are the safe defaults.
 */

/**
 * Anti-replay window, in messages. MQTT QoS 1 redelivers and a lossy radio with
 * retransmission reorders by tens of messages at most; 1024 leaves room for
 * bursts and costs 128 bytes of bitmap per channel (RFC 6479 style).
 */
export const REPLAY_WINDOW_SIZE = 1024

/**
 * Truncated counter on the wire: 12 bits in the short form (4 in the header
 * byte + 1 byte), 20 bits in the long form. The receiver reconstructs the full
 * 64-bit nonce from its window; 12 bits (4096) exceed the window by 4×, so a
 * message inside the window always reconstructs unambiguously.
 */
export const SHORT_COUNTER_BITS = 12
export const LONG_COUNTER_BITS = 20

/** Rekey after this many messages in one direction (soft), refuse to send past the hard limit. */
export const REKEY_AFTER_MESSAGES = 2 ** 32
export const REJECT_AFTER_MESSAGES = 2 ** 48

/** Rekey after this long (soft, ms) — WireGuard's REKEY_AFTER_TIME; refuse after the hard limit. */
export const REKEY_AFTER_MS = 120_000
export const REJECT_AFTER_MS = 180_000

/** Close an idle channel after this long without a message (ms). */
export const IDLE_TIMEOUT_MS = 300_000
/** Send a keep-alive when nothing was sent for this long (ms). */
export const KEEPALIVE_MS = 25_000
