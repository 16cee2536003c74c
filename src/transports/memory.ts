/**
 * The memory transport (tests, simulations): endpoints on a shared
 * MemoryNetwork exchange encoded routing messages asynchronously. Taps see
 * every byte that crosses the network, as a broker or gateway would.
 */
import { ErrorCode, HopsealError } from '../errors.ts'
import { address, TransportType, type Address } from '../routing/address.ts'
import type { Transport, TransportProperties } from '../routing/transport.ts'

export type Tap = (from: string, to: string, bytes: Uint8Array) => void

/** What a fault model does to one message (tests; hil-sim has full link models). */
export interface FaultDecision {
  drop?: boolean
  duplicate?: boolean
  delayMs?: number
}
export type FaultModel = (from: string, to: string, bytes: Uint8Array) => FaultDecision | undefined

export class MemoryNetwork {
  private readonly endpoints = new Map<string, MemoryTransport>()
  private readonly taps: Tap[] = []
  /** Optional loss/duplication/delay applied to every message. */
  fault: FaultModel | undefined

  /** Observes every message on the network (copies). */
  tap(t: Tap): void {
    this.taps.push(t)
  }

  /** Creates the transport of a node named `name` (its address on this network). */
  endpoint(name: string, props: Partial<TransportProperties> = {}): MemoryTransport {
    if (this.endpoints.has(name)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `memory endpoint ${name} exists`)
    const t = new MemoryTransport(this, name, { maxPayload: 64 * 1024, reliable: true, ordered: true, ...props })
    this.endpoints.set(name, t)
    return t
  }

  /** @internal */
  deliver(from: string, to: string, bytes: Uint8Array): boolean {
    const t = this.endpoints.get(to)
    if (!t) return false
    for (const tap of this.taps) tap(from, to, bytes.slice())
    const f = this.fault?.(from, to, bytes)
    if (f?.drop) return true
    const go = (): void => t.receive(bytes, from)
    const n = f?.duplicate ? 2 : 1
    for (let i = 0; i < n; i++) {
      if (f?.delayMs) setTimeout(go, f.delayMs)
      else setImmediate(go)
    }
    return true
  }

  /** @internal */
  remove(name: string): void {
    this.endpoints.delete(name)
  }
}

export class MemoryTransport implements Transport {
  readonly type = TransportType.MEMORY
  private handler: ((bytes: Uint8Array, from: Address) => void) | undefined
  private closed = false

  constructor(
    private readonly network: MemoryNetwork,
    readonly name: string,
    readonly properties: TransportProperties,
  ) {}

  /** This endpoint's address, for routes built by peers. */
  get address(): Address {
    return address(TransportType.MEMORY, this.name)
  }

  async send(to: Address, bytes: Uint8Array): Promise<void> {
    if (this.closed) throw new HopsealError(ErrorCode.TRANSPORT_UNAVAILABLE, `memory endpoint ${this.name} is closed`)
    if (bytes.length > this.properties.maxPayload) throw new HopsealError(ErrorCode.FRAME_TOO_LARGE, `message of ${bytes.length} bytes exceeds maxPayload ${this.properties.maxPayload}`)
    const dest = new TextDecoder().decode(to.value)
    if (!this.network.deliver(this.name, dest, bytes.slice())) throw new HopsealError(ErrorCode.NO_ROUTE, `no memory endpoint ${dest}`)
  }

  onReceive(handler: (bytes: Uint8Array, from: Address) => void): void {
    this.handler = handler
  }

  /** @internal */
  receive(bytes: Uint8Array, from: string): void {
    if (!this.closed) this.handler?.(bytes, address(TransportType.MEMORY, from))
  }

  async close(): Promise<void> {
    this.closed = true
    this.network.remove(this.name)
  }
}
