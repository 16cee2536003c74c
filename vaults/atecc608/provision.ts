/**
 * Provisioning (issue 7 "Vault"; docs/hardware.md): writes hopseal's
 * configuration (./config.ts), locks the config zone with its summary CRC,
 * writes an empty slot map (and, when asked, an I/O protection key), locks the
 * data and OTP zones, and optionally generates labelled persistent keys.
 * Locking is IRREVERSIBLE on silicon, so nothing is written without
 * `confirmIrreversible: true`.
 *
 * Only generic commands are used (Read, Write config, Lock config, Write data,
 * Lock data, GenKey): `configWriteCommands` and `dataWriteCommands` are the
 * plan, shared with the simulator, which provisions its default device with
 * exactly these packets instead of setting its lock bytes directly.
 *
 * Config write rules (spec A3, `calib_write_config_zone`): bytes 0–15 are never
 * written; blocks 1 and 3 go as 32-byte writes, blocks 0 and 2 word by word;
 * bytes 84–87 (UserExtra, lock bytes) are skipped.
 */
import { ErrorCode, HopsealError } from '../../src/errors.ts'
import { toHex } from '../../src/bytes/index.ts'
import { Zone } from './constants.ts'
import * as C from './commands.ts'
import { ConfigZone, HOPSEAL_IO_KEY_SLOT, HOPSEAL_MAP_SLOT, hopsealConfig } from './config.ts'
import { atcaCrc16 } from './crc.ts'
import { Atecc608Device, type DeviceOptions } from './device.ts'
import { encodeSlotMap } from './slot-map.ts'
import type { Transport } from './transport.ts'
import { Atecc608Vault, readConfigZone } from './vault.ts'

export interface ProvisionOptions extends DeviceOptions {
  transport: Transport
  /** Must be true: locking the zones cannot be undone on a real chip. */
  confirmIrreversible: boolean
  /** Config to write (bytes 16–127 are used); default hopseal's. */
  config?: Uint8Array
  /** Labels of persistent P-256 keys to generate after locking (e.g. ['identity', 'noise-static']). */
  keys?: string[]
  /**
   * A 32-byte I/O protection key to write into the configuration's I/O key slot
   * before the data lock (with no `config`, hopseal's configuration with the
   * key in slot 9 and encrypted ECDH output). Keep a copy: the vault needs it
   * (Atecc608VaultOptions.ioProtectionKey), and it can never be read back.
   */
  ioProtectionKey?: Uint8Array
  signal?: AbortSignal
}

/** The Write commands that put bytes 16–127 of `target` (but 84–87) into the config zone, in `calib_write_config_zone`'s order. */
export function configWriteCommands(target: Uint8Array): C.Command[] {
  if (!(target instanceof Uint8Array) || target.length !== 128) throw new HopsealError(ErrorCode.INVALID_LENGTH, 'config expected 128 bytes')
  const out: C.Command[] = []
  // block 0: words 4–7 (bytes 16–31); block 1: 32 bytes; block 2: words except 5 (84–87); block 3: 32 bytes
  for (let w = 4; w < 8; w++) out.push(C.write(Zone.CONFIG, C.zoneAddress(0, w), target.slice(w * 4, w * 4 + 4)))
  out.push(C.write(Zone.CONFIG, C.zoneAddress(1), target.slice(32, 64)))
  for (let w = 0; w < 8; w++) if (w !== 5) out.push(C.write(Zone.CONFIG, C.zoneAddress(2, w), target.slice(64 + w * 4, 68 + w * 4)))
  out.push(C.write(Zone.CONFIG, C.zoneAddress(3), target.slice(96, 128)))
  return out
}

/**
 * The data-zone writes made between the config lock and the data lock: an
 * empty slot map in block 0 of the map slot and, when given, the I/O
 * protection key in block 0 of the slot ChipOptions names.
 * @throws INVALID_ARGUMENT for a key the configuration has no slot for
 */
