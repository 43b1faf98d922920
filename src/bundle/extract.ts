// Safe extraction of a bundle archive. Every entry is checked before anything is written, and
// everything is written into a temporary folder next to the destination that is renamed into place
// only when the whole archive (and, for bundles, every checksum of the manifest) checked out. An
// archive that tries to leave its folder (absolute names, `..`, symlinks pointing out, writing
// through a symlink), or holds devices, FIFOs or hard links, is refused naming the archive and the
// entry; the temporary folder is removed and the destination is untouched.
//
// The pieces are exported for the release installer (src/release/), which extracts a delta archive
// (only the changed files and pyrelo.json) into its own temporary folder, fills in the rest from
// the base release and verifies the whole tree itself.

import {
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  chmodSync,
  existsSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { temporarySibling } from './atomic-write.js';
import { sniffCompression } from './compression.js';
import { boundedDecompress } from './bounded-decompress.js';
import { BundleError } from './errors.js';
import { verifyFiles } from './file-list.js';
import { isSafeRelativePath, readManifest, symlinkStaysInside, type Manifest } from './manifest.js';
import { readTar, type TarEntry } from './tar-reader.js';

/**
 * The archive's tar bytes: gzip, xz or zstd (sniffed from the first bytes), or a plain tar.
 * `bytes`: the archive file's contents when the caller has already read them.
 */
export async function decompressArchive(
  archive: string,
  bytes: Uint8Array = readFileSync(archive),
): Promise<Uint8Array> {
  const compression = sniffCompression(bytes.subarray(0, 6));
  if (compression === null) return bytes; // a plain tar
  // Never more than the manifest declares, checked while streaming (bounded-decompress.ts).
  return boundedDecompress(archive, bytes, compression);
}

/** The entry's name relative to the root without `./` or a trailing `/`; null for the root itself. */
export function normalisedName(entry: TarEntry, archive: string): string | null {
  let name = entry.name;
  if (name.startsWith('/')) throw new BundleError(archive, 'absolute path refused', entry.name);
  while (name.startsWith('./')) name = name.slice(2);
  name = name.replace(/\/+$/, '');
  if (name === '' || name === '.') return null; // the root folder itself
  if (!isSafeRelativePath(name))
    throw new BundleError(archive, 'path leaves the destination folder (`..` or empty component) refused', entry.name);
  return name;
}

/** Refuses writing through a symlink the archive (or anyone) put in the temporary folder. */
export function assertNoSymlinkParents(root: string, path: string, archive: string, entryName: string): void {
  const parts = path.split('/').slice(0, -1);
  let current = root;
  for (const part of parts) {
    current = join(current, part);
    const stat = lstatSync(current, { throwIfNoEntry: false });
    if (stat === undefined) return;
    if (stat.isSymbolicLink())
      throw new BundleError(archive, 'entry would be written through a symlink, refused', entryName);
    if (!stat.isDirectory()) throw new BundleError(archive, 'a parent of the entry is not a folder', entryName);
  }
}

function writeEntry(root: string, name: string, entry: TarEntry, archive: string): void {
  assertNoSymlinkParents(root, name, archive, entry.name);
  const path = join(root, name);
  const mode = entry.mode & 0o777; // never setuid, setgid or sticky from an archive
  if (entry.type === 'directory') {
    const stat = lstatSync(path, { throwIfNoEntry: false });
    if (stat !== undefined && !stat.isDirectory())
      throw new BundleError(archive, 'folder entry clashes with an earlier entry', entry.name);
    mkdirSync(path, { recursive: true });
    chmodSync(path, mode | 0o700); // we must still be able to write into it
    return;
  }
  mkdirSync(dirname(path), { recursive: true });
  if (entry.type === 'file') {
    writeFileSync(path, entry.data, { flag: 'wx', mode }); // wx: O_EXCL, never follows an existing link
    chmodSync(path, mode);
  } else if (entry.type === 'symlink') {
    if (!symlinkStaysInside(name, entry.linkName))
      throw new BundleError(
        archive,
        `symlink pointing out of the destination refused (-> ${entry.linkName})`,
        entry.name,
      );
    symlinkSync(entry.linkName, path);
  } else {
    throw new BundleError(archive, `${entry.type} entries are not allowed in a bundle`, entry.name);
  }
}

/**
 * Writes the entries into the existing folder `root` with every safety rule above. `include`
 * (given the normalised name) picks the non-folder entries to write; every entry is still checked.
 * Folder modes are set last: a read-only folder must not stop its own contents being written.
 */
export function extractEntries(
  entries: Iterable<TarEntry>,
  root: string,
  archive: string,
  include: (name: string) => boolean = () => true,
): void {
  const seen = new Set<string>();
  const folderModes: Array<[string, number]> = [];
  for (const entry of entries) {
    const name = normalisedName(entry, archive);
    if (name === null) continue;
    if (entry.type !== 'directory') {
      if (seen.has(name)) throw new BundleError(archive, 'entry appears twice', entry.name);
      seen.add(name);
      if (!include(name)) {
        checkSkippedEntry(name, entry, archive);
        continue;
      }
    } else folderModes.push([name, entry.mode & 0o777]);
    writeEntry(root, name, entry, archive);
  }
  for (const [name, mode] of folderModes.reverse()) chmodSync(join(root, name), mode);
}

/** An entry left out is still held to the rules it would have been refused by. */
function checkSkippedEntry(name: string, entry: TarEntry, archive: string): void {
  if (entry.type === 'symlink') {
    if (!symlinkStaysInside(name, entry.linkName))
      throw new BundleError(
        archive,
        `symlink pointing out of the destination refused (-> ${entry.linkName})`,
        entry.name,
      );
  } else if (entry.type !== 'file')
    throw new BundleError(archive, `${entry.type} entries are not allowed in a bundle`, entry.name);
}

export interface ExtractOptions {
  /** Replace an existing destination (it is removed only after the new one is complete). */
  readonly force?: boolean;
}

/**
 * Extracts `archive` into the new folder `destination`. When the archive holds a pyrelo.json,
 * every file is checked against it before the rename. Returns the manifest when there is one.
 */
export async function extractArchive(
  archive: string,
  destination: string,
  options: ExtractOptions = {},
): Promise<Manifest | null> {
  if (existsSync(destination) && !options.force)
    throw new BundleError(destination, 'already exists (use --force to replace it)');
  const bytes = await decompressArchive(archive);
  const temporary = temporarySibling(destination.replace(/\/+$/, ''));
  mkdirSync(temporary, { mode: 0o755 });
  try {
    extractEntries(readTar(bytes, archive), temporary, archive);
    let manifest: Manifest | null = null;
    if (existsSync(join(temporary, 'pyrelo.json'))) {
      manifest = readManifest(temporary);
      const problems = verifyFiles(temporary, manifest.files);
      if (problems.length > 0) {
        const list = problems
          .slice(0, 5)
          .map((p) => `${p.path}: ${p.problem}`)
          .join('; ');
        throw new BundleError(archive, `does not match its manifest (${problems.length} problem(s)): ${list}`);
      }
    }
    if (existsSync(destination)) {
      const old = temporarySibling(destination);
      renameSync(destination, old);
      renameSync(temporary, destination);
      rmSync(old, { recursive: true, force: true });
    } else renameSync(temporary, destination);
    return manifest;
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
}
