/** protocol.md "Routing messages": the short and general forms, canonical decoding. */
import { fail, readVarint, same } from './bytes.ts'

export interface Addr {
  type: number
  value: Uint8Array
}

export interface Routed {
  onward: Addr[]
  ret: Addr[]
  payload: Uint8Array
}

const MAX_ROUTE = 16

const oneByteLocal = (a: Addr): boolean => a.type === 0 && a.value.length === 1
const shortLocal = (a: Addr): boolean => oneByteLocal(a) && a.value[0]! < 0x80

export function decodeRouting(b: Uint8Array): Routed {
  if (b.length < 2) fail('routing message shorter than its header')
  if (b[0]! < 0x80) return { onward: [{ type: 0, value: b.slice(0, 1) }], ret: [{ type: 0, value: b.slice(1, 2) }], payload: b.slice(2) }
  let o = 0
  const route = (count: number): Addr[] => {
    if (count > 63 || count > MAX_ROUTE) fail(`route of ${count} addresses`)
    const r: Addr[] = []
    for (let i = 0; i < count; i++) {
      const first = b[o++]
      if (first === undefined) fail('address truncated')
      if (first < 0x80) {
        r.push({ type: 0, value: Uint8Array.of(first) })
        continue
      }
      const { value: len, next } = readVarint(b, o)
      o = next
      if (len < 1 || len > 255 || o + len > b.length) fail(`address length ${len}`)
      const a = { type: first & 0x7f, value: b.slice(o, o + len) }
      o += len
      if (shortLocal(a)) fail('a long address that has the 1-byte form')
      r.push(a)
    }
    return r
  }
  o = 1
  const onward = route(b[0]! & 0x7f)
  const m = b[o++]
  if (m === undefined) fail('return route count missing')
  const ret = route(m)
  if (onward.length === 1 && ret.length === 1 && shortLocal(onward[0]!) && oneByteLocal(ret[0]!)) fail('general header where the short form applies')
  return { onward, ret, payload: b.slice(o) }
}

export const local = (value: Uint8Array): Addr => ({ type: 0, value })

export function sameRoute(a: Addr[], b: Addr[]): boolean {
  return a.length === b.length && a.every((x, i) => x.type === b[i]!.type && same(x.value, b[i]!.value))
}
