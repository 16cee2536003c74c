#!/usr/bin/env node
// The `hopseal` command. In a clone (the TypeScript sources are here and tsx,
// a dev dependency, is installed) it runs the sources through tsx: no build
// step, and never a stale build. In the published package (no sources) it runs
// the compiled dist/ with plain node. HOPSEAL_RUN=dist forces the build.
import { existsSync } from 'node:fs'

const source = new URL('../targets/node/cli.ts', import.meta.url)
const built = new URL('../dist/targets/node/cli.js', import.meta.url)

async function tsxRegistered() {
  if (process.env.HOPSEAL_RUN === 'dist' || !existsSync(source)) return false
  try {
    const { register } = await import('tsx/esm/api')
    register()
    return true
  } catch {
    return false // sources without dev dependencies (npm install --omit=dev): use the build
  }
}

if (await tsxRegistered()) await import(source.href)
else if (existsSync(built)) await import(built.href)
else {
  console.error('hopseal: no build in dist/ and no tsx to run the sources: npm install (with dev dependencies), or npm run build')
  process.exit(1)
}
