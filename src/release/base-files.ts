// A delta archive holds pyrelo.json and only the files that changed since the base release the
// host already has. The rest is taken from that base release, each file only when it is exactly
// what the new manifest lists (type, mode, sha256 or link target): a file tampered with on the host
// is not carried into the new release; it stays missing and the install is refused.

import { chmodSync, copyFileSync, linkSync, lstatSync, mkdirSync, readlinkSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { assertNoSymlinkParents } from '../bundle/extract.js';
import { sha256File } from '../bundle/file-list.js';
import type { BundleFile, Manifest } from '../bundle/manifest.js';

/** Why the base's copy of `file` cannot be used; null when it can. */
function baseMismatch(base: string, file: BundleFile): string | null {
  // A manifest path never has a symlink among its parents; a base that has one was changed.
  let parent = base;
  for (const part of file.path.split('/').slice(0, -1)) {
    parent = join(parent, part);
    const stat = lstatSync(parent, { throwIfNoEntry: false });
    if (stat === undefined) return 'missing';
    if (!stat.isDirectory()) return `a parent (${part}) is not a folder`;
  }
  const path = join(base, file.path);
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (stat === undefined) return 'missing';
  if ((stat.mode & 0o7777) !== file.mode)
    return `mode ${(stat.mode & 0o7777).toString(8)}, expected ${file.mode.toString(8)}`;
  if (file.type === 'symlink') {
    if (!stat.isSymbolicLink()) return 'not a symlink';
    const target = readlinkSync(path);
    return target === file.target ? null : `points to ${target}, expected ${file.target}`;
  }
  if (!stat.isFile()) return 'not a regular file';
  if (stat.size !== file.size || sha256File(path) !== file.sha256) return 'checksum mismatch';
  return null;
}

/**
 * Puts every manifest file that `root` lacks into it from `base` (hard link, a copy where links
 * are not possible). Returns, per path that could not be taken, why; the caller's verification
 * of the whole tree then refuses the install naming them.
 */
export function fillFromBase(root: string, base: string, manifest: Manifest, archive: string): Map<string, string> {
  const refused = new Map<string, string>();
  for (const file of manifest.files) {
    const path = join(root, file.path);
    if (lstatSync(path, { throwIfNoEntry: false }) !== undefined) continue; // in the delta
    const mismatch = baseMismatch(base, file);
    if (mismatch !== null) {
      refused.set(file.path, mismatch);
      continue;
    }
    assertNoSymlinkParents(root, file.path, archive, file.path);
    mkdirSync(dirname(path), { recursive: true });
    if (file.type === 'symlink') symlinkSync(file.target!, path);
    else {
      try {
        linkSync(join(base, file.path), path);
      } catch {
        copyFileSync(join(base, file.path), path);
        chmodSync(path, file.mode);
      }
    }
  }
  return refused;
}
