/** Node runtime defaults and limits, each with its unit and the reason for its value. */

/** Default log level: `info` logs lifecycle events (connects, link up/down, ready), not per-message traffic. */
export const DEFAULT_LOG_LEVEL = 'info'

/** Metrics listen host: loopback only, the endpoint has no authentication (put a reverse proxy in front to expose it). */
export const DEFAULT_METRICS_HOST = '127.0.0.1'
/** Metrics port: 9464 is the port OpenTelemetry's Prometheus exporter uses, so dashboards find it. */
export const DEFAULT_METRICS_PORT = 9464

/** Established channels per peer static key a listener keeps; the oldest is closed (channel layer default). */
export const DEFAULT_MAX_CHANNELS_PER_PEER = 8
/** XX responders waiting for message 3 per listener; the oldest is evicted (channel layer default). */
export const DEFAULT_MAX_PENDING = 64

/**
 * Graceful shutdown budget (ms): closing the MQTT transport waits up to 2 s for
 * PUBACKs, serial links flush their queues; after this the process exits anyway
 * so systemd's stop does not hang (its default TimeoutStopSec is 90 s).
 */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000

/** Largest config file read (bytes): a config is hand-written; a bigger file is a mistake, not a config. */
export const MAX_CONFIG_BYTES = 1024 * 1024
/** Most serial links per node: one process per radio concentrator is the expected shape. */
export const MAX_SERIAL_LINKS = 64
/** Most secure-channel listeners per node. */
export const MAX_LISTENERS = 64
/** Most known peers per listener: a static allow-list; larger fleets use identities and credentials. */
export const MAX_KNOWN_PEERS = 4096

/** Largest password file (bytes): one line of text. */
export const MAX_PASSWORD_FILE = 4096

/** Longest string value logged (characters): a log line stays bounded whatever a field holds. */
export const MAX_LOG_STRING = 1024
/** Deepest nesting of a logged object field; deeper values print as `[object]`. */
export const MAX_LOG_DEPTH = 4

/** Largest /status response the `node status` command reads (bytes). */
export const MAX_STATUS_BYTES = 1024 * 1024
/** How long `node status` waits for a running node (ms). */
export const STATUS_TIMEOUT_MS = 5_000

/** Node names: they appear in log lines and as a metrics label. */
export const NODE_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/

/** A listener logs refused handshakes of one code at most once per this interval (ms), then how many more it refused: a flood of bogus flights costs a few lines. */
export const REFUSAL_LOG_INTERVAL_MS = 60_000
