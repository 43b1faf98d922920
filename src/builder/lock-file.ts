// `-r FILE` as a lock file (issue 17): a requirements file whose lines carry `--hash=sha256:…` puts
// pip in hash-checking mode, where every package must be pinned and a wheel whose sha256 differs is
// refused. pip does the checking (no resolver or hash check of pyrelo's own); pyrelo reads the file
// once, before pip, to record in the manifest which file and which bytes the packages came from,
// and says pip's refusal of a wheel in one line naming the file, the package and both hashes.

import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import type { LockRecord } from '../bundle/manifest.js';
import { BuildInputError } from './errors.js';

/** A requirements file larger than this is not one a person or pip-compile wrote. */
export const MAX_REQUIREMENTS_BYTES = 16 * 1024 * 1024;

/** What the manifest records of `-r FILE`: its name, its sha256 and whether it pins hashes. */
export function readRequirementsLock(path: string): LockRecord {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new BuildInputError(`-r ${path}`, `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new BuildInputError(`-r ${path}`, 'not a file');
    if (stat.size > MAX_REQUIREMENTS_BYTES)
      throw new BuildInputError(
        `-r ${path}`,
        `${stat.size} bytes, more than a requirements file holds (${MAX_REQUIREMENTS_BYTES} at most)`,
      );
    const bytes = Buffer.alloc(stat.size);
    let read = 0;
    while (read < bytes.length) {
      const n = readSync(fd, bytes, read, bytes.length - read, read);
      if (n === 0) break;
      read += n;
    }
    const text = bytes.subarray(0, read).toString('utf8');
    return {
      kind: 'requirements',
      file: basename(path),
      sha256: createHash('sha256').update(bytes.subarray(0, read)).digest('hex'),
      // pip's rule: one --hash option anywhere in the file turns hash checking on for all of it.
      hashes: /(^|\s)--hash[=\s]/m.test(text.replace(/^\s*#.*$/gm, '')),
    };
  } finally {
    closeSync(fd);
  }
}

/**
 * pip's hash-checking refusal ("THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE",
 * then per package its requirement, `Expected sha256 …` and `Got …`) as one error naming the file,
 * the packages and the hashes; null when pip failed for another reason.
 */
export function hashMismatchError(output: string, requirements: string): BuildInputError | null {
  const start = output.indexOf('THESE PACKAGES DO NOT MATCH THE HASHES');
  if (start === -1) return null;
  const mismatches: string[] = [];
  const lines = output.slice(start).split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const expected = /^\s*Expected sha256 ([0-9a-f]{64})\s*$/.exec(lines[i]!);
    if (expected === null) continue;
    const got = /^\s*Got\s+([0-9a-f]{64})\s*$/.exec(lines[i + 1] ?? '');
    // The package's line comes before its hashes: "    name==1.0 from file:///…/name-1.0-….whl (from -r …):".
    const owner = lines
      .slice(0, i)
      .reverse()
      .find((l) => /^\s+\S.* from \S+/.test(l) && !/^\s*(Expected|Got|or)\b/.test(l));
    const what = /^\s+(\S+) from (\S+)/.exec(owner ?? '');
    const file = what === null ? 'a package' : `${what[1]} (${basename(what[2]!)})`;
    mismatches.push(`${file} has sha256 ${got?.[1] ?? '(unknown)'}, the file lists ${expected[1]}`);
  }
  return new BuildInputError(
    `-r ${requirements}`,
    `a package's hash differs from the one the file pins: ${mismatches.join('; ') || 'pip named none'}; ` +
      'nothing was installed: use the wheel the file was locked with, or lock the file again',
  );
}
