/**
 * Handshake patterns (Noise §7.4 one-way, §7.5 interactive fundamental) and the
 * pskN modifiers (§9.2). Each pattern is written as in the spec.
 */
import { ErrorCode, HopsealError } from '../errors.ts'

export type Token = 'e' | 's' | 'ee' | 'es' | 'se' | 'ss' | 'psk'

export interface HandshakePattern {
  readonly name: string
  /** Pre-message keys the initiator's side of the pattern declares (e.g. `<- s` for responder). */
  readonly preInitiator: readonly ('e' | 's')[]
  readonly preResponder: readonly ('e' | 's')[]
  /** Messages in order; even indices are initiator → responder (both directions for interactive). */
  readonly messages: readonly (readonly Token[])[]
  readonly oneWay: boolean
  readonly psk: boolean
}

interface Base {
  pi: ('e' | 's')[]
  pr: ('e' | 's')[]
  m: string[]
  oneWay?: boolean
}

// §7.4 and §7.5, transcribed token for token.
const BASE: Record<string, Base> = {
  N: { pi: [], pr: ['s'], m: ['e, es'], oneWay: true },
  K: { pi: ['s'], pr: ['s'], m: ['e, es, ss'], oneWay: true },
  X: { pi: [], pr: ['s'], m: ['e, es, s, ss'], oneWay: true },
  NN: { pi: [], pr: [], m: ['e', 'e, ee'] },
  NK: { pi: [], pr: ['s'], m: ['e, es', 'e, ee'] },
  NX: { pi: [], pr: [], m: ['e', 'e, ee, s, es'] },
  KN: { pi: ['s'], pr: [], m: ['e', 'e, ee, se'] },
  KK: { pi: ['s'], pr: ['s'], m: ['e, es, ss', 'e, ee, se'] },
  KX: { pi: ['s'], pr: [], m: ['e', 'e, ee, se, s, es'] },
  XN: { pi: [], pr: [], m: ['e', 'e, ee', 's, se'] },
  XK: { pi: [], pr: ['s'], m: ['e, es', 'e, ee', 's, se'] },
  XX: { pi: [], pr: [], m: ['e', 'e, ee, s, es', 's, se'] },
  IN: { pi: [], pr: [], m: ['e, s', 'e, ee, se'] },
  IK: { pi: [], pr: ['s'], m: ['e, es, s, ss', 'e, ee, se'] },
  IX: { pi: [], pr: [], m: ['e, s', 'e, ee, se, s, es'] },
}

/** Names of the fundamental patterns supported (without modifiers). */
export const PATTERN_NAMES = Object.keys(BASE)

const cache = new Map<string, HandshakePattern>()

/** Resolves `XX`, `XXpsk3`, `IKpsk0+psk2`, … ; throws NOISE_BAD_PROTOCOL_NAME otherwise. */
export function resolvePattern(name: string): HandshakePattern {
  const hit = cache.get(name)
  if (hit) return hit
  const m = /^([A-Z]+)((?:psk\d+)(?:\+psk\d+)*)?$/.exec(name)
  const baseName = m?.[1]
  const base = baseName === undefined ? undefined : BASE[baseName]
  if (!m || !base) throw new HopsealError(ErrorCode.NOISE_BAD_PROTOCOL_NAME, `handshake pattern ${name} unsupported (supported: ${PATTERN_NAMES.join(', ')}, with pskN modifiers)`)
  const messages: Token[][] = base.m.map((s) => s.split(', ') as Token[])
  const psks = m[2] ? m[2].split('+').map((p) => Number(p.slice(3))) : []
  for (const n of psks) {
    // §9.2: psk0 goes at the start of the first message; pskN at the end of message N.
    const target = messages[n === 0 ? 0 : n - 1]
    if (!target) throw new HopsealError(ErrorCode.NOISE_BAD_PROTOCOL_NAME, `psk${n} is beyond the last message of ${baseName}`)
    if (n === 0) target.unshift('psk')
    else target.push('psk')
  }
  if (new Set(psks).size !== psks.length) throw new HopsealError(ErrorCode.NOISE_BAD_PROTOCOL_NAME, `pattern ${name} repeats a psk modifier`)
  const p: HandshakePattern = Object.freeze({
    name,
    preInitiator: base.pi,
    preResponder: base.pr,
    messages: messages.map((t) => Object.freeze(t)),
    oneWay: base.oneWay === true,
    psk: psks.length > 0,
  })
  cache.set(name, p)
  return p
}
