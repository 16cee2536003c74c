import type { Command } from '../command.ts'

// Placeholder: the identities issue fills this in.
export const command: Command = {
  name: 'identity',
  summary: '(identity commands: not yet available)',
  async run(_argv, io) {
    io.err('hopseal identity: not implemented yet')
    return 2
  },
}
