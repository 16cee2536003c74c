/**
 * The device crypto on the Noise test vectors (test/vectors/noise:
 * cacophony, snow, noise-c) that use 25519 with AESGCM or ChaChaPoly and
 * SHA256, the device's suites. Node replays each vector (test/noise
 * vector-runner: every handshake and transport message byte, the handshake
 * hash) through a CryptoProvider that records every symmetric primitive call
 * with its result: SHA-256 (MixHash, the protocol name), the Noise HKDF
 * (MixKey, MixKeyAndHash, Split: HMAC(ck, ikm) then its 0x01/0x02/0x03
 * expansions, regrouped into one hkdf(ck, ikm, n) call) and the AEAD seals
 * and opens (EncryptAndHash, DecryptAndHash, transport messages). The
 * interpreter then makes the same calls with hopseal/crypto/index and must
 * return the same bytes. Since the replay asserted that those calls produced
 * every ciphertext of the vector, the device's primitives reproduce the
 * vectors' handshake and transport ciphertexts; the DH results (X25519) come
 * from Node, at seconds per scalar multiplication in the interpreter
 * (crypto-x25519.test.ts covers X25519 on its own vectors).
 * Identical calls are sent once. Prints the counts; fails on zero.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { cryptoProvider, type AeadAlgorithm, type CryptoProvider, type HashAlgorithm } from '../../targets/node/crypto/index.ts'
import { runVector, supported, vectorName, type NoiseVector } from '../noise/vector-runner.ts'
import { runChunked, skipUnlessEspruino } from './harness.ts'

const skip = skipUnlessEspruino()
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const FILES = ['cacophony.json', 'snow.json', 'noise-c-basic.json']
const SUITE = /_25519_(AESGCM|ChaChaPoly)_SHA256$/

type Op =
  | { k: 'hash'; d: string }
  | { k: 'hkdf'; ck: string; ikm: string; n: number }
  | { k: 'hmac'; key: string; d: string }
  | { k: 'seal' | 'open'; gcm: boolean; key: string; nonce: string; ad: string; m: string }

interface Recorded {
  op: Op
  want: string
}

/** A provider that passes every call to `inner` and records the symmetric ones (SHA-256, HMAC, AEAD) with their results. */
function recording(inner: CryptoProvider, log: Recorded[]): CryptoProvider {
  // the providers are class instances: inherit their methods, override the recorded ones
  const p: CryptoProvider = Object.create(inner) as CryptoProvider
  return Object.assign(p, {
    hash(alg: HashAlgorithm, data: Uint8Array): Uint8Array {
      const out = inner.hash(alg, data)
      if (alg === 'sha256') log.push({ op: { k: 'hash', d: hex(data) }, want: hex(out) })
      return out
    },
    hmac(alg: HashAlgorithm, key: Uint8Array, data: Uint8Array): Uint8Array {
      const out = inner.hmac(alg, key, data)
      if (alg === 'sha256') {
        log.push({ op: { k: 'hmac', key: hex(key), d: hex(data) }, want: hex(out) })
      }
      return out
    },
    aeadEncrypt(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, pt: Uint8Array, prefix?: Uint8Array): Uint8Array {
      const out = inner.aeadEncrypt(alg, key, nonce, aad, pt, prefix)
      log.push({ op: { k: 'seal', gcm: alg === 'aes-gcm', key: hex(key), nonce: hex(nonce), ad: hex(aad), m: hex(pt) }, want: hex(out.subarray(prefix?.length ?? 0)) })
      return out
    },
    aeadDecrypt(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ct: Uint8Array): Uint8Array {
      const out = inner.aeadDecrypt(alg, key, nonce, aad, ct)
      log.push({ op: { k: 'open', gcm: alg === 'aes-gcm', key: hex(key), nonce: hex(nonce), ad: hex(aad), m: hex(ct) }, want: hex(out) })
      return out
    },
  })
}

