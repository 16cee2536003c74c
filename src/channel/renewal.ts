/**
 * Session renewal (docs/protocol.md "Renewal"): a new Noise handshake between
 * the two ends of an established channel, behind the same SecureChannel
 * object. It always runs in known-peer mode: KK with the static keys the first
 * handshake authenticated (a channel made by XX first contact renews with the
 * keys it learned), in the channel's own DH, cipher and hash.
 *
 * The flights go to the peer's channel endpoint (`dec`), not to a listener,
 * as the bare Noise KK messages, with no byte added: a flight is told apart
 * from a sealed message by its first byte, whose top two bits are 11 (the
 * sealed-message type no sealed message uses). Both KK messages start with
 * the sender's ephemeral public key, so:
 * - 25519: the ephemeral key is drawn until its first byte is ≥ 0xC0 (four
 *   draws on average; the key stays uniform among such keys, 2 bits of the
 *   public u-coordinate are fixed, none of the private scalar);
 * - P256: the compressed point's prefix byte 0x02/0x03 travels XORed with
 *   0xC0 (0xC2/0xC3) and is restored before Noise reads it.
 * A renewal KK flight is therefore as long as a first KK flight: 48 bytes
 * for 25519, 49 for P-256. With the 2-byte routing header and the 1-byte
 * fragment header a 25519 flight is 51 bytes, one LoRa DR0 frame; a P-256
 * flight is 52 and takes two (as the first P-256 handshake does).
 * Which flight it is follows from the receiver's role. The prologue binds the
 * channel and the epoch (renewals since the first handshake):
 *   prologue = "hopseal-renew-v1" ‖ first handshake hash ‖ u32be(epoch)
 * so a flight 1 recorded on another channel, or in an earlier epoch of this
 * one, fails to authenticate.
 */
import { concat, utf8 } from '../bytes/index.ts'
import type { CryptoProvider, KeyPair } from '../crypto/index.ts'
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

/** Top bits of a renewal flight's first byte. */
const FLIGHT_MARK = 0xc0

/** True when a message arriving at a channel endpoint is a renewal flight. */
export function isRenewalFlight(bytes: Uint8Array): boolean {
  const lead = bytes[0]
  return lead !== undefined && (lead & FLIGHT_MARK) === FLIGHT_MARK
}

/** An ephemeral key pair whose public key can lead a renewal flight (25519: first byte ≥ 0xC0); any key pair for P-256. */
export function renewalEphemeral(crypto: CryptoProvider, p: NoiseProtocol): KeyPair {
  for (;;) {
    const kp = crypto.generateKeyPair(p.keyType)
    const lead = kp.publicKey[0]
    if (p.keyType !== 'x25519' || (lead !== undefined && lead >= FLIGHT_MARK)) return kp
    kp.privateKey.fill(0)
  }
}

/** The Noise message as it travels (P-256: the point prefix marked). */
export function toFlight(p: NoiseProtocol, noiseMessage: Uint8Array): Uint8Array {
  if (p.keyType === 'p256') flipMark(noiseMessage)
  return noiseMessage
}

/** The Noise message from a flight (a copy; P-256: the point prefix restored). */
export function fromFlight(p: NoiseProtocol, flight: Uint8Array): Uint8Array {
  const m = flight.slice()
  if (p.keyType === 'p256') flipMark(m)
  return m
}

/** P-256: flips the flight mark in the point prefix (02/03 ↔ C2/C3), in place; an empty message has no prefix. */
function flipMark(m: Uint8Array): void {
  const lead = m[0]
  if (lead !== undefined) m[0] = lead ^ FLIGHT_MARK
}
