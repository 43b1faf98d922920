// Version floors: the highest GLIBC_x.y a set of objects requires and the newest kernel their
// NT_GNU_ABI_TAG names, and the dotted-version comparison both need.

import type { LoadableObject } from './loadable.js';

const GLIBC_VERSION = /^GLIBC_(\d+)\.(\d+)(?:\.(\d+))?$/;

/** Compares versions given as number lists: negative, zero or positive. Missing parts count as 0. */
export function compareVersionParts(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Compares dotted versions ("2.34", "3.2.0"): negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
  return compareVersionParts(a.split('.').map(Number), b.split('.').map(Number));
}

/** The highest of some dotted versions, nulls ignored; null when there is none. */
export function maxVersion(versions: Iterable<string | null>): string | null {
  let best: string | null = null;
  for (const version of versions) {
    if (version !== null && (best === null || compareVersions(version, best) > 0)) best = version;
  }
  return best;
}

/** The highest GLIBC_x.y[.z] version an object requires, as "x.y[.z]". */
export function glibcFloorOf(object: LoadableObject): string | null {
  return maxVersion(
    object.versionNeeds.flatMap((need) =>
      need.versions.map((version) => {
        const match = GLIBC_VERSION.exec(version.name);
        return match === null
          ? null
          : match
              .slice(1)
              .filter((p) => p !== undefined)
              .join('.');
      }),
    ),
  );
}
