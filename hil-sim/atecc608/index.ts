/** hopseal ATECC608 simulator: engine, packet link, KIT line server, faults, state file. */
export { Atecc608Sim, type SimOptions } from './sim.ts'
export { CommandEngine, type EngineOptions, type EngineResult } from './engine.ts'
export { PacketLink, I2cNack, realClock, type Clock, type SimTiming } from './link.ts'
export { KitLineServer, KitStatus, type KitServerOptions } from './kit-server.ts'
export { FaultQueue, type Fault } from './faults.ts'
export { deterministicRng, type Rng } from './rng.ts'
export { encodeState, decodeState, loadStateFile, saveStateFile, type DeviceState } from './state.ts'
export { serveKitOnTty } from './serve-tty.ts'
