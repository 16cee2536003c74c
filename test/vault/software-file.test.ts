/**
 * The software vault on disk (vaults/software/key-store.ts): the compliance
 * suite, plain and encrypted; the file format's failure modes (wrong
 * passphrase, corruption, truncation, hostile headers, permissions); and a
 * writer killed with SIGKILL mid-write never loses a key it reported as saved.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { concat, fromHex, toHex } from '../../src/bytes/index.ts'
import { cryptoProvider } from '../../targets/node/crypto/index.ts'
import { isHopsealError } from '../../src/errors.ts'
import { runVaultCompliance } from '../../src/vault/compliance.ts'
import { nodeTestRunner } from '../../targets/node/vault-compliance.ts'
import { FileKeyStore, MAX_STORE_KEYS, SoftwareVault, type FileKeyStoreOptions, type StoredKey } from '../../vaults/software/index.ts'

/** Low scrypt cost for tests (N = 2^4): the format and flow are under test, not the KDF's strength. */
const FAST = { log2N: 4, r: 8, p: 1 }
const node = cryptoProvider('node')
const root = mkdtempSync(join(tmpdir(), 'hopseal-ks-'))
after(() => rmSync(root, { recursive: true, force: true }))
let n = 0
const freshPath = (): string => join(root, `d${n++}`, 'vault.hsv')

async function rejectsCode(p: Promise<unknown>, code: string, what = ''): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isHopsealError(e), `${what}: expected HopsealError, got ${String(e)}`)
    assert.equal(e.code, code, `${what}: ${e.message}`)
    return true
  })
}

function sampleKeys(): StoredKey[] {
  return [
    { id: 'a1', type: 'ed25519', label: 'identity', privateKey: node.generateKeyPair('ed25519').privateKey },
    { id: 'b2', type: 'x25519', privateKey: node.generateKeyPair('x25519').privateKey },
    { id: 'c3', type: 'p256', label: 'noise static', privateKey: node.generateKeyPair('p256').privateKey },
  ]
}

/** Rewrites the trailing SHA-256 so a crafted body passes the checksum and reaches the deeper checks. */
function resum(file: Uint8Array): Uint8Array {
  const content = file.subarray(0, file.length - 32)
  return concat(content, node.hash('sha256', content))
}

// ---- the compliance suite, on disk --------------------------------------------

const plainPath = freshPath()
runVaultCompliance({
  name: 'software, file store, plain',
  persistent: true,
  open: async () => SoftwareVault.open({ name: 'software-file', store: await FileKeyStore.open(plainPath) }),
}, nodeTestRunner)
const sealedPath = freshPath()
runVaultCompliance({
  name: 'software, file store, encrypted (AES-256-GCM, node)',
  persistent: true,
  open: async () => SoftwareVault.open({ name: 'software-file-enc', store: await FileKeyStore.open(sealedPath, { passphrase: 'correct horse', kdf: FAST }) }),
}, nodeTestRunner)
const sealedNoblePath = freshPath()
runVaultCompliance({
  name: 'software, file store, encrypted (ChaCha20-Poly1305, noble)',
  persistent: true,
  open: async () => {
    const crypto = cryptoProvider('noble')
    const store = await FileKeyStore.open(sealedNoblePath, { passphrase: 'battery staple', kdf: FAST, aead: 'chacha20-poly1305', crypto })
    return SoftwareVault.open({ name: 'software-file-noble', crypto, store })
  },
}, nodeTestRunner)

// ---- the file format ------------------------------------------------------------

