/** The memory transport passes the shared transport compliance suite. */
import { MemoryNetwork } from '../../src/transports/memory.ts'
import { runTransportCompliance } from './transport-compliance.ts'

runTransportCompliance('memory', async () => {
  const net = new MemoryNetwork()
  const a = net.endpoint('a', { maxPayload: 4096 })
  const b = net.endpoint('b', { maxPayload: 4096 })
  return { a, b, aToB: b.address, bToA: a.address, close: async () => {
    await a.close()
    await b.close()
  } }
})
