/**
 * ATECC608 protocol constants, in one place, each with its unit and source
 * (spec = ../shared/specs/atecc608-and-pkcs11.md Part A; [CAL] = cryptoauthlib).
 */

/** Opcodes (spec A3 table; [CAL calib_command.h]). */
export const Opcode = {
  READ: 0x02,
  WRITE: 0x12,
  NONCE: 0x16,
  LOCK: 0x17,
  RANDOM: 0x1b,
  COUNTER: 0x24,
  INFO: 0x30,
  GENKEY: 0x40,
  SIGN: 0x41,
  ECDH: 0x43,
  VERIFY: 0x45,
  SHA: 0x47,
  AES: 0x51,
  KDF: 0x56,
  SELFTEST: 0x77,
} as const
export type Opcode = (typeof Opcode)[keyof typeof Opcode]

/** I²C word-address bytes (spec A1 "Word address"). */
export const WordAddress = { RESET: 0x00, SLEEP: 0x01, IDLE: 0x02, COMMAND: 0x03 } as const

/** Device status bytes of a 4-byte response packet (spec A2 status table). */
export const Status = {
  SUCCESS: 0x00,
  MISCOMPARE: 0x01,
  PARSE_ERROR: 0x03,
  ECC_FAULT: 0x05,
  SELFTEST_ERROR: 0x07,
  HEALTH_TEST_ERROR: 0x08,
  EXECUTION_ERROR: 0x0f,
  WAKE: 0x11,
  WATCHDOG: 0xee,
  CRC_ERROR: 0xff,
} as const

export const STATUS_NAMES: Record<number, string> = {
  0x00: 'success',
  0x01: 'verify miscompare',
  0x03: 'parse error',
  0x05: 'ECC fault',
  0x07: 'self-test failure',
  0x08: 'RNG health-test error',
  0x0f: 'execution error',
  0x11: 'wake',
  0xee: 'watchdog about to expire',
  0xff: 'CRC or communication error',
}

/** Packet limits (spec A1; ATCA_CMD_SIZE_MIN/MAX, response sizes). */
export const CMD_SIZE_MIN = 7
export const CMD_SIZE_MAX = 151
export const RSP_SIZE_MIN = 4
/** Largest ECC response is 75 bytes; KDF with OutNonce reaches 99, so accept up to 151 like the command side. */
export const RSP_SIZE_MAX = 151

/** Zone selectors for Read/Write (spec A3). */
export const Zone = { CONFIG: 0x00, OTP: 0x01, DATA: 0x02 } as const
export const ZONE_READWRITE_32 = 0x80

/** Zone sizes in bytes (spec A3 "Zone sizes"). */
export const CONFIG_SIZE = 128
export const OTP_SIZE = 64
export function slotSize(slot: number): number {
  return slot < 8 ? 36 : slot === 8 ? 416 : 72
}
export const SLOT_COUNT = 16

/** Config-zone byte offsets (spec A3 "Config zone map"). */
export const ConfigOffset = {
  REVISION: 4,
  AES_ENABLE: 13,
  I2C_ENABLE: 14,
  I2C_ADDRESS: 16,
  CHIP_MODE: 19,
  SLOT_CONFIG: 20,
  USE_LOCK: 68,
  LOCK_VALUE: 86,
  LOCK_CONFIG: 87,
  SLOT_LOCKED: 88,
  CHIP_OPTIONS: 90,
  KEY_CONFIG: 96,
} as const
/** Lock bytes: 0x55 unlocked, 0x00 locked (spec A3). */
export const LOCK_UNLOCKED = 0x55
export const LOCK_LOCKED = 0x00

/** Nonce modes (spec A3 "Nonce"). */
export const NonceMode = {
  SEED_UPDATE: 0x00,
  NO_SEED_UPDATE: 0x01,
  PASSTHROUGH: 0x03,
  TARGET_TEMPKEY: 0x00,
  TARGET_MSGDIGBUF: 0x40,
  TARGET_ALTKEYBUF: 0x80,
  INPUT_64: 0x20,
} as const

/** GenKey modes (spec A3). `GENKEY_TEMPKEY` is param2 for a private key in TempKey (608 only). */
export const GenKeyMode = { PUBLIC: 0x00, PRIVATE: 0x04, DIGEST: 0x08, PUBKEY_DIGEST: 0x10, MAC: 0x20 } as const
export const GENKEY_TEMPKEY = 0xffff

/** Sign modes (spec A3): external message in TempKey (80) or in the message digest buffer (A0). */
export const SignMode = { INTERNAL: 0x00, INVALIDATE: 0x01, INCLUDE_SN: 0x40, EXTERNAL: 0x80, SOURCE_MSGDIGBUF: 0x20 } as const

