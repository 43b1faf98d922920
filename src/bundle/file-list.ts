// The files of a bundle folder as the manifest records them: sorted by path (byte order), each
// regular file with its size, mode and sha256, each symlink with its text. Anything else (a device,
// a socket, a link out of the bundle) is an error: a bundle holds only files and inner links.

import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { BundleError } from './errors.js';
import { MANIFEST_NAME, symlinkStaysInside, type BundleFile } from './manifest.js';

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The same, streamed: for archives too large to hold in memory at once. */
export async function sha256FileStreamed(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Byte-order comparison (not locale order), the order GNU tar's --sort=name uses. */
export function compareBytes(a: string, b: string): number {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return Buffer.compare(x, y);
}

/** Every non-directory entry under `root`, relative paths, sorted; directories in `dirs`. */
export function walkBundle(root: string): { files: string[]; dirs: string[] } {
  const files: string[] = [];
  const dirs: string[] = [];
  const walk = (relative: string): void => {
    const absolute = relative === '' ? root : join(root, relative);
    for (const name of readdirSync(absolute)) {
      const path = relative === '' ? name : `${relative}/${name}`;
      const stat = lstatSync(join(root, path));
      if (stat.isDirectory()) {
        dirs.push(path);
        walk(path);
      } else files.push(path);
    }
  };
  walk('');
  files.sort(compareBytes);
  dirs.sort(compareBytes);
  return { files, dirs };
}

/** The manifest's file list for a bundle folder (pyrelo.json itself excluded). */
export function listBundleFiles(root: string): BundleFile[] {
  return walkBundle(root)
    .files.filter((path) => path !== MANIFEST_NAME)
    .map((path) => {
      const absolute = join(root, path);
      const stat = lstatSync(absolute);
      const mode = stat.mode & 0o7777;
      if (stat.isSymbolicLink()) {
        const target = readlinkSync(absolute);
        if (!symlinkStaysInside(path, target))
          throw new BundleError(root, `symlink points out of the bundle: -> ${target}`, path);
        return { path, type: 'symlink', mode, target };
      }
      if (!stat.isFile()) throw new BundleError(root, 'not a regular file or symlink', path);
      return { path, type: 'file', mode, size: stat.size, sha256: sha256File(absolute) };
    });
}

export interface VerifyProblem {
  readonly path: string;
  readonly problem: string;
}

/** Compares a folder with its manifest's file list: missing, changed or unexpected files. */
export function verifyFiles(root: string, expected: readonly BundleFile[]): VerifyProblem[] {
  const problems: VerifyProblem[] = [];
  const actual = new Map(listBundleFiles(root).map((f) => [f.path, f]));
  for (const file of expected) {
    const found = actual.get(file.path);
    actual.delete(file.path);
    if (found === undefined) problems.push({ path: file.path, problem: 'missing' });
    else if (found.type !== file.type)
      problems.push({ path: file.path, problem: `is a ${found.type}, expected a ${file.type}` });
    else if (file.type === 'file' && found.sha256 !== file.sha256)
      problems.push({ path: file.path, problem: 'checksum mismatch' });
    else if (file.type === 'symlink' && found.target !== file.target)
      problems.push({ path: file.path, problem: `points to ${found.target}, expected ${file.target}` });
    else if (found.mode !== file.mode)
      problems.push({ path: file.path, problem: `mode ${found.mode.toString(8)}, expected ${file.mode.toString(8)}` });
  }
  for (const path of actual.keys()) problems.push({ path, problem: 'not in the manifest' });
  return problems;
}
