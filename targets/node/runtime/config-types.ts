/**
 * The validated shape of a node config file (docs/operations.md has the
 * reference). Everything here is checked and defaulted by config.ts; code
 * that receives a NodeConfig never re-checks it.
 */
import type { Route } from '../../../src/routing/address.ts'
import type { Medium } from '../../../src/channel/limits.ts'

export type LogLevel = 'error' | 'warn' | 'info' | 'debug'
export const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug']

/**
 * A secret string (an MQTT password). It prints as `[redacted]` through
 * String(), JSON.stringify() and util.inspect(), so an accidental log line or
 * error message cannot carry it; `reveal()` is the one way out.
 */
export class Secret {
  readonly #value: string
  constructor(value: string) {
    this.#value = value
  }
  reveal(): string {
    return this.#value
  }
  toString(): string {
    return '[redacted]'
  }
  toJSON(): string {
    return '[redacted]'
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[redacted]'
  }
}

export interface MqttConfig {
  url: string
  /** This node's broker name (its MQTT address); defaults to the node name. */
  name: string
  prefix?: string
  qos?: 0 | 1 | 2
  clientId?: string
  cleanStart?: boolean
  sessionExpirySec?: number
  protocolVersion?: 4 | 5
  keepaliveSec?: number
  username?: string
  password?: Secret
  tls?: { caFile?: string; certFile?: string; keyFile?: string; rejectUnauthorized?: boolean }
  shared?: { name: string; group: string }
  reconnect?: { initialMs?: number; maxMs?: number }
  maxPayload?: number
  maxInflight?: number
}

export type SerialProfileName = 'raw' | 'ble-uart' | 'lora'

export interface SerialLinkConfig {
  /** Link name: the serial address value devices and the gateway use (`3#lora0`). */
  name: string
  /** Device path (`/dev/ttyUSB0`, or a PTY in tests). */
  path: string
  baudRate?: number
  profile: SerialProfileName
  /** Options passed to the profile constructor (mtu, sf, dutyCycle, …), only those set. */
  profileOptions: Record<string, number | string>
}

export interface DeviceConfig {
  mode: 'always-on' | 'sleepy'
  awakeMs?: number
  /** MQTT node names that may push downlinks to this device without its uplinks (at the gateway's hourly budget). */
  downlinkFrom?: string[]
}

export interface GatewayConfig {
  /** 1-byte alias (0..127) → route, and the text it was written as. */
  routes: { alias: number; route: Route; text: string }[]
  devices: Record<string, DeviceConfig>
  mailbox: { maxMessages?: number; maxBytes?: number; maxTotalBytes?: number; ttlMs?: number }
}

export type ServiceName = 'echo' | 'log'

export interface ListenerConfig {
  /** Local worker address of the listener (`hr` → `0#hr`). */
  address: string
  protocol: string
  /** Vault label of this side's Noise static key. */
  key: string
  service: ServiceName
  /** Accepted initiators (their Noise static public keys). */
  knownPeers: { staticKey: Uint8Array; name?: string }[]
  reliable: boolean
  /** The most constrained link between this node and its initiators: picks renewal, keep-alive and idle limits. */
  medium: Medium
}

export interface NodeConfig {
  /** Absolute path of the file this config came from (empty when built in code). */
  file: string
  name: string
  log: { level: LogLevel; json: boolean }
  metrics?: { host: string; port: number }
  /** Vault spec with relative paths resolved against the config file's directory. */
  vault?: string
  transports: { mqtt?: MqttConfig; serial: SerialLinkConfig[] }
  gateway?: GatewayConfig
  relay?: { maxAliases: number }
  listeners: ListenerConfig[]
  limits: { maxChannelsPerPeer: number; maxPending: number; shutdownTimeoutMs: number }
}
