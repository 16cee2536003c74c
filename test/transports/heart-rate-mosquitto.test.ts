/**
 * The heart-rate topology through a real Mosquitto and a real socat PTY pair,
 * KK and XX; in one run Mosquitto is killed (SIGKILL: its sessions and queues
 * are lost) and restarted in the middle of the stream: reliable mode loses
 * and duplicates nothing.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { needSystem } from '../helpers/system.ts'
import { needMosquitto, startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts'
import { runTopology } from './heart-rate-topology.ts'

const skip = needMosquitto() || needSystem('socat')

describe('heart-rate topology, real Mosquitto, real PTY radio', { skip }, () => {
  let m: Mosquitto
  before(async () => {
    m = await startMosquitto()
  })
  after(async () => {
    await m?.stop()
  })

  it('KK: 1 000 readings exactly once, in order, only ciphertext at the `#` tap and the serial tap', async () => {
    await runTopology({ mode: 'kk', medium: 'pty', deviceVault: 'software' }, { url: m.url })
  })

  it('XX, monitor keys in the simulated ATECC608: 1 000 readings exactly once, in order', async () => {
    await runTopology({ mode: 'xx', medium: 'pty', deviceVault: 'atecc608-sim' }, { url: m.url })
  })

  it('KK across a Mosquitto kill and restart mid-stream: nothing lost or duplicated', async () => {
    const pids: number[] = [m.pid]
    const s = await runTopology(
      { mode: 'kk', medium: 'pty', deviceVault: 'software', readings: 600, loss: 0.05, faults: 'faults:\n  - { at: 1500, kind: broker-restart, downMs: 500 }' },
      {
        url: m.url,
        restart: async (downMs) => {
          await m.kill()
          await new Promise((r) => setTimeout(r, downMs))
          await m.restart()
          pids.push(m.pid)
        },
      },
    )
    assert.equal(s.faults.length, 1)
    assert.notEqual(pids[0], pids[1], 'a new Mosquitto process')
  })
})
