/** Secure channels (docs/protocol.md): listeners, initiators, identities in XX, reliable mode. */
export * from './secure-channel.ts'
export { identityAuthenticator, encodeIdentityPayload, decodeIdentityPayload, type IdentityAuthOptions } from './identity-auth.ts'
export { ChannelSession, DEFAULT_SESSION_LIMITS, type SessionLimits } from './session.ts'
export { MEDIUM_LIMITS, MEDIA, resolveLimits, type ChannelLimits, type Medium, type LimitOverrides } from './limits.ts'
export { DEFAULT_RELIABLE, type ReliableOptions } from './reliable.ts'
export { systemClock, ManualClock, type Clock } from './clock.ts'
export * as CHANNEL_DEFAULTS from './constants.ts'
