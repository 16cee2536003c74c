/**
 * Crash-safe small-file persistence shared by the software key store and the
 * identity store: write to a temp file in the same directory with mode 0600,
 * fsync it, rename over the target (atomic on POSIX), fsync the directory.
 * A process killed at any point leaves either the old or the new file, never
 * a torn one, and perhaps its temp file (`.<name>.<pid>.<random>.tmp`): the
 * next open removes those of writers that are no longer running
 * (removeStaleTemps), since they may hold keys the real file never got.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync, statSync } from 'node:fs'
import { dirname, basename, join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { ErrorCode, HopsealError } from '../../../src/errors.ts'

export const STORE_FILE_MODE = 0o600
export const STORE_DIR_MODE = 0o700

/** Atomically replaces `path` with `data` (mode 0600). Creates the directory (0700) if needed. */
export function writeFileAtomic(path: string, data: Uint8Array): void {
  const dir = dirname(path)
  try {
    mkdirSync(dir, { recursive: true, mode: STORE_DIR_MODE })
    const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
    const fd = openSync(tmp, 'wx', STORE_FILE_MODE)
    try {
      let off = 0
      while (off < data.length) off += writeSync(fd, data, off, data.length - off)
      fsyncSync(fd)
    } catch (e) {
      closeSync(fd)
      rmSync(tmp, { force: true })
      throw e
    }
    closeSync(fd)
    renameSync(tmp, path)
    const dfd = openSync(dir, 'r')
    try {
      fsyncSync(dfd)
    } finally {
      closeSync(dfd)
    }
  } catch (e) {
    if (e instanceof HopsealError) throw e
    throw new HopsealError(ErrorCode.VAULT_STORE_IO, `cannot write ${path}: ${(e as Error).message}`, { cause: e })
  }
}

/**
 * Removes the temp files that writers of `path` left when they were killed
 * mid-save (their process is gone), zero-filling them first: they may hold
 * keys the store never got. Temp files of running writers are left alone.
 * Returns how many were removed; never throws (best effort).
 */
export function removeStaleTemps(path: string): number {
  const dir = dirname(path)
  const prefix = `.${basename(path)}.`
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return 0
  }
  let removed = 0
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue
    const m = /^(\d+)\.[0-9a-f]+\.tmp$/.exec(name.slice(prefix.length))
    if (!m || processRunning(Number(m[1]))) continue
    const p = join(dir, name)
    try {
      const size = statSync(p).size
      const fd = openSync(p, 'r+')
      try {
        writeSync(fd, new Uint8Array(size), 0, size, 0)
        fsyncSync(fd)
      } finally {
        closeSync(fd)
      }
      rmSync(p, { force: true })
      removed++
    } catch {
      /* another process removed it, or it is not ours to touch */
    }
  }
  return removed
}

function processRunning(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM' // exists, owned by someone else
  }
}

/** Reads a store file; `undefined` when it does not exist. Refuses files readable by group/others. */
export function readStoreFile(path: string, maxBytes = 16 * 1024 * 1024): Uint8Array | undefined {
  let st
  try {
    st = statSync(path)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new HopsealError(ErrorCode.VAULT_STORE_IO, `cannot stat ${path}: ${(e as Error).message}`, { cause: e })
  }
  if ((st.mode & 0o077) !== 0) {
    throw new HopsealError(ErrorCode.VAULT_STORE_IO, `${path} is accessible by group or others (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 ${path}`)
  }
  if (st.size > maxBytes) throw new HopsealError(ErrorCode.VAULT_STORE_CORRUPT, `${path} is larger than ${maxBytes} bytes`)
  try {
    return new Uint8Array(readFileSync(path))
  } catch (e) {
    throw new HopsealError(ErrorCode.VAULT_STORE_IO, `cannot read ${path}: ${(e as Error).message}`, { cause: e })
  }
}
