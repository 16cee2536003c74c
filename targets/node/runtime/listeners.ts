/**
 * Secure-channel listeners from the config, each with a built-in service
 * behind it:
 * - `echo`: sends every message back on the same channel (a liveness check
 *   an operator or a test can run end to end through the whole chain);
 * - `log`: logs who sent how many bytes; never the payload (it is the
 *   application's plaintext, not the operator's business).
 *
 * The listener's static key stays in the vault: only its public key and a
 * DH function reach the channel layer (vaultStaticKey).
 */
import { toHex } from '../../../src/bytes/index.ts'
import { knownPeers, startSecureChannelListener, type SecureChannelListener } from '../../../src/channel/secure-channel.ts'
import type { PeerInfo } from '../../../src/channel/auth.ts'
import type { SecureChannel } from '../../../src/channel/channel.ts'
import { ErrorCode, HopsealError } from '../../../src/errors.ts'
import { parseProtocolName, vaultStaticKey } from '../../../src/noise/index.ts'
import type { Node } from '../../../src/routing/node.ts'
import type { Clock } from '../../../src/time/clock.ts'
import type { Vault } from '../../../src/vault/index.ts'
import type { ListenerConfig, NodeConfig } from './config-types.ts'
import type { Logger } from './logger.ts'
import { REFUSAL_LOG_INTERVAL_MS } from './constants.ts'

export interface RunningListener {
  readonly config: ListenerConfig
  readonly listener: SecureChannelListener
}

/**
 * Logs refused handshakes at info (they are silent on the wire, so the log is
 * where an operator finds out why a device cannot connect): the first of each
 * code per minute, then how many more were refused, so a flood of bogus
 * flights costs a few lines.
 */
function refusalLog(log: Logger, listener: string, clock: Clock): (code: string, error: unknown) => void {
  const seen = new Map<string, { at: number; more: number }>()
  return (code, error) => {
    const now = clock.now()
    const s = seen.get(code)
    if (s && now - s.at < REFUSAL_LOG_INTERVAL_MS) {
      s.more++
      return
    }
    seen.set(code, { at: now, more: 0 })
    const reason = error instanceof Error ? error.message.replace(/^[A-Z_]+: /, '') : String(error)
    log.info('handshake refused', { listener, code, reason, ...(s?.more ? { alsoRefused: s.more } : {}) })
  }
}

/** A short public fingerprint of a peer for logs: its identifier, else the first 8 bytes of its static public key. */
export function peerLabel(peer: PeerInfo): string {
  return peer.identifier ?? toHex(peer.staticKey.subarray(0, 8))
}

/**
 * Starts one listener.
 * @throws HopsealError VAULT_KEY_NOT_FOUND (no such label), VAULT_KEY_TYPE_UNSUPPORTED
 *   (the key does not fit the protocol's DH), each naming the config key and the fix.
 */
export async function startListener(node: Node, vault: Vault, l: ListenerConfig, index: number, c: NodeConfig, log: Logger, clock: Clock): Promise<RunningListener> {
  const protocol = parseProtocolName(l.protocol)
  const where = `${c.file}: listeners[${index}].key`
  const handle = await vault.findKey(l.key)
  if (!handle) {
    throw new HopsealError(ErrorCode.VAULT_KEY_NOT_FOUND, `${where}: no key labelled ${JSON.stringify(l.key)} in vault ${vault.name} (fix: hopseal vault keygen --type ${protocol.keyType} --label ${l.key} --vault <the config's vault spec>)`)
  }
  if (handle.type !== protocol.keyType) {
    throw new HopsealError(ErrorCode.VAULT_KEY_TYPE_UNSUPPORTED, `${where}: key ${JSON.stringify(l.key)} is ${handle.type} but ${protocol.name} needs ${protocol.keyType} (fix: use a ${protocol.keyType} key or a ${handle.type === 'p256' ? 'P256' : '25519'} protocol)`)
  }
  const s = await vaultStaticKey(vault, handle)
  const deliverTo = (payload: Uint8Array, peer: PeerInfo, channel: SecureChannel): void => {
    if (l.service === 'echo') {
      channel.send(payload).catch((e: unknown) => {
        node.count('service.echo_failed')
        log.debug('echo reply failed', { listener: l.address, peer: peerLabel(peer), err: e })
      })
    } else {
      log.info('message', { listener: l.address, peer: peerLabel(peer), bytes: payload.length })
    }
  }
  const listener = startSecureChannelListener(node, l.address, {
    protocol,
    s,
    auth: knownPeers(l.knownPeers.map((p) => ({ staticKey: p.staticKey, ...(p.name ? { identifier: p.name } : {}) }))),
    deliverTo,
    // Patterns whose initiator static is known in advance (K…) try each known key on message 1.
    ...(protocol.pattern.name.startsWith('K') ? { initiatorStatics: l.knownPeers.map((p) => p.staticKey) } : {}),
    maxPending: c.limits.maxPending,
    maxChannelsPerPeer: c.limits.maxChannelsPerPeer,
    reliable: l.reliable,
    medium: l.medium,
    clock,
    onHandshakeFailed: refusalLog(log, l.address, clock),
  })
  log.info('listener started', { address: l.address, protocol: protocol.name, service: l.service, peers: l.knownPeers.length, label: l.key })
  return { config: l, listener }
}
