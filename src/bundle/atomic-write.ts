// Writes a file under a temporary name in the same folder and renames it into place, so a reader
// sees the old file or the whole new one, never half of it.

import { chmodSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

export function temporarySibling(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

export function writeFileAtomic(path: string, data: string | Uint8Array, mode: number): void {
  const temporary = temporarySibling(path);
  try {
    writeFileSync(temporary, data, { mode });
    chmodSync(temporary, mode); // the umask must not decide the mode
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
