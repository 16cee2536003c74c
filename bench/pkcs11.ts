import type { BenchModule } from './figure.ts'

// Placeholder until the pkcs11 issue lands its figures.
const run: BenchModule = async () => []
export default run
