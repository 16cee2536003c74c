import type { Command } from '../command.ts'

// Placeholder, filled in by the foundation work.
export const command: Command = {
  name: 'example',
  summary: '(example: not yet available)',
  async run(_argv, io) {
    io.err('hopseal example: not implemented yet')
    return 2
  },
}
