/**
 * Registers the ATECC608 vault with the CLI's vault registry.
 *
 * Specs (docs/hardware.md):
 * - `atecc608:kit=/dev/ttyACM0[,address=0xC0]`: a KIT-protocol board on USB serial;
 * - `atecc608:i2c=1[,address=0x60]`: the chip on /dev/i2c-1 (Raspberry Pi; needs the optional i2c-bus package);
 * - `atecc608:sim=STATEFILE[,seed=S][,timing=realtime]`: the simulator (hil-sim), its device kept in STATEFILE;
 * - any of them with `,name=NAME` and `,timeout=MS`.
 *
 * @example
 * hopseal vault keygen --type p256 --label identity --vault atecc608:kit=/dev/ttyACM0
 */
import { ErrorCode, HopsealError } from '../../src/errors.ts'
import { registerVaultFactory, type VaultFactoryContext } from './cli/vault-registry.ts'
import type { Vault } from '../../src/vault/index.ts'
import { Atecc608Vault, openAtecc608Transport, parseAtecc608Spec, readIoKeyFile, type Atecc608Spec, type Transport } from '../../vaults/atecc608/index.ts'
import { loadPlugins } from './plugins.ts'

/** Opens the transport of a spec kind the target does not know itself (`sim`, registered by hil-sim/plugin.ts). */
export type Atecc608TransportOpener = (spec: Atecc608Spec) => Promise<Transport>

const openers = new Map<Atecc608Spec['kind'], Atecc608TransportOpener>()

/** Adds a transport for a spec kind; hil-sim registers `sim` this way, so production code never loads the simulator. */
export function registerAtecc608Transport(kind: Atecc608Spec['kind'], open: Atecc608TransportOpener): void {
  openers.set(kind, open)
}

/**
 * Opens the ATECC608 vault a spec's arguments (the part after `atecc608:`) describe.
 * @throws HopsealError VAULT_OPERATION_UNSUPPORTED for `sim=` where hil-sim (a development package) is not present.
 */
export async function openAtecc608Vault(args: string, _ctx: VaultFactoryContext): Promise<Vault> {
  const spec = parseAtecc608Spec(args)
  const ioProtectionKey = spec.ioKeyFile === undefined ? undefined : readIoKeyFile(spec.ioKeyFile)
  let transport: Transport
  if (spec.kind === 'sim') {
    if (!openers.has('sim')) await loadPlugins()
    const open = openers.get('sim')
    if (!open) throw new HopsealError(ErrorCode.VAULT_OPERATION_UNSUPPORTED, 'atecc608:sim= needs the simulator, hil-sim, a development package that is not in this installation (run hopseal from a clone of the repository)')
    transport = await open(spec)
  } else transport = await openAtecc608Transport(spec)
  return Atecc608Vault.open({ transport, name: spec.name, timeoutMs: spec.timeoutMs, ...(ioProtectionKey ? { ioProtectionKey } : {}) })
}

registerVaultFactory('atecc608', openAtecc608Vault, 'atecc608:kit=/dev/ttyACM0 | atecc608:i2c=1[,address=0x60] | atecc608:sim=STATEFILE[,seed=S][,timing=realtime] (optionally ,name=NAME,timeout=MS,iokey=FILE)')