describe('FileKeyStore', () => {
  for (const [mode, opts] of [
    ['plain', {}],
    ['encrypted', { passphrase: 'pw', kdf: FAST }],
  ] as [string, FileKeyStoreOptions][]) {
    it(`${mode}: round-trips keys, writes mode 0600, and never returns the caller's buffers`, async () => {
      const path = freshPath()
      const store = await FileKeyStore.open(path, opts)
      assert.deepEqual(await store.load(), [], 'a missing file is an empty store')
      const keys = sampleKeys()
      const copies = keys.map((k) => k.privateKey.slice())
      await store.save(keys)
      assert.deepEqual(
        keys.map((k) => k.privateKey),
        copies,
        'save leaves the caller’s keys intact',
      )
      assert.equal(statSync(path).mode & 0o777, 0o600)
      const file = new Uint8Array(readFileSync(path))
      assert.equal(new TextDecoder().decode(file.subarray(0, 4)), 'HSKS')
      assert.equal(file[4], 1, 'format version 1')
      assert.equal(file[5], mode === 'plain' ? 0 : 1)
      const hex = toHex(file)
      for (const c of copies) assert.equal(hex.includes(toHex(c)), mode === 'plain', `${mode}: private key bytes ${mode === 'plain' ? 'present' : 'absent'} in the file`)
      const again = await (await FileKeyStore.open(path, opts)).load()
      assert.deepEqual(again, keys)
      assert.notEqual(again[0]!.privateKey, keys[0]!.privateKey)
    })
  }

  it('encrypted: a fresh nonce per save, the header bound as associated data', async () => {
    const path = freshPath()
    const store = await FileKeyStore.open(path, { passphrase: 'pw', kdf: FAST })
    const keys = sampleKeys()
    await store.save(keys)
    const a = new Uint8Array(readFileSync(path))
    await store.save(keys)
    const b = new Uint8Array(readFileSync(path))
    assert.deepEqual(a.subarray(10, 26), b.subarray(10, 26), 'same salt')
    assert.notDeepEqual(a.subarray(26, 38), b.subarray(26, 38), 'new nonce')
    // Change a KDF parameter byte (and fix the checksum): the verifier no longer matches.
    const p = a.slice()
    p[9] = 2
    writeFileSync(path, resum(p), { mode: 0o600 })
    await rejectsCode(FileKeyStore.open(path, { passphrase: 'pw' }), 'VAULT_WRONG_PASSPHRASE', 'altered KDF param')
    // Same header except the AEAD id: verifier still matches, the AEAD fails on the changed AD.
    const q = a.slice()
    q[6] = 2
    writeFileSync(path, resum(q), { mode: 0o600 })
    const s2 = await FileKeyStore.open(path, { passphrase: 'pw' })
    await rejectsCode(s2.load(), 'VAULT_STORE_CORRUPT', 'altered AEAD id (authenticated header)')
    // A flipped bit in the ciphertext with a fixed-up checksum: authentication fails.
    const r = a.slice()
    r[70]! ^= 1
    writeFileSync(path, resum(r), { mode: 0o600 })
    await rejectsCode((await FileKeyStore.open(path, { passphrase: 'pw' })).load(), 'VAULT_STORE_CORRUPT', 'flipped ciphertext bit')
  })

  it('wrong, missing or unexpected passphrases give VAULT_WRONG_PASSPHRASE', async () => {
    const path = freshPath()
    await (await FileKeyStore.open(path, { passphrase: 'right', kdf: FAST })).save(sampleKeys())
    await rejectsCode(FileKeyStore.open(path, { passphrase: 'wrong' }), 'VAULT_WRONG_PASSPHRASE', 'wrong')
    await rejectsCode(FileKeyStore.open(path), 'VAULT_WRONG_PASSPHRASE', 'missing')
    await rejectsCode(FileKeyStore.open(path, { passphrase: new Uint8Array([1, 2, 3]) }), 'VAULT_WRONG_PASSPHRASE', 'bytes')
    assert.equal((await (await FileKeyStore.open(path, { passphrase: utf8Bytes('right') })).load()).length, 3, 'the same passphrase as bytes')
    const plain = freshPath()
    await (await FileKeyStore.open(plain)).save(sampleKeys())
    await rejectsCode(FileKeyStore.open(plain, { passphrase: 'x' }), 'VAULT_WRONG_PASSPHRASE', 'passphrase for a plain store')
    await rejectsCode(FileKeyStore.open(freshPath(), { passphrase: '' }), 'INVALID_ARGUMENT', 'empty passphrase')
    await rejectsCode(FileKeyStore.open(freshPath(), { passphrase: 'x', kdf: { log2N: 25, r: 8, p: 1 } }), 'INVALID_ARGUMENT', '4 GiB scrypt')
  })

  it('string passphrases are NFC-normalised (composed and decomposed é open the same store)', async () => {
    const path = freshPath()
    await (await FileKeyStore.open(path, { passphrase: 'caf\u00e9', kdf: FAST })).save(sampleKeys())
    assert.equal((await (await FileKeyStore.open(path, { passphrase: 'cafe\u0301' })).load()).length, 3)
  })

  for (const mode of ['plain', 'encrypted'] as const) {
    it(`${mode}: every truncation and every single-bit flip gives VAULT_STORE_CORRUPT, never a crash`, async () => {
      const path = freshPath()
      const opts: FileKeyStoreOptions = mode === 'plain' ? {} : { passphrase: 'pw', kdf: FAST }
      await (await FileKeyStore.open(path, opts)).save(sampleKeys().slice(0, 2))
      const good = new Uint8Array(readFileSync(path))
      const store = await FileKeyStore.open(path, opts)
      let tried = 0
      const check = async (bytes: Uint8Array, what: string): Promise<void> => {
        writeFileSync(path, bytes, { mode: 0o600 })
        tried++
        // open() reads the header of an encrypted store; load() reads the whole file.
        await rejectsCode(
          (async () => {
            await (await FileKeyStore.open(path, opts)).load()
          })(),
          'VAULT_STORE_CORRUPT',
          what,
        )
        await rejectsCode(store.load(), 'VAULT_STORE_CORRUPT', what)
      }
      for (let len = 0; len < good.length; len++) await check(good.subarray(0, len), `truncated to ${len}`)
      for (let i = 0; i < good.length; i++) {
        const bad = good.slice()
        bad[i]! ^= 1 << i % 8
        await check(bad, `bit flip in byte ${i}`)
      }
      await check(concat(good, new Uint8Array(1)), 'one byte appended')
      writeFileSync(path, good, { mode: 0o600 })
      assert.equal((await store.load()).length, 2, 'the intact file still loads')
      assert.ok(tried > 2 * 100)
    })
  }

  it('crafted files with a valid checksum are refused as corrupt, with bounded work', async () => {
    const path = freshPath()
    await (await FileKeyStore.open(path)).save(sampleKeys())
    const good = new Uint8Array(readFileSync(path))
    const store = await FileKeyStore.open(path)
    const variants: [string, (b: Uint8Array) => Uint8Array][] = [
      ['version 2', (b) => ((b[4] = 2), b)],
      ['unknown protection', (b) => ((b[5] = 7), b)],
      ['body length too long', (b) => ((b[9]! += 1), b)],
      ['count too large', (b) => ((b[11]! += 1), b)],
      ['count 65535', (b) => ((b[10] = 0xff), (b[11] = 0xff), b)],
      ['unknown key type', (b) => ((b[12] = 9), b)],
      ['id length 0', (b) => ((b[13] = 0), b)],
      ['id length past the end', (b) => ((b[13] = 64), b)],
      ['non-ASCII id', (b) => ((b[14] = 0x80), b)],
      ['trailing byte', (b) => concat(b.subarray(0, 6), u32(readU32(b, 6) + 1), b.subarray(10, b.length - 32), new Uint8Array(1), b.subarray(b.length - 32))],
    ]
    for (const [what, f] of variants) {
      writeFileSync(path, resum(f(good.slice())), { mode: 0o600 })
      await rejectsCode(store.load(), 'VAULT_STORE_CORRUPT', what)
    }
    // duplicate ids / labels, and an out-of-range P-256 scalar
    const crafted = async (keys: StoredKey[], what: string): Promise<void> => {
      const p2 = freshPath()
      const s = await FileKeyStore.open(p2)
      await s.save(keys)
      await rejectsCode(s.load(), 'VAULT_STORE_CORRUPT', what)
    }
    const k = sampleKeys()
    await crafted([k[0]!, { ...k[1]!, id: k[0]!.id }], 'duplicate id')
    await crafted([k[0]!, { ...k[2]!, label: k[0]!.label }], 'duplicate label')
    await crafted([{ id: 'z', type: 'p256', privateKey: new Uint8Array(32) }], 'P-256 scalar 0')
    await crafted([{ id: 'z', type: 'p256', privateKey: new Uint8Array(32).fill(0xff) }], 'P-256 scalar >= n')
  })

  it('hostile scrypt parameters in a header are refused before any derivation', async () => {
    const path = freshPath()
    await (await FileKeyStore.open(path, { passphrase: 'pw', kdf: FAST })).save(sampleKeys())
    const good = new Uint8Array(readFileSync(path))
    for (const [log2N, r, p] of [
      [30, 8, 1],
      [22, 1, 1],
      [15, 255, 1],
      [10, 8, 64],
      [0, 8, 1],
      [10, 0, 1],
    ] as const) {
      const b = good.slice()
      b[7] = log2N
      b[8] = r
      b[9] = p
      writeFileSync(path, resum(b), { mode: 0o600 })
      await rejectsCode(FileKeyStore.open(path, { passphrase: 'pw' }), 'VAULT_STORE_CORRUPT', `N=2^${log2N} r=${r} p=${p}`)
    }
  })

  it('refuses a group- or world-readable file, and a file that is not a store', async () => {
    const path = freshPath()
    await (await FileKeyStore.open(path)).save(sampleKeys())
    chmodSync(path, 0o640)
    await rejectsCode(FileKeyStore.open(path), 'VAULT_STORE_IO', 'mode 0640')
    chmodSync(path, 0o600)
    writeFileSync(path, '{"keys": []}\n'.repeat(5), { mode: 0o600 })
    await rejectsCode((async () => (await FileKeyStore.open(path)).load())(), 'VAULT_STORE_CORRUPT', 'JSON file')
  })

  it('bounds the number of keys and checks what it saves', async () => {
    const store = await FileKeyStore.open(freshPath())
    const one = sampleKeys()[0]!
    const many = Array.from({ length: MAX_STORE_KEYS + 1 }, (_, i) => ({ ...one, id: `i${i}`, label: undefined }))
    await rejectsCode(store.save(many), 'LIMIT_EXCEEDED', 'too many keys')
    await rejectsCode(store.save([{ ...one, privateKey: new Uint8Array(31) }]), 'INVALID_KEY', 'short key')
    await rejectsCode(store.save([{ ...one, type: 'rsa' as never }]), 'INVALID_ARGUMENT', 'unknown type')
    await rejectsCode(store.save([{ ...one, label: 'x'.repeat(65) }]), 'INVALID_ARGUMENT', 'long label')
    const full = Array.from({ length: MAX_STORE_KEYS }, (_, i) => ({ ...one, id: `i${i}`, label: `label-${i}` }))
    await store.save(full)
    assert.equal((await store.load()).length, MAX_STORE_KEYS)
  })

  it('close() wipes the derived key and refuses later calls', async () => {
    const store = await FileKeyStore.open(freshPath(), { passphrase: 'pw', kdf: FAST })
    const key = (store as unknown as { sealing: { key: Uint8Array } }).sealing.key
    assert.ok(key.some((b) => b !== 0))
    store.close()
    assert.ok(key.every((b) => b === 0), 'derived key zero-filled')
    await rejectsCode(store.load(), 'VAULT_CLOSED')
    await rejectsCode(store.save([]), 'VAULT_CLOSED')
  })

  it('a failed save leaves the vault unchanged (generateKey and deleteKey are atomic)', async () => {
    const store = await FileKeyStore.open(freshPath())
    let fail = false
    const flaky = { load: () => store.load(), save: async (k: StoredKey[]) => (fail ? Promise.reject(new Error('disk full')) : store.save(k)) }
    const vault = await SoftwareVault.open({ store: flaky })
    const kept = await vault.generateKey('ed25519', { label: 'kept', persistent: true })
    fail = true
    await assert.rejects(vault.generateKey('x25519', { label: 'lost', persistent: true }), /disk full/)
    assert.equal(await vault.findKey('lost'), undefined, 'the key whose save failed is not in the vault')
    assert.deepEqual((await vault.listKeys()).map((h) => h.label), ['kept'])
    await assert.rejects(vault.deleteKey(kept), /disk full/)
    assert.ok(await vault.findKey('kept'), 'a key whose deletion was not saved is still there')
    assert.equal((await vault.sign(kept, new Uint8Array(1))).length, 64, 'and still usable (not wiped)')
    fail = false
    await vault.generateKey('x25519', { label: 'lost', persistent: true })
    assert.deepEqual((await store.load()).map((k) => k.label).sort(), ['kept', 'lost'])
    await vault.close()
  })

  it('the vault wipes loaded private keys after importing them', async () => {
    const path = freshPath()
    await (await FileKeyStore.open(path)).save(sampleKeys())
    const store = await FileKeyStore.open(path)
    const loaded: StoredKey[] = []
    const spy = { load: async () => (loaded.push(...(await store.load())), loaded), save: (k: StoredKey[]) => store.save(k) }
    const vault = await SoftwareVault.open({ store: spy })
    assert.equal(loaded.length, 3)
    for (const k of loaded) assert.ok(k.privateKey.every((b) => b === 0), `${k.id} wiped`)
    assert.equal((await vault.listKeys()).length, 3)
    await vault.close()
  })
})

