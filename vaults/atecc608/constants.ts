/**
 * ATECC608 protocol constants, in one place, each with its unit and source
 * (spec = ../shared/specs/atecc608-and-pkcs11.md Part A; [CAL] = cryptoauthlib).
 */

/** Opcodes (spec A3 table; [CAL calib_command.h]). */
export const Opcode = {
  READ: 0x02,
  MAC: 0x08,
  /** ATSHA204A/ATECC508A only: the 608 has no HMAC command (SHA HMAC mode instead). */
  HMAC: 0x11,
  WRITE: 0x12,
  GENDIG: 0x15,
  NONCE: 0x16,
  LOCK: 0x17,
  RANDOM: 0x1b,
  DERIVE_KEY: 0x1c,
  UPDATE_EXTRA: 0x20,
  COUNTER: 0x24,
  CHECKMAC: 0x28,
  INFO: 0x30,
  GENKEY: 0x40,
  SIGN: 0x41,
  ECDH: 0x43,
  VERIFY: 0x45,
  PRIVWRITE: 0x46,
  SHA: 0x47,
  AES: 0x51,
  KDF: 0x56,
  SELFTEST: 0x77,
  SECUREBOOT: 0x80,
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
  COUNT_MATCH: 18,
  CHIP_MODE: 19,
  SLOT_CONFIG: 20,
  /** Counter[0] bytes 52–59, Counter[1] bytes 60–67 (monotonic counters, spec A3 config map). */
  COUNTER0: 52,
  COUNTER1: 60,
  USE_LOCK: 68,
  VOLATILE_KEY_PERMISSION: 69,
  SECURE_BOOT: 70,
  KDF_IV_LOC: 72,
  KDF_IV_STR: 73,
  USER_EXTRA: 84,
  USER_EXTRA_ADD: 85,
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
  [Opcode.CHECKMAC]: 40,
  [Opcode.DERIVE_KEY]: 50,
  [Opcode.GENDIG]: 25,
  [Opcode.MAC]: 55,
  [Opcode.PRIVWRITE]: 50,
  [Opcode.SECUREBOOT]: 80,
  [Opcode.UPDATE_EXTRA]: 10,
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

/**
 * Maximum execution times at clock dividers M1 and M2, in ms ([CAL]
 * device_execution_time_608_m1/m2; the same tables as at-cryptoauth's
 * clock_divider.rs). M1/M2 slow the ECC engine (GenKey, Sign, Verify, ECDH,
 * SecureBoot, SelfTest) and SHA/GenDig; the other commands keep their M0 time.
 */
export const EXEC_TIME_M1_MS: Record<number, number> = {
  ...EXEC_TIME_M0_MS,
  [Opcode.GENDIG]: 35,
  [Opcode.SECUREBOOT]: 160,
  [Opcode.GENKEY]: 215,
  [Opcode.SIGN]: 220,
  [Opcode.VERIFY]: 295,
  [Opcode.ECDH]: 172,
  [Opcode.SHA]: 42,
  [Opcode.SELFTEST]: 625,
}
export const EXEC_TIME_M2_MS: Record<number, number> = {
  ...EXEC_TIME_M0_MS,
  [Opcode.GENDIG]: 35,
  [Opcode.SECUREBOOT]: 480,
  [Opcode.GENKEY]: 653,
  [Opcode.SIGN]: 665,
  [Opcode.VERIFY]: 1085,
  [Opcode.ECDH]: 531,
  [Opcode.SHA]: 75,
  [Opcode.SELFTEST]: 2324,
}

/** ChipMode (config byte 19) bits 7:3, the clock divider (spec A3 config map): M0 00, M1 28, M2 68. */
export const ClockDivider = { M0: 0x00, M1: 0x28, M2: 0x68 } as const
export const CHIPMODE_CLOCK_DIV_MASK = 0xf8

/**
 * The maximum execution time table for a ChipMode byte, chosen as
 * cryptoauthlib's calib_execution does: M1 and M2 by their exact divider
 * value, anything else M0.
 */
export function execTimeTable(chipMode: number): Record<number, number> {
  const div = chipMode & CHIPMODE_CLOCK_DIV_MASK
  return div === ClockDivider.M1 ? EXEC_TIME_M1_MS : div === ClockDivider.M2 ? EXEC_TIME_M2_MS : EXEC_TIME_M0_MS
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

/** GenDig zones (param1) ([CAL] GENDIG_ZONE_*). */
export const GenDigZone = { CONFIG: 0, OTP: 1, DATA: 2, SHARED_NONCE: 3, COUNTER: 4, KEY_CONFIG: 5 } as const

/** MAC / CheckMac mode bits ([CAL] MAC_MODE_*, CHECKMAC_MODE_*). */
export const MacMode = { BLOCK2_TEMPKEY: 0x01, BLOCK1_TEMPKEY: 0x02, SOURCE_FLAG_MATCH: 0x04, INCLUDE_OTP_88: 0x10, INCLUDE_OTP_64: 0x20, INCLUDE_SN: 0x40 } as const
/** Valid MAC mode bits (bits 3 and 7 are 0). */
export const MAC_MODE_MASK = 0x77
/** Valid CheckMac mode bits (bits 3, 4, 6 and 7 are 0). */
export const CHECKMAC_MODE_MASK = 0x27

/** DeriveKey param1 bit 2: must match TempKey.SourceFlag ([CAL] DERIVE_KEY_RANDOM_FLAG). */
export const DERIVE_KEY_RANDOM_FLAG = 0x04

/** UpdateExtra modes: 00 UserExtra (byte 84), 01 UserExtraAdd (byte 85). */
export const UpdateExtraMode = { USER_EXTRA: 0x00, USER_EXTRA_ADD: 0x01 } as const

/** PrivWrite param1: 00 clear (only before the data lock), 40 encrypted with a MAC. */
export const PRIVWRITE_ENCRYPT = 0x40

/** Write param1 bit 6: encrypted data followed by a 32-byte MAC. */
export const WRITE_ENCRYPTED = 0x40

/** KDF mode fields and details bits ([CAL] KDF_MODE_*, KDF_DETAILS_*). */
export const KdfMode = {
  SOURCE_TEMPKEY: 0x00,
  SOURCE_TEMPKEY_UP: 0x01,
  SOURCE_SLOT: 0x02,
  SOURCE_ALTKEYBUF: 0x03,
  TARGET_TEMPKEY: 0x00,
  TARGET_TEMPKEY_UP: 0x04,
  TARGET_SLOT: 0x08,
  TARGET_ALTKEYBUF: 0x0c,
  TARGET_OUTPUT: 0x10,
  TARGET_OUTPUT_ENC: 0x14,
  ALG_PRF: 0x00,
  ALG_AES: 0x20,
  ALG_HKDF: 0x40,
} as const
export const KdfDetails = {
  PRF_KEY_LEN_16: 0x000,
  PRF_KEY_LEN_32: 0x001,
  PRF_KEY_LEN_48: 0x002,
  PRF_KEY_LEN_64: 0x003,
  PRF_TARGET_LEN_64: 0x100,
  PRF_AEAD_MODE1: 0x200,
  HKDF_MSG_LOC_SLOT: 0x0,
  HKDF_MSG_LOC_TEMPKEY: 0x1,
  HKDF_MSG_LOC_INPUT: 0x2,
  HKDF_MSG_LOC_IV: 0x3,
  HKDF_ZERO_KEY: 0x4,
} as const

/** SecureBoot modes ([CAL] SECUREBOOT_MODE_*): 05 Full, 06 FullStore, 07 FullCopy; flags 40 prohibit, 80 encrypted digest + MAC. */
export const SecureBootMode = { FULL: 0x05, FULL_STORE: 0x06, FULL_COPY: 0x07, PROHIBIT: 0x40, ENC_MAC: 0x80 } as const
/** SecureBootConfig bits 1:0 (config bytes 70–71): disabled, FullBoth, FullSig, FullDig. */
export const SecureBootConfigMode = { DISABLED: 0, FULL_BOTH: 1, FULL_SIG: 2, FULL_DIG: 3 } as const

/** Info mode 04 param2: 0000 read the persistent latch, 0002 clear it, 0003 set it ([CAL] INFO_PARAM2_*). */
export const InfoLatch = { READ: 0x0000, CLEAR: 0x0002, SET: 0x0003 } as const

/** Nonce param2 bit 15: TempKey calculation mode (the new TempKey is returned instead of the RNG output). */
export const NONCE_CALC_TEMPKEY = 0x8000
