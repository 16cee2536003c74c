/**
 * `hopseal secure-channel create --from FILE --to ROUTE --peer HEX`: a
 * one-shot node built from a node config establishes an end-to-end channel
 * with the listener at ROUTE, prints what it proved (handshake pattern, the
 * peer's authenticated static key, the route), closes it and exits 0. A
 * check that a path, its keys and its trust lists are right, before any data.
 */
import { parseArgs } from 'node:util'
import type { Command } from '../../../src/cli/command.ts'
import { answerHelp, usageError, type CommandHelp } from '../../../src/cli/help.ts'
import { closeChannel, describeChannel, initiatorArgs, INITIATOR_DETAILS, INITIATOR_HELP_OPTIONS, INITIATOR_OPTIONS, openChannel } from './initiator.ts'
import { Deadline } from './one-shot-node.ts'

const EXAMPLE = 'hopseal secure-channel create --from phone.yaml --to "2#gateway;0#hr" --peer "$SVC_KEY"'

const HELP: CommandHelp = {
  help: {
    usage: ['secure-channel create --from FILE --to ROUTE --peer HEX [options]'],
    summary: 'Create end-to-end secure channels (Noise) to a listener, from a node config.',
    options: INITIATOR_HELP_OPTIONS,
    examples: [EXAMPLE],
  },
  subcommands: {
    create: {
      usage: ['secure-channel create --from FILE --to ROUTE --peer HEX [--key LABEL] [--protocol NAME] [--reliable] [--timeout DUR] [--json]'],
      summary: "Establish a channel with the listener at ROUTE, print the handshake pattern, the peer's authenticated static key and the route, close it, exit 0.",
      details: INITIATOR_DETAILS,
      options: INITIATOR_HELP_OPTIONS,
      examples: [EXAMPLE, 'hopseal secure-channel create --from app.yaml --to "2#svc;0#echo" --peer "$(cat svc.pub)" --protocol Noise_XX_25519_AESGCM_SHA256 --json'],
    },
  },
}

export const command: Command = {
  name: 'secure-channel',
  summary: 'establish an end-to-end secure channel to a listener (from a node config) and show what it proved',
  subcommands: Object.keys(HELP.subcommands),
  async run(argv, io) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: INITIATOR_OPTIONS })
    const [sub, ...extra] = positionals
    if (values.help) return answerHelp(io, 'secure-channel', HELP, sub)
    if (sub !== 'create') return usageError(io, 'secure-channel', sub ? `unknown subcommand "${sub}" (known: create)` : 'missing subcommand (create)')
    if (extra.length > 0) return usageError(io, 'secure-channel', `unexpected argument ${extra[0]}`, sub)
    const a = initiatorArgs(values, io, 'secure-channel', sub)
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
}