// ---- crash safety -----------------------------------------------------------------

const CHILD = fileURLToPath(new URL('./software-file-child.ts', import.meta.url))

/** Runs the writer until `killAfterMs` after it is ready, SIGKILLs it, and returns the keys it reported saved. */
function runAndKill(path: string, first: number, killAfterMs: number, passphrase?: string): Promise<Map<string, string>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path, String(first), ...(passphrase ? [passphrase] : [])], { stdio: ['ignore', 'pipe', 'pipe'] })
    const saved = new Map<string, string>()
    let buf = ''
    let err = ''
    let timer: NodeJS.Timeout | undefined
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 20_000)
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (d: string) => {
      buf += d
      let i
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i)
        buf = buf.slice(i + 1)
        if (line === 'ready') timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs)
        const m = /^saved (\S+) ([0-9a-f]+)$/.exec(line)
        if (m) saved.set(m[1]!, m[2]!)
      }
    })
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    // 'close', not 'exit': the last reported lines may still be in the pipe when the process exits.
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      clearTimeout(watchdog)
      if (signal !== 'SIGKILL') reject(new Error(`writer exited with ${code ?? signal} before the kill: ${err}`))
      else resolve(saved)
    })
  })
}

describe('FileKeyStore crash safety', () => {
  it('opening a store removes (zero-filled) the temp files of writers that died mid-save, and leaves a running writer\'s alone', async () => {
    const path = freshPath()
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
    const dead = spawn(process.execPath, ['-e', '0'])
    const deadPid = await new Promise<number>((resolve) => dead.on('exit', () => resolve(dead.pid ?? 0)))
    const stale = join(dirname(path), `.${basename(path)}.${deadPid}.0123456789ab.tmp`)
    const live = join(dirname(path), `.${basename(path)}.${process.pid}.ba9876543210.tmp`)
    writeFileSync(stale, 'a complete store with keys the real one never got', { mode: 0o600 })
    writeFileSync(live, 'a save in progress', { mode: 0o600 })
    const store = await FileKeyStore.open(path)
    assert.equal(existsSync(stale), false, 'the dead writer\'s temp file is gone')
    assert.equal(existsSync(live), true, 'a running writer\'s temp file stays')
    store.close()
    rmSync(live)
  })

  for (const passphrase of [undefined, 'crash test']) {
    it(`${passphrase ? 'encrypted' : 'plain'}: a writer killed with SIGKILL mid-write never loses a reported key`, async () => {
      const path = freshPath()
      const reported = new Map<string, string>()
      let next = 0
      const rounds = 5
      for (let round = 0; round < rounds; round++) {
        const killAfter = 40 + Math.floor(Math.random() * 260)
        const saved = await runAndKill(path, next, killAfter, passphrase)
        for (const [k, v] of saved) reported.set(k, v)
        // The store always opens and holds every key the writer reported (plus at most the one in flight).
        const store = await FileKeyStore.open(path, passphrase ? { passphrase } : {})
        const vault = await SoftwareVault.open({ store })
        const handles = await vault.listKeys()
        for (const [label, pub] of reported) {
          const h = await vault.findKey(label)
          assert.ok(h, `round ${round}: key ${label} reported saved but missing`)
          assert.equal(toHex(await vault.publicKey(h)), pub, `round ${round}: ${label} public key`)
        }
        // At most one key per round was saved but not yet reported (the kill landed between its rename and its line).
        // It is on disk now, so from here on it must survive like the others.
        const temps = readdirSync(dirname(path)).filter((n) => n.startsWith(`.${basename(path)}.`) && n.endsWith('.tmp'))
        assert.deepEqual(temps, [], `round ${round}: the killed writer's temp files were removed on open`)
        const unreported = handles.filter((h) => !reported.has(h.label!))
        assert.ok(unreported.length <= 1, `round ${round}: ${unreported.length} keys in the store were never reported`)
        for (const h of unreported) reported.set(h.label!, toHex(await vault.publicKey(h)))
        next = Math.max(...handles.map((h) => Number(h.label!.slice(1))), next - 1) + 1
        await vault.close()
        store.close()
        console.log(`crash test (${passphrase ? 'encrypted' : 'plain'}) round ${round}: killed after ${killAfter} ms, ${saved.size} keys reported this round, ${handles.length} in the store`)
      }
      assert.ok(reported.size >= rounds, `the writer reported ${reported.size} keys: too few to prove anything`)
    })
  }
})

function utf8Bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s)
}
function u32(v: number): Uint8Array {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, v)
  return b
}
function readU32(b: Uint8Array, o: number): number {
  return new DataView(b.buffer, b.byteOffset).getUint32(o)
}
void fromHex
