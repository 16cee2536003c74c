/** Who the peer is: what a channel learns, and the hook that decides it. */
import { ErrorCode, HopsealError } from '../errors.ts'
import { toHex } from '../bytes/index.ts'

/** What an endpoint learned about its authenticated peer. */
export interface PeerInfo {
  /** The peer's Noise static public key (always authenticated by Noise). */
  staticKey: Uint8Array
  /** The peer's identity identifier, when its identity was verified. */
  identifier?: string
  /** Verified attributes (from credentials), for authorisation. */
  attributes?: Readonly<Record<string, string>>
}

/**
 * Decides who a peer is. `payload` is what the peer put in its
 * identity-bearing handshake message (XX); empty in KK/IK. Throw a
 * HopsealError to refuse (the handshake then fails silently).
 */
export interface ChannelAuthenticator {
  /** This side's identity payload for XX (identity, attestation, credentials). */
  payload?: () => Uint8Array | Promise<Uint8Array>
  verify(remoteStatic: Uint8Array, payload: Uint8Array): PeerInfo | Promise<PeerInfo>
}

/** Accepts exactly the listed static keys (known peers, KK/IK). */
export function knownPeers(peers: { staticKey: Uint8Array; identifier?: string; attributes?: Record<string, string> }[]): ChannelAuthenticator {
  const byKey = new Map(peers.map((p) => [toHex(p.staticKey), p]))
  return {
    verify(remoteStatic) {
      const p = byKey.get(toHex(remoteStatic))
      if (!p) throw new HopsealError(ErrorCode.CHANNEL_PEER_REFUSED, 'remote static key is not a known peer')
      return { staticKey: remoteStatic.slice(), ...(p.identifier ? { identifier: p.identifier } : {}), ...(p.attributes ? { attributes: p.attributes } : {}) }
    },
  }
}
