/** Mosquitto for tests: the harness lives in hil-sim (scenarios with `broker: mosquitto` use it too). */
import { mosquittoPath } from '../../hil-sim/mosquitto.ts'
import { REQUIRE_SYSTEM } from './system.ts'

export { mosquittoPath, startMosquitto, type Mosquitto, type MosquittoOptions } from '../../hil-sim/mosquitto.ts'

/** Like needSystem('mosquitto') but finds /usr/sbin/mosquitto off PATH: `{ skip: needMosquitto() }`. */
export function needMosquitto(): false | string {
  if (mosquittoPath()) return false
  const reason = 'missing system tool: mosquitto (install: apt-get install mosquitto)'
  if (REQUIRE_SYSTEM) throw new Error(`${reason}; HOPSEAL_REQUIRE_SYSTEM/CI forbids skipping`)
  console.log(`# skip: ${reason}`)
  return reason
}
