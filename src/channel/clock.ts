/** The channel layer's clock is the shared injected clock (src/time). */
export { type Clock, systemClock, background, ManualClock } from '../time/clock.ts'
