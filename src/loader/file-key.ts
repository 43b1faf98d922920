// A file's identity for the parse cache (parse-cache.ts): what changes when its content may have
// changed. Kept apart from the cache's SQLite code so that the host views, which the packed agent
// also uses, can take keys without importing better-sqlite3 (a native module `pyrelo agent pack`
// cannot bundle).

import type { BigIntStats } from 'node:fs';

/**
 * A file whose content was written this recently may be written again within the same timestamp
 * tick (coarse kernel clocks, filesystems with 1–2 s timestamps) without its key changing: it is
 * parsed but not stored, as git treats "racily clean" index entries. Every write of content sets
 * st_mtime to the current time, so an older st_mtime means a later write will change the key.
 */
const RACY_NS = 2_000_000_000n;

export interface FileKey {
  readonly dev: bigint;
  readonly ino: bigint;
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
}

export function fileKeyOf(stat: BigIntStats): FileKey {
  return { dev: stat.dev, ino: stat.ino, size: stat.size, mtimeNs: stat.mtimeNs, ctimeNs: stat.ctimeNs };
}

export function sameFileKey(a: FileKey, b: FileKey): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

/** Whether a file with this st_mtime may still change without its key changing (RACY_NS). */
export function isRacy(mtimeNs: bigint): boolean {
  return BigInt(Date.now()) * 1_000_000n - mtimeNs < RACY_NS;
}
