/** Boundary checks every backend applies the same way (labelled, typed errors). */
import { ErrorCode, HopsealError } from '../errors.ts'
import { KEY_USAGE, type KeyHandle, type KeyType, type Vault } from './types.ts'

const KEY_TYPES: readonly KeyType[] = ['ed25519', 'x25519', 'p256']

export function checkKeyType(vault: Vault, type: unknown, op?: 'sign' | 'ecdh'): asserts type is KeyType {
  if (!KEY_TYPES.includes(type as KeyType)) throw new HopsealError(ErrorCode.VAULT_KEY_TYPE_UNSUPPORTED, `key type ${String(type)} unknown (expected ed25519, x25519 or p256)`)
  const caps = vault.capabilities()
  const t = type as KeyType
  if (!caps.sign.includes(t) && !caps.ecdh.includes(t)) throw new HopsealError(ErrorCode.VAULT_KEY_TYPE_UNSUPPORTED, `vault ${vault.name} does not support ${t} keys`)
  if (op && (!KEY_USAGE[t][op] || !caps[op].includes(t))) throw new HopsealError(ErrorCode.VAULT_OPERATION_UNSUPPORTED, `vault ${vault.name} cannot ${op} with ${t} keys`)
}

export function checkHandle(vault: Vault, h: unknown, op?: 'sign' | 'ecdh'): asserts h is KeyHandle {
  const k = h as KeyHandle | null
  if (!k || typeof k !== 'object' || typeof k.id !== 'string' || typeof k.type !== 'string') throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'key handle expected a KeyHandle')
  if (k.vault !== vault.name) throw new HopsealError(ErrorCode.VAULT_KEY_NOT_FOUND, `key handle belongs to vault ${k.vault}, not ${vault.name}`)
  if (op && !KEY_USAGE[k.type][op]) throw new HopsealError(ErrorCode.VAULT_OPERATION_UNSUPPORTED, `${k.type} keys cannot ${op}`)
}

export function checkMessage(label: string, m: unknown): asserts m is Uint8Array {
  if (!(m instanceof Uint8Array)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `${label} expected Uint8Array`)
}

export function checkRandomLength(n: unknown, max = 1024): asserts n is number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > max) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, `random n expected 0..${max}, got ${String(n)}`)
}

export function checkPeerPublicFor(type: KeyType, peer: unknown): asserts peer is Uint8Array {
  if (!(peer instanceof Uint8Array)) throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'peerPublic expected Uint8Array')
  if (type === 'x25519' && peer.length !== 32) throw new HopsealError(ErrorCode.INVALID_POINT, `peerPublic expected 32 bytes, got ${peer.length}`)
  if (type === 'p256' && peer.length !== 33 && peer.length !== 65) throw new HopsealError(ErrorCode.INVALID_POINT, `P-256 peerPublic expected 33 or 65 bytes, got ${peer.length}`)
}

export function checkLabel(label: unknown): asserts label is string | undefined {
  if (label === undefined) return
  if (typeof label !== 'string' || label.length === 0 || label.length > 64 || !/^[\x20-\x7e]+$/.test(label)) {
    throw new HopsealError(ErrorCode.INVALID_ARGUMENT, 'label expected 1..64 printable ASCII characters')
  }
}
