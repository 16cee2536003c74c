/**
 * Reference Noise implementations, driven at the Noise layer with in-memory
 * byte passing (no framing, no streams):
 *
 * - the bench baseline for architecture.md §5's ">= 3x libp2p-noise" target
 *   ({@link libp2pXxHandshakesPerSecond}), with noise-c.wasm as a second
 *   reference ({@link noiseCXxHandshakesPerSecond});
 * - the adapters the interop tests drive against hopseal
 *   (`test/noise/interop-libp2p.test.ts`, `test/noise/interop-noise-c.test.ts`),
 *   so the numbers the bench reports come from the very code the tests prove
 *   interoperable with hopseal.
 *
 * Both references are wrapped in one shape, {@link ReferencePeer}, that mirrors
 * hopseal's HandshakeState (writeMessage / readMessage / finish).
 *
 * ## libp2p-noise entry point (@chainsafe/libp2p-noise 17)
 * We use its internal `XXHandshakeState` class from `dist/src/protocol.js` (the
 * Noise rev 34 XX state machine that `performHandshakeInitiator/Responder` in
 * `dist/src/performHandshake.js` drive) with `wrapCrypto(defaultCrypto)` from
 * `dist/src/crypto.js`, exactly as `Noise.performHandshake*` builds it. Why this
 * one and not the public `noise()` encrypter: the public API needs a libp2p
 * `PrivateKey`, a `PeerId`, an `Upgrader` and length-prefixed duplex streams,
 * and puts a signed protobuf `NoiseHandshakePayload` in messages B and C;
 * none of that is Noise, and it would put libp2p's identity signature and
 * stream plumbing into both the interop check and the baseline. The state
 * machine takes raw Noise messages (writeMessageA/B/C, readMessageA/B/C) and
 * any payload. Neither file is in the package's `exports` map, so we locate
 * them next to the package entry (`import.meta.resolve`) and import them by
 * URL; if a future release moves them, {@link loadLibp2pNoise} throws a plain
 * Error naming the missing export (the bench prints it as "baseline
 * unavailable" and the interop test fails loudly).
 *
 * ## noise-c.wasm entry point (0.4, rweather/noise-c in WebAssembly)
 * Its documented OOP wrapper: `createNoise(options, callback)` then
 * `new HandshakeState(protocolName, role)`, `Initialize(prologue, s, rs, psk)`,
 * `GetAction`, `WriteMessage`, `ReadMessage`, `GetHandshakeHash`,
 * `GetRemotePublicKey`, `Split`. We pass the WASM bytes in `wasmBinary` so
 * Emscripten does not try `fetch()` on a file path (it would print a warning
 * and fall back). Memory lives in the WASM heap: every object is freed.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { ICryptoInterface, KeyPair as Libp2pKeyPair } from '@chainsafe/libp2p-noise'
import { defaultCrypto, pureJsCrypto } from '@chainsafe/libp2p-noise/crypto'
// uint8arraylist is libp2p-noise's own dependency (already in node_modules):
// its readMessage* methods take a Uint8ArrayList, as its stream reader yields.
import { Uint8ArrayList } from 'uint8arraylist'
import { opsPerSecond } from './figure.ts'

/** The one suite both baselines measure (the suite libp2p-noise hard-codes). */
export const XX_25519_CHACHAPOLY_SHA256 = 'Noise_XX_25519_ChaChaPoly_SHA256'

/** A transport cipher of a reference implementation (Noise §5.1 EncryptWithAd / DecryptWithAd). */
export interface ReferenceCipher {
  encrypt(ad: Uint8Array, plaintext: Uint8Array): Uint8Array
  decrypt(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array
}

/** What a finished reference handshake hands over (Noise §5.3 Split plus the channel binding). */
export interface ReferenceTransport {
  handshakeHash: Uint8Array
  remoteStatic: Uint8Array | undefined
  send: ReferenceCipher
  recv: ReferenceCipher
  /** Releases memory held outside the JS heap (noise-c); idempotent. */
  free(): void
}

/** One side of a handshake in a reference implementation, shaped like hopseal's HandshakeState. */
export interface ReferencePeer {
  readonly initiator: boolean
  /** This side's static public key (32 bytes). */
  readonly staticPublic: Uint8Array
  isMyTurn(): boolean
  isFinished(): boolean
  writeMessage(payload: Uint8Array): Uint8Array
  readMessage(message: Uint8Array): Uint8Array
  /** Split; the handshake object is unusable afterwards. */
  finish(): ReferenceTransport
  /** Releases the handshake if it never reached finish(); idempotent. */
  free(): void
}

/** A static X25519 key pair as the references take it (raw 32-byte halves). */
export interface RawKeyPair {
  privateKey: Uint8Array
  publicKey: Uint8Array
}

// ---------------------------------------------------------------- libp2p-noise

/** The subset of libp2p-noise's `CipherState` (dist/src/protocol.d.ts) we call. */
interface Libp2pCipherState {
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array | Uint8ArrayList): Uint8Array | Uint8ArrayList
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array | Uint8ArrayList): Uint8Array | Uint8ArrayList
}

