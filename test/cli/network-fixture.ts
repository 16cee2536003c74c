/**
 * A real network for the CLI's network commands: an embedded aedes broker, a
 * node runtime in process (the long-lived "svc" node: echo/log listeners and
 * a relay), node config files for one-shot commands, and `hopseal` through
 * main() with captured output. Keys are made with `hopseal vault keygen`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { main } from '../../targets/node/cli/main.ts'
import { startEmbeddedBroker, type EmbeddedBroker } from '../../targets/node/transports/mqtt/index.ts'
import '../../targets/node/commands/register.ts'
import { loadConfig } from '../../targets/node/runtime/config.ts'
import { createLogger } from '../../targets/node/runtime/logger.ts'
import { startNodeRuntime, type NodeRuntime } from '../../targets/node/runtime/runtime.ts'

export const KK = 'Noise_KK_25519_AESGCM_SHA256'
export const XX = 'Noise_XX_25519_AESGCM_SHA256'

export interface Run {
  code: number
  out: string
  err: string
}

export interface Live {
  signal?: AbortSignal
  onOut?: (line: string) => void
  onErr?: (line: string) => void
}

export interface CliNet {
  dir: string
  broker: EmbeddedBroker
  /** Every publish the broker saw, payload as latin1 text (to look for plaintext). */
  published: string[]
  /** Runs `hopseal ARGS` in process; `signal` stops long-running commands, `onOut`/`onErr` see lines as they come. */
  hopseal(args: string[], live?: Live): Promise<Run>
  /** Generates a persistent key with `hopseal vault keygen` and returns its public key (hex). */
  keygen(vault: string, label: string, type?: 'x25519' | 'p256'): Promise<string>
  /** Writes a node config file (YAML) into the temp dir; returns its path. */
  writeConfig(name: string, doc: Record<string, unknown>): string
  /** Starts a long-lived node in process from a config file; its log lines go to `lines`. */
  startNode(file: string, lines: string[]): Promise<NodeRuntime>
  close(): Promise<void>
}

export async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

export async function startCliNet(prefix: string): Promise<CliNet> {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const broker = await startEmbeddedBroker()
  const published: string[] = []
  const untap = broker.tap((topic, payload) => published.push(`${topic} ${Buffer.from(payload).toString('latin1')}`))
  const env = {}
  const ctx = { env, home: dir }
  const runtimes: NodeRuntime[] = []
  const hopseal = async (args: string[], live: Live = {}): Promise<Run> => {
    const out: string[] = []
    const err: string[] = []
    const code = await main(args, {
      out: (l) => {
        out.push(l)
        live.onOut?.(l)
      },
      err: (l) => {
        err.push(l)
        live.onErr?.(l)
      },
      env,
      ctx,
      ...(live.signal ? { signal: live.signal } : {}),
    })
    return { code, out: out.join('\n'), err: err.join('\n') }
  }
  return {
    dir,
    broker,
    published,
    hopseal,
    async keygen(vault, label, type = 'x25519') {
      const r = await hopseal(['vault', 'keygen', '--type', type, '--label', label, '--vault', `software:${join(dir, vault)}`, '--json'])
      if (r.code !== 0) throw new Error(`keygen ${label}: ${r.err}`)
      return (JSON.parse(r.out) as { publicKey: string }).publicKey
    },
    writeConfig(name, doc) {
      const file = join(dir, `${name}.yaml`)
      writeFileSync(file, stringify(doc))
      return file
    },
    async startNode(file, lines) {
      const config = loadConfig(file, env)
      const log = createLogger({ name: config.name, level: 'debug', write: (l) => lines.push(l) })
      const rt = await startNodeRuntime(config, { log, vaultContext: ctx })
      runtimes.push(rt)
      await waitFor(() => rt.status().transports.every((t) => t.up), 10_000, `${config.name} connected to the broker`)
      return rt
    },
    async close() {
      for (const rt of runtimes.reverse()) await rt.close()
      untap()
      await broker.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
