// What an install cleans up, holding the lock: temporary folders and files of interrupted installs
// (their process is dead), and releases no longer worth keeping. Kept: `current`, the previous
// release, and the newest verified ones up to three releases in all. A release is removed by
// renaming it to a temporary name first, so a kill half-way through leaves a leftover, never a
// half-deleted folder under a release's name.

import { readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isReleaseId, temporaryEntry, temporaryOwner, type ReleaseLayout } from './layout.js';
import { processIsAlive } from './lock.js';
import { withoutReleases, type ReleaseState } from './state.js';

/** Releases kept in all: current, previous, then the newest verified ones. */
const KEEP = 3;

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Temporary entries under releases/ and .pyrelo/, relative to the prefix. */
export function findLeftovers(layout: ReleaseLayout): string[] {
  const found: string[] = [];
  for (const name of entries(layout.releases)) if (temporaryOwner(name) !== null) found.push(`releases/${name}`);
  for (const name of entries(layout.meta)) if (temporaryOwner(name) !== null) found.push(`.pyrelo/${name}`);
  return found;
}

/** Removes leftovers whose process is gone (a live one belongs to someone waiting for the lock). */
export function removeLeftovers(layout: ReleaseLayout): string[] {
  const removed: string[] = [];
  for (const relative of findLeftovers(layout)) {
    const owner = temporaryOwner(relative.slice(relative.indexOf('/') + 1));
    if (owner !== null && owner !== process.pid && processIsAlive(owner)) continue;
    rmSync(join(layout.prefix, relative), { recursive: true, force: true });
    removed.push(relative);
  }
  return removed;
}

/** Release folders present under releases/ (by name; temporary and foreign names left out). */
export function installedIds(layout: ReleaseLayout): string[] {
  return entries(layout.releases).filter(isReleaseId).sort();
}

function removeRelease(layout: ReleaseLayout, id: string): void {
  const doomed = temporaryEntry(layout.releases, `removed-${id}`);
  renameSync(layout.release(id), doomed);
  rmSync(doomed, { recursive: true, force: true });
}

/** Which releases to remove, given what `current` is and what the state knows. */
function releasesToRemove(ids: readonly string[], state: ReleaseState, current: string | null): string[] {
  const keep = new Set<string>([current, state.previous].filter((x): x is string => x !== null));
  const newestFirst = ids
    .filter((id) => !keep.has(id) && state.releases[id]?.status === 'verified')
    .sort((a, b) => (state.releases[b]!.installedAt < state.releases[a]!.installedAt ? -1 : 1));
  // Older verified releases fill what current and previous leave of KEEP releases.
  for (const id of newestFirst) {
    if (keep.size >= KEEP) break;
    keep.add(id);
  }
  // Failed ones, installed ones never verified (an interrupted install), unknown ones, older ones.
  return ids.filter((id) => !keep.has(id));
}

/** Removes what is not kept and forgets it in the state (returned; the caller writes it). */
export function pruneReleases(
  layout: ReleaseLayout,
  state: ReleaseState,
  current: string | null,
): { state: ReleaseState; removed: string[] } {
  const ids = installedIds(layout);
  const removed = releasesToRemove(ids, state, current);
  for (const id of removed) removeRelease(layout, id);
  const forgotten = Object.keys(state.releases).filter((id) => !ids.includes(id) || removed.includes(id));
  return { state: withoutReleases(state, forgotten), removed };
}
