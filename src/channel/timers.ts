/**
 * Named timer events of one channel endpoint, as wireguard-go names its
 * timers: each event is armed and disarmed by name on the injected clock
 * (never the global setTimeout), arming an armed event replaces it, and
 * `clear()` disarms every event when the endpoint closes.
 *
 * The handler gets the owner (the channel or the initiator) as its argument,
 * so a handler can be one shared function: an armed event then costs the
 * clock's handle and one small closure, whatever the number of channels.
 */
import { background, type Clock } from './clock.ts'

/** Whether a pending event keeps the process alive: awaited work does, background checks (idle, keep-alive) do not. */
export type TimerKind = 'awaited' | 'background'

export class Timers<Owner, Name extends string> {
  private readonly handles: Partial<Record<Name, unknown>> = {}

  constructor(
    private readonly clock: Clock,
    private readonly owner: Owner,
  ) {}

  /** Arms `name`: `fire(owner)` runs after `ms` unless disarmed first. Replaces the pending one of that name. */
  arm(name: Name, ms: number, fire: (owner: Owner) => void, kind: TimerKind = 'awaited'): void {
    this.disarm(name)
    const handle = this.clock.setTimeout(() => {
      this.handles[name] = undefined
      fire(this.owner)
    }, ms)
    this.handles[name] = kind === 'background' ? background(handle) : handle
  }

  /** True while `name` is armed and has not fired. */
  isArmed(name: Name): boolean {
    return this.handles[name] !== undefined
  }

  disarm(name: Name): void {
    const handle = this.handles[name]
    if (handle === undefined) return
    this.handles[name] = undefined
    this.clock.clearTimeout(handle)
  }

  /** Disarms every event (the endpoint closes). */
  clear(): void {
    const handles: Record<string, unknown> = this.handles
    for (const name in handles) {
      const handle = handles[name]
      handles[name] = undefined
      if (handle !== undefined) this.clock.clearTimeout(handle)
    }
  }
}
