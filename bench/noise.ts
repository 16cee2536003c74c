import type { BenchModule } from './figure.ts'

const run: BenchModule = async () => []
export default run
