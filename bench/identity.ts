import type { BenchModule } from './figure.ts'

// Placeholder until the identity issue lands its figures.
const run: BenchModule = async () => []
export default run
