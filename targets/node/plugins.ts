/**
 * Development plugins of the Node target. hil-sim (the simulator, a
 * development package) registers its `demo` and `sim` commands and the
 * `atecc608:sim=` vault transport itself, in hil-sim/plugin.ts; the target
 * loads that file when it sits next to it (a clone of the repository, run from
 * sources or from a local build) and goes on without it otherwise (the
 * published package, which ships no hil-sim).
 *
 * The specifier is computed on purpose: a literal import would make the
 * compiler pull hil-sim into dist/ and would be a product → dev edge
 * (scripts/layers.ts lists this file in DYNAMIC_IMPORTS).
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** Paths relative to this file; `.ts` from sources, `.js` from a build. */
const PLUGINS = ['../../hil-sim/plugin']

let loading: Promise<string[]> | undefined

/**
 * Loads every development plugin present (once per process) and returns the
 * paths it loaded. A plugin that is present but fails to load is an error.
 */
export function loadPlugins(): Promise<string[]> {
  loading ??= (async () => {
    const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js'
    const loaded: string[] = []
    for (const p of PLUGINS) {
      const url = new URL(p + ext, import.meta.url)
      if (!existsSync(fileURLToPath(url))) continue
      await import(url.href)
      loaded.push(fileURLToPath(url))
    }
    return loaded
  })()
  return loading
}
