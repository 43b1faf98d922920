// Where an agent unpacks a bundle it was ordered to check: its own folder, one subfolder per
// digest (every file checked against the manifest on the way), reused by later orders.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { extractArchive } from '../bundle/extract.js';

export async function unpackBundle(archive: string, bundlesDir: string, digest: string): Promise<string> {
  const dir = join(bundlesDir, digest);
  if (!existsSync(join(dir, 'pyrelo.json'))) await extractArchive(archive, dir, { force: true });
  return dir;
}
