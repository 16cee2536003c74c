/** Gateway limits and defaults, each with its unit and reason. */

/** Messages held per device mailbox: a sleepy device that wakes every few minutes rarely has more waiting. */
export const DEFAULT_MAILBOX_MESSAGES = 32
/** Bytes held per device mailbox (ciphertext plus routing header). */
export const DEFAULT_MAILBOX_BYTES = 16 * 1024
/** Bytes held across all mailboxes of one gateway: bounds memory for a whole fleet. */
export const DEFAULT_MAILBOX_TOTAL_BYTES = 4 * 1024 * 1024
/** A queued message expires after this long (ms): older ciphertext is stale and the channel layer retransmits anyway. */
export const DEFAULT_MAILBOX_TTL_MS = 60 * 60 * 1000
/** Return-route aliases (1-byte local addresses 0x01..0x7f minus those in use). */
export const MAX_ROUTE_ALIASES = 0x7f
/** An unused return-route alias is recycled after this long (ms). */
export const DEFAULT_ALIAS_IDLE_MS = 24 * 60 * 60 * 1000
/**
 * Downlink credits (downlink-guard.ts): an uplink toward a peer lets it send
 * four downlinks to the device (an ACK, a reply, a renewal's second flight,
 * one retransmission), at most 16 banked, for an hour after the uplink.
 */
export const DEFAULT_DOWNLINK_CREDITS_PER_UPLINK = 4
export const DEFAULT_DOWNLINK_MAX_CREDITS = 16
export const DEFAULT_DOWNLINK_CREDIT_TTL_MS = 60 * 60 * 1000
/** Downlinks per hour a peer configured for a device (`downlinkFrom`) may push without the device's uplinks. */
export const DEFAULT_DOWNLINK_CONFIGURED_PER_HOUR = 60
/** (device, peer) pairs the guard tracks: bounded memory whatever the fleet and the publishers do. */
export const DEFAULT_DOWNLINK_MAX_PAIRS = 65_536
