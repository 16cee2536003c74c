/**
 * A packet-size guard for the embedded broker. aedes (like mqtt-packet)
 * buffers a whole packet before it looks at it, so one client announcing a
 * 256 MB PUBLISH (the largest Remaining Length, MQTT 5 §2.1.4) could make it
 * hold that much. The guard reads only the fixed headers as bytes stream by
 * and closes the connection as soon as a header announces a packet over the
 * limit, so at most one socket read of the body is ever buffered.
 */

/** MQTT fixed header: one type/flags byte, then the Remaining Length as a variable byte integer of 1–4 bytes (§1.5.5). */
const MAX_LENGTH_BYTES = 4

/**
 * Tracks MQTT packet boundaries in a byte stream. `push()` returns the size
 * of the first packet (fixed header + body) over `maxPacketSize`, or
 * `undefined` while every packet is within it. A malformed length (a fifth
 * length byte) is reported as over the limit too.
 */
export class PacketSizeGuard {
  /** Body bytes of the current packet still to skip. */
  private skip = 0
  /** Position in the fixed header: 0 = type byte next, 1..4 = length byte next. */
  private state = 0
  private length = 0
  private multiplier = 1

  constructor(readonly maxPacketSize: number) {}

  push(chunk: Uint8Array): number | undefined {
    let i = 0
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i)
        this.skip -= n
        i += n
        continue
      }
      const b = chunk[i++]!
      if (this.state === 0) {
        this.state = 1
        this.length = 0
        this.multiplier = 1
        continue
      }
      this.length += (b & 0x7f) * this.multiplier
      this.multiplier *= 128
      if (b & 0x80) {
        if (this.state++ >= MAX_LENGTH_BYTES) return Number.POSITIVE_INFINITY
        continue
      }
      const total = 1 + this.state + this.length
      if (total > this.maxPacketSize) return total
      this.skip = this.length
      this.state = 0
    }
    return undefined
  }
}