/** The subset of libp2p-noise's `XXHandshakeState` (dist/src/protocol.d.ts) we call. */
interface Libp2pXXState {
  ss: { h: Uint8Array; split(): [Libp2pCipherState, Libp2pCipherState] }
  rs?: Uint8Array | Uint8ArrayList
  writeMessageA(payload: Uint8Array): Uint8Array | Uint8ArrayList
  writeMessageB(payload: Uint8Array): Uint8Array | Uint8ArrayList
  writeMessageC(payload: Uint8Array): Uint8Array | Uint8ArrayList
  readMessageA(message: Uint8ArrayList): Uint8Array | Uint8ArrayList
  readMessageB(message: Uint8ArrayList): Uint8Array | Uint8ArrayList
  readMessageC(message: Uint8ArrayList): Uint8Array | Uint8ArrayList
}

interface Libp2pXXInit {
  crypto: unknown
  protocolName: string
  initiator: boolean
  prologue: Uint8Array
  s: Libp2pKeyPair
}

/** libp2p-noise's crypto backends: `default` is what `noise()` uses on Node, `pureJs` its noble-based one. */
export type Libp2pBackend = 'default' | 'pureJs'

export interface Libp2pNoise {
  readonly backend: Libp2pBackend
  generateStaticKey(): RawKeyPair
  /** A Noise_XX_25519_ChaChaPoly_SHA256 side on libp2p-noise's XX state machine. */
  xx(opts: { initiator: boolean; s: RawKeyPair; prologue?: Uint8Array }): ReferencePeer
}

const bytesOf = (b: Uint8Array | Uint8ArrayList): Uint8Array => (b instanceof Uint8Array ? b : b.subarray())

let libp2pInternals: Promise<{ XXHandshakeState: new (init: Libp2pXXInit) => Libp2pXXState; wrapCrypto: (c: ICryptoInterface) => unknown }> | undefined

async function loadLibp2pInternals(): Promise<NonNullable<Awaited<typeof libp2pInternals>>> {
  const entry = import.meta.resolve('@chainsafe/libp2p-noise') // …/dist/src/index.js
  const protocol = (await import(new URL('./protocol.js', entry).href)) as Record<string, unknown>
  const crypto = (await import(new URL('./crypto.js', entry).href)) as Record<string, unknown>
  if (typeof protocol.XXHandshakeState !== 'function') throw new Error(`libp2p-noise internals moved: no XXHandshakeState in ${new URL('./protocol.js', entry).pathname}`)
  if (typeof crypto.wrapCrypto !== 'function') throw new Error(`libp2p-noise internals moved: no wrapCrypto in ${new URL('./crypto.js', entry).pathname}`)
  return {
    XXHandshakeState: protocol.XXHandshakeState as new (init: Libp2pXXInit) => Libp2pXXState,
    wrapCrypto: crypto.wrapCrypto as (c: ICryptoInterface) => unknown,
  }
}

class Libp2pXXPeer implements ReferencePeer {
  private index = 0
  private done = false
  constructor(
    private readonly xx: Libp2pXXState,
    readonly initiator: boolean,
    readonly staticPublic: Uint8Array,
  ) {}

  isMyTurn(): boolean {
    return this.index < 3 && (this.index % 2 === 0) === this.initiator
  }

  isFinished(): boolean {
    return this.index === 3
  }

