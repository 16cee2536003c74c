/**
 * The vault compliance suite against the ATECC608 simulator on the far end of
 * a real socat PTY pair: the simulator CLI runs in its own process, the driver
 * opens the host end with `serialport` (DTR fails on a PTY: ignored).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { runVaultCompliance } from '../../src/vault/compliance.ts'
import { nodeTestRunner } from '../../targets/node/vault-compliance.ts'
import { needSystem } from '../helpers/system.ts'
import { Atecc608Vault, KitTransport, openSerialChannel } from '../../vaults/atecc608/index.ts'
import { startPtySim, type PtySim } from './pty-harness.ts'

const skip = needSystem('socat')

if (skip) {
  describe('vault compliance: atecc608 simulator over a socat PTY', () => {
    it('runs the compliance suite over a real PTY', { skip }, () => undefined)
  })
} else {
  let pty: PtySim | undefined
  runVaultCompliance({
    name: 'atecc608 simulator over a socat PTY (KIT protocol, separate process)',
    persistent: true,
    concurrency: 4,
    open: async () => {
      pty ??= await startPtySim(['--seed', 'pty'])
      const ch = await openSerialChannel(pty.hostPath)
      assert.equal(ch.dtrAsserted, false, 'a PTY refuses DTR (platform-notes trap 5): the driver must carry on')
      return Atecc608Vault.open({ transport: await KitTransport.open(ch) })
    },
    cleanup: async () => pty?.stop(),
  }, nodeTestRunner)
}
