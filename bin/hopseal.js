#!/usr/bin/env node
// Runs the TypeScript CLI through tsx (a runtime dependency), so `npx hopseal`
// works from a clone without a build step.
import { register } from 'tsx/esm/api'
register()
await import('../targets/node/cli.ts')
