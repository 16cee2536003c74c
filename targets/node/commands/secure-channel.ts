/**
 * `hopseal secure-channel create --from FILE --to ROUTE --peer HEX`: a
 * one-shot node built from a node config establishes an end-to-end channel
 * with the listener at ROUTE, prints what it proved (handshake pattern, the
 * peer's authenticated static key, the route), closes it and exits 0. A
 * check that a path, its keys and its trust lists are right, before any data.
 */
import { defineCommand } from '../cli/command.ts'
import { oneSubcommandHelp } from '../cli/help.ts'
import { closeChannel, describeChannel, initiatorArgs, INITIATOR_DETAILS, INITIATOR_HELP_OPTIONS, INITIATOR_OPTIONS, openChannel } from './initiator.ts'
import { Deadline } from './one-shot-node.ts'

const EXAMPLE = 'hopseal secure-channel create --from phone.yaml --to "2#gateway;0#hr" --peer "$SVC_KEY"'

const HELP = oneSubcommandHelp(
  'secure-channel create --from FILE --to ROUTE --peer HEX [options]',
  'Create end-to-end secure channels (Noise) to a listener, from a node config.',
  'create',
  {
    usage: ['secure-channel create --from FILE --to ROUTE --peer HEX [--key LABEL] [--protocol NAME] [--reliable] [--timeout DUR] [--json]'],
    summary: "Establish a channel with the listener at ROUTE, print the handshake pattern, the peer's authenticated static key and the route, close it, exit 0.",
    details: INITIATOR_DETAILS,
    options: INITIATOR_HELP_OPTIONS,
    examples: [EXAMPLE, 'hopseal secure-channel create --from app.yaml --to "2#svc;0#echo" --peer "$(cat svc.pub)" --protocol Noise_XX_25519_AESGCM_SHA256 --json'],
  },
)

export const command = defineCommand({
  name: 'secure-channel',
  summary: 'establish an end-to-end secure channel to a listener (from a node config) and show what it proved',
  help: HELP,
  options: INITIATOR_OPTIONS,
  maxArgs: 0,
  async run({ values, usage }, io) {
    const a = initiatorArgs(values, io, 'create', usage)
    if (typeof a === 'number') return a
    const deadline = new Deadline(a.timeoutMs, io.signal)
    try {
      const opened = await openChannel(a, io, deadline)
      const d = describeChannel(a, opened)
      await closeChannel(opened)
      if (a.json) io.out(JSON.stringify({ ok: true, ...d }))
      else {
        io.out(`secure channel established with ${d.to} (${d.handshakeMs} ms)`)
        io.out(`  protocol  ${a.protocol.name} (handshake ${a.protocol.pattern.name}${a.reliable ? ', reliable' : ''})`)
        io.out(`  peer      ${(d.peer as { staticKey: string }).staticKey} (authenticated: it proved the --peer key)`)
        io.out(`  this side ${a.keyLabel} ${(d.local as { staticKey: string }).staticKey} as ${d.node}`)
        io.out(`  route     ${d.remoteRoute} (the peer's channel endpoint)`)
        io.out('closed')
      }
      return 0
    } finally {
      deadline.dispose()
    }
  },
})
