// Finds a file of the package's data/ folder, upward from this module (dist/src/builder/ when
// compiled, src/builder/ in the checkout), so it works from the checkout and an npm install.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function dataFile(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'data', name);
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new Error(`data/${name}: not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}
