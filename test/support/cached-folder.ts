// Slow fixtures (downloads, builds) are cached outside the checkout, keyed by their inputs in the
// folder's name (README "Testing"). Each is made in a temporary sibling and renamed into place
// after its stamp is written, so an interrupted download or build is never used.

import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The file whose presence says the folder is complete. */
export const CACHE_STAMP = '.complete';

/** Makes `dir` with `fill` unless its stamp is there; `fill` writes into a temporary sibling. */
export async function cachedFolder(
  dir: string,
  fill: (temporary: string) => Promise<void>,
  stamp = `${new Date().toISOString()}\n`,
): Promise<string> {
  if (existsSync(join(dir, CACHE_STAMP))) return dir;
  mkdirSync(dirname(dir), { recursive: true });
  const temporary = `${dir}.tmp-${process.pid}`;
  rmSync(temporary, { recursive: true, force: true });
  mkdirSync(temporary);
  try {
    await fill(temporary);
    writeFileSync(join(temporary, CACHE_STAMP), stamp);
    rmSync(dir, { recursive: true, force: true });
    renameSync(temporary, dir);
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
  return dir;
}
