/**
 * Every constant of the MQTT transport and the embedded broker, with its unit
 * and the reason for its value (style.md: all protocol constants in one file).
 */

/** Topic prefix in front of every hopseal topic; the `v1` level versions the scheme. */
export const DEFAULT_PREFIX = 'hopseal/v1'

/** Longest node name (characters). Short names keep topics and routing headers small. */
export const MAX_NAME_LENGTH = 64

/** Node names and shared-subscription groups: no MQTT separators or wildcards (`/`, `+`, `#`), no `$`. */
export const NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/

/**
 * Longest prefix (UTF-8 bytes). An MQTT topic may be 65 535 bytes (MQTT 5
 * §1.5.4); a bound far below keeps every topic small and leaves room for the
 * two name levels.
 */
export const MAX_PREFIX_LENGTH = 256

/** Most levels a prefix may have (brokers such as aedes cap a topic at 100 levels). */
export const MAX_PREFIX_LEVELS = 16

/** QoS 1 by default: the broker stores and re-delivers, and send() resolves on PUBACK (MQTT 5 §4.3.2). */
export const DEFAULT_QOS = 1

/** Largest routing message per send and per receive (bytes). 64 KiB matches the memory transport. */
export const DEFAULT_MAX_PAYLOAD = 64 * 1024

/**
 * Largest MQTT packet this client accepts (MQTT 5 §3.1.2.11.4 Maximum Packet
 * Size), as a multiple of maxPayload. A v5 broker discards bigger packets
 * itself, which bounds the memory one hostile publisher can make us hold; a
 * payload modestly over maxPayload still arrives and is dropped and counted
 * here, so an operator sees it.
 */
export const RECEIVE_PACKET_FACTOR = 4

/** Largest Maximum Packet Size MQTT can express (a 4-byte variable byte integer, MQTT 5 §1.5.5). */
export const MQTT_MAX_PACKET_SIZE = 268_435_455

/**
 * Unacknowledged publishes one transport holds (in flight or waiting for the
 * broker). Beyond it send() rejects LIMIT_EXCEEDED at once instead of growing
 * without bound while a broker is away. Far below the 65 535 packet ids.
 */
export const DEFAULT_MAX_INFLIGHT = 1024
export const MAX_INFLIGHT_LIMIT = 65_535

/** How long connectMqttTransport() waits for the first CONNACK and SUBACK (ms). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000

/** Per-attempt CONNACK wait when connecting in the background (connectTimeoutMs 0). */
export const ATTEMPT_TIMEOUT_MS = 10_000

/**
 * Session Expiry Interval (s, MQTT 5 §3.1.2.11.2): how long the broker keeps
 * the session and queues QoS 1 ciphertext for an endpoint that is away. One
 * hour covers a gateway restart or a flaky uplink without keeping the queues
 * of decommissioned endpoints forever.
 */
export const DEFAULT_SESSION_EXPIRY_SEC = 3600
export const MAX_SESSION_EXPIRY_SEC = 0xffff_ffff

/** Keep Alive (s, MQTT 5 §3.1.2.10): a dead TCP path is noticed after 1.5× this. */
export const DEFAULT_KEEPALIVE_SEC = 30

/** Reconnect backoff: first delay and cap (ms); each failed attempt doubles the delay. */
export const DEFAULT_RECONNECT_INITIAL_MS = 250
export const DEFAULT_RECONNECT_MAX_MS = 10_000

/** Delay before retrying right after falling back from MQTT 5 to 3.1.1 (ms; mqtt.js needs > 0). */
export const FALLBACK_RETRY_MS = 1

/** How long close() waits for in-flight publishes to be acknowledged before ending the connection (ms). */
export const DEFAULT_CLOSE_TIMEOUT_MS = 2000

/**
 * Messages kept while no receive handler is installed: a persistent session
 * delivers its queue right after CONNACK, before the caller can call
 * onReceive(). Beyond it messages are dropped and counted (`drop.no_handler`).
 */
export const EARLY_RECEIVE_LIMIT = 256

/**
 * CONNACK codes worth retrying at the first connect (the broker is there but
 * busy); every other refusal (bad credentials, not authorized, banned,
 * client id rejected) is a configuration error and fails the connect at once.
 * MQTT 3.1.1 §3.2.2.3 code 3; MQTT 5 §3.2.2.2 0x80, 0x88, 0x89, 0x97, 0x9F.
 */
export const TRANSIENT_CONNACK_CODES: ReadonlySet<number> = new Set([3, 0x80, 0x88, 0x89, 0x97, 0x9f])

/** CONNACK "unacceptable / unsupported protocol version": 1 from a 3.1.1 broker, 0x84 from a v5 broker. */
export const UNSUPPORTED_VERSION_CODES: ReadonlySet<number> = new Set([1, 0x84])

/**
 * TLS errors that retrying cannot fix (Node/OpenSSL codes): the first connect
 * fails at once with them instead of waiting for connectTimeoutMs.
 */
export const TLS_FATAL_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])

/** Embedded broker: listen address (loopback only by default, it has no authentication). */
export const DEFAULT_BROKER_HOST = '127.0.0.1'

/**
 * Embedded broker: largest MQTT packet a client may send (bytes). Bigger
 * packets close the connection as soon as their fixed header is read, before
 * the body is buffered. Four times the default maxPayload, so oversize
 * payloads still reach a transport and are counted there.
 */
export const DEFAULT_BROKER_MAX_PACKET_SIZE = 256 * 1024

/** MQTT 5 DISCONNECT reason code 0x8E, "Session taken over" (§3.14.2.1). */
export const SESSION_TAKEN_OVER = 0x8e
/**
 * On MQTT 3.1.1 brokers a session takeover is silent: the older connection is
 * closed. When the broker closes TAKEOVER_SUSPECT_COUNT connections in a row,
 * each within TAKEOVER_SUSPECT_MS (wall clock) of being accepted, another
 * client is taking the session over (or the broker refuses to keep us).
 */
export const TAKEOVER_SUSPECT_MS = 10_000
export const TAKEOVER_SUSPECT_COUNT = 3
