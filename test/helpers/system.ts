/**
 * System-backed tests (SoftHSM2, Mosquitto, socat, pkcs11-tool) skip with a
 * printed reason when a tool is missing, but FAIL when CI or
 * HOPSEAL_REQUIRE_SYSTEM=1 is set, so CI proves them every run.
 */
import { execFileSync } from 'node:child_process'

export const REQUIRE_SYSTEM = process.env.HOPSEAL_REQUIRE_SYSTEM === '1' || (process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false')

export function which(cmd: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || undefined
  } catch {
    return undefined
  }
}

/**
 * Returns `false` (run the test) when every command exists; otherwise a skip
 * reason string for `it(name, { skip: ... })`, or throws when the system is required.
 */
export function needSystem(...cmds: string[]): false | string {
  const missing = cmds.filter((c) => !which(c))
  if (missing.length === 0) return false
  const reason = `missing system tool(s): ${missing.join(', ')} (install: apt-get install softhsm2 mosquitto socat opensc)`
  if (REQUIRE_SYSTEM) throw new Error(`${reason}; HOPSEAL_REQUIRE_SYSTEM/CI forbids skipping`)
  console.log(`# skip: ${reason}`)
  return reason
}
