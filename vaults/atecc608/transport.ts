/**
 * What the command layer needs from a physical layer (spec A2 command cycle):
 * wake, send-execute-receive, idle, sleep. Implemented by the KIT protocol
 * (./kit-transport.ts) and Linux i2c-dev (./i2c-transport.ts).
 */
export interface ExecuteOptions {
  /** Opcode, for the execution-time budget. */
  opcode: number
  /** Give up after this long (ms). */
  timeoutMs: number
  signal?: AbortSignal
}

export interface Transport {
  readonly kind: 'kit' | 'i2c'
  /** Wakes the device and returns the 4-byte wake response (04 11 33 43, or 04 07 40 C2 on self-test failure). */
  wake(opts: { timeoutMs: number; signal?: AbortSignal }): Promise<Uint8Array>
  /** Sends one command packet (count … CRC), waits for completion, returns the raw response packet. */
  execute(packet: Uint8Array, opts: ExecuteOptions): Promise<Uint8Array>
  idle(opts: { timeoutMs: number; signal?: AbortSignal }): Promise<void>
  sleep(opts: { timeoutMs: number; signal?: AbortSignal }): Promise<void>
  close(): Promise<void>
}

/** The device did not answer at the link level (NACK, KIT tx/rx failure): re-waking and retrying may help. */
export class LinkError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'LinkError'
  }
}
