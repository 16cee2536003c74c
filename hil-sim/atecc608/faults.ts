/**
 * Fault injection for the simulator. Faults queue up and are consumed by the
 * next command (optionally only by a given opcode), so tests are deterministic.
 */
export type Fault =
  /** The response's CRC is corrupted on the way to the host. */
  | { kind: 'corrupt-response'; opcode?: number }
  /** The command arrives corrupted: the device answers 04 FF 01 42. */
  | { kind: 'corrupt-command'; opcode?: number }
  /** The command runs `ms` longer than its M0 time (I²C: more NACKed polls; KIT: a later reply). */
  | { kind: 'busy'; ms: number; opcode?: number }
  /** The device stops answering mid-command until the next wake ('none': the KIT board says nothing either; 'kit-timeout': it answers E7()). */
  | { kind: 'no-response'; opcode?: number; reply?: 'none' | 'kit-timeout' }
  /** The watchdog expired just before this command: the device fell asleep and lost TempKey and MsgDigBuf. */
  | { kind: 'watchdog'; opcode?: number }
  /** Too little watchdog time left: the device answers EE. */
  | { kind: 'watchdog-warning'; opcode?: number }
  /** The next command answers ECC fault (05). */
  | { kind: 'ecc-fault'; opcode?: number }
  /** The next `count` I²C writes are NACKed (KIT: the talk answers F7() tx fail). */
  | { kind: 'nack'; count?: number }
  /** Self-test failure: the next wake answers 04 07 40 C2 and crypto commands answer 07 until a SelfTest passes; `mask` = tests that fail once. */
  | { kind: 'selftest-fail'; mask?: number }

export class FaultQueue {
  private readonly q: Fault[] = []
  push(f: Fault): void {
    this.q.push(f)
  }
  /** Removes and returns the first queued fault of `kind` that applies to `opcode`. */
  take<K extends Fault['kind']>(kind: K, opcode?: number): Extract<Fault, { kind: K }> | undefined {
    const i = this.q.findIndex((f) => f.kind === kind && (!('opcode' in f) || f.opcode === undefined || f.opcode === opcode))
    if (i < 0) return undefined
    return this.q.splice(i, 1)[0] as Extract<Fault, { kind: K }>
  }
  get pending(): number {
    return this.q.length
  }
  clear(): void {
    this.q.length = 0
  }
}
