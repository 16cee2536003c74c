/**
 * A model link over a memory pair on a ManualClock, recording what arrives:
 * frames carry their send index (uint32 big-endian) in the first 4 bytes.
 */
import { ManualClock } from '../../src/time/clock.ts'
import { memoryLinkPair, type MemoryLink } from '../../hil-sim/links/memory-link.ts'
import { modelLink, type LinkModelOptions, type ModelLink } from '../../hil-sim/links/model.ts'

export interface Arrival {
  index: number
  at: number
  length: number
}

export interface Rig {
  clock: ManualClock
  radio: ModelLink
  far: MemoryLink
  arrivals: Arrival[]
  /** Send times by index. */
  sentAt: number[]
  /** Sends frame `index` of `size` bytes (≥ 4) now. */
  send(size?: number): Promise<void>
  /** Lets promise callbacks (stats.delivered) settle. */
  settle(): Promise<void>
}

export function frame(index: number, size = 16): Uint8Array {
  const f = new Uint8Array(Math.max(4, size))
  new DataView(f.buffer).setUint32(0, index)
  return f
}

export function rig(opts: LinkModelOptions, seed: string | number = 'rig', mtu = 1024): Rig {
  const clock = new ManualClock()
  const [near, far] = memoryLinkPair({ mtu, clock })
  const radio = modelLink(near, opts, { seed, clock })
  const arrivals: Arrival[] = []
  const sentAt: number[] = []
  far.onFrame((f) => arrivals.push({ index: new DataView(f.buffer, f.byteOffset).getUint32(0), at: clock.now(), length: f.length }))
  return {
    clock,
    radio,
    far,
    arrivals,
    sentAt,
    async send(size = 16) {
      const i = sentAt.length
      sentAt.push(clock.now())
      await radio.send(frame(i, size))
    },
    settle: () => new Promise((r) => setImmediate(r)),
  }
}

/** Sends `n` frames one `gapMs` apart, then runs the clock `tailMs` so everything lands. */
export async function run(r: Rig, n: number, gapMs: number, tailMs: number, size = 16): Promise<void> {
  for (let i = 0; i < n; i++) {
    await r.send(size)
    r.clock.advance(gapMs)
  }
  r.clock.advance(tailMs)
  await r.settle()
}