  writeMessage(payload: Uint8Array): Uint8Array {
    if (!this.isMyTurn()) throw new Error('libp2p XX: not our turn to write')
    const xx = this.xx
    const out = this.index === 0 ? xx.writeMessageA(payload) : this.index === 1 ? xx.writeMessageB(payload) : xx.writeMessageC(payload)
    this.index++
    return bytesOf(out).slice()
  }

  readMessage(message: Uint8Array): Uint8Array {
    if (this.isMyTurn() || this.isFinished()) throw new Error('libp2p XX: not our turn to read')
    const xx = this.xx
    const list = new Uint8ArrayList(message)
    const out = this.index === 0 ? xx.readMessageA(list) : this.index === 1 ? xx.readMessageB(list) : xx.readMessageC(list)
    this.index++
    return bytesOf(out).slice()
  }

  finish(): ReferenceTransport {
    if (!this.isFinished() || this.done) throw new Error('libp2p XX: handshake not finished')
    this.done = true
    // Noise §5.2 Split: the first CipherState is the initiator's sending one (as performHandshake uses it).
    const [c1, c2] = this.xx.ss.split()
    const wrap = (c: Libp2pCipherState): ReferenceCipher => ({
      encrypt: (ad, pt) => bytesOf(c.encryptWithAd(ad, pt)).slice(),
      decrypt: (ad, ct) => bytesOf(c.decryptWithAd(ad, ct)).slice(),
    })
    return {
      handshakeHash: this.xx.ss.h.slice(),
      remoteStatic: this.xx.rs ? bytesOf(this.xx.rs).slice() : undefined,
      send: wrap(this.initiator ? c1 : c2),
      recv: wrap(this.initiator ? c2 : c1),
      free: () => {},
    }
  }

  free(): void {}
}

/**
 * Loads libp2p-noise's XX state machine (see the file comment for the entry point).
 * @throws Error when the package's internal files are not where 17.x keeps them.
 */
export async function loadLibp2pNoise(backend: Libp2pBackend = 'default'): Promise<Libp2pNoise> {
  libp2pInternals ??= loadLibp2pInternals()
  const { XXHandshakeState, wrapCrypto } = await libp2pInternals
  const impl: ICryptoInterface = backend === 'default' ? defaultCrypto : pureJsCrypto
  const crypto = wrapCrypto(impl) // as Noise's constructor does: this.crypto = wrapCrypto(crypto ?? defaultCrypto)
  return {
    backend,
    generateStaticKey: () => {
      const kp = impl.generateX25519KeyPair()
      return { privateKey: Uint8Array.from(kp.privateKey), publicKey: Uint8Array.from(kp.publicKey) }
    },
    xx: ({ initiator, s, prologue }) =>
      new Libp2pXXPeer(new XXHandshakeState({ crypto, protocolName: XX_25519_CHACHAPOLY_SHA256, initiator, prologue: prologue ?? new Uint8Array(0), s }), initiator, s.publicKey.slice()),
  }
}

// ---------------------------------------------------------------- noise-c.wasm

/** noise-c.wasm's `CipherState` (src/index.ls), the subset we call. */
interface NoiseCCipher {
  EncryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array
  DecryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array
  free(): void
}

/** noise-c.wasm's `HandshakeState` (src/index.ls). On any NOISE_ERROR_* it frees itself and throws Error(code name). */
interface NoiseCHandshake {
  Initialize(prologue: Uint8Array | null, s: Uint8Array | null, rs: Uint8Array | null, psk: Uint8Array | null): void
  GetAction(): number
  WriteMessage(payload: Uint8Array | null): Uint8Array
  ReadMessage(message: Uint8Array, payloadNeeded: boolean, fallbackSupported?: boolean): Uint8Array | null
  GetHandshakeHash(): Uint8Array
  GetRemotePublicKey(): Uint8Array | null
  Split(): [NoiseCCipher, NoiseCCipher]
  free(): void
}

interface NoiseCModule {
  constants: Record<string, number>
  HandshakeState: new (protocolName: string, role: number) => NoiseCHandshake
  CreateKeyPair(curve: number): [Uint8Array, Uint8Array]
}

type CreateNoise = (options: Record<string, unknown>, callback: (noise: NoiseCModule) => void) => void

