/**
 * Provisions an ATECC608 for hopseal (docs/hardware.md "Provisioning").
 * IRREVERSIBLE on silicon: the config and data zones are locked forever.
 *
 *   npx tsx vaults/atecc608/provision-cli.ts kit=/dev/ttyACM0 --yes-lock-forever [--key identity --key noise-static]
 *   npx tsx vaults/atecc608/provision-cli.ts i2c=1 --yes-lock-forever --key identity
 *
 * Prints the provisioning report (serial number, slot map, public keys) as JSON.
 */
import { parseArgs } from 'node:util'
import { isHopsealError } from '../../src/errors.ts'
import { provision } from './provision.ts'
import { openAtecc608Transport, parseAtecc608Spec } from './spec.ts'

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'yes-lock-forever': { type: 'boolean', default: false }, key: { type: 'string', multiple: true } } })
  if (positionals.length !== 1) {
    console.error('usage: provision-cli.ts kit=PATH|i2c=BUS[,address=…] --yes-lock-forever [--key LABEL]…')
    process.exit(2)
  }
  const transport = await openAtecc608Transport(parseAtecc608Spec(positionals[0]!))
  try {
    const report = await provision({ transport, confirmIrreversible: values['yes-lock-forever'] === true, keys: values.key ?? [] })
    console.log(JSON.stringify(report, null, 2))
  } finally {
    await transport.close()
  }
}

main().catch((e: unknown) => {
  console.error(isHopsealError(e) ? e.message : String(e))
  process.exit(1)
})
