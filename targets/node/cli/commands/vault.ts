/**
 * `hopseal vault`: generate, list, show and delete keys in a vault. Never
 * prints private keys (no vault can return them).
 *
 *   hopseal vault keygen --type ed25519|x25519|p256 --label L [--vault SPEC] [--json]
 *   hopseal vault list [--vault SPEC] [--json]
 *   hopseal vault public-key --label L [--vault SPEC] [--json]
 *   hopseal vault delete --label L [--vault SPEC] [--json]
 *
 * SPEC defaults to `$HOPSEAL_VAULT`, else `software:` ($HOPSEAL_HOME/vault.hsv).
 */
import { toHex } from '../../../../src/bytes/index.ts'
import { ErrorCode, HopsealError } from '../../../../src/errors.ts'
import type { KeyHandle, KeyType, Vault } from '../../../../src/vault/index.ts'
import { defineCommand } from '../command.ts'
import type { CommandHelp } from '../help.ts'
import { openVaultSpec, vaultKinds } from '../vault-registry.ts'

const KEY_TYPES: readonly KeyType[] = ['ed25519', 'x25519', 'p256']

const VAULT_OPTION = ['--vault SPEC', 'the vault (default $HOPSEAL_VAULT, else software: = $HOPSEAL_HOME/vault.hsv); kinds: software:, pkcs11:, atecc608:'] as const
const JSON_OPTION = ['--json', 'print JSON for scripts'] as const

const HELP: CommandHelp = {
  help: {
    usage: ['vault keygen|list|public-key|delete [options]'],
    summary: 'Generate, list, show and delete keys in a vault. No vault can return a private key, so none is ever printed.',
    options: [VAULT_OPTION, JSON_OPTION],
    examples: ['hopseal vault keygen --type x25519 --label node-static', 'hopseal vault list --json'],
  },
  subcommands: {
    keygen: {
      usage: ['vault keygen --type ed25519|x25519|p256 --label L [--vault SPEC] [--json]'],
      summary: 'Generate a persistent key in the vault and print its label, type, public key and id.',
      details: ['x25519 and p256 keys are Noise static keys (listeners, channels); ed25519 and p256 sign identities.'],
      options: [['--type T', 'ed25519, x25519 or p256 (required)'], ['--label L', 'the label to find it by (required, unique in the vault)'], VAULT_OPTION, JSON_OPTION],
      examples: ['hopseal vault keygen --type x25519 --label node-static --vault software:./node.hsv'],
    },
    list: {
      usage: ['vault list [--vault SPEC] [--json]'],
      summary: 'List the keys in the vault: label, type, public key (hex) and id, one per line.',
      options: [VAULT_OPTION, JSON_OPTION],
      examples: ['hopseal vault list --vault software:./node.hsv --json'],
    },
    'public-key': {
      usage: ['vault public-key --label L [--vault SPEC] [--json]'],
      summary: "Print a key's public key (hex): what a peer's config lists under trust.knownPeers.",
      options: [['--label L', 'the key (required)'], VAULT_OPTION, JSON_OPTION],
      examples: ['hopseal vault public-key --label node-static --vault software:./node.hsv'],
    },
    delete: {
      usage: ['vault delete --label L [--vault SPEC] [--json]'],
      summary: 'Delete a key from the vault (it cannot be recovered).',
      options: [['--label L', 'the key (required)'], VAULT_OPTION, JSON_OPTION],
      examples: ['hopseal vault delete --label old-key'],
    },
  },
}

interface KeyInfo {
  label: string | null
  type: KeyType
  id: string
  vault: string
  persistent: boolean
  publicKey: string
}

async function info(vault: Vault, h: KeyHandle): Promise<KeyInfo> {
  return { label: h.label ?? null, type: h.type, id: h.id, vault: h.vault, persistent: h.persistent, publicKey: toHex(await vault.publicKey(h)) }
}

const line = (k: KeyInfo): string => `${k.label ?? '-'}\t${k.type}\t${k.publicKey}\t${k.id}`

async function byLabel(vault: Vault, label: string): Promise<KeyHandle> {
  const h = await vault.findKey(label)
  if (!h) throw new HopsealError(ErrorCode.VAULT_KEY_NOT_FOUND, `no key labelled ${label} in vault ${vault.name}`)
  return h
}

export const command = defineCommand({
  name: 'vault',
  summary: 'generate, list, show and delete keys in a vault (software, pkcs11, atecc608)',
  help: HELP,
  options: {
    type: { type: 'string' },
    label: { type: 'string' },
    vault: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
  maxArgs: 0,
  usageNotes: () => {
    const kinds = vaultKinds()
    return kinds.length > 0 ? [`vault kinds:\n${kinds.map((k) => `  ${k.kind.padEnd(10)} ${k.help}`).join('\n')}`] : []
  },
  async run({ values, sub, usage }, io) {
    const needsLabel = sub === 'keygen' || sub === 'public-key' || sub === 'delete'
    if (needsLabel && !values.label) return usage(`${sub} needs --label`)
    if (sub === 'keygen' && !KEY_TYPES.includes(values.type as KeyType)) return usage(`keygen needs --type ${KEY_TYPES.join('|')}`)
    if (sub !== 'keygen' && values.type !== undefined) return usage(`--type is only for keygen`)
    if (sub === 'list' && values.label !== undefined) return usage(`list takes no --label`)

    const spec = values.vault ?? io.env.HOPSEAL_VAULT ?? 'software:'
    // Only keygen creates a store; list, public-key and delete on a path that does not exist are errors.
    const vault = await openVaultSpec(spec, { ...io.ctx, create: sub === 'keygen' })
    try {
      const json = values.json === true
      if (sub === 'keygen') {
        const h = await vault.generateKey(values.type as KeyType, { label: values.label!, persistent: true })
        const k = await info(vault, h)
        io.out(json ? JSON.stringify(k) : line(k))
      } else if (sub === 'list') {
        const keys = await Promise.all((await vault.listKeys()).map((h) => info(vault, h)))
        keys.sort((a, b) => (a.label ?? '').localeCompare(b.label ?? '') || a.id.localeCompare(b.id))
        if (json) io.out(JSON.stringify(keys))
        else for (const k of keys) io.out(line(k))
      } else if (sub === 'public-key') {
        const k = await info(vault, await byLabel(vault, values.label!))
        io.out(json ? JSON.stringify(k) : k.publicKey)
      } else {
        const h = await byLabel(vault, values.label!)
        await vault.deleteKey(h)
        io.out(json ? JSON.stringify({ deleted: values.label, id: h.id }) : `deleted ${values.label}`)
      }
      return 0
    } finally {
      await vault.close()
    }
  },
})
