/**
 * The Transport interface (architecture.md §3): carries encoded routing
 * messages over links and declares its properties; the layers above fragment,
 * retransmit and reorder according to them, never the adapter.
 */
import type { Address } from './address.ts'

export interface TransportProperties {
  /** Largest encoded routing message one send can carry (bytes). */
  readonly maxPayload: number
  /** Delivery is guaranteed (or the send fails). */
  readonly reliable: boolean
  /** Messages between two endpoints arrive in the order sent. */
  readonly ordered: boolean
}

export interface Transport {
  /** The transport type this adapter serves (TransportType.*). */
  readonly type: number
  readonly properties: TransportProperties
  /**
   * Sends encoded bytes to a peer address of this transport. `replyAddress` is
   * not needed: the receiving side learns the sender's address from the link.
   */
  send(to: Address, bytes: Uint8Array): Promise<void>
  /** Installs the receive handler: `from` is the address the receiver can reply to. */
  onReceive(handler: (bytes: Uint8Array, from: Address) => void): void
  close(): Promise<void>
}
