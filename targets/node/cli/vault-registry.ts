/**
 * Vault specs on the command line: `KIND[:ARGS]`, e.g. `software:./keys.hsv`,
 * `pkcs11:token=hopseal`, `atecc608:kit=/dev/ttyACM0`. Backends register a
 * factory for their KIND (targets/node does it), so src/ never imports vaults/.
 */
import { ErrorCode, HopsealError } from '../../../src/errors.ts'
import type { Vault } from '../../../src/vault/index.ts'

export interface VaultFactoryContext {
  env: NodeJS.ProcessEnv
  /** Directory for default state (HOPSEAL_HOME or ~/.hopseal). */
  home: string
  /** The caller may create the vault's store (keygen); otherwise a store that does not exist is an error, not an empty vault. */
  create?: boolean
}

/** Opens a vault from the part of the spec after `KIND:` (may be empty). */
export type VaultFactory = (args: string, ctx: VaultFactoryContext) => Promise<Vault>

const factories = new Map<string, { factory: VaultFactory; help: string }>()

export function registerVaultFactory(kind: string, factory: VaultFactory, help: string): void {
  factories.set(kind, { factory, help })
}

export function vaultKinds(): { kind: string; help: string }[] {
  return [...factories].map(([kind, v]) => ({ kind, help: v.help }))
}

export async function openVaultSpec(spec: string, ctx: VaultFactoryContext): Promise<Vault> {
  const i = spec.indexOf(':')
  const kind = i < 0 ? spec : spec.slice(0, i)
  const args = i < 0 ? '' : spec.slice(i + 1)
  const f = factories.get(kind)
  if (!f) {
    throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `unknown vault kind "${kind}" in --vault ${spec}; known: ${[...factories.keys()].join(', ') || 'none'}`)
  }
  return f.factory(args, ctx)
}

/** Parses `a=1,b=2` into a map; values may not contain commas. */
export function parseKv(args: string): Map<string, string> {
  const m = new Map<string, string>()
  for (const part of args.split(',')) {
    if (!part) continue
    const eq = part.indexOf('=')
    if (eq < 0) m.set(part, '')
    else m.set(part.slice(0, eq), part.slice(eq + 1))
  }
  return m
}