export interface NoiseC {
  generateStaticKey(): RawKeyPair
  /** Any protocol noise-c supports, e.g. `Noise_IK_25519_AESGCM_SHA256`. `rs` when the pattern pre-shares it. */
  handshake(opts: { protocol: string; initiator: boolean; s: RawKeyPair; rs?: Uint8Array; prologue?: Uint8Array }): ReferencePeer
}

/** Loading the WASM takes ~30 ms; a load that never calls back must not hang a test or the bench. */
const NOISE_C_LOAD_TIMEOUT_MS = 10_000

let noiseCModule: Promise<NoiseCModule> | undefined

function loadNoiseCModule(): Promise<NoiseCModule> {
  const require = createRequire(import.meta.url)
  const createNoise = require('noise-c.wasm') as CreateNoise
  const wasmBinary = readFileSync(require.resolve('noise-c.wasm/src/noise-c.wasm'))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`noise-c.wasm did not load within ${NOISE_C_LOAD_TIMEOUT_MS} ms`)), NOISE_C_LOAD_TIMEOUT_MS)
    createNoise({ wasmBinary, onAbort: (what: unknown) => reject(new Error(`noise-c.wasm aborted: ${String(what)}`)) }, (noise) => {
      clearTimeout(timer)
      resolve(noise)
    })
  })
}

class NoiseCPeer implements ReferencePeer {
  private released = false
  constructor(
    private readonly nc: NoiseCModule,
    private readonly hs: NoiseCHandshake,
    readonly initiator: boolean,
    readonly staticPublic: Uint8Array,
  ) {}

  isMyTurn(): boolean {
    return !this.released && this.hs.GetAction() === this.nc.constants.NOISE_ACTION_WRITE_MESSAGE
  }

  isFinished(): boolean {
    return !this.released && this.hs.GetAction() === this.nc.constants.NOISE_ACTION_SPLIT
  }

  writeMessage(payload: Uint8Array): Uint8Array {
    return this.guard(() => this.hs.WriteMessage(payload.length > 0 ? payload : null))
  }

  readMessage(message: Uint8Array): Uint8Array {
    return this.guard(() => this.hs.ReadMessage(message, true) ?? new Uint8Array(0))
  }

  finish(): ReferenceTransport {
    if (!this.isFinished()) throw new Error('noise-c: handshake not finished')
    // The hash and remote key must be read before Split, which frees the handshake.
    const handshakeHash = this.hs.GetHandshakeHash()
    const remoteStatic = this.hs.GetRemotePublicKey() ?? undefined
    this.released = true
    const [send, recv] = this.hs.Split() // noise_handshakestate_split(state, send, receive)
    let freed = false
    const wrap = (c: NoiseCCipher): ReferenceCipher => ({
      encrypt: (ad, pt) => c.EncryptWithAd(ad, pt),
      decrypt: (ad, ct) => c.DecryptWithAd(ad, ct),
    })
    return {
      handshakeHash,
      remoteStatic,
      send: wrap(send),
      recv: wrap(recv),
      free: () => {
        if (freed) return
        freed = true
        send.free()
        recv.free()
      },
    }
  }

  free(): void {
    if (this.released) return
    this.released = true
    this.hs.free()
  }

  /** noise-c's wrapper frees the handshake itself when it throws (src/index.ls NOTE): never free it twice. */
  private guard<T>(fn: () => T): T {
    if (this.released) throw new Error('noise-c: handshake already released')
    try {
      return fn()
    } catch (e) {
      this.released = true
      throw e
    }
  }
}

/** Loads noise-c.wasm once per process (see the file comment). */
export async function loadNoiseC(): Promise<NoiseC> {
  noiseCModule ??= loadNoiseCModule()
  const nc = await noiseCModule
  const c = nc.constants
  return {
    generateStaticKey: () => {
      const [privateKey, publicKey] = nc.CreateKeyPair(c.NOISE_DH_CURVE25519!)
      return { privateKey, publicKey }
    },
    handshake: ({ protocol, initiator, s, rs, prologue }) => {
      const hs = new nc.HandshakeState(protocol, initiator ? c.NOISE_ROLE_INITIATOR! : c.NOISE_ROLE_RESPONDER!)
      try {
        hs.Initialize(prologue ?? null, s.privateKey, rs ?? null, null)
      } catch (e) {
        // Initialize frees the state on NOISE_ERROR_*, but not on its own "required" checks.
        if (!(e instanceof Error && e.message.startsWith('NOISE_ERROR_'))) hs.free()
        throw e
      }
      return new NoiseCPeer(nc, hs, initiator, s.publicKey.slice())
    },
  }
}

