// Module resolution hooks (node:module register): append every bare specifier resolved to the
// file named by IMPORT_RECORD_FILE, so a test can tell whether a package was ever loaded.
import { appendFileSync } from 'node:fs';

export async function resolve(specifier, context, next) {
  const file = process.env.IMPORT_RECORD_FILE;
  if (file && !specifier.startsWith('.') && !specifier.startsWith('/') && !specifier.startsWith('file:')) {
    appendFileSync(file, `${specifier}\n`);
  }
  return next(specifier, context);
}
