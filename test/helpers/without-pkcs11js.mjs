// Preload (node --import) that makes the optional native addon pkcs11js
// unresolvable, as on a machine where its node-gyp build failed at install.
import { register } from 'node:module'

register(
  'data:text/javascript,' +
    encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if (specifier === 'pkcs11js') {
    const e = new Error("Cannot find package 'pkcs11js' (blocked by test/helpers/without-pkcs11js.mjs)")
    e.code = 'ERR_MODULE_NOT_FOUND'
    throw e
  }
  return next(specifier, context)
}
`),
  import.meta.url,
)
