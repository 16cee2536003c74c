export { demoCommand as command } from './commands.ts'
