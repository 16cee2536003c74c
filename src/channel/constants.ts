/**
 * Secure-channel constants, each with its unit and the reason for its value.
 * Channel options override them per channel; per-medium defaults are in
 * limits.ts (docs/channels.md explains the choice of each).
 */

/**
 * Anti-replay window, in messages. MQTT QoS 1 redelivers and a lossy radio with
 * retransmission reorders by tens of messages at most; 1024 leaves room for
 * bursts and costs 128 bytes of bitmap per channel (RFC 6479 style).
 */
export const REPLAY_WINDOW_SIZE = 1024

/**
 * Truncated counter on the wire: 12 bits in the short form (4 in the header
 * byte + 1 byte), 20 bits in the long form. The receiver reconstructs the
 * counter closest to one past its highest accepted counter, so a form of b bits
 * is exact while the sender is less than 2^(b-1) messages ahead of what the
 * receiver accepted.
 */
export const SHORT_COUNTER_BITS = 12
export const LONG_COUNTER_BITS = 20

/**
 * The sender uses the short form while at most this many of its messages
 * since the last one the peer confirmed (reliable ACK or keep-alive report)
 * are unconfirmed: half the short form's reach (2048), leaving the other half
 * for reordering and for a window that the sender cannot see.
 */
export const SHORT_FORM_MAX_UNCONFIRMED = 1024
/**
 * Past this many unconfirmed messages a session asks for renewal (soft) and,
 * at the long form's reach (2^19), refuses to seal: a renewal confirms the
 * peer again, so a receiver never has to reconstruct from further away.
 */
export const RENEW_AFTER_UNCONFIRMED = 2 ** 18
export const REJECT_AFTER_UNCONFIRMED = 2 ** 19 - 1

/**
 * Key-phase rekey (Noise Rekey()) after this many messages under one key.
 * AES-256-GCM's confidentiality limit for the 96-bit-nonce construction is
 * 2^23 records of up to 2^14 bytes (RFC 9001 §6.6, advantage ≤ 2^-57);
 * rekeying at half of it keeps every key well inside. ChaCha20-Poly1305 has
 * no practical limit; one value serves both suites.
 */
export const REKEY_AFTER_MESSAGES = 2 ** 22
/** Renew the session (new handshake) after this many messages sent. */
export const RENEW_AFTER_MESSAGES = 2 ** 32
/** Refuse to seal after this many messages in one session: 2^48 keeps far from Noise's 2^64-1 nonce limit. */
export const REJECT_AFTER_MESSAGES = 2 ** 48
/**
 * Failed authentications a receiving session tolerates before it asks for
 * renewal: AES-GCM's integrity limit is 2^52 forgery attempts and
 * ChaCha20-Poly1305's 2^36 (RFC 9001 §6.6); the stricter serves both.
 */
export const RENEW_AFTER_AUTH_FAILURES = 2 ** 36

/**
 * A receiver follows at most this many key phases ahead of its current one
 * for a message newer than anything it accepted (the sender rekeys by time
 * while the link loses everything; one phase bit on the wire cannot say how
 * many). Each step is one AEAD trial; older gaps are closed by renewal.
 */
export const MAX_PHASE_STEPS = 3

/** Prologue prefix of renewal handshakes (ASCII), followed by the first handshake hash and the epoch. */
export const RENEWAL_PROLOGUE_LABEL = 'hopseal-renew-v1'

/**
 * A listener works on at most this many message-1 flights at once (each is DH
 * work, in a vault or a secure element one command at a time) and queues at
 * most DEFAULT_MAX_HANDSHAKES_QUEUED more; beyond, flights are dropped and
 * counted (`handshake.dropped_busy`): a burst costs bounded memory.
 */
export const DEFAULT_MAX_HANDSHAKES_IN_PROGRESS = 4
export const DEFAULT_MAX_HANDSHAKES_QUEUED = 32
/**
 * With `retransmit: false`, message 1 goes out once and an initiator (or a
 * listener's pending responder) waits this long for the answer: a round trip
 * through the slowest broker path with room to spare.
 */
export const HANDSHAKE_TIMEOUT_WITHOUT_RETRANSMIT_MS = 30_000
/**
 * A listener's responder waits for message 3 as long as the initiator
 * retransmits (initialMs · 2^attempts), at most this long: a pending
 * handshake holds DH state and two addresses, so its life is bounded.
 */
export const PENDING_MAX_WAIT_MS = 60_000
/** A KK listener yields to the event loop after trying this many candidate initiator keys for one message 1. */
export const CANDIDATES_PER_YIELD = 16

/** Origin of the default handshake counter (handshake-counter.ts): 2026-01-01T00:00:00Z, so the counter fits 4 varint bytes until 2030. */
export const COUNTER_CLOCK_EPOCH_MS = Date.UTC(2026, 0, 1)
/**
 * Peers whose last accepted handshake counter a listener remembers (about
 * 100 bytes each): past this, the peer heard from least recently is
 * forgotten and counted (`handshake.counter_forgotten`).
 */
export const DEFAULT_MAX_REMEMBERED_PEERS = 262_144

/**
 * Established channels per listener; past this, the channel that heard
 * nothing for longest is closed and counted (`channel.evicted_idlest`).
 * About 1 GiB of heap at today's per-channel footprint.
 */
export const DEFAULT_MAX_CHANNELS = 131_072

/**
 * Cookie replies (cookie.ts): the MAC secret changes every COOKIE_SECRET_MS
 * and cookies under the previous secret are still accepted, so a cookie lives
 * 2 to 4 minutes. The listener asks for cookies ("under load") while more
 * than COOKIE_LOAD_MSG1_PER_S first flights arrived in the last second or its
 * handshake slots are full.
 */
export const COOKIE_SECRET_MS = 120_000
export const COOKIE_BYTES = 16
export const COOKIE_LOAD_MSG1_PER_S = 50
