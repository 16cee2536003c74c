/**
 * Provisions an ATECC608 for hopseal (docs/hardware.md "Provisioning").
 * IRREVERSIBLE on silicon: the config and data zones are locked forever.
 *
 *   npx tsx vaults/atecc608/provision-cli.ts kit=/dev/ttyACM0 --yes-lock-forever [--key identity --key noise-static]
 *   npx tsx vaults/atecc608/provision-cli.ts i2c=1 --yes-lock-forever --key identity
 *   npx tsx vaults/atecc608/provision-cli.ts i2c=1 --yes-lock-forever --key noise-static --io-key-file io.key
 *
 * `--io-key-file` writes that I/O protection key (64 hex digits) into the
 * chip and configures every ECDH output to be encrypted with it; the host
 * (or board) that uses the chip needs the same key.
 *
 * Prints the provisioning report (serial number, slot map, public keys) as JSON.
 */
import { parseArgs } from 'node:util'
import { isHopsealError } from '../../src/errors.ts'
import { provision } from './provision.ts'
import { openAtecc608Transport, parseAtecc608Spec, readIoKeyFile } from './spec.ts'

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'yes-lock-forever': { type: 'boolean', default: false }, key: { type: 'string', multiple: true }, 'io-key-file': { type: 'string' } } })
  if (positionals.length !== 1) {
    console.error('usage: provision-cli.ts kit=PATH|i2c=BUS[,address=…] --yes-lock-forever [--key LABEL]… [--io-key-file FILE]')
    process.exit(2)
  }
  const ioProtectionKey = values['io-key-file'] === undefined ? undefined : readIoKeyFile(values['io-key-file'])
  const transport = await openAtecc608Transport(parseAtecc608Spec(positionals[0]!))
  try {
    const report = await provision({ transport, confirmIrreversible: values['yes-lock-forever'] === true, keys: values.key ?? [], ...(ioProtectionKey ? { ioProtectionKey } : {}) })
    console.log(JSON.stringify(report, null, 2))
  } finally {
    await transport.close()
  }
}

main().catch((e: unknown) => {
  console.error(isHopsealError(e) ? e.message : String(e))
  process.exit(1)
})
