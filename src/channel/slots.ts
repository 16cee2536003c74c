/** A counting semaphore: at most `size` tasks run at once, the rest wait in arrival order. */
export class Slots {
  private running = 0
  private readonly waiting: (() => void)[] = []

  constructor(private readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.size) await new Promise<void>((r) => this.waiting.push(r))
    else this.running++
    try {
      return await task()
    } finally {
      const next = this.waiting.shift()
      if (next) next() // the slot passes to the next task
      else this.running--
    }
  }

  /** Tasks running now. */
  get busy(): number {
    return this.running
  }
}

/** Lets timers and I/O run before continuing (setImmediate where the platform has it). */
export function yieldToEventLoop(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate
  return new Promise((r) => (immediate ? immediate(r) : setTimeout(r, 0)))
}
