// A release prefix the installer may trust, as sshd's StrictModes trusts a home folder (README
// "Release prefixes must be private"): the prefix and every folder above it is owned by root or by
// the user installing, and none is writable by group or others. Whoever could write one of them
// could swap `current`, `releases/` or `.pyrelo/` between the check and the smoke run, and get
// their program run as this user (root, usually). Folders above the prefix may be world-writable
// when sticky (/tmp): there only an entry's owner can rename or remove it, and the entry below is
// held to the same rule. The folders pyrelo keeps under the prefix (releases/, .pyrelo/,
// .pyrelo/incoming/) must be real folders, never symlinks: pyrelo never creates those as links.

import { lstatSync, mkdirSync, realpathSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { BundleError } from '../bundle/errors.js';
import { ReleaseLayout } from './layout.js';
import { installPrefixProblem, normalizeInstallPrefix } from './prefix-path.js';

function owners(): ReadonlySet<number> {
  return new Set([0, process.geteuid?.() ?? 0]);
}

function problem(stat: Stats, allowSticky: boolean): string | null {
  if (!owners().has(stat.uid))
    return `owned by uid ${stat.uid}, not root or the installing user (uid ${process.geteuid?.() ?? 0})`;
  const writable = stat.mode & 0o022;
  if (writable !== 0 && !(allowSticky && (stat.mode & 0o1000) !== 0)) {
    const who = [writable & 0o020 ? 'its group' : '', writable & 0o002 ? 'others' : '']
      .filter((w) => w !== '')
      .join(' and ');
    return `writable by ${who} (mode ${(stat.mode & 0o7777).toString(8)})`;
  }
  return null;
}

function refuse(path: string, why: string): never {
  throw new BundleError(
    path,
    `${why}: refused, since whoever can change it could get code run by the installer (chmod go-w, chown root)`,
  );
}

/** Creates `dir` (and missing parents) as real folders 0755, never through a symlink. */
function makeFolder(dir: string): void {
  const stat = lstatSync(dir, { throwIfNoEntry: false });
  if (stat === undefined) {
    makeFolder(dirname(dir));
    mkdirSync(dir, { mode: 0o755 });
  }
}

/**
 * Creates what is missing of the prefix and of releases/, .pyrelo/ and .pyrelo/incoming/, checks
 * them and every folder above, and returns the layout of the prefix's real path.
 */
export function securePrefix(given: string): ReleaseLayout {
  // Every route checks its prefix on the way in (prefix-path.ts); checked again here, where every
  // install and rollback passes, so that an order from a misbehaving server cannot name `/opt/../etc`.
  const refusal = installPrefixProblem(given);
  if (refusal !== null)
    throw new BundleError(given.length > 80 ? `${given.slice(0, 80)}…` : given, `not an install prefix: ${refusal}`);
  const prefix = normalizeInstallPrefix(given);
  // The folders above first: nothing is created under a folder someone else controls.
  let existing = prefix;
  while (lstatSync(existing, { throwIfNoEntry: false }) === undefined) existing = dirname(existing);
  for (let dir = realpathSync(existing); ; dir = dirname(dir)) {
    const why = problem(lstatSync(dir), true); // the prefix itself is held to the strict rule below
    if (why !== null) refuse(dir, why);
    if (dir === '/') break;
  }
  makeFolder(prefix);
  const real = realpathSync(prefix);
  const prefixStat = lstatSync(real);
  if (!prefixStat.isDirectory()) throw new BundleError(prefix, 'not a folder');
  const prefixWhy = problem(prefixStat, false);
  if (prefixWhy !== null) refuse(real, prefixWhy);
  const layout = new ReleaseLayout(real);
  for (const dir of [layout.releases, layout.meta, layout.incoming]) {
    if (lstatSync(dir, { throwIfNoEntry: false }) === undefined) mkdirSync(dir, { mode: 0o755 });
    const stat = lstatSync(dir);
    if (stat.isSymbolicLink()) refuse(dir, 'a symlink pyrelo did not create');
    if (!stat.isDirectory()) refuse(dir, 'not a folder');
    const why = problem(stat, false);
    if (why !== null) refuse(dir, why);
  }
  return layout;
}

/** The real path of a release folder just verified under a secured prefix. */
export function releaseRealPath(layout: ReleaseLayout, id: string): string {
  return realpathSync(join(layout.releases, id));
}
