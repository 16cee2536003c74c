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
import { registerVaultFactory, type VaultFactoryContext } from '../../src/cli/vault-registry.ts'
import type { Vault } from '../../src/vault/index.ts'
import { Atecc608Vault, KitTransport, openAtecc608Transport, parseAtecc608Spec, type Transport } from '../../vaults/atecc608/index.ts'

/** Opens the ATECC608 vault a spec's arguments (the part after `atecc608:`) describe. */
export async function openAtecc608Vault(args: string, _ctx: VaultFactoryContext): Promise<Vault> {
  const spec = parseAtecc608Spec(args)
  let transport: Transport
  if (spec.kind === 'sim') {
    // loaded only for sim= so production hosts never load the simulator
    const { Atecc608Sim } = await import('../../hil-sim/atecc608/index.ts')
    const sim = Atecc608Sim.create({ stateFile: spec.target, seed: spec.seed, timing: spec.timing })
    transport = await KitTransport.open(sim.kitChannel())
  } else transport = await openAtecc608Transport(spec)
  return Atecc608Vault.open({ transport, name: spec.name, timeoutMs: spec.timeoutMs })
}

registerVaultFactory('atecc608', openAtecc608Vault, 'atecc608:kit=/dev/ttyACM0 | atecc608:i2c=1[,address=0x60] | atecc608:sim=STATEFILE[,seed=S][,timing=realtime] (optionally ,name=NAME,timeout=MS)')
