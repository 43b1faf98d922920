// A packed bundle on this machine as deploy sees it: its archive's sha256 (the bundle's identity
// on the server and on hosts), and the manifest with its own sha256 (what the host checks the
// unpacked pyrelo.json against), read without unpacking.

import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { manifestFromEntries, readArchiveEntries } from '../../bundle/archive-manifest.js';
import type { Manifest } from '../../bundle/manifest.js';
import { InputError } from '../../elf/find-elf-files.js';

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
  if (!statSync(archive, { throwIfNoEntry: false })?.isFile())
    throw new InputError(path, 'not a packed bundle (pyrelo build -o NAME.tar.gz)');
  // Read once: the same bytes give the manifest and the digest.
  const bytes = readFileSync(archive);
  const { manifest, manifestBytes } = manifestFromEntries(await readArchiveEntries(archive, bytes), archive);
  return {
    archive,
    size: bytes.length,
    manifest,
    digest: createHash('sha256').update(bytes).digest('hex'),
    manifestSha256: createHash('sha256').update(manifestBytes).digest('hex'),
  };
}
