/**
 * The `atecc608:` vault spec (targets/node/vault-atecc608.ts, docs/hardware.md):
 * `kit=/dev/ttyACM0[,address=0xC0]`, `i2c=1[,address=0x60]`, or
 * `sim=STATEFILE[,seed=S][,timing=realtime|max|instant]` (the simulator, opened by the
 * target), plus `name=NAME`, `timeout=MS`, `iokey=FILE` (the chip's I/O protection
 * key, 64 hex digits: ECDH output then crosses the bus encrypted).
 */
import { readFileSync } from 'node:fs'
import { ErrorCode, HopsealError } from '../../src/errors.ts'
import { I2cTransport, openI2cDevBus } from './i2c-transport.ts'
import { KitTransport } from './kit-transport.ts'
import { openSerialChannel } from './serial.ts'
import type { Transport } from './transport.ts'

export interface Atecc608Spec {
  kind: 'kit' | 'i2c' | 'sim'
  /** Serial path (kit), bus number (i2c) or state file (sim). */
  target: string
  address?: number
  name?: string
  timeoutMs?: number
  seed?: string
  timing?: 'instant' | 'realtime' | 'max'
  /** File holding the I/O protection key (64 hex digits). */
  ioKeyFile?: string
}

const KEYS = new Set(['kit', 'i2c', 'sim', 'address', 'name', 'timeout', 'seed', 'timing', 'iokey'])

/** Parses the part after `atecc608:`. @throws INVALID_ARGUMENT with the reason. */
export function parseAtecc608Spec(args: string): Atecc608Spec {
  const kv = new Map<string, string>()
  for (const part of args.split(',')) {
    if (!part) continue
    const eq = part.indexOf('=')
    const k = eq < 0 ? part : part.slice(0, eq)
    if (!KEYS.has(k)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `atecc608 option ${k} unknown (expected kit=, i2c=, sim=, address=, name=, timeout=, seed=, timing=, iokey=)`)
    if (kv.has(k)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `atecc608 option ${k} given twice`)
    kv.set(k, eq < 0 ? '' : part.slice(eq + 1))
  }
  const kinds = (['kit', 'i2c', 'sim'] as const).filter((k) => kv.has(k))
  if (kinds.length !== 1) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'atecc608 spec needs exactly one of kit=PATH, i2c=BUS or sim=STATEFILE')
  const kind = kinds[0]!
  const target = kv.get(kind)!
  if (!target) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `atecc608 ${kind}= needs a value`)
  if (kind === 'i2c' && !/^\d{1,3}$/.test(target)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `atecc608 i2c= expected a bus number, got ${target}`)
  const spec: Atecc608Spec = { kind, target }
  const addr = kv.get('address')
  if (addr !== undefined) {
    const n = /^0x[0-9a-f]{1,2}$/i.test(addr) ? parseInt(addr, 16) : /^\d{1,3}$/.test(addr) ? Number(addr) : NaN
    if (!(n >= 0 && n <= 0xff)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `atecc608 address= expected a byte such as 0x60, got ${addr}`)
    spec.address = n
  }
  const t = kv.get('timeout')
  if (t !== undefined) {
    if (!/^\d{1,6}$/.test(t) || Number(t) < 10) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `atecc608 timeout= expected 10..999999 ms, got ${t}`)
    spec.timeoutMs = Number(t)
  }
  if (kv.has('name')) spec.name = kv.get('name')
  const io = kv.get('iokey')
  if (io !== undefined) {
    if (!io) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'atecc608 iokey= needs a file name')
    spec.ioKeyFile = io
  }
  if (kv.has('seed')) spec.seed = kv.get('seed')
  const timing = kv.get('timing')
  if (timing !== undefined) {
    if (timing !== 'instant' && timing !== 'realtime' && timing !== 'max') throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'atecc608 timing= expected instant, realtime or max')
    spec.timing = timing
  }
  return spec
}

/**
 * The I/O protection key in `path`: 64 hex digits (e.g. `openssl rand -hex 32 > io.key`).
 * @throws VAULT_TOKEN_ABSENT when the file cannot be read; INVALID_LENGTH when it holds anything else.
 */
export function readIoKeyFile(path: string): Uint8Array {
  let text: string
  try {
    text = readFileSync(path, 'utf8').trim()
  } catch (e) {
    throw new HopsealError(ErrorCode.VAULT_TOKEN_ABSENT, `cannot read the I/O protection key file ${path}: ${(e as Error).message}`, { cause: e })
  }
  if (!/^[0-9a-fA-F]{64}$/.test(text)) throw new HopsealError(ErrorCode.INVALID_LENGTH, `${path}: an I/O protection key is 64 hex digits (32 bytes)`)
  return Uint8Array.from(Buffer.from(text, 'hex'))
}

/**
 * Opens the physical layer of a `kit` or `i2c` spec. KIT addresses are the
 * 8-bit form (0xC0), I²C addresses the 7-bit form (0x60), as each world writes them.
 */
export async function openAtecc608Transport(spec: Atecc608Spec, signal?: AbortSignal): Promise<Transport> {
  if (spec.kind === 'kit') return KitTransport.open(await openSerialChannel(spec.target), { address: spec.address, signal })
  if (spec.kind === 'i2c') return new I2cTransport(await openI2cDevBus(Number(spec.target)), { address: spec.address })
  throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'the simulator transport is opened by the node target (sim=)')
}
