import type { Command } from '../command.ts'

// Placeholder: the identities issue fills this in.
export const command: Command = {
  name: 'credential',
  summary: '(credential commands: not yet available)',
  async run(_argv, io) {
    io.err('hopseal credential: not implemented yet')
    return 2
  },
}
