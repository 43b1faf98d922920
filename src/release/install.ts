// `pyrelo agent release install`: puts a bundle archive (full, or a delta against a release the
// host has) under P/releases/<id>, switches `current` to it and checks that it runs there; if it
// does not, `current` goes back to the previous release. Every step leaves the prefix consistent
// when the process is killed after it (kill -9, a dropped SSH session):
//
//   1. the prefix and every folder above it checked (secure-prefix.ts); lock; remove temporary
//      leftovers of interrupted runs
//   2. the archive's sha256 (a damaged upload is deleted, so the next deploy sends it again)
//   3. pyrelo.json from the archive, its sha256 → the release id
//   4. reuse P/releases/<id> if it is there and verifies; else extract into releases/.tmp-…,
//      fill a delta from the base, verify every file, rename into place (atomic)
//   5. state.json (previous = the release current names now), then switch `current` (atomic)
//   6. the loader check and smoke command from the real path of P/releases/<id> (relocation
//      exercised; never through `current`, which a link swap could redirect)
//   7. failed: switch back; record the outcome; remove old and failed releases; delete the archive
//
// Bad input (checksums, hostile entries, a base that was changed) is refused before step 5 with
// the prefix as it was (exit 2); only a release that does not run is "did not pass" (exit 1).

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { manifestFromEntries, readArchiveEntries } from '../bundle/archive-manifest.js';
import { extractEntries } from '../bundle/extract.js';
import { BundleError } from '../bundle/errors.js';
import type { Manifest } from '../bundle/manifest.js';
import type { TarEntry } from '../bundle/tar-reader.js';
import { checkAndSmokeHere } from '../compat/check-and-smoke.js';
import { fillFromBase } from './base-files.js';
import { clearCurrent, readCurrent, switchCurrent } from './current.js';
import {
  isReleaseId,
  isSha256,
  releaseIdFor,
  releaseNameOf,
  releaseNameProblem,
  type ReleaseLayout,
  temporaryEntry,
} from './layout.js';
import { isReleaseName } from '../bundle/bundle-name.js';
import { acquireLock } from './lock.js';
import { releaseRealPath, securePrefix } from './secure-prefix.js';
import { installedIds, pruneReleases, removeLeftovers } from './prune.js';
import { readState, summarizeCheck, withRelease, writeState, type ReleaseState, type ReleaseStatus } from './state.js';
import type { ReleaseInstallResult } from './types.js';
import { treeProblems, checkReleaseIntegrity } from './integrity.js';

export interface ReleaseInstallOptions {
  readonly prefix: string;
  /** Absent when the release is already on the host (a redeploy): it is then found by digest. */
  readonly archive?: string;
  /** sha256 of the archive file as sent (the delta's own, for a delta); with `archive`. */
  readonly sha256?: string;
  /** sha256 of the full bundle archive: names the release. */
  readonly bundleDigest: string;
  readonly manifestSha256: string;
  /** A release under the prefix that a delta archive was made against. */
  readonly base?: string;
  readonly host?: string;
}

function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function checkOptions(o: ReleaseInstallOptions): void {
  if ((o.archive === undefined) !== (o.sha256 === undefined))
    throw new BundleError('--archive', 'give --archive and --sha256 together');
  for (const [flag, value] of [
    ['--sha256', o.sha256],
    ['--bundle-digest', o.bundleDigest],
    ['--manifest-sha256', o.manifestSha256],
  ] as const) {
    if (value !== undefined && !isSha256(value))
      throw new BundleError(flag, `expected 64 lowercase hex digits, got ${JSON.stringify(value)}`);
  }
  if (o.base !== undefined && !isReleaseId(o.base))
    throw new BundleError('--base', `not a release id: ${JSON.stringify(o.base)}`);
}

/** A release already under the prefix with this digest and manifest (the archive may be gone). */
function findInstalled(layout: ReleaseLayout, bundleDigest: string, manifestSha256: string): string | null {
  const suffix = `-${bundleDigest.slice(0, 12)}`;
  for (const id of installedIds(layout)) {
    if (!id.endsWith(suffix)) continue;
    if (checkReleaseIntegrity(layout, id, manifestSha256).ok) return id;
  }
  return null;
}

function problemList(problems: ReadonlyArray<{ path: string; problem: string }>): string {
  return `${problems
    .slice(0, 5)
    .map((p) => `${p.path}: ${p.problem}`)
    .join('; ')}${problems.length > 5 ? `; … (${problems.length} in all)` : ''}`;
}

