/** Constants of the HIL link models, each with its unit and the reason for its value. */

/**
 * Frames a model holds in flight (delayed, reordered, queued behind the
 * medium) before it drops new ones as `overflow`: a radio's transmit buffer.
 * 256 frames of ≤ 256 B bound the model at 64 KiB per link.
 */
export const DEFAULT_MAX_QUEUE = 256

/**
 * Extra delay (ms) of a frame held back by `reorder` when no `reorderDelayMs`
 * is given: long enough for frames sent right after it to overtake it on an
 * ideal or BLE-like link. Radio presets set their own (a multiple of airtime).
 */
export const DEFAULT_REORDER_DELAY_MS = 50

/**
 * Transmissions remembered for the duty-cycle measurement (sliding window).
 * A sender within 1 % of an hour on LoRa makes at most ~1 500 frames per
 * window; beyond this cap the oldest are forgotten early, so a flooding sender
 * is undercounted rather than growing the model without bound.
 */
export const MAX_DUTY_ENTRIES = 65_536

/** Frame size (bytes) of `memoryLinkPair` ends unless given. */
export const DEFAULT_MEMORY_MTU = 1024

/**
 * Frames one direction of a memory link holds for delivery on the next tick;
 * a sender that queues more without yielding gets LIMIT_EXCEEDED instead of
 * unbounded memory.
 */
export const DEFAULT_MEMORY_MAX_PENDING = 4096

// LoRa MTU per SF, the EU868 duty cycle and the BLE frame size come from the
// serial transport's constants (targets/node/transports/serial/constants.ts): one place.

/**
 * A held-back LoRa frame arrives this many frame airtimes late: a radio frame
 * takes tens of ms to seconds on the air, so a fixed 50 ms hold-back would never
 * be overtaken.
 */
export const LORA_REORDER_AIRTIMES = 3

/**
 * BLE UART (Nordic UART Service style): 7.5 ms is the shortest connection
 * interval (Core spec Vol 6 Part B §4.5.1) phones grant to accessories; 4
 * packets per connection event is what common phone stacks sustain.
 */
export const BLE_CONNECTION_INTERVAL_MS = 7.5
export const BLE_PACKETS_PER_EVENT = 4
