/** Defaults of the one-shot network commands (secure-channel, message, relay), each with its unit and reason. */

/**
 * Protocol when neither `--protocol` nor a listener of the config names one:
 * KK with 25519 is what the runtime's listeners and the heart-rate example use
 * (both static keys known in advance, 2 flights, no identity payload).
 */
export const DEFAULT_CLI_PROTOCOL = 'Noise_KK_25519_AESGCM_SHA256'

/**
 * Budget of one command (ms): links up, handshake and reply. The channel layer
 * retransmits handshake flights at 1, 3 and 7 s, so 10 s allows three
 * retransmissions on a lossy path before giving up.
 */
export const DEFAULT_CLI_TIMEOUT_MS = 10_000

/** How often a one-shot node looks at its links while waiting for them to come up (ms); cheap, and short next to a broker's connect. */
export const LINK_POLL_MS = 20

/**
 * Suffix of a one-shot node's MQTT name (`<name>.cli-<6 hex>`): a fresh name
 * and client id per run, so running it with the config of a node that is up
 * takes over neither that node's MQTT session nor its inbox.
 */
export const CLI_MQTT_SUFFIX = '.cli-'

/** Relay aliases the relay service accepts (src/routing/relay.ts checks the same; it drops others silently, so the CLI checks first). */
export const RELAY_ALIAS_PATTERN = /^[A-Za-z0-9._-]{1,64}$/

/** Budget of the signed removal `relay create` sends at exit (ms): one round trip to the relay; exit must not hang on a dead broker. */
export const RELAY_REMOVE_BUDGET_MS = 2_000

/** Largest `--message` (bytes of UTF-8): one message, well under the MQTT transport's default 64 KiB maxPayload after channel overhead. */
export const MAX_CLI_MESSAGE_BYTES = 16 * 1024

/** How long the `hopseal` process may linger after its command returned (ms) before it exits anyway (targets/node/cli.ts). */
export const EXIT_GRACE_MS = 1_000
