/** A measured figure, as printed by `npm run bench` (table) and `npm run bench -- --json`. */
export interface Figure {
  name: string
  value: number
  unit: string
  /** The same kind of figure for the reference implementation, measured in the same run. */
  baseline?: { name: string; value: number }
  /** The architecture.md §5 target, for the table (e.g. '<= 18', '>= 3x'). */
  target?: string
  note?: string
}

export interface BenchContext {
  /** --quick: fewer iterations (smoke runs). */
  quick: boolean
  log: (line: string) => void
}

export type BenchModule = (ctx: BenchContext) => Promise<Figure[]>

/** Runs `fn` repeatedly for about `ms` milliseconds (after a warm-up) and returns operations per second. */
export async function opsPerSecond(fn: () => unknown | Promise<unknown>, ms: number, batch = 1): Promise<number> {
  const warm = Date.now() + Math.min(200, ms / 5)
  while (Date.now() < warm) for (let i = 0; i < batch; i++) await fn()
  let n = 0
  const t0 = process.hrtime.bigint()
  const end = Date.now() + ms
  while (Date.now() < end) {
    for (let i = 0; i < batch; i++) await fn()
    n += batch
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9
  return n / s
}
