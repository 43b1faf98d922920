// The package's own folders beside the code: data/ (knowledge about platforms, validated when
// read) and proto/ (the RPC schema). They are found upward from this module: src/common in the
// checkout, dist/src/common when compiled, the packed agent's folder when bundled, so one lookup
// works from a checkout, an npm install and the agent archive.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A file each folder always holds: the folder found is the package's, not a stray one. */
const MARKERS = { data: 'loader-defaults.json', proto: join('pyrelo', 'v1', 'control.proto') } as const;

export type PackageFolder = keyof typeof MARKERS;

const found = new Map<PackageFolder, string>();

export function packageFolder(name: PackageFolder): string {
  const known = found.get(name);
  if (known !== undefined) return known;
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = dirname(dir)) {
    if (existsSync(join(dir, name, MARKERS[name]))) {
      found.set(name, join(dir, name));
      return join(dir, name);
    }
    if (dir === dirname(dir)) throw new Error(`pyrelo: ${name}/ not found above the installed code (${here})`);
  }
}

/** The path of data/NAME; it must exist. */
export function dataFile(name: string): string {
  const path = join(packageFolder('data'), name);
  if (!existsSync(path)) throw new Error(`data/${name}: not found in ${packageFolder('data')}`);
  return path;
}

/** A malformed data file: names the file and the field, never a silent default. */
export class DataFileError extends Error {
  constructor(file: string, field: string, detail: string) {
    super(`${file}: ${field}: ${detail}`);
    this.name = 'DataFileError';
  }
}

/** Reads data/NAME as JSON and hands it to `validate`, which throws DataFileError on a bad field. */
export function readDataJson<T>(name: string, validate: (value: unknown, file: string) => T): T {
  const file = dataFile(name);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new DataFileError(file, '(json)', (error as Error).message);
  }
  return validate(value, file);
}
