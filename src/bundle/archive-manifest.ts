// The manifest of a bundle archive, read without unpacking it: the deploy step needs the bundle's
// name and file list (to name the release and to make a delta against what a host has), and the
// release installer checks pyrelo.json's sha256 before it writes a single file.

import { decompressArchive, normalisedName } from './extract.js';
import { BundleError } from './errors.js';
import { MANIFEST_NAME, parseManifest, type Manifest } from './manifest.js';
import { readTar, type TarEntry } from './tar-reader.js';

export interface ArchiveManifest {
  readonly manifest: Manifest;
  /** pyrelo.json exactly as stored in the archive (its sha256 is the manifest sha256). */
  readonly manifestBytes: Buffer;
}

/**
 * Finds pyrelo.json among entries already read (the whole list, so that a truncated archive is
 * refused here, before anything is written).
 */
export function manifestFromEntries(entries: readonly TarEntry[], archive: string): ArchiveManifest {
  const found = entries.find((e) => e.type !== 'directory' && normalisedName(e, archive) === MANIFEST_NAME);
  if (found === undefined) throw new BundleError(archive, `no ${MANIFEST_NAME} (not a pyrelo bundle archive)`);
  if (found.type !== 'file')
    throw new BundleError(archive, `${found.type} entries are not allowed in a bundle`, found.name);
  const manifestBytes = Buffer.from(found.data);
  return { manifest: parseManifest(manifestBytes.toString('utf8'), `${archive}: ${MANIFEST_NAME}`), manifestBytes };
}

/**
 * Every entry of an archive (decompressed into memory; entries are views into it); `bytes` as for
 * decompressArchive.
 */
export async function readArchiveEntries(archive: string, bytes?: Uint8Array): Promise<TarEntry[]> {
  return [...readTar(await decompressArchive(archive, bytes), archive)];
}
