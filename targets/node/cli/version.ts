/**
 * The package version, read once from hopseal's package.json (the CLI's
 * --version, the node runtime's logs and /status): three folders up from
 * targets/node/cli in the sources, four from dist/targets/node/cli in a build.
 */
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

function readVersion(): string {
  for (const up of ['../../../package.json', '../../../../package.json']) {
    const path = fileURLToPath(new URL(up, import.meta.url))
    if (!existsSync(path)) continue
    const pkg = JSON.parse(readFileSync(path, 'utf8')) as { name?: string; version?: string }
    if (pkg.name === 'hopseal' && typeof pkg.version === 'string') return pkg.version
  }
  throw new Error(`hopseal's package.json not found above ${fileURLToPath(import.meta.url)}`)
}

export const VERSION: string = readVersion()
