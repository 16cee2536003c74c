/**
 * Relays (forwarders): a device behind NAT or a broker registers an alias at a
 * relay node; messages routed to the alias follow the route stored at
 * registration (the registration's return route) to the device.
 *
 * Registration: send `alias` (UTF-8) to the relay node's `relay` service; it
 * answers with the alias address. Re-registering the same alias updates the
 * stored route (mobility). The number of aliases is bounded.
 */
import { ErrorCode, HopsealError } from '../errors.ts'
import { fromUtf8, utf8 } from '../bytes/index.ts'
import { local, type Address, type Route } from './address.ts'
import type { Node } from './node.ts'

export const RELAY_SERVICE = 'relay'
export const DEFAULT_MAX_ALIASES = 1024

export interface RelayServiceOptions {
  maxAliases?: number
  /** Aliases are created under this prefix (`fwd.` + alias). */
  prefix?: string
}

/** Starts the relay service on a node; returns the service address. */
export function startRelayService(node: Node, opts: RelayServiceOptions = {}): Address {
  const routes = new Map<string, Route>()
  const max = opts.maxAliases ?? DEFAULT_MAX_ALIASES
  const prefix = opts.prefix ?? 'fwd.'
  return node.startWorker(RELAY_SERVICE, async (ctx, msg) => {
    let alias: string
    try {
      alias = fromUtf8(msg.payload)
    } catch {
      node.count('drop.relay_bad_alias')
      return
    }
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(alias) || msg.returnRoute.length < 2) {
      node.count('drop.relay_bad_alias')
      return
    }
    const name = prefix + alias
    if (!routes.has(name)) {
      if (routes.size >= max) {
        node.count('drop.relay_full')
        return
      }
      node.startWorker(name, async (fctx, m) => {
        const stored = routes.get(name)!
        await fctx.forward({ onward: [...stored, ...m.onward], returnRoute: m.returnRoute, payload: m.payload })
      })
    }
    // The return route ends with the registering worker; the alias leads to its node,
    // and the sender's remaining onward route picks the worker there.
    routes.set(name, msg.returnRoute.slice(0, -1))
    node.count('relay.registered')
    await ctx.send(msg.returnRoute, utf8(name))
  })
}

/** Registers `alias` at a relay reachable by `relayRoute` (ending at its `relay` service); resolves with the alias address. */
export async function registerRelay(node: Node, relayRoute: Route, alias: string, timeoutMs = 5000): Promise<string> {
  const reply = node.newAddress('relay-reg.')
  return await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      node.stopWorker(reply)
      reject(new HopsealError(ErrorCode.TIMEOUT, `relay registration of ${alias} not answered in ${timeoutMs} ms`))
    }, timeoutMs)
    node.startWorker(reply, (_ctx, msg) => {
      clearTimeout(timer)
      node.stopWorker(reply)
      resolve(fromUtf8(msg.payload))
    })
    node.send([...relayRoute], utf8(alias), [reply]).catch((e: unknown) => {
      clearTimeout(timer)
      node.stopWorker(reply)
      reject(e as Error)
    })
  })
}

export { local as relayAlias }
