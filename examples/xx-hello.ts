/**
 * The first-command example: two endpoints, each with a static key in its own
 * software vault, complete a Noise XX handshake and exchange one message each
 * way. Prints what an intermediary would see on the wire.
 *
 *   npm start                       # node provider, 25519 + ChaCha20-Poly1305
 *   npm start -- --suite Noise_XX_P256_AESGCM_SHA256
 *   HOPSEAL_CRYPTO=noble npm start  # the portable provider
 */
import { main } from '../targets/node/cli/main.ts'
import '../targets/node/vaults.ts'

process.exitCode = await main(['example', ...process.argv.slice(2)])
