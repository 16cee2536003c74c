/**
 * The hopseal MQTT topic scheme.
 *
 * - A node's MQTT address is `address(TransportType.MQTT, name)`, where `name`
 *   is its broker name: 1–64 characters of `[A-Za-z0-9._-]`. Names carry no
 *   MQTT separator or wildcard (`/`, `+`, `#`) and cannot start a `$` topic.
 * - A message from node `me` to node `to` is published to
 *   `${prefix}/${to}/${me}`. The default prefix is `hopseal/v1`; a prefix is
 *   1–16 non-empty levels without wildcards and does not start with `$`
 *   (MQTT 5 §4.7.2: `$` topics belong to the broker).
 * - Each node subscribes to `${prefix}/${me}/+`. The receiver takes the reply
 *   address from the last level: `from = address(MQTT, <last level>)`, so the
 *   sender needs no envelope around the ciphertext.
 * - Shared subscription (MQTT 5 §4.8.2), for a fleet of gateway processes:
 *   each process has its own unique `name` (used for replies) and also
 *   subscribes `$share/${group}/${prefix}/${shared.name}/+`, so the broker
 *   spreads messages addressed to `shared.name` over the group, each message
 *   to one member.
 * - A message on a topic that does not parse (wrong prefix, wrong recipient,
 *   empty or invalid sender name) is dropped and counted, never thrown. Topics
 *   with extra levels do not match a `+` filter, so the broker never delivers
 *   them.
 *
 * The topic reveals who talks to whom to the broker (the payload is Noise
 * ciphertext); pick opaque names where that matters.
 */
import { ErrorCode, HopsealError } from '../../../../src/errors.ts'
import { utf8 } from '../../../../src/bytes/index.ts'
import { MAX_NAME_LENGTH, MAX_PREFIX_LENGTH, MAX_PREFIX_LEVELS, NAME_PATTERN } from './constants.ts'

/** True when `s` is a valid node name (also the rule for shared-subscription groups). */
export function isValidName(s: unknown): s is string {
  return typeof s === 'string' && NAME_PATTERN.test(s)
}

/**
 * Checks a node name.
 * @throws HopsealError INVALID_ARGUMENT naming `label` and the rule.
 * @example validateName('gw-1') // 'gw-1'
 */
export function validateName(s: unknown, label = 'name'): string {
  if (!isValidName(s)) {
    const shown = typeof s === 'string' ? JSON.stringify(s.length > 80 ? s.slice(0, 80) + '…' : s) : typeof s
    throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `MQTT ${label} expected 1..${MAX_NAME_LENGTH} characters of [A-Za-z0-9._-], got ${shown}`)
  }
  return s
}

/**
 * Checks a topic prefix: 1–16 non-empty levels, no `+`, `#` or NUL, not a `$` topic.
 * @throws HopsealError INVALID_ARGUMENT
 * @example validatePrefix('acme/site-3/hopseal') // 'acme/site-3/hopseal'
 */
export function validatePrefix(s: unknown): string {
  const bad = (why: string): never => {
    throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `MQTT prefix ${typeof s === 'string' ? JSON.stringify(s.slice(0, 80)) : typeof s}: ${why}`)
  }
  if (typeof s !== 'string' || s.length === 0) return bad('expected a non-empty string')
  if (utf8(s).length > MAX_PREFIX_LENGTH) bad(`longer than ${MAX_PREFIX_LENGTH} bytes`)
  if (s.includes('+') || s.includes('#') || s.includes('\u0000')) bad('wildcards (+, #) and NUL are not allowed')
  if (s.startsWith('$')) bad('topics starting with $ are reserved for the broker (MQTT 5 §4.7.2)')
  const levels = s.split('/')
  if (levels.length > MAX_PREFIX_LEVELS) bad(`more than ${MAX_PREFIX_LEVELS} levels`)
  if (levels.some((l) => l.length === 0)) bad('empty levels (leading, trailing or double /) are not allowed')
  return s
}

/** The topic a message from `from` to `to` is published on. Inputs must be validated. */
export function messageTopic(prefix: string, to: string, from: string): string {
  return `${prefix}/${to}/${from}`
}

/** The filter a node subscribes to for messages addressed to `name`. */
export function inboxFilter(prefix: string, name: string): string {
  return `${prefix}/${name}/+`
}

/** The shared-subscription filter for a fleet that serves `name` as `group` (MQTT 5 §4.8.2). */
export function sharedInboxFilter(prefix: string, group: string, name: string): string {
  return `$share/${group}/${inboxFilter(prefix, name)}`
}

/**
 * Parses a received topic: returns the sender's name when the topic is
 * `${prefix}/${to}/${from}` with `to` one of `recipients` and `from` a valid
 * name, otherwise `undefined` (the caller drops and counts).
 */
export function parseMessageTopic(prefix: string, recipients: readonly string[], topic: string): string | undefined {
  if (topic.length <= prefix.length + 1 || !topic.startsWith(prefix) || topic.charCodeAt(prefix.length) !== 0x2f) return undefined
  const rest = topic.slice(prefix.length + 1)
  const slash = rest.indexOf('/')
  if (slash < 0) return undefined
  const to = rest.slice(0, slash)
  const from = rest.slice(slash + 1)
  if (!recipients.includes(to) || !isValidName(from)) return undefined
  return from
}
