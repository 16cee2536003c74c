/**
 * hopseal/transports/mqtt: the MQTT transport, its topic scheme and an
 * embedded broker. Importing it registers node:crypto as the default crypto
 * provider, as every Node entry does (src/crypto/index.ts).
 */
import '../../crypto/index.ts'
export { connectMqttTransport, MqttTransport } from './transport.ts'
export type { MqttTransportOptions, MqttTlsOptions, MqttReconnectOptions, MqttSharedSubscription } from './options.ts'
export { validateName, validatePrefix, isValidName, messageTopic, inboxFilter, sharedInboxFilter, parseMessageTopic } from './topics.ts'
export { startEmbeddedBroker } from './embedded-broker.ts'
export type { EmbeddedBroker, EmbeddedBrokerOptions, BrokerTap } from './embedded-broker.ts'
export { DEFAULT_PREFIX, DEFAULT_MAX_PAYLOAD, DEFAULT_MAX_INFLIGHT, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_SESSION_EXPIRY_SEC } from './constants.ts'
