/**
 * Session renewal (docs/protocol.md "Renewal"): a new Noise handshake between
 * the two ends of an established channel, behind the same SecureChannel
 * object. It always runs in known-peer mode: KK with the static keys the first
 * handshake authenticated (a channel made by XX first contact renews with the
 * keys it learned), in the channel's own DH, cipher and hash.
 *
 * The flights go to the peer's channel endpoint (`dec`), not to a listener:
 *   flight 1 = 11 0 EEEEE ‖ Noise KK message 1   (initiator → responder)
 *   flight 2 = 11 1 EEEEE ‖ Noise KK message 2   (responder → initiator)
 * EEEEE are the low 5 bits of the new session's epoch (renewals since the
 * first handshake). The prologue binds the channel and the full epoch:
 *   prologue = "hopseal-renew-v1" ‖ first handshake hash ‖ u32be(epoch)
 * so a flight 1 recorded on another channel, or in an earlier epoch of this
 * one, fails to authenticate, and a stale epoch is dropped before any DH.
 */
import { concat, utf8 } from '../bytes/index.ts'
import { parseProtocolName, type NoiseProtocol } from '../noise/index.ts'
import { RENEWAL_PROLOGUE_LABEL } from './constants.ts'
import type { ChannelAuthenticator, PeerInfo } from './auth.ts'

const LABEL = utf8(RENEWAL_PROLOGUE_LABEL)

/** The KK protocol in the channel's DH, cipher and hash. */
export function renewalProtocol(p: NoiseProtocol): NoiseProtocol {
  return parseProtocolName(`Noise_KK_${p.dh}_${p.cipher}_${p.hash}`)
}

export function renewalPrologue(firstHandshakeHash: Uint8Array, epoch: number): Uint8Array {
  const e = new Uint8Array(4)
  new DataView(e.buffer).setUint32(0, epoch >>> 0)
  return concat(LABEL, firstHandshakeHash, e)
}

/**
 * Checks the peer again before a renewal completes: the authenticator sees the
 * same static key and the identity payload of the first handshake (empty for
 * known peers), at the current time, so an expired attestation, a revoked
 * credential, a changed policy or a peer removed from a known-peers list
 * refuses the renewal (a HopsealError, e.g. CHANNEL_PEER_REFUSED).
 */
export async function reverifyPeer(auth: ChannelAuthenticator, peer: PeerInfo, payload: Uint8Array): Promise<PeerInfo> {
  return await auth.verify(peer.staticKey, payload)
}
