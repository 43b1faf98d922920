// The two ways the command line is run: the compiled modules' entry (dist/src/client/main.js, what
// most tests spawn) and the `pyrelo` executable as installed, package.json's bin: the one-file
// build of the same modules (scripts/bundle-cli.mjs, run by `npm run build`).

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const ROOT = new URL('../../../', import.meta.url);

export const COMPILED_MAIN = fileURLToPath(new URL('dist/src/client/main.js', ROOT));

/** package.json's bin.pyrelo, as an absolute path. */
export const PYRELO_BIN = fileURLToPath(
  new URL(
    (JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as { bin: { pyrelo: string } }).bin.pyrelo,
    ROOT,
  ),
);

/**
 * Builds the executable from the compiled modules as `npm run build` does, so that a test run
 * after `tsc` alone does not try a missing or stale one.
 */
export async function buildPyreloBin(): Promise<void> {
  await execa(process.execPath, [fileURLToPath(new URL('scripts/bundle-cli.mjs', ROOT))]);
}
