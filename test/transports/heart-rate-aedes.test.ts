/** The heart-rate topology with the embedded aedes broker: memory radio (no system packages at all) and a real PTY radio. */
import { describe, it } from 'node:test'
import { needSystem } from '../helpers/system.ts'
import { runTopology } from './heart-rate-topology.ts'

describe('heart-rate topology, embedded aedes broker', () => {
  it('KK, memory radio, ATECC608-simulated monitor: 1 000 readings exactly once, in order, only ciphertext at the taps', async () => {
    await runTopology({ mode: 'kk', medium: 'memory', deviceVault: 'atecc608-sim' })
  })
  it('XX with identities, memory radio: 1 000 readings exactly once, in order, only ciphertext at the taps', async () => {
    await runTopology({ mode: 'xx', medium: 'memory', deviceVault: 'software' })
  })
  it('KK over a real socat PTY pair: 1 000 readings exactly once, in order', { skip: needSystem('socat') }, async () => {
    await runTopology({ mode: 'kk', medium: 'pty', deviceVault: 'software' })
  })
})