// ---------------------------------------------------------------- bench

const EMPTY = new Uint8Array(0)

/**
 * Runs one handshake between two reference peers with in-memory byte passing,
 * `payload` in every message, and returns both transports (not freed).
 * @throws Error if a side does not finish or the handshake hashes differ.
 */
export function referenceHandshake(a: ReferencePeer, b: ReferencePeer, payload: Uint8Array = EMPTY): [ReferenceTransport, ReferenceTransport] {
  let [w, r] = a.isMyTurn() ? [a, b] : [b, a]
  // XX has 3 messages, every fundamental pattern at most 3: a bound, not a loop that can spin.
  for (let i = 0; i < 3 && !(a.isFinished() && b.isFinished()); i++) {
    r.readMessage(w.writeMessage(payload))
    ;[w, r] = [r, w]
  }
  if (!a.isFinished() || !b.isFinished()) throw new Error('reference handshake did not finish')
  return [a.finish(), b.finish()]
}

function checkedOnce(a: ReferencePeer, b: ReferencePeer): void {
  const [ta, tb] = referenceHandshake(a, b)
  try {
    const same = ta.handshakeHash.length === 32 && ta.handshakeHash.every((x, i) => x === tb.handshakeHash[i])
    if (!same) throw new Error('reference handshake: the two ends disagree on the handshake hash')
  } finally {
    ta.free()
    tb.free()
  }
}

/**
 * Complete Noise_XX_25519_ChaChaPoly_SHA256 handshakes per second with
 * libp2p-noise's XX state machine (its `defaultCrypto`, what `noise()` uses on
 * Node), both ends in one process, for about `ms` milliseconds.
 *
 * Payloads are empty in all three messages, the minimum its state machine
 * allows (performHandshake itself writes ZEROLEN in message A). A real libp2p
 * handshake also signs and verifies a protobuf identity payload in messages B
 * and C; that is left out, as hopseal's own figure leaves out identity binding:
 * both figures are the Noise layer only. Static keys are reused across
 * handshakes (a new ephemeral each time), as in hopseal's figure; each
 * iteration ends with Split on both sides.
 *
 * @example const rate = await libp2pXxHandshakesPerSecond(2000)
 * @throws Error when libp2p-noise's internals cannot be loaded or a handshake fails its self-check.
 */
export async function libp2pXxHandshakesPerSecond(ms: number): Promise<number> {
  const lib = await loadLibp2pNoise('default')
  const si = lib.generateStaticKey()
  const sr = lib.generateStaticKey()
  const pair = (): [ReferencePeer, ReferencePeer] => [lib.xx({ initiator: true, s: si }), lib.xx({ initiator: false, s: sr })]
  checkedOnce(...pair())
  return opsPerSecond(() => {
    const [ta, tb] = referenceHandshake(...pair())
    ta.free()
    tb.free()
  }, ms)
}

/**
 * Complete Noise_XX_25519_ChaChaPoly_SHA256 handshakes per second with
 * noise-c.wasm (rweather/noise-c compiled to WebAssembly, its own X25519,
 * ChaCha20-Poly1305 and SHA-256), both ends in one process, empty payloads
 * (`null`), static keys reused, Split and free on both sides each iteration.
 *
 * @example const rate = await noiseCXxHandshakesPerSecond(2000)
 * @throws Error when noise-c.wasm does not load or a handshake fails its self-check.
 */
export async function noiseCXxHandshakesPerSecond(ms: number): Promise<number> {
  const nc = await loadNoiseC()
  const si = nc.generateStaticKey()
  const sr = nc.generateStaticKey()
  const pair = (): [ReferencePeer, ReferencePeer] => [
    nc.handshake({ protocol: XX_25519_CHACHAPOLY_SHA256, initiator: true, s: si }),
    nc.handshake({ protocol: XX_25519_CHACHAPOLY_SHA256, initiator: false, s: sr }),
  ]
  checkedOnce(...pair())
  return opsPerSecond(() => {
    const [ta, tb] = referenceHandshake(...pair())
    ta.free()
    tb.free()
  }, ms)
}