/**
 * Regroups the Noise HKDF's HMAC calls (symmetric-state.ts: temp = HMAC(ck,
 * ikm), o1 = HMAC(temp, 01), o2 = HMAC(temp, o1 || 02), [o3 = HMAC(temp, o2 || 03)])
 * into hkdf ops; other HMAC calls stay as they are.
 */
function regroup(log: Recorded[]): Recorded[] {
  const out: Recorded[] = []
  for (let i = 0; i < log.length; i++) {
    const a = log[i]!
    const b = log[i + 1]
    if (a.op.k === 'hmac' && b?.op.k === 'hmac' && b.op.key === a.want && b.op.d === '01') {
      const c = log[i + 2]!
      const d = log[i + 3]
      const three = d?.op.k === 'hmac' && d.op.key === a.want && d.op.d === c.want + '03'
      out.push({ op: { k: 'hkdf', ck: a.op.key, ikm: a.op.d, n: three ? 3 : 2 }, want: b.want + c.want + (three ? d.want : '') })
      i += three ? 3 : 2
    } else out.push(a)
  }
  return out
}

const EACH = `function (t) {
  var C = require('hopseal/crypto/index');
  if (t.k === 'hash') return hex(C.sha256(unhex(t.d)));
  if (t.k === 'hkdf') return C.hkdf(unhex(t.ck), unhex(t.ikm), t.n).map(hex).join('');
  if (t.k === 'hmac') return hex(C.hmacSha256(unhex(t.key), unhex(t.d)));
  var key = unhex(t.key), n = unhex(t.nonce), ad = unhex(t.ad), m = unhex(t.m), r;
  if (t.k === 'seal') return hex((t.gcm ? C.aesGcmSeal : C.chachaPolySeal)(key, n, ad, m));
  r = (t.gcm ? C.aesGcmOpen : C.chachaPolyOpen)(key, n, ad, m);
  return r === null ? null : hex(r);
}`

describe('Espruino crypto: Noise vectors (25519 + AESGCM/ChaChaPoly + SHA256)', { skip }, () => {
  it('the device reproduces every symmetric operation of the Noise vectors', async () => {
    const base = cryptoProvider('noble')
    const unique = new Map<string, Recorded>()
    const perFile: string[] = []
    let vectors = 0
    let messages = 0
    for (const file of FILES) {
      const all = (JSON.parse(readFileSync(new URL(`../vectors/noise/${file}`, import.meta.url), 'utf8')) as { vectors: NoiseVector[] }).vectors
      const mine = all.filter((v) => SUITE.test(vectorName(v)) && supported(v) !== undefined)
      for (const v of mine) {
        const log: Recorded[] = []
        await runVector(recording(base, log), v)
        for (const r of regroup(log)) unique.set(JSON.stringify(r.op), r)
        messages += v.messages.length
      }
      vectors += mine.length
      perFile.push(`${file} ${mine.length}`)
    }
    const ops = [...unique.values()]
    const r = await runChunked<Op, string | null>(
      ops.map((o) => o.op),
      EACH,
      { only: ['crypto'], perChunk: 40, timeoutMs: 10 * 60_000 },
    )
    const count: Record<string, number> = {}
    r.results.forEach((got, i) => {
      const o = ops[i]!
      assert.equal(got, o.want, `${o.op.k} ${JSON.stringify(o.op).slice(0, 200)}`)
      const kind = o.op.k === 'seal' || o.op.k === 'open' ? `${o.op.k}-${o.op.gcm ? 'aesgcm' : 'chachapoly'}` : o.op.k
      count[kind] = (count[kind] ?? 0) + 1
    })
    console.log(`# Noise vectors: ${vectors} (${perFile.join(', ')}), ${messages} messages; ${ops.length} distinct primitive calls checked in the interpreter (${Object.entries(count).map(([k, n]) => `${k} ${n}`).join(', ')}) in ${Math.round(r.ms)} ms`)
    assert.ok(vectors > 0 && ops.length > 0, 'no Noise vectors ran')
    assert.ok((count['hkdf'] ?? 0) > 0 && (count['seal-aesgcm'] ?? 0) > 0 && (count['seal-chachapoly'] ?? 0) > 0, 'every primitive must have run')
  })
})
