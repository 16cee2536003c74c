import type { BenchModule } from './figure.ts'

// Placeholder until the atecc608 issue lands its figures.
const run: BenchModule = async () => []
export default run