export function dataWriteCommands(config: ConfigZone, opts: { ioProtectionKey?: Uint8Array } = {}): C.Command[] {
  const empty = new Uint8Array(32)
  empty.set(encodeSlotMap([]))
  const out = [C.write(Zone.DATA, C.dataAddress(HOPSEAL_MAP_SLOT, 0), empty)]
  if (opts.ioProtectionKey !== undefined) {
    const slot = config.ioProtectionKeySlot
    if (slot === undefined) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'an I/O protection key was given but the configuration does not enable one (ChipOptions bit 1)')
    if (!(opts.ioProtectionKey instanceof Uint8Array) || opts.ioProtectionKey.length !== 32) throw new HopsealError(ErrorCode.INVALID_LENGTH, 'ioProtectionKey expected 32 bytes')
    out.push(C.write(Zone.DATA, C.dataAddress(slot, 0), opts.ioProtectionKey.slice()))
  }
  return out
}

export interface ProvisionReport {
  serialNumber: string
  revision: string
  /** What was done: 'config-written', 'config-locked', 'map-written', 'io-key-written', 'data-locked', 'already-provisioned'. */
  steps: string[]
  keySlots: number[]
  mapSlot: number
  keys: { label: string; slot: string; publicKey: string }[]
}

/**
 * Provisions a device. Idempotent: a device already locked with a compatible
 * configuration is left as it is (and keys are generated if asked and absent).
 * @throws INVALID_ARGUMENT without `confirmIrreversible`; VAULT_DEVICE_ERROR when the
 *   device is locked with a configuration that has no key slots or map slot.
 */
export async function provision(opts: ProvisionOptions): Promise<ProvisionReport> {
  if (opts.confirmIrreversible !== true) {
    throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'provisioning locks the ATECC608 config and data zones forever: pass confirmIrreversible: true (CLI: --yes-lock-forever)')
  }
  const target = opts.config ?? hopsealConfig(opts.ioProtectionKey !== undefined ? { ioProtectionKeySlot: HOPSEAL_IO_KEY_SLOT } : {})
  const writes = configWriteCommands(target)
  const device = new Atecc608Device(opts.transport, opts)
  const steps: string[] = []
  let cfg = new ConfigZone(await readConfigZone(device, opts.signal))
  if (!cfg.configLocked) {
    await device.transaction(
      async (s) => {
        for (const w of writes) await s.run(w)
      },
      { signal: opts.signal },
    )
    steps.push('config-written')
    const written = await readConfigZone(device, opts.signal)
    for (let i = 16; i < 128; i++) {
      if (i >= 84 && i < 88) continue
      if (written[i] !== target[i]) throw new HopsealError(ErrorCode.VAULT_DEVICE_ERROR, `config byte ${i} reads back 0x${written[i]!.toString(16)}, wrote 0x${target[i]!.toString(16)}`)
    }
    // Lock with the summary CRC of what the device holds, so a bit flipped in transit cannot be locked in
    await device.transaction((s) => s.run(C.lockConfig(atcaCrc16(written))), { signal: opts.signal })
    steps.push('config-locked')
    cfg = new ConfigZone(await readConfigZone(device, opts.signal))
  }
  const keySlots = cfg.keySlots()
  if (keySlots.length === 0 || !cfg.isClearDataSlot(HOPSEAL_MAP_SLOT)) {
    throw new HopsealError(ErrorCode.VAULT_DEVICE_ERROR, 'the device is locked with a configuration that has no hopseal key slots or no clear slot-map slot 8')
  }
  if (!cfg.dataLocked) {
    const dataWrites = dataWriteCommands(cfg, { ioProtectionKey: opts.ioProtectionKey })
    await device.transaction(
      async (s) => {
        for (const w of dataWrites) await s.run(w)
      },
      { signal: opts.signal },
    )
    steps.push('map-written')
    if (opts.ioProtectionKey !== undefined) steps.push('io-key-written')
    // data-zone CRC would need the factory contents of every slot: lock without it (mode 81)
    await device.transaction((s) => s.run(C.lockData()), { signal: opts.signal })
    steps.push('data-locked')
  }
  if (steps.length === 0) steps.push('already-provisioned')
  const vault = await Atecc608Vault.open({ ...opts, transport: opts.transport, ioProtectionKey: opts.ioProtectionKey })
  const keys: ProvisionReport['keys'] = []
  for (const label of opts.keys ?? []) {
    const h = (await vault.findKey(label)) ?? (await vault.generateKey('p256', { label, persistent: true, signal: opts.signal }))
    keys.push({ label, slot: h.id, publicKey: toHex(await vault.publicKey(h)) })
  }
  return { serialNumber: toHex(cfg.serialNumber), revision: toHex(cfg.revision), steps, keySlots, mapSlot: HOPSEAL_MAP_SLOT, keys }
}
