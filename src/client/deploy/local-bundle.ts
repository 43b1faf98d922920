// A packed bundle on this machine as deploy sees it: its archive's sha256 (the bundle's identity
// on the server and on hosts), and the manifest with its own sha256 (what the host checks the
// unpacked pyrelo.json against), read without unpacking.

import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { sha256File } from '../../bundle/file-list.js';
import type { Manifest } from '../../bundle/manifest.js';
import { InputError } from '../../elf/find-elf-files.js';
import { readManifestFromArchive } from '../../release/archive-manifest.js';

export interface LocalBundle {
  readonly archive: string;
  /** sha256 of the archive: the bundle's identity everywhere. */
  readonly digest: string;
  readonly size: number;
  readonly manifest: Manifest;
  readonly manifestSha256: string;
}

export async function localBundle(path: string): Promise<LocalBundle> {
  const archive = resolve(path);
  const stat = statSync(archive, { throwIfNoEntry: false });
  if (!stat?.isFile()) throw new InputError(path, 'not a packed bundle (pyrelo build -o NAME.tar.gz)');
  const { manifest, manifestBytes } = await readManifestFromArchive(archive);
  return {
    archive, size: stat.size, manifest,
    digest: sha256File(archive),
    manifestSha256: createHash('sha256').update(manifestBytes).digest('hex'),
  };
}
