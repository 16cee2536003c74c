/**
 * A frame link: the lowest layer of a constrained transport. It carries whole
 * frames of at most `mtu` bytes between two ends, with no delivery guarantee
 * (a radio loses, duplicates and reorders frames). Implementations: a byte
 * stream framed with COBS + CRC (serial ports, PTYs; targets/node/transports/serial),
 * in-memory pairs and the seeded HIL link models (hil-sim/links), which wrap
 * any FrameLink.
 *
 * The serial transport puts fragmentation, link profiles (pacing, airtime,
 * duty cycle) and routing above a FrameLink; the gateway bridges FrameLinks to
 * MQTT.
 */
export interface FrameLink {
  /** Largest frame (bytes) one send may carry. */
  readonly mtu: number
  /** Whether the link can carry frames now (a serial device may be unplugged). */
  readonly up: boolean
  /**
   * Hands one frame to the medium. Rejects FRAME_TOO_LARGE over `mtu`,
   * TRANSPORT_UNAVAILABLE while the link is down or closed. Resolving does not
   * mean the peer received it.
   */
  send(frame: Uint8Array): Promise<void>
  /** Installs the receive handler (one per link); frames are copies the handler may keep. */
  onFrame(handler: (frame: Uint8Array) => void): void
  /** Observes up/down changes (unplug, re-plug); optional for links that cannot go down. */
  onStateChange?(handler: (up: boolean) => void): void
  close(): Promise<void>
}