/** Verify modes and the external key type (spec A3). */
export const VerifyMode = { STORED: 0x00, VALIDATE_EXTERNAL: 0x01, EXTERNAL: 0x02, VALIDATE: 0x03, INVALIDATE: 0x07, SOURCE_MSGDIGBUF: 0x20, MAC: 0x80 } as const
export const VERIFY_KEY_P256 = 0x0004

/** ECDH mode bits (spec A3 "ECDH"). */
export const EcdhMode = {
  SOURCE_TEMPKEY: 0x01,
  OUTPUT_ENCRYPTED: 0x02,
  COPY_COMPAT: 0x00,
  COPY_SLOT: 0x04,
  COPY_TEMPKEY: 0x08,
  COPY_OUTPUT: 0x0c,
  /** 0C: stored key, clear output (the mode the vault uses). */
  SLOT_CLEAR: 0x0c,
  /** 0D: TempKey private key, clear output (ephemeral in TempKey). */
  TEMPKEY_CLEAR: 0x0d,
} as const

/** SHA modes (spec A3). */
export const ShaMode = { START: 0x00, UPDATE: 0x01, END: 0x02, PUBLIC: 0x03, HMAC_START: 0x04, READ_CONTEXT: 0x06, WRITE_CONTEXT: 0x07, TARGET_TEMPKEY: 0x00, TARGET_MSGDIGBUF: 0x40, TARGET_OUTPUT: 0xc0 } as const

/** Lock modes (spec A3). */
export const LockMode = { CONFIG: 0x00, DATA: 0x01, SLOT: 0x02, NO_CRC: 0x80 } as const

/** Counter modes (spec A3). Counters saturate at 2 097 151. */
export const CounterMode = { READ: 0x00, INCREMENT: 0x01 } as const
export const COUNTER_MAX = 2_097_151

/** AES modes (spec A3). */
export const AesMode = { ENCRYPT: 0x00, DECRYPT: 0x01, GFM: 0x03 } as const

/** SelfTest bitmask (spec A3): RNG 01, ECDSA 04, ECDH 08, AES 10, SHA 20; 3B = all. */
export const SELFTEST_ALL = 0x3b

/** Info modes (spec A3). */
export const InfoMode = { REVISION: 0x00, KEY_VALID: 0x01, STATE: 0x02, GPIO: 0x03, VOLATILE_KEY_PERMIT: 0x04 } as const

/**
 * Maximum execution times at clock divider M0, in ms (spec A3 table; [CAL]
 * device_execution_time_608_m0). The driver uses them as the KIT reply timeout
 * floor; the simulator uses them in `realtime` mode.
 */
export const EXEC_TIME_M0_MS: Record<number, number> = {
  [Opcode.INFO]: 5,
  [Opcode.RANDOM]: 23,
  [Opcode.NONCE]: 20,
  [Opcode.GENKEY]: 115,
  [Opcode.SIGN]: 115,
  [Opcode.VERIFY]: 105,
  [Opcode.ECDH]: 75,
  [Opcode.SHA]: 36,
  [Opcode.READ]: 5,
  [Opcode.WRITE]: 45,
  [Opcode.LOCK]: 35,
  [Opcode.AES]: 27,
  [Opcode.KDF]: 165,
  [Opcode.SELFTEST]: 250,
  [Opcode.COUNTER]: 25,
}

/** Timing (spec A2). */
export const Timing = {
  /** tWLO: SDA held low for a wake, µs. */
  WAKE_LOW_US: 60,
  /** tWHI: wait after the wake pulse before talking, µs ([CAL] wake_delay). */
  WAKE_HIGH_US: 1500,
  /** First poll after a command is sent, ms (ATCA_POLLING_INIT_TIME_MSEC). */
  POLL_INIT_MS: 1,
  /** Poll period, ms (ATCA_POLLING_FREQUENCY_TIME_MSEC). */
  POLL_PERIOD_MS: 2,
  /** Give up polling after this long, ms (ATCA_POLLING_MAX_TIME_MSEC). */
  POLL_MAX_MS: 2500,
  /** Watchdog at ChipMode bit 2 = 0 / 1, ms (spec A2 "Watchdog"). */
  WATCHDOG_SHORT_MS: 1300,
  WATCHDOG_LONG_MS: 13000,
} as const

/** Default 7-bit I²C address (spec A1); cryptoauthlib writes it as 0xC0 (8-bit form). */
export const DEFAULT_I2C_ADDRESS = 0x60

/** Retries of one command or command sequence on CRC errors, watchdog and ECC-fault statuses. */
export const DEFAULT_RETRIES = 3
