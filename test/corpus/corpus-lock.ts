// The corpus lock (test/corpus/corpus.lock.json): which projects the corpus holds, every wheel it
// installs pinned to one file name, how the projects are split into bundles, and which candidates
// were left out and why. Written by `npm run corpus:lock` (bench/corpus-lock.ts), read by the corpus
// bench and the corpus sample test.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * pip download's platforms, newest first (pip prefers the earlier): the manylinux wheels a glibc
 * 2.34 x86_64 host can use.
 */
export const CORPUS_PLATFORMS = [
  'manylinux_2_34_x86_64',
  'manylinux_2_31_x86_64',
  'manylinux_2_28_x86_64',
  'manylinux_2_17_x86_64',
  'manylinux2014_x86_64',
];

export interface LockedProject {
  /** Rank among PyPI's most downloaded projects, from the package list the candidates came from. */
  readonly rank: number;
  readonly name: string;
  readonly version: string;
  readonly wheel: string;
  readonly bytes: number;
}

export interface LeftOut {
  readonly rank: number;
  readonly name: string;
  readonly reason: string;
}

export interface CorpusBundle {
  readonly name: string;
  /** The corpus projects it installs. */
  readonly projects: readonly string[];
  /** Requirements as pip reads them: every wheel the bundle's projects resolved to, pinned. */
  readonly requirements: readonly string[];
}

export interface CorpusLock {
  readonly python: string;
  readonly platforms: readonly string[];
  readonly projects: readonly LockedProject[];
  readonly leftOut: readonly LeftOut[];
  readonly bundles: readonly CorpusBundle[];
  /** Every wheel file of the corpus (projects and their dependencies, each bundle resolved on its own). */
  readonly wheels: readonly string[];
  readonly downloadBytes: number;
}

const here = dirname(fileURLToPath(import.meta.url));
/** The lock lives in the source tree; this file runs from dist/test/corpus. */
export const LOCK_PATH = join(here, '..', '..', '..', 'test', 'corpus', 'corpus.lock.json');
export const CANDIDATES_PATH = join(here, '..', '..', '..', 'test', 'corpus', 'candidates.txt');

export function readLock(path = LOCK_PATH): CorpusLock {
  return JSON.parse(readFileSync(path, 'utf8')) as CorpusLock;
}

/** `name==version` of a wheel file name (PEP 427: distribution-version-…, names with `_` for `-`). */
export function pinOfWheel(file: string): { name: string; version: string } {
  const [name, version] = file.split('-');
  if (name === undefined || version === undefined || !file.endsWith('.whl'))
    throw new Error(`${file}: not a wheel file name`);
  return { name: name.toLowerCase().replace(/[_.]+/g, '-'), version };
}

/** PEP 503's normalized project name. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}
