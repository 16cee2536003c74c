/**
 * hil-sim: hardware-in-the-loop simulation. Seeded link models
 * (loss, bursts, duplication, reordering, latency, bandwidth, LoRa airtime,
 * duty cycle) over memory or real socat PTY pairs, and scenario files run by
 * `hopseal sim run`. The ATECC608 simulator is in ./atecc608.
 *
 * hil-sim is a development package: the product (src, vaults, targets/node)
 * never imports it. Its `demo` and `sim` commands and the `atecc608:sim=`
 * vault are registered by ./plugin.ts, which the Node target loads when it is
 * present (targets/node/plugins.ts; scripts/layers.ts holds the rule).
 */
export { modelLink, type LinkStats, type ModelLink, type LinkModelOptions, type DutyCycleRule } from './links/model.ts'
export { memoryLinkPair, type MemoryLink, type MemoryLinkOptions } from './links/memory-link.ts'
export { bleUartLinkModel, ideal, loraLinkModel, type BleUartLinkModelOptions, type LoraLinkModelOptions } from './links/presets.ts'
export { seededRandom, type Random } from './links/prng.ts'
export { hasSocat, ptyLinkPair, startPtyPair, type PtyLinkPair, type PtyPair } from './pty.ts'
export { parseScenario, type ScenarioSpec } from './scenario/spec.ts'
export { runScenario, type Summary } from './scenario/run.ts'
