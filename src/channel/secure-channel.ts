/**
 * End-to-end secure channels over routed messages (architecture.md §4).
 *
 * A channel has two endpoints. Each endpoint owns two local addresses:
 * - `dec`: receives the peer's messages from the network (handshake flights,
 *   then sealed channel messages) and delivers the plaintext locally;
 * - `enc`: receives local plaintext and sends it sealed to the peer's `dec`.
 *
 * Handshake flights carry the raw Noise message as the routing payload (no
 * extra byte), so a KK flight is 48 bytes of Noise (plus the handshake
 * counter in message 1) and a 2-byte routing header on a constrained link. Message 1 goes to the listener's address; the
 * responder answers from its new `dec` address, which the initiator learns
 * from the return route.
 *
 * Failures during a handshake are silent on the wire (no error reply: no
 * oracle) and counted locally on the node (`handshake.failed.<code>`).
 */
export { knownPeers, type PeerInfo, type ChannelAuthenticator } from './auth.ts'
export { DEFAULT_RETRANSMIT, type RetransmitOptions, type Delivery, type ListenerOptions, type InitiatorOptions } from './options.ts'
export { SecureChannel, type ChannelState } from './channel.ts'
export { SecureChannelListener, startSecureChannelListener } from './listener.ts'
export { createSecureChannel } from './initiator.ts'
export { CHANNEL_PATTERNS } from './options.ts'
export { AcceptedCounters, clockHandshakeCounter, memoryHandshakeCounter, type HandshakeCounter } from './handshake-counter.ts'
