import type { Command } from '../command.ts'

// Placeholder, filled in by the foundation work.
export const command: Command = {
  name: 'vault',
  summary: '(vault: not yet available)',
  async run(_argv, io) {
    io.err('hopseal vault: not implemented yet')
    return 2
  },
}
