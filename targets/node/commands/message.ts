/**
 * `hopseal message send --from FILE --to ROUTE --peer HEX --message TEXT`:
 * a one-shot node built from a node config creates a secure channel to the
 * listener at ROUTE, sends TEXT through it and prints the reply of the
 * listener's echo service (or, with `--service log`, expects none), then
 * closes the channel and exits 0. The operator's end-to-end liveness check of
 * a whole chain (serial ↔ gateway ↔ broker ↔ node).
 */
import { fromUtf8, toHex, utf8 } from '../../../src/bytes/index.ts'
import { defineCommand } from '../cli/command.ts'
import { oneSubcommandHelp } from '../cli/help.ts'
import { ErrorCode, HopsealError } from '../../../src/errors.ts'
import { routeToString } from '../../../src/routing/address.ts'
import { MAX_CLI_MESSAGE_BYTES } from './constants.ts'
import { closeChannel, describeChannel, initiatorArgs, INITIATOR_DETAILS, INITIATOR_HELP_OPTIONS, INITIATOR_OPTIONS, openChannel, type OpenedChannel } from './initiator.ts'
import { Deadline } from './one-shot-node.ts'

const SERVICES = ['echo', 'log'] as const
type Service = (typeof SERVICES)[number]

const OPTIONS = [
  ['--message TEXT', `the message (UTF-8, 1..${MAX_CLI_MESSAGE_BYTES} bytes) (required)`],
  ['--service S', "the listener's service: echo (default; wait for the reply and print it) or log (no reply expected)"],
  ...INITIATOR_HELP_OPTIONS,
] as const

const EXAMPLE = 'hopseal message send --from phone.yaml --to "2#gateway;0#hr" --peer "$SVC_KEY" --message ping'

const HELP = oneSubcommandHelp(
  'message send --from FILE --to ROUTE --peer HEX --message TEXT [options]',
  'Send messages through an end-to-end secure channel, from a node config.',
  'send',
  {
    usage: ['message send --from FILE --to ROUTE --peer HEX --message TEXT [--service echo|log] [--key LABEL] [--protocol NAME] [--reliable] [--timeout DUR] [--json]'],
    summary: "Create a channel to the listener at ROUTE, send TEXT, print the echo service's reply (stdout: the reply alone), close, exit 0.",
    details: [...INITIATOR_DETAILS, 'No reply within --timeout exits 1 with TIMEOUT.'],
    options: OPTIONS,
    examples: [EXAMPLE, 'hopseal message send --from app.yaml --to "2#svc;0#sink" --peer "$(cat svc.pub)" --message "reading 42" --service log --json'],
  },
)

export const command = defineCommand({
  name: 'message',
  summary: 'send a message through an end-to-end secure channel (from a node config) and print the reply',
  help: HELP,
  options: { ...INITIATOR_OPTIONS, message: { type: 'string' }, service: { type: 'string', default: 'echo' } },
  async run({ values, args, usage }, io) {
    if (args.length > 0) return usage(`unexpected argument ${args[0]} (the text goes after --message)`)
    if (values.message === undefined) return usage('send needs --message TEXT')
    const bytes = utf8(values.message)
    if (bytes.length === 0 || bytes.length > MAX_CLI_MESSAGE_BYTES) return usage(`--message expected 1..${MAX_CLI_MESSAGE_BYTES} bytes, got ${bytes.length}`)
    const service = values.service as Service
    if (!SERVICES.includes(service)) return usage(`--service expected echo or log, got ${JSON.stringify(values.service)}`)
    const a = initiatorArgs(values, io, 'send', usage)
    if (typeof a === 'number') return a

    const deadline = new Deadline(a.timeoutMs, io.signal)
    const replies: Uint8Array[] = []
    let wake: (() => void) | undefined
    let opened: OpenedChannel | undefined
    try {
      opened = await openChannel(a, io, deadline, (payload) => {
        replies.push(payload.slice())
        wake?.()
      })
      const channel = opened.channel
      const t0 = performance.now()
      await channel.send(bytes)
      let roundTripMs: number | undefined
      if (service === 'echo') {
        await new Promise<void>((resolve, reject) => {
          const fail = (): void => {
            if (!deadline.expired) return reject(new HopsealError(ErrorCode.ABORTED, 'interrupted while waiting for the reply'))
            reject(new HopsealError(ErrorCode.TIMEOUT, `no reply from the echo service at ${routeToString(a.route)} within ${deadline.ms} ms (fix: is the listener's service echo? use --service log for a log listener; a listener that refused this side's key drops messages silently)`))
          }
          if (replies.length > 0) return resolve()
          wake = resolve
          channel.onClose(() => reject(new HopsealError(ErrorCode.CHANNEL_CLOSED, 'the listener closed the channel before replying')))
          if (deadline.signal.aborted) return fail()
          deadline.signal.addEventListener('abort', fail, { once: true })
        })
        roundTripMs = Math.round((performance.now() - t0) * 10) / 10
      }
      const d = describeChannel(a, opened)
      await closeChannel(opened)
      const reply = replies[0]
      const replyText = reply === undefined ? undefined : text(reply)
      if (a.json) {
        io.out(JSON.stringify({ ok: true, ...d, service, sent: values.message, bytes: bytes.length, ...(reply ? { reply: replyText, replyBytes: reply.length, roundTripMs } : {}) }))
      } else if (replyText !== undefined) io.out(replyText)
      else io.out(`sent ${bytes.length} bytes to ${d.to} (${service} service: no reply expected)`)
      return 0
    } finally {
      deadline.dispose()
      if (opened) await closeChannel(opened).catch(() => undefined)
    }
  },
})

/** A reply as text: UTF-8 when it is, else `0x` + hex. */
function text(b: Uint8Array): string {
  try {
    return fromUtf8(b)
  } catch {
    return '0x' + toHex(b)
  }
}
