// Files and bytes under a path, as slim reports what it removes.

import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface TreeSize {
  readonly files: number;
  readonly bytes: number;
}

/** A file counts once (a link as itself); `__pycache__` is never copied from the base (compiled afresh at the end). */
export function sizeOf(path: string): TreeSize {
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (stat === undefined) return { files: 0, bytes: 0 };
  if (!stat.isDirectory()) return { files: 1, bytes: stat.size };
  let files = 0;
  let bytes = 0;
  for (const name of readdirSync(path)) {
    if (name === '__pycache__') continue;
    const s = sizeOf(join(path, name));
    files += s.files;
    bytes += s.bytes;
  }
  return { files, bytes };
}

/** Bytes for a person: MB with one decimal, KB below a megabyte. */
export function formatBytes(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} KB`;
}