/** Builds the release in a temporary folder and renames it to P/releases/<id>. */
function buildRelease(
  layout: ReleaseLayout,
  archive: string,
  base: string | undefined,
  entries: readonly TarEntry[],
  manifest: Manifest,
  id: string,
): void {
  const temporary = temporaryEntry(layout.releases, id);
  mkdirSync(temporary, { mode: 0o755 });
  try {
    extractEntries(entries, temporary, archive);
    let fromBase = new Map<string, string>();
    if (base !== undefined) fromBase = fillFromBase(temporary, layout.release(base), manifest, archive);
    const problems = treeProblems(temporary, manifest).map((p) => {
      const why = fromBase.get(p.path);
      return why === undefined
        ? p
        : { path: p.path, problem: `not in the delta, and base release ${base}'s copy cannot be used (${why})` };
    });
    if (problems.length > 0)
      throw new BundleError(
        archive,
        `does not match its manifest (${problems.length} problem(s)): ${problemList(problems)}`,
      );
    const destination = layout.release(id);
    if (existsSync(destination)) {
      // A release under this name that did not verify (changed on the host): replaced whole.
      const broken = temporaryEntry(layout.releases, `broken-${id}`);
      renameSync(destination, broken);
      renameSync(temporary, destination);
      rmSync(broken, { recursive: true, force: true });
    } else renameSync(temporary, destination);
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
}

/** Steps 2–4: the release folder in place (new or reused). */
async function placeRelease(
  layout: ReleaseLayout,
  o: ReleaseInstallOptions,
): Promise<{ id: string; name: string; reused: boolean }> {
  const archive = o.archive;
  if (archive === undefined || !existsSync(archive)) {
    // A redeploy of a release the host has (the archive was not sent again, or is already gone
    // because the install had finished when the connection dropped).
    const id = findInstalled(layout, o.bundleDigest, o.manifestSha256);
    if (id !== null) return { id, name: releaseNameOf(id), reused: true };
    if (archive === undefined)
      throw new BundleError(
        '--archive',
        `missing, and no release under ${layout.prefix} has bundle digest ${o.bundleDigest} and this pyrelo.json`,
      );
    throw new BundleError(archive, 'no such archive, and no installed release has this bundle digest');
  }
  const bytes = readFileSync(archive);
  const actual = sha256Of(bytes);
  if (actual !== o.sha256) {
    rmSync(archive, { force: true });
    throw new BundleError(
      archive,
      `checksum mismatch (sha256 ${actual}, expected ${o.sha256}); deleted, sent again on the next deploy`,
    );
  }
  const entries = await readArchiveEntries(archive, bytes);
  const { manifest, manifestBytes } = manifestFromEntries(entries, archive);
  const manifestSha = sha256Of(manifestBytes);
  if (manifestSha !== o.manifestSha256)
    throw new BundleError(
      archive,
      `pyrelo.json: checksum mismatch (sha256 ${manifestSha}, expected ${o.manifestSha256})`,
    );
  if (!isReleaseName(manifest.name)) throw new BundleError(archive, releaseNameProblem(manifest.name), 'pyrelo.json');
  const id = releaseIdFor(manifest.name, o.bundleDigest);
  if (existsSync(layout.release(id)) && checkReleaseIntegrity(layout, id, o.manifestSha256).ok)
    return { id, name: manifest.name, reused: true };
  if (o.base !== undefined && !existsSync(layout.release(o.base)))
    throw new BundleError(
      archive,
      `is a delta against ${o.base} (--base), and there is no such release under ${layout.prefix}`,
    );
  buildRelease(layout, archive, o.base, entries, manifest, id);
  return { id, name: manifest.name, reused: false };
}

export async function installRelease(o: ReleaseInstallOptions): Promise<ReleaseInstallResult> {
  checkOptions(o);
  // Refused when someone else could write the prefix or a folder above it (secure-prefix.ts).
  const layout = securePrefix(o.prefix);
  const lock = acquireLock(layout);
  try {
    removeLeftovers(layout);
    const { id, name, reused } = await placeRelease(layout, o);
    const before = readCurrent(layout);
    let state: ReleaseState = readState(layout);
    const previousBefore = state.previous;
    const previous = before !== null && before !== id ? before : state.previous !== id ? state.previous : null;
    const installedAt = reused
      ? (state.releases[id]?.installedAt ?? new Date().toISOString())
      : new Date().toISOString();
    state = withRelease(
      { ...state, previous },
      {
        id,
        name,
        bundleDigest: o.bundleDigest,
        manifestSha256: o.manifestSha256,
        installedAt,
        status: 'installed',
        check: state.releases[id]?.check ?? null,
      },
    );
    writeState(layout, state);
    switchCurrent(layout, id);

    // From the real path of the release just placed, never through `current`: a link is where a
    // swap would send the smoke command elsewhere (README "Release prefixes must be private").
    const check = await checkAndSmokeHere(releaseRealPath(layout, id), o.bundleDigest, o.host ?? hostname());
    const status: ReleaseStatus = check.runs ? 'verified' : 'failed';
    let rolledBack = false;
    if (!check.runs) {
      if (previous !== null && existsSync(layout.release(previous))) switchCurrent(layout, previous);
      else clearCurrent(layout);
      rolledBack = true;
    }
    const summary = summarizeCheck(check);
    state = withRelease(state, { ...state.releases[id]!, status, check: summary });
    // Back on `previous`: the one to roll back to from there is the one it had.
    if (rolledBack) state = { ...state, previous: previousBefore !== previous ? previousBefore : null };
    state = {
      ...state,
      activations: [
        ...state.activations,
        { at: new Date().toISOString(), action: 'install', release: id, previous, status },
      ],
    };
    const current = readCurrent(layout);
    writeState(layout, state);
    writeState(layout, pruneReleases(layout, state, current).state);
    if (o.archive !== undefined) rmSync(o.archive, { force: true });
    return {
      prefix: layout.prefix,
      release: id,
      previous,
      current,
      reused,
      status,
      rolledBack,
      ...(summary.reason ? { reason: summary.reason } : {}),
      check,
    };
  } finally {
    lock.release();
  }
}
