/**
 * Drives the Noise engine with a Noise test vector (cacophony/snow/noise-c
 * format; vectors/README.md): both roles, every handshake and transport
 * message byte, and the handshake hash when present.
 */
import assert from 'node:assert/strict'
import { fromHex, toHex } from '../../src/bytes/index.ts'
import type { CryptoProvider } from '../../targets/node/crypto/index.ts'
import { HandshakeState, parseProtocolName, softwareStaticKey, type NoiseProtocol, type TransportState } from '../../src/noise/index.ts'
import { isHopsealError } from '../../src/errors.ts'

export interface NoiseVector {
  protocol_name?: string
  name?: string
  init_prologue: string
  init_psks?: string[]
  init_static?: string
  init_ephemeral: string
  init_remote_static?: string
  init_remote_ephemeral?: string
  resp_prologue: string
  resp_psks?: string[]
  resp_static?: string
  resp_ephemeral?: string
  resp_remote_static?: string
  resp_remote_ephemeral?: string
  handshake_hash?: string
  messages: { payload: string; ciphertext: string }[]
}

export function vectorName(v: NoiseVector): string {
  return (v.protocol_name ?? v.name)!
}

/** The parsed protocol, or undefined when the engine does not support it (448, deferred patterns, fallback). */
export function supported(v: NoiseVector): NoiseProtocol | undefined {
  try {
    return parseProtocolName(vectorName(v))
  } catch (e) {
    if (isHopsealError(e, 'NOISE_BAD_PROTOCOL_NAME')) return undefined
    throw e
  }
}

function party(crypto: CryptoProvider, p: NoiseProtocol, initiator: boolean, v: NoiseVector): HandshakeState {
  const pre = initiator ? 'init' : 'resp'
  const get = (k: string): string | undefined => (v as unknown as Record<string, string | undefined>)[`${pre}_${k}`]
  const s = get('static')
  const e = get('ephemeral')
  const rs = get('remote_static')
  const psks = (initiator ? v.init_psks : v.resp_psks) ?? []
  return HandshakeState.create({
    protocol: p,
    initiator,
    crypto,
    prologue: fromHex(get('prologue') ?? ''),
    ...(s ? { s: softwareStaticKey(crypto, crypto.keyPairFromPrivate(p.keyType, fromHex(s))) } : {}),
    ...(e ? { e: crypto.keyPairFromPrivate(p.keyType, fromHex(e)) } : {}),
    ...(rs ? { rs: fromHex(rs) } : {}),
    psks: psks.map(fromHex),
  })
}

/** Runs one vector; throws an assertion error naming the first mismatch. */
export async function runVector(crypto: CryptoProvider, v: NoiseVector): Promise<void> {
  const p = supported(v)!
  const init = party(crypto, p, true, v)
  const resp = party(crypto, p, false, v)
  let ti: TransportState | undefined
  let tr: TransportState | undefined
  for (let i = 0; i < v.messages.length; i++) {
    const m = v.messages[i]!
    const fromInit = p.pattern.oneWay || i % 2 === 0
    const payload = fromHex(m.payload)
    let ct: Uint8Array
    let pt: Uint8Array
    if (!ti) {
      const [w, r] = fromInit ? [init, resp] : [resp, init]
      ct = await w.writeMessage(payload)
      assert.equal(toHex(ct), m.ciphertext, `${vectorName(v)}: handshake message ${i}`)
      pt = await r.readMessage(ct)
      if (init.isFinished() && resp.isFinished()) {
        if (v.handshake_hash) assert.equal(toHex(init.getHandshakeHash()), v.handshake_hash, `${vectorName(v)}: handshake hash`)
        assert.deepEqual(init.getHandshakeHash(), resp.getHandshakeHash())
        ti = init.finish()
        tr = resp.finish()
      }
    } else {
      const [w, r] = fromInit ? [ti, tr!] : [tr!, ti]
      ct = w.send.encryptWithAd(new Uint8Array(0), payload)
      assert.equal(toHex(ct), m.ciphertext, `${vectorName(v)}: transport message ${i}`)
      pt = r.recv.decryptWithAd(new Uint8Array(0), ct)
    }
    assert.equal(toHex(pt), m.payload, `${vectorName(v)}: payload ${i}`)
  }
  assert.ok(ti, `${vectorName(v)}: handshake finished`)
}
