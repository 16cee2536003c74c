export { simCommand as command } from './commands.ts'
