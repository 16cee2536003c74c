/**
 * A throw-away SoftHSM2 token for tests and simulations (atecc608-and-pkcs11.md §B2).
 *
 * Creates a temp dir with its own `softhsm2.conf` and token directory, sets
 * `SOFTHSM2_CONF` for this process (and for children that inherit the env),
 * initialises a token with `softhsm2-util --init-token --free`, and removes it
 * all again with `remove()`. Gate tests on `needSystem('softhsm2-util')`.
 *
 * SOFTHSM2_CONF is read by the module at C_Initialize, so create the token
 * before the first vault opens, and use one token per test process.
 *
 * @example
 * const hsm = await createSoftHsmToken({ label: 'vault-test' })
 * const vault = await Pkcs11Vault.open({ module: hsm.module, token: hsm.label, pin: hsm.pin })
 * // …
 * await vault.close(); await hsm.remove()
 */
import { execFile, execFileSync } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** Debian's path of the SoftHSM2 module (softhsm2 2.6.1). */
export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so'

export interface SoftHsmToken {
  /** Path of the PKCS#11 module to load. */
  module: string
  /** The token label (find the slot by this label, never by index). */
  label: string
  /** User PIN. Test-only: real deployments read it from an env variable or file. */
  pin: string
  soPin: string
  /** Temp dir holding the config and the token directory. */
  dir: string
  /** Value for SOFTHSM2_CONF (already set in process.env). */
  conf: string
  /** Environment for child processes (pkcs11-tool, a second node process). */
  env: NodeJS.ProcessEnv
  /** Runs `pkcs11-tool --module … --token-label …` with extra args; returns stdout. */
  pkcs11Tool(args: string[], opts?: { login?: boolean }): Promise<string>
  /** Deletes the token and the temp dir; restores SOFTHSM2_CONF. */
  remove(): Promise<void>
}

export interface SoftHsmTokenOptions {
  label?: string
  pin?: string
  soPin?: string
  module?: string
}

/** Creates and initialises a fresh SoftHSM2 token in a temp dir. */
export async function createSoftHsmToken(opts: SoftHsmTokenOptions = {}): Promise<SoftHsmToken> {
  const label = opts.label ?? `hopseal-${process.pid}`
  const pin = opts.pin ?? '1234'
  const soPin = opts.soPin ?? '12345678'
  const module = opts.module ?? SOFTHSM_MODULE
  const dir = await mkdtemp(join(tmpdir(), 'hopseal-softhsm-'))
  const tokens = join(dir, 'tokens')
  await mkdir(tokens, { recursive: true })
  const conf = join(dir, 'softhsm2.conf')
  await writeFile(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`)
  const previous = process.env.SOFTHSM2_CONF
  process.env.SOFTHSM2_CONF = conf
  const env: NodeJS.ProcessEnv = { ...process.env, SOFTHSM2_CONF: conf }
  try {
    await run('softhsm2-util', ['--init-token', '--free', '--label', label, '--so-pin', soPin, '--pin', pin], { env })
  } catch (e) {
    await rm(dir, { recursive: true, force: true })
    restore(previous)
    throw e
  }
  let removed = false
  return {
    module,
    label,
    pin,
    soPin,
    dir,
    conf,
    env,
    async pkcs11Tool(args, o = {}) {
      const base = ['--module', module, '--token-label', label]
      if (o.login !== false) base.push('--login', '--pin', pin)
      const { stdout } = await run('pkcs11-tool', [...base, ...args], { env })
      return stdout
    },
    async remove() {
      if (removed) return
      removed = true
      try {
        await run('softhsm2-util', ['--delete-token', '--token', label], { env })
      } catch {
        /* the directory goes anyway */
      }
      await rm(dir, { recursive: true, force: true })
      restore(previous)
      if (existsSync(dir)) throw new Error(`softhsm temp dir ${dir} was not removed`)
    },
  }
}

function restore(previous: string | undefined): void {
  if (previous === undefined) delete process.env.SOFTHSM2_CONF
  else process.env.SOFTHSM2_CONF = previous
}

/** Whether SoftHSM2 is installed here (module and softhsm2-util). */
export function softHsmAvailable(module = SOFTHSM_MODULE): boolean {
  if (!existsSync(module)) return false
  try {
    execFileSync('softhsm2-util', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

let shared: Promise<SoftHsmToken> | undefined

/**
 * One token for this process, created on first use and removed at exit:
 * SoftHSM2 reads SOFTHSM2_CONF when the module initialises, so scenarios run
 * one after another in one process share a token (their key labels differ).
 */
export function processSoftHsmToken(): Promise<SoftHsmToken> {
  shared ??= createSoftHsmToken({ label: `hopseal-sim-${process.pid}` }).then((t) => {
    process.once('exit', () => rmSync(t.dir, { recursive: true, force: true }))
    return t
  })
  return shared
}
