/**
 * hangup-read.ts: a 0-byte read (a hung-up TTY) rejects as a disconnect
 * instead of looping; data reads, retries on EAGAIN through the poller, and a
 * closed port's read canceled like serialport's own.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { closeSync, constants as fsc, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { reportHangups } from '../../targets/node/serialport/hangup-read.ts'

const dir = mkdtempSync(join(tmpdir(), 'hopseal-hangup-'))
after(() => rmSync(dir, { recursive: true, force: true }))

interface FakeBinding {
  fd: number | null
  isOpen: boolean
  polls: number
  poller: { once(event: 'readable', cb: (err: Error | null) => void): unknown }
  read(buffer: Buffer, offset: number, length: number): Promise<{ bytesRead: number; buffer: Buffer }>
}

/** A binding on a real file descriptor; the original read must never be called once patched. */
function binding(fd: number, onPoll: (b: FakeBinding, cb: (err: Error | null) => void) => void = (_b, cb) => cb(null)): FakeBinding {
  const b: FakeBinding = {
    fd,
    isOpen: true,
    polls: 0,
    poller: { once: (_e, cb) => { b.polls++; onPoll(b, cb); return b.poller } },
    read: () => Promise.reject(new Error('the unpatched read ran')),
  }
  return b
}

function fileWith(name: string, bytes: Uint8Array): number {
  const path = join(dir, name)
  writeFileSync(path, bytes)
  return openSync(path, 'r')
}

describe('serial hang-up read', () => {
  it('returns the bytes there are, then rejects end of file as a disconnect (no retry loop)', async () => {
    const fd = fileWith('data', Uint8Array.of(1, 2, 3))
    try {
      const b = binding(fd)
      assert.equal(reportHangups(b), true)
      const buf = Buffer.alloc(16)
      const r = await b.read(buf, 4, 12)
      assert.equal(r.bytesRead, 3)
      assert.deepEqual([...buf.subarray(4, 7)], [1, 2, 3])
      await assert.rejects(b.read(buf, 0, 16), (e: unknown) => (e as { disconnect?: boolean; code?: string }).disconnect === true && (e as { code?: string }).code === 'EOF')
      assert.equal(b.polls, 0)
    } finally {
      closeSync(fd)
    }
  })

  it('a closed port cancels the read (serialport re-queues it instead of disconnecting)', async () => {
    const fd = fileWith('closed', Uint8Array.of(9))
    try {
      const b = binding(fd)
      reportHangups(b)
      b.isOpen = false
      await assert.rejects(b.read(Buffer.alloc(4), 0, 4), (e: unknown) => (e as { canceled?: boolean }).canceled === true)
    } finally {
      closeSync(fd)
    }
  })

  it('on a FIFO: EAGAIN waits for the poller, then reads; the writer closing (the hang-up) rejects as a disconnect', async () => {
    const path = join(dir, 'fifo')
    assert.equal(spawnSync('mkfifo', [path]).status, 0)
    const rd = openSync(path, fsc.O_RDONLY | fsc.O_NONBLOCK)
    const wr = openSync(path, fsc.O_WRONLY)
    try {
      // the poller is asked only after a read found nothing; it writes, then reports readable
      const b = binding(rd, (_b, cb) => {
        writeSync(wr, Uint8Array.of(7, 8))
        cb(null)
      })
      reportHangups(b)
      const buf = Buffer.alloc(8)
      const r = await b.read(buf, 0, 8)
      assert.equal(r.bytesRead, 2)
      assert.deepEqual([...buf.subarray(0, 2)], [7, 8])
      assert.equal(b.polls, 1)
      closeSync(wr)
      await assert.rejects(b.read(buf, 0, 8), (e: unknown) => (e as { disconnect?: boolean }).disconnect === true)
      assert.equal(b.polls, 1)
    } finally {
      closeSync(rd)
      try {
        closeSync(wr)
      } catch {
        // closed above
      }
    }
  })

  it('a read error other than EAGAIN is passed on; a poller error rejects the waiting read', async () => {
    const b = binding(1 << 20) // no such descriptor: EBADF
    reportHangups(b)
    await assert.rejects(b.read(Buffer.alloc(4), 0, 4), (e: unknown) => (e as NodeJS.ErrnoException).code === 'EBADF')

    const path = join(dir, 'fifo-poller-error')
    assert.equal(spawnSync('mkfifo', [path]).status, 0)
    const rd = openSync(path, fsc.O_RDONLY | fsc.O_NONBLOCK)
    const wr = openSync(path, fsc.O_WRONLY)
    try {
      const p = binding(rd, (_b, cb) => cb(new Error('bad file descriptor')))
      reportHangups(p)
      await assert.rejects(p.read(Buffer.alloc(4), 0, 4), /bad file descriptor/)
      assert.equal(p.polls, 1)
    } finally {
      closeSync(rd)
      closeSync(wr)
    }
  })

  it('bindings without a descriptor and a poller (Windows) are left alone', () => {
    const original = () => Promise.resolve({ bytesRead: 0, buffer: Buffer.alloc(0) })
    const win = { isOpen: true, read: original }
    assert.equal(reportHangups(win), false)
    assert.equal(win.read, original)
    assert.equal(reportHangups(undefined), false)
  })
})
