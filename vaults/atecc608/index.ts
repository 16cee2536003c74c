/**
 * hopseal ATECC608 backend: the vault, its two physical layers (KIT protocol
 * over a serial port, Linux i2c-dev), provisioning, and the packet-level
 * pieces (CRC, packets, commands) the simulator and tests share.
 */
export { Atecc608Vault, readConfigZone, type Atecc608VaultOptions, type TempKeyEphemeral } from './vault.ts'
export { Atecc608Device, type DeviceOptions, type Session } from './device.ts'
export { KitTransport, LineReader, parseKitReply, type ByteChannel, type KitReply, type KitTransportOptions } from './kit-transport.ts'
export { I2cTransport, openI2cDevBus, type I2cBus, type I2cTransportOptions } from './i2c-transport.ts'
export { openSerialChannel } from './serial.ts'
export { provision, type ProvisionOptions, type ProvisionReport } from './provision.ts'
export { atcaCrc16, checkCrc } from './crc.ts'
export { buildCommand, buildResponse, parseResponse, statusPacket, DeviceStatusError, type Response } from './packet.ts'
export * as commands from './commands.ts'
export { ConfigZone, hopsealConfig, REFERENCE_CONFIG, HOPSEAL_KEY_SLOTS, HOPSEAL_MAP_SLOT } from './config.ts'
export { decodeSlotMap, encodeSlotMap, type SlotMapEntry } from './slot-map.ts'
export { Opcode, Status, EXEC_TIME_M0_MS, DEFAULT_I2C_ADDRESS } from './constants.ts'
export type { Transport } from './transport.ts'
export { parseAtecc608Spec, openAtecc608Transport, readIoKeyFile, type Atecc608Spec } from './spec.ts'
export * as host from './host.ts'
export { configWriteCommands, dataWriteCommands } from './provision.ts'
